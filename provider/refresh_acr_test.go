package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// TestRefreshedIDTokenStatesTheGrantsACR: an ID token issued by a refresh
// (and by the refresh of a refresh) states the acr the grant's first ID
// token stated: the level of the sign-in it rests on, which a refresh
// neither raises nor loses.
func TestRefreshedIDTokenStatesTheGrantsACR(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	for _, c := range []struct {
		name      string
		amr       []string
		acrValues []string
		want      string
	}{
		{"password", []string{vocab.AMRPassword}, nil, vocab.ACRPassword},
		{"second factor", []string{vocab.AMRPassword, vocab.AMROTP, vocab.AMRMFA}, nil, vocab.ACRMFA},
		{"passkey asked for", []string{vocab.AMRHWK, vocab.AMRMFA}, []string{vocab.ACRPasskey}, vocab.ACRPasskey},
	} {
		t.Run(c.name, func(t *testing.T) {
			verifier := storage.NewSecret() + "0123456789"
			sum := sha256.Sum256([]byte(verifier))
			code, now := "code-"+storage.NewSecret(), e.clock.Now()
			if err := e.db.CreateAuthRequest(context.Background(), storage.AuthRequest{ID: storage.NewID("ar"), ClientID: "conf",
				RedirectURI: fapiRedirect, Scopes: []string{"openid", "offline_access"}, ResponseType: "code", ACRValues: c.acrValues,
				CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256", CreatedAt: now,
				ExpiresAt: now.Add(time.Hour), UserID: e.userID, SessionID: "ses_1", AuthTime: now, AMR: c.amr, Done: true,
				CodeHash: storage.HashToken(code), CodeExpiry: now.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
			tok := e.post(PathToken, codeForm(code, verifier), "conf")
			if tok.status != http.StatusOK {
				t.Fatalf("code exchange: %v", tok)
			}
			if got := decodeJWT(t, tok.str("id_token"))["acr"]; got != c.want {
				t.Fatalf("first ID token acr %v, want %s", got, c.want)
			}
			rt := tok.str("refresh_token")
			for i := range 2 {
				r := e.post(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "conf")
				if r.status != http.StatusOK {
					t.Fatalf("refresh %d: %v", i+1, r)
				}
				if got := decodeJWT(t, r.str("id_token"))["acr"]; got != c.want {
					t.Fatalf("refresh %d: ID token acr %v, want %s", i+1, got, c.want)
				}
				rt = r.str("refresh_token")
			}
		})
	}
}
