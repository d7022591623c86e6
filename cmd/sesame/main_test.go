package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// binary is the sesame command the process tests run (buildBinary).
var binary struct {
	once sync.Once
	dir  string // made by TestMain, removed after the tests
	path string
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	widenParallel()
	// The OpenID library logs through slog's default logger.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	dir, err := os.MkdirTemp("", "sesame-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary.dir = dir
	code := m.Run()
	closeBrowsers()
	os.RemoveAll(dir)
	os.Exit(code)
}

// widenParallel lets twice as many of this package's parallel tests run at
// once as go test's default (-parallel = GOMAXPROCS): they mostly wait — on
// Chromium, on the processes they start, on the mail recorder — and two at
// a time left a 2-core machine about half idle (this package used some 320
// CPU-seconds over its 400 s). The Chromium journeys keep their own bound
// (browserLanes); -parallel on the command line still wins.
func widenParallel() {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
}
