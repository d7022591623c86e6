package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
)

func decodeSegment(s string) string {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return string(b)
}

// binary is the sesame command the process tests run (buildBinary).
var binary struct {
	once sync.Once
	dir  string // made by TestMain, removed after the tests
	path string
	err  error
}

func TestMain(m *testing.M) {
	// The OpenID library logs through slog's default logger.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	dir, err := os.MkdirTemp("", "sesame-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
