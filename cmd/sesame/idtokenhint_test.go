package main

import (
	"net/url"
	"testing"
)

func TestEdDSAIDTokenHintEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("ed-app", "--id-token-signed-response-alg", "EdDSA")
	e.person(&f)
	br := e.browser()
	verifier, challenge := pkce()
	tokens := exchange(t, e.relyingParty(f, "n-ed-app", "EdDSA"), br.signIn(f, challenge, nil), verifier)
	resp, body := br.get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {tokens.IDToken},
		"post_logout_redirect_uri": {"http://127.0.0.1:1/ed-app/bye"}}.Encode())
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != "http://127.0.0.1:1/ed-app/bye" {
		t.Fatalf("logout with an EdDSA id_token_hint: %d %q %.200s", resp.StatusCode, loc, body)
	}
	_, c := pkce()
	if resp, body := br.get(e.authorizeURL(f, c, nil)); resp.StatusCode != 200 || field(arIDRe, body) == "" {
		t.Fatalf("the session survived the logout: %d", resp.StatusCode)
	}
}
