package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// JWT access tokens (RFC 9068), for a client registered with
// --access-token-format jwt: an API that checks tokens itself verifies
// the signature with the provider's keys. The token is still stored as an
// opaque one is (its jti is the stored token's id), so that revocation,
// introspection and userinfo work as for opaque tokens. The library's own
// JWT access tokens lack what RFC 9068 asks (typ at+jwt, scope, auth_time,
// acr), so Sesame makes its own from the record the library just stored.

// AccessTokenJWT is ClientProtocol.AccessTokenFormat for RFC 9068 tokens.
const AccessTokenJWT = "jwt"

// jwtAccessToken leaves, for a client of the jwt format, a's RFC 9068
// JWT where the library's next call to Encrypt (for a's "id:subject")
// takes it: the library then answers it, and computes the ID token's
// at_hash from it. The library's own token type for JWTs would make its
// own claims instead.
func (s *opStorage) jwtAccessToken(ctx context.Context, a storage.AccessToken) error {
	c, err := getClient(ctx, s.store, a.ClientID)
	if err != nil || c.Protocol.AccessTokenFormat != AccessTokenJWT || s.sealer == nil {
		return err
	}
	token, err := s.signAccessToken(ctx, c, a)
	if err != nil {
		return err
	}
	s.sealer.leave(a.ID+":"+a.UserID, token, s.now())
	return nil
}

// signAccessToken makes a's RFC 9068 JWT for client c.
func (s *opStorage) signAccessToken(ctx context.Context, c storage.Client, a storage.AccessToken) (string, error) {
	aud := c.Protocol.Resource
	if aud == "" {
		aud = c.ID
	}
	// The acr an ID token gets without acr_values (a token does not keep
	// the request's): never more than what was proven (requests.go GetACR).
	acr := vocab.ACRPassword
	if slices.Contains(a.AMR, vocab.AMRMFA) {
		acr = vocab.ACRMFA
	}
	claims := map[string]any{"iss": op.IssuerFromContext(ctx), "sub": a.UserID, "aud": aud, "client_id": a.ClientID,
		"scope": strings.Join(a.Scopes, " "), "exp": a.ExpiresAt.Unix(), "iat": a.CreatedAt.Unix(), "jti": a.ID,
		"auth_time": a.AuthTime.Unix(), "acr": acr}
	if len(a.AMR) > 0 {
		claims["amr"] = a.AMR
	}
	if a.JKT != "" {
		claims["cnf"] = map[string]string{"jkt": a.JKT}
	}
	if slices.Contains(a.Scopes, ScopeOrganization) {
		p, err := getPerson(ctx, s.store, a.UserID)
		if err != nil {
			return "", err
		}
		info := new(oidc.UserInfo)
		orgClaims(info, p)
		for k, v := range info.Claims {
			claims[k] = v
		}
	}
	key, err := s.keys.SigningKey(ctx, Algorithms[0])
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign an access token: %w", err)
	}
	return jws.CompactSerialize()
}
