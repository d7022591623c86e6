package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
)

func TestUserinfoRefusesInvalidTokensWith401(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	verifier, challenge := pkce()
	party := e.relyingParty(f, "n-marketplace")
	tokens := exchange(t, party, e.browser().signIn(f, challenge, nil), verifier)
	if err := rp.RevokeToken(context.Background(), party, tokens.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	for name, bearer := range map[string]string{"revoked access token": tokens.AccessToken, "ID token": tokens.IDToken} {
		req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		status, body, h := doJSON(t, req)
		if status != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) || body["error"] != "invalid_token" {
			t.Fatalf("%s: %d %v %q", name, status, body, h.Get("WWW-Authenticate"))
		}
	}
}
