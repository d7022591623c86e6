package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Consent for third-party applications through the whole server: the
// provider's answers (code, access_denied, consent_required, each with its
// state and issuer), the tokens a revocation ends, and the CLI's flag.

var consentFormRe = regexp.MustCompile(`<form method="post" action="/login/consent"`)

func TestConsentThroughTheProvider(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("partner", "--third-party")
	e.person(&f)
	b := e.browser()

	// The sign-in ends on the consent page, naming the application.
	verifier, challenge := pkce()
	resp, body := b.submitLogin(f, challenge, nil)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login/consent" || !consentFormRe.MatchString(body) ||
		!strings.Contains(body, "App partner") {
		t.Fatalf("after sign-in: %d %s: %.400s", resp.StatusCode, resp.Request.URL.Path, body)
	}
	resp, _ = b.post(e.issuer+"/login/consent", url.Values{"csrf_token": {field(csrfRe, body)}, "decision": {"allow"}})
	q := rpRedirect(t, resp, f)
	if q.Get("code") == "" || q.Get("state") != "st-partner" {
		t.Fatalf("allow: %v", q)
	}
	status, tok, _ := e.tokenRequest(f, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {f.redirect}, "code_verifier": {verifier}})
	if status != 200 || tok["refresh_token"] == nil {
		t.Fatalf("token: %d %v", status, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

	// Remembered: the next request is answered at once, prompt=none too.
	resp, _ = b.get(e.authorizeURL(f, challenge, nil))
	if q := rpRedirect(t, resp, f); q.Get("code") == "" {
		t.Fatalf("a remembered consent was asked again: %v", q)
	}
	resp, _ = b.get(e.authorizeURL(f, challenge, url.Values{"prompt": {"none"}}))
	if q := rpRedirect(t, resp, f); q.Get("code") == "" {
		t.Fatalf("prompt=none with consent: %v", q)
	}
	// prompt=consent asks again; Deny answers access_denied with the state.
	resp, body = b.get(e.authorizeURL(f, challenge, url.Values{"prompt": {"consent"}}))
	if resp.Request.URL.Path != "/login/consent" {
		t.Fatalf("prompt=consent: %s", resp.Request.URL)
	}
	resp, _ = b.post(e.issuer+"/login/consent", url.Values{"csrf_token": {field(csrfRe, body)}, "decision": {"deny"}})
	if q := rpRedirect(t, resp, f); q.Get("error") != "access_denied" || q.Get("state") != "st-partner" || q.Get("code") != "" {
		t.Fatalf("deny: %v", q)
	}

	// The settings list it; revoking ends the tokens.
	_, body = b.get(e.issuer + "/account/security")
	if !strings.Contains(body, "App partner") || !strings.Contains(body, "/account/security/applications/partner/revoke") {
		t.Fatalf("the settings do not list the application: %.300s", body)
	}
	resp, _ = b.post(e.issuer+"/account/security/applications/partner/revoke", url.Values{"csrf_token": {field(csrfRe, body)}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Query().Get("done") != "consent-revoked" {
		t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Request.URL)
	}
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if status, _, _ := doJSON(t, req); status != http.StatusUnauthorized {
		t.Fatalf("userinfo after revocation: %d", status)
	}
	status, body2, _ := e.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != http.StatusBadRequest || body2["error"] != "invalid_grant" {
		t.Fatalf("refresh after revocation: %d %v", status, body2)
	}
	// Without consent, prompt=none answers consent_required, with the
	// state and the issuer.
	resp, _ = b.get(e.authorizeURL(f, challenge, url.Values{"prompt": {"none"}}))
	if q := rpRedirect(t, resp, f); q.Get("error") != "consent_required" || q.Get("state") != "st-partner" {
		t.Fatalf("prompt=none after revocation: %v", q)
	}

	// A first-party client of the same person is never asked.
	first := e.fixture("inhouse")
	first.email, first.pw = f.email, f.pw
	resp, _ = b.get(e.authorizeURL(first, challenge, url.Values{"prompt": {"consent"}}))
	if q := rpRedirect(t, resp, first); q.Get("code") == "" {
		t.Fatalf("a first-party client was asked: %v", q)
	}
}

func TestClientThirdPartyFlag(t *testing.T) {
	t.Parallel()
	e := cliEnv(t)
	out := e.mustCLI("", "client", "add", "--id", "tp", "--redirect-uri", "https://tp.example/cb", "--third-party", "--json")
	var created clientJSON
	if err := json.Unmarshal([]byte(out), &created); err != nil || !created.ThirdParty {
		t.Fatalf("client add --third-party: %v %s", err, out)
	}
	out = e.mustCLI("", "client", "add", "--id", "fp", "--redirect-uri", "https://fp.example/cb", "--json")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ThirdParty {
		t.Fatalf("a client is first-party by default: %s", out)
	}
	_, errs, code := e.cli("", "client", "add", "--id", "m2m", "--grant", "client_credentials", "--scope", "sesame:audit:read", "--third-party")
	if code != 2 || !strings.Contains(errs, "--third-party:") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("--third-party without a person: exit %d %q", code, errs)
	}
}

// walkConsenting is TestNoStateChangeOnGet's person in the middle of a
// consent: p allowed one third-party application (listed in the settings)
// and has the consent page of another open; it returns the browser and
// the page's CSRF token.
func walkConsenting(t *testing.T, e *testEnv, p fixture) (*browser, string) {
	t.Helper()
	allowed, pending := e.fixture("partner-a", "--third-party"), e.fixture("partner-b", "--third-party")
	for _, f := range []*fixture{&allowed, &pending} {
		f.email, f.pw = p.email, p.pw
	}
	b := e.browser()
	_, challenge := pkce()
	resp, body := b.submitLogin(allowed, challenge, nil)
	if resp.Request.URL.Path != "/login/consent" {
		t.Fatalf("consenting: %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, _ = b.post(e.issuer+"/login/consent", url.Values{"csrf_token": {field(csrfRe, body)}, "decision": {"allow"}})
	rpRedirect(t, resp, allowed)
	resp, body = b.get(e.authorizeURL(pending, challenge, nil))
	if resp.Request.URL.Path != "/login/consent" {
		t.Fatalf("consenting, second application: %d %s", resp.StatusCode, resp.Request.URL)
	}
	return b, field(csrfRe, body)
}
