package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionCommand: `sesame version` says which build runs (module
// version, VCS revision, Go release), without opening any database.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	env := []string{"SESAME_DATA_DIR=/nonexistent/never-created"}
	if code := run(context.Background(), []string{"version"}, strings.NewReader(""), &out, &errb, env); code != 0 {
		t.Fatalf("sesame version: exit %d: %s", code, strings.TrimSpace(errb.String()))
	}
	line := strings.TrimSpace(out.String())
	if !strings.HasPrefix(line, "sesame ") || strings.Contains(line, "\n") || !strings.Contains(line, runtime.Version()) {
		t.Fatalf("sesame version printed %q", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"version", "--json"}, strings.NewReader(""), &out, &errb, env); code != 0 {
		t.Fatalf("sesame version --json: exit %d", code)
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v["go"] != runtime.Version() || v["version"] == "" {
		t.Fatalf("sesame version --json printed %s (%v)", out.String(), err)
	}
	if code := run(context.Background(), []string{"version", "extra"}, strings.NewReader(""), &out, &errb, env); code != 2 {
		t.Fatalf("sesame version extra: exit %d, want 2", code)
	}
}

func TestVersionLine(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Path: "github.com/sesame-idp/sesame", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "07db50d"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{info, true, "sesame v1.4.0, revision 07db50d with uncommitted changes (2026-12-01T10:00:00Z), go1.27.3"},
		{&debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "(devel)"}}, true, "sesame (devel), revision unknown, go1.27.3"},
		{nil, false, "sesame unknown, revision unknown, " + runtime.Version()},
	} {
		if got := readBuildVersion(tc.info, tc.ok).String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
