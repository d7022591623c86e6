package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-idp/sesame/storage"
)

func TestCheckVerifier(t *testing.T) {
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	tests := []struct {
		name, challenge, verifier string
		ok                        bool
	}{
		{"no PKCE at all (legacy client)", "", "", true},
		{"right verifier", challenge, verifier, true},
		{"missing verifier", challenge, "", false},
		{"wrong verifier", challenge, strings.Repeat("w", 43), false},
		{"verifier too short", challenge, "short", false},
		{"verifier too long", challenge, strings.Repeat("v", 129), false},
		{"plain: the challenge itself as verifier", challenge, challenge, false},
		{"downgrade: verifier without challenge", "", verifier, false},
	}
	for _, tc := range tests {
		err := checkVerifier(tc.challenge, tc.verifier)
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v", tc.name, err)
		}
		if err != nil {
			if e, ok := err.(*oidc.Error); !ok || e.ErrorType != oidc.InvalidGrant {
				t.Errorf("%s: want invalid_grant, got %v", tc.name, err)
			}
		}
	}
	if !validChallenge(challenge) || validChallenge("abc") || validChallenge(challenge+"==") {
		t.Error("validChallenge")
	}
}

func TestRedirectURIExactMatch(t *testing.T) {
	c := storage.Client{RedirectURIs: []string{"https://rp.example/cb", "http://127.0.0.1:9090/cb"}}
	tests := map[string]bool{
		"https://rp.example/cb":          true,
		"http://127.0.0.1:9090/cb":       true,
		"https://rp.example/cb/":         false,
		"https://rp.example/cb?x=1":      false,
		"https://RP.example/cb":          false,
		"https://rp.example/CB":          false,
		"http://127.0.0.1:9091/cb":       false,
		"https://rp.example/cb#fragment": false,
		"https://rp.example.evil/cb":     false,
		"":                               false,
	}
	for uri, want := range tests {
		if got := RedirectURIRegistered(c, uri); got != want {
			t.Errorf("%q: got %v", uri, got)
		}
	}
}
