package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestRelyingPartyPrivateKeyJWT: zitadel/oidc's relying party, registered
// with --auth private_key_jwt and --access-token-format jwt, exchanges its
// code and refreshes with assertions it signs (it checks the ID token and
// its at_hash over the JWT access token), and reads userinfo with the JWT.
// Its default assertion lives an hour, which Sesame refuses (5 minutes at
// most): the test signs its own, as such a client must.
func TestRelyingPartyPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "rp-1", Use: "sig"}}})
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(jwks, set, 0o600)
	f := fixture{clientID: "rp-pkjwt", redirect: "http://127.0.0.1:1/rp-pkjwt/cb", email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--redirect-uri", f.redirect, "--auth", "private_key_jwt", "--jwks-file", jwks,
		"--access-token-format", "jwt", "--name", "RP")
	e.person(&f)
	ctx := context.Background()
	party, err := rp.NewRelyingPartyOIDC(ctx, e.issuer, f.clientID, "", f.redirect,
		[]string{"openid", "email", "profile", "organization", "offline_access"},
		rp.WithJWTProfile(rp.SignerFromKeyAndKeyID(keyPEM, "rp-1")), rp.WithHTTPClient(testClient),
		rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "n-" + f.clientID })))
	if err != nil {
		t.Fatal(err)
	}
	assertion := func() string {
		a, err := client.SignedJWTProfileAssertion(f.clientID, []string{e.issuer}, time.Minute, party.Signer())
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// The library signs its assertions with the real time.
	defer e.followRealTime()()
	b := e.browser()
	verifier, challenge := pkce()
	code := b.signIn(f, challenge, nil)
	// The library's own hour-long assertion is refused...
	if _, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, party, rp.WithCodeVerifier(verifier)); err == nil ||
		!strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("an assertion valid an hour: %v", err)
	}
	// ...one of a minute goes (and the code was not spent by the refusal).
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, party, rp.WithCodeVerifier(verifier), rp.WithClientAssertionJWT(assertion()))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tokens.AccessToken, ".") != 2 || tokens.IDTokenClaims.Subject != f.userID {
		t.Fatalf("tokens: %+v", tokens)
	}
	// The JWT access token carries the organization claims the scope asked for.
	jws, err := jose.ParseSigned(tokens.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var at map[string]any
	json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &at)
	if at["org_id"] != f.orgID || at["org_name"] != "ACME" || at["client_id"] != f.clientID || at["aud"] != f.clientID ||
		at["sub"] != f.userID || !strings.Contains(at["scope"].(string), "organization") {
		t.Fatalf("JWT access token claims: %v", at)
	}
	info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, "Bearer", f.userID, party)
	if err != nil || info.Email != f.email {
		t.Fatalf("userinfo with the JWT access token: %+v %v", info, err)
	}
	// A refreshed ID token carries no nonce: the party that refreshes does not expect one.
	refresher, err := rp.NewRelyingPartyOIDC(ctx, e.issuer, f.clientID, "", f.redirect, []string{"openid"},
		rp.WithJWTProfile(rp.SignerFromKeyAndKeyID(keyPEM, "rp-1")), rp.WithHTTPClient(testClient))
	if err != nil {
		t.Fatal(err)
	}
	refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, refresher, tokens.RefreshToken, assertion(), oidc.ClientAssertionTypeJWTAssertion)
	if err != nil || refreshed.AccessToken == tokens.AccessToken || strings.Count(refreshed.AccessToken, ".") != 2 {
		t.Fatalf("refresh: %+v %v", refreshed, err)
	}
}
