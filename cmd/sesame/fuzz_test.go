package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/config"
)

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
			if !config.IsLoopbackHost(u.Hostname()) {
				t.Fatalf("accepted http off loopback: %q", raw)
			}
		default:
			if !public {
				t.Fatalf("accepted a custom scheme for a confidential client: %q", raw)
			}
		}
	})
}
