package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestAuthorizeBadInput: a bad client or redirect_uri gets an error page and
// never a redirect; anything else wrong goes back to the registered
// redirect_uri with an OAuth error.
func TestAuthorizeBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	_, challenge := pkce()
	base := func() url.Values {
		return url.Values{"client_id": {"marketplace"}, "redirect_uri": {f.redirect}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	with := func(k, v string) url.Values { q := base(); q.Set(k, v); return q }
	without := func(k string) url.Values { q := base(); q.Del(k); return q }

	pages := []struct {
		name   string
		query  url.Values
		status int
		text   string
	}{
		{"unregistered redirect_uri", with("redirect_uri", "https://evil.example/cb"), 400, "est pas enregistrée"},
		{"redirect_uri differing by a slash", with("redirect_uri", f.redirect+"/"), 400, "est pas enregistrée"},
		{"redirect_uri with extra query", with("redirect_uri", f.redirect+"?x=1"), 400, "est pas enregistrée"},
		{"missing redirect_uri", without("redirect_uri"), 400, "est pas enregistrée"},
		{"unknown client", with("client_id", "nobody"), 400, "est pas reconnue"},
		{"missing client", without("client_id"), 400, "est pas reconnue"},
		{"invalid UTF-8", with("state", "\xff\xfe"), 400, "invalide"},
	}
	for _, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+"/authorize?"+tc.query.Encode(), nil)
			resp, body := e.browser().do(req)
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != "" || !strings.Contains(body, tc.text) {
				t.Fatalf("got %d, Location %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}

	redirects := []struct {
		name  string
		query url.Values
		err   string
	}{
		{"no PKCE", without("code_challenge"), "invalid_request"},
		{"plain PKCE", with("code_challenge_method", "plain"), "invalid_request"},
		{"PKCE method missing (plain by default)", without("code_challenge_method"), "invalid_request"},
		{"challenge not a SHA-256", with("code_challenge", "short"), "invalid_request"},
		{"implicit flow", with("response_type", "token"), "unauthorized_client"},
		{"prompt none with another value", with("prompt", "none login"), "invalid_request"},
	}
	for _, tc := range redirects {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := e.browser().get(e.issuer + "/authorize?" + tc.query.Encode())
			q := rpRedirect(t, resp, f)
			if q.Get("error") != tc.err || q.Get("state") != "s" {
				t.Fatalf("got %v, want error %s", q, tc.err)
			}
		})
	}
}

func TestTokenEndpointBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	other := e.fixture("other")
	legacy := e.fixture("legacy", "--allow-no-pkce")

	exchange := func(c fixture, code, verifier string) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.redirect}}
		if verifier != "" {
			form.Set("code_verifier", verifier)
		}
		status, body, h := e.tokenRequest(c, form)
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("error response without Cache-Control: no-store")
		}
		return status, body
	}
	wantErr := func(t *testing.T, status int, body map[string]any, code string) {
		t.Helper()
		if status < 400 || status >= 500 || body["error"] != code {
			t.Fatalf("got %d %v, want 4xx %s", status, body, code)
		}
	}

	t.Run("wrong client secret", func(t *testing.T) {
		v, c := pkce()
		code := e.browser().signIn(f, c, nil)
		bad := f
		bad.secret = "not-the-secret-at-all"
		status, body, h := e.tokenRequest(bad, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {f.redirect}, "code_verifier": {v}})
		wantErr(t, status, body, "invalid_client")
		// RFC 6749 §5.2: a client that authenticated with the Authorization
		// header gets a 401 and a challenge for its scheme.
		if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("wrong secret: %d, WWW-Authenticate %q", status, h.Get("WWW-Authenticate"))
		}
		// The code was not spent by the failed attempt: the client is checked first.
		if status, body := exchange(f, code, v); status != 200 {
			t.Fatalf("the right client could not exchange after a wrong secret: %d %v", status, body)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		status, body := exchange(fixture{clientID: "nobody", secret: "whatever-secret-123", redirect: f.redirect}, "code", "")
		wantErr(t, status, body, "invalid_client")
		if status != http.StatusUnauthorized {
			t.Fatalf("unknown client: %d, want 401", status)
		}
	})
	t.Run("code replay revokes the tokens", func(t *testing.T) {
		v, c := pkce()
		code := e.browser().signIn(f, c, nil)
		status, first := exchange(f, code, v)
		if status != 200 {
			t.Fatalf("first exchange: %d %v", status, first)
		}
		status, body := exchange(f, code, v)
		wantErr(t, status, body, "invalid_grant")
		party := e.relyingParty(f, "")
		if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), first["access_token"].(string), "Bearer", f.userID, party); err == nil {
			t.Fatal("access token from a replayed code still works")
		}
		status, body, _ = e.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}})
		wantErr(t, status, body, "invalid_grant")
	})
	t.Run("missing verifier", func(t *testing.T) {
		_, c := pkce()
		status, body := exchange(f, e.browser().signIn(f, c, nil), "")
		wantErr(t, status, body, "invalid_grant")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		_, c := pkce()
		other, _ := pkce()
		status, body := exchange(f, e.browser().signIn(f, c, nil), other)
		wantErr(t, status, body, "invalid_grant")
	})
	t.Run("redirect_uri differs", func(t *testing.T) {
		v, c := pkce()
		code := e.browser().signIn(f, c, nil)
		status, body, _ := e.tokenRequest(f, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {"http://127.0.0.1:1/other/cb"}, "code_verifier": {v}})
		wantErr(t, status, body, "invalid_grant")
	})
	t.Run("code of another client", func(t *testing.T) {
		v, c := pkce()
		code := e.browser().signIn(f, c, nil)
		status, body, _ := e.tokenRequest(other, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {f.redirect}, "code_verifier": {v}})
		wantErr(t, status, body, "invalid_grant")
	})
	t.Run("expired code", func(t *testing.T) {
		v, c := pkce()
		code := e.browser().signIn(f, c, nil)
		e.clock.Add(61 * time.Second)
		status, body := exchange(f, code, v)
		wantErr(t, status, body, "invalid_grant")
	})
	t.Run("legacy client without PKCE, and a downgrade attempt", func(t *testing.T) {
		lf := legacy
		lf.email, lf.pw = f.email, f.pw
		code := e.browser().signIn(lf, "", nil)
		if status, body := exchange(lf, code, ""); status != 200 {
			t.Fatalf("legacy client: %d %v", status, body)
		}
		code = e.browser().signIn(lf, "", nil)
		v, _ := pkce()
		status, body := exchange(lf, code, v)
		wantErr(t, status, body, "invalid_grant")
	})
	t.Run("unknown grant type", func(t *testing.T) {
		status, body, _ := e.tokenRequest(f, url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}})
		wantErr(t, status, body, "unsupported_grant_type")
	})
	t.Run("garbage code", func(t *testing.T) {
		status, body := exchange(f, "garbage", "")
		wantErr(t, status, body, "invalid_grant")
	})
}

func TestOversizedAndMalformedBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big := "email=" + strings.Repeat("a", 1<<20)
	tests := []struct {
		name, path, body string
		status           int
		json             bool
	}{
		{"1 MiB login form", "/login", big, 413, false},
		{"1 MiB token request", "/oauth/token", big, 413, true},
		{"invalid UTF-8 in the login form", "/login", "email=%ff%fe&password=x", 400, false},
		{"invalid UTF-8 at the token endpoint", "/oauth/token", "grant_type=%ff", 400, true},
		{"NUL byte in the login form", "/login", "email=a%00b&password=x", 400, false},
		{"malformed escape", "/login", "email=%zz", 400, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := testClient.Post(e.issuer+tc.path, "application/x-www-form-urlencoded", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ct := resp.Header.Get("Content-Type")
			if resp.StatusCode != tc.status || strings.HasPrefix(ct, "application/json") != tc.json {
				t.Fatalf("got %d %s", resp.StatusCode, ct)
			}
		})
	}
}

func TestLoginScreenBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	br := e.browser()
	_, body := br.get(e.issuer + "/login")
	csrf := field(csrfRe, body)
	tests := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"unknown authorization request", url.Values{"authRequestID": {"ar_nope"}, "email": {f.email}, "password": {f.pw}}, 400, "a expiré ou n"},
		{"empty fields", url.Values{"email": {""}, "password": {""}}, 400, "Saisissez votre adresse e-mail"},
		{"very long email", url.Values{"email": {strings.Repeat("a", 400) + "@x.example"}, "password": {"x"}}, 400, "Saisissez"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", csrf)
			resp, body := br.post(e.issuer+"/login", tc.form)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.text) {
				t.Fatalf("got %d: %.300s", resp.StatusCode, body)
			}
		})
	}
	// The callback: unknown request, and another browser's finished request.
	resp, _ := br.get(e.issuer + "/authorize/callback?id=ar_nope")
	if resp.StatusCode != 400 {
		t.Fatalf("callback for an unknown request: %d", resp.StatusCode)
	}
	_, c := pkce()
	resp, body = br.get(e.authorizeURL(f, c, nil))
	ar := field(arIDRe, body)
	resp, _ = br.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "authRequestID": {ar}, "email": {f.email}, "password": {f.pw}})
	rpRedirect(t, resp, f)
	resp, _ = e.browser().get(e.issuer + "/authorize/callback?id=" + ar)
	if resp.StatusCode != 403 && resp.StatusCode != 400 {
		t.Fatalf("another browser fetched the code: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Fatal("code leaked to another browser")
	}
	// Methods and paths that do not exist.
	req, _ := http.NewRequest(http.MethodDelete, e.issuer+"/login", nil)
	if resp, _ := br.do(req); resp.StatusCode != 405 {
		t.Fatalf("DELETE /login: %d", resp.StatusCode)
	}
}
