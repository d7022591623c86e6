package provider

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzIDTokenHint: an id_token_hint of any shape, at end_session and at
// authorize, is refused with a 4xx or ignored; never a 5xx or a panic.
func FuzzIDTokenHint(f *testing.F) {
	bp := newBenchProvider(f)
	for _, s := range []string{"", "x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
		"eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleV94In0.eyJpc3MiOiJodHRwczovL2lkLmV4YW1wbGUuY29tIn0.c2ln"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hint string) {
		for _, u := range []string{
			"https://id.example.com/end_session?" + url.Values{"id_token_hint": {hint}, "client_id": {"bench"}}.Encode(),
			"https://id.example.com/authorize?" + url.Values{"id_token_hint": {hint}, "client_id": {"bench"}, "redirect_uri": {"https://rp.example/cb"},
				"response_type": {"code"}, "scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
				"code_challenge_method": {"S256"}}.Encode(),
		} {
			w := httptest.NewRecorder()
			bp.p.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u, nil))
			if w.Code >= 500 {
				t.Fatalf("%q: %d %s", hint, w.Code, w.Body)
			}
		}
	})
}
