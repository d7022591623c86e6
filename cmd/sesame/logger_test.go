package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/config"
)

// A request error whose client went away is logged at INFO, not ERROR;
// everything else keeps its level.
func TestClientGoneLogging(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		level slog.Level
		want  []string
	}{
		{"server error, client there", context.Background(), slog.LevelError, []string{"level=ERROR"}},
		{"server error, client gone", canceled, slog.LevelError, []string{"level=INFO", "client_gone=true"}},
		{"warning, client gone", canceled, slog.LevelWarn, []string{"level=WARN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			newLogger(config.LogConfig{Level: "info"}, &buf).Log(tc.ctx, tc.level, "request error")
			for _, w := range tc.want {
				if !strings.Contains(buf.String(), w) {
					t.Fatalf("%q lacks %q", buf.String(), w)
				}
			}
			if tc.ctx == context.Background() && strings.Contains(buf.String(), "client_gone") {
				t.Fatalf("client_gone on a live request: %q", buf.String())
			}
		})
	}
	// Demoted below the configured level, it is not written at all.
	var buf bytes.Buffer
	newLogger(config.LogConfig{Level: "warn"}, &buf).Log(canceled, slog.LevelError, "request error")
	if buf.Len() != 0 {
		t.Fatalf("written at level warn: %q", buf.String())
	}
}
