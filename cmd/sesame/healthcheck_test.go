package main

import (
	"strings"
	"testing"
)

// TestHealthcheck: `sesame healthcheck` reads the configuration as serve
// does and exits 0 only when that server answers /readyz.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if out, errs, code := e.cli("", "healthcheck"); code != 0 || strings.TrimSpace(out) != "ready" {
		t.Fatalf("healthcheck of a running server: %d %q %q", code, out, errs)
	}
	closed := freeAddr(t)
	env := append(append([]string(nil), e.env...), "SESAME_LISTEN="+closed)
	var out, errb strings.Builder
	if code := run(t.Context(), []string{"healthcheck", "--timeout", "2s"}, strings.NewReader(""), &out, &errb, env); code != 1 ||
		!strings.Contains(errb.String(), closed) || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("healthcheck of no server: %d %q %q", code, out.String(), errb.String())
	}
	badCfg := append(append([]string(nil), e.env...), "SESAME_LOG_LEVEL=loud")
	if code := run(t.Context(), []string{"healthcheck"}, strings.NewReader(""), &out, &errb, badCfg); code == 0 {
		t.Fatal("healthcheck with a broken configuration exits 0")
	}
}

func TestDialable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{":8080": "127.0.0.1:8080", "0.0.0.0:8080": "127.0.0.1:8080", "[::]:8080": "[::1]:8080",
		"127.0.0.1:9": "127.0.0.1:9", "id.example.com:443": "id.example.com:443"} {
		if got := dialable(in); got != want {
			t.Errorf("dialable(%q) = %q, want %q", in, got, want)
		}
	}
}
