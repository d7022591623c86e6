package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

var routeParam = regexp.MustCompile(`\{[^}]+\}`)

// Oversized and malformed input on every route (attacker review): every
// route of the whole handler — screens, protocol, API — gets bodies that
// are too large, not UTF-8, badly escaped, JSON where a form is expected
// and a form where JSON is expected, as a signed-in admin and as nobody.
// Never a 5xx (nor a panic, which the recoverer would make a 500).
func TestMalformedInputNeverFails(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	admin := e.browser()
	admin.signInPlain(f)
	type route struct{ method, path string }
	var routes []route
	err := chi.Walk(e.main.Handler.(chi.Routes), func(method, r string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet || method == http.MethodHead {
			return nil
		}
		routes = append(routes, route{method, routeParam.ReplaceAllString(strings.ReplaceAll(r, "/*", "/"), "x")})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("a", 70<<10)
	bodies := []struct{ name, contentType, body string }{
		{"oversized form", "application/x-www-form-urlencoded", "email=" + big},
		{"oversized JSON", "application/json", `{"name":"` + big + `"}`},
		{"not UTF-8", "application/x-www-form-urlencoded", "email=%ff%fe&password=%c3%28&csrf_token=%80"},
		{"bad escape", "application/x-www-form-urlencoded", "email=%zz&password=%"},
		{"JSON as a form", "application/x-www-form-urlencoded", `{"email":"a@b.example"}`},
		{"form as JSON", "application/json", "email=a%40b.example"},
		{"truncated JSON", "application/json", `{"email":`},
		{"deep JSON", "application/json", strings.Repeat("[", 5000) + strings.Repeat("]", 5000)},
		{"many fields", "application/x-www-form-urlencoded", strings.Repeat("a=1&", 10000)},
		{"no content type", "", "email=a"},
		{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n" + big + "\r\n--x--\r\n"},
	}
	for _, who := range []*browser{e.browser(), admin} {
		for _, r := range routes {
			for _, b := range bodies {
				req, _ := http.NewRequest(r.method, e.issuer+r.path, strings.NewReader(b.body))
				if b.contentType != "" {
					req.Header.Set("Content-Type", b.contentType)
				}
				resp, _ := who.do(req)
				if resp.StatusCode >= 500 {
					t.Errorf("%s %s, %s: %d", r.method, r.path, b.name, resp.StatusCode)
				}
			}
		}
	}
}
