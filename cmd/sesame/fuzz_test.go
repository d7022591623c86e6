package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig: any file either loads or lists its problems; never a panic.
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []string{"", "issuer: https://id.example.com\n", "storage:\n  driver: postgres\n", "a: [", "- x", "mail:\n  smtp:\n    port: x\n",
		"signup:\n  static_accounts:\n    - email: a\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte(body), 0o600)
		_, err := LoadConfig(p, nil)
		if err != nil {
			if _, ok := err.(Problems); !ok {
				t.Fatalf("not a list of problems: %T %v", err, err)
			}
		}
	})
}

// FuzzRedirectURIPolicy: what registration accepts is absolute, without a
// fragment, and https or loopback http (custom schemes: public clients only).
func FuzzRedirectURIPolicy(f *testing.F) {
	for _, s := range []string{"https://rp.example/cb", "http://127.0.0.1:9/cb", "http://localhost/cb", "http://evil.example/cb",
		"com.example.app:/cb", "/relative", "https://rp.example/cb#x", "javascript:alert(1)", "https://", "http://[::1]/cb"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, public bool) {
		if checkRedirectURI("redirect-uri", raw, public) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || strings.Contains(raw, "#") {
			t.Fatalf("accepted %q", raw)
		}
		switch u.Scheme {
		case "https":
		case "http":
			if !isLoopbackHost(u.Hostname()) {
				t.Fatalf("accepted http off loopback: %q", raw)
			}
		default:
			if !public {
				t.Fatalf("accepted a custom scheme for a confidential client: %q", raw)
			}
		}
	})
}
