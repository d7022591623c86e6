package main

import (
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"testing"
)

func decodeSegment(s string) string {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return string(b)
}

func TestMain(m *testing.M) {
	// The OpenID library logs through slog's default logger.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
