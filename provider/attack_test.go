package provider

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// No provider endpoint lets a page of an unregistered origin read its
// answer: the library's CORS layer echoes any Origin, so every path and
// method is tried with one. Discovery and the keys answer "*" (never the
// origin, never credentials), whatever the method, the library's fallback
// included (a POST to /keys is served by the library).
func TestNoEndpointEchoesAnUnregisteredOrigin(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	const evil = "https://evil.example"
	for _, path := range Paths {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
			req := httptest.NewRequest(method, fapiIssuer+path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", evil)
			a := e.send(req)
			got := a.header.Get("Access-Control-Allow-Origin")
			if a.header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s %s: credentials allowed: %v", method, path, a.header)
			}
			if path == PathDiscovery || path == PathKeys {
				if got != "*" {
					t.Errorf("%s %s: Access-Control-Allow-Origin %q, want *", method, path, got)
				}
				continue
			}
			if got == evil {
				t.Errorf("%s %s: the answer is readable from %s (%d)", method, path, evil, a.status)
			}
			if a.status >= 500 {
				t.Errorf("%s %s: %d", method, path, a.status)
			}
		}
	}
}
