package main

import (
	"net/url"
	"testing"
)

func TestCustomSchemeRedirectForANativeClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := fixture{clientID: "mobile", redirect: "com.example.app:/callback", email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--public", "--redirect-uri", f.redirect)
	e.person(&f)
	verifier, challenge := pkce()
	code := e.browser().signIn(f, challenge, nil)
	status, body, _ := e.tokenRequest(f, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect},
		"client_id": {f.clientID}, "code_verifier": {verifier}})
	if status != 200 || body["id_token"] == nil {
		t.Fatalf("exchange: %d %v", status, body)
	}
	// Exactly as registered: another path of the scheme is refused.
	other := f
	other.redirect = "com.example.app:/other"
	resp, _ := e.browser().get(e.authorizeURL(other, challenge, nil))
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Fatalf("unregistered custom-scheme URI: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
