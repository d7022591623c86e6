package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// Every page that a GET route answers, as the operator and as an admin
// (the new screens included: domains, company sign-in, applications,
// policy, the passkey enrolment), carries the pages' headers: a CSP
// without inline script or style that forbids framing, X-Frame-Options,
// no referrer, and no caching (a page may hold a secret: the TOTP key, a
// client secret, recovery codes).
func TestEveryPageCarriesTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	admin := e.browser()
	admin.signInPlain(f)
	operator := e.browser()
	operator.signInPlain(e.operator)
	var paths []string
	err := chi.Walk(e.main.Handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet {
			paths = append(paths, routeParam.ReplaceAllString(strings.ReplaceAll(route, "/*", "/"), f.orgID))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, b := range []*browser{admin, operator} {
		for _, p := range paths {
			resp, _ := b.get(e.issuer + p)
			h := resp.Header
			if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				continue
			}
			pages++
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") ||
				h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s (landed on %s): %v", p, resp.Request.URL.Path, h)
			}
		}
	}
	if pages < 20 {
		t.Fatalf("only %d pages checked", pages)
	}
}
