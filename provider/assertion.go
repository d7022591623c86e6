package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-idp/sesame/storage"
)

// private_key_jwt (RFC 7523 §3, OpenID Connect Core §9): a client
// authenticates with a JWT it signed with a key registered for it (a JWK
// set given at registration, or fetched from its jwks_uri). The library's
// JWT-profile verifier accepts only the issuer as audience and remembers
// no jti; Sesame checks the assertion itself, with go-jose:
//   - iss and sub are the client (and client_id, when sent, too);
//   - aud names the issuer, the token endpoint, or the endpoint it is
//     presented to;
//   - exp is in the future and at most AssertionMaxLifetime away;
//   - the signature verifies with one of the client's keys (RS256, ES256,
//     EdDSA, PS256: never a MAC);
//   - jti was never used: it is kept in storage until exp, so that a
//     replay is refused by every replica.
// A refusal is the one answer of a failed client authentication (401
// invalid_client, counted against the address's budget); the reason goes
// to the log.

// AssertionAlgorithms are the signatures a client assertion may use.
var AssertionAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA, jose.PS256}

// AssertionMaxLifetime bounds how far in the future an assertion's exp may be.
const AssertionMaxLifetime = 5 * time.Minute

// AuthPrivateKeyJWT is ClientProtocol.AuthMethod for private_key_jwt.
const AuthPrivateKeyJWT = storage.AuthPrivateKeyJWT

// assertionSkew tolerates a client's clock a little ahead of ours (iat, nbf).
const assertionSkew = 10 * time.Second

type assertionClaims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	Expiry    *float64        `json:"exp"`
	IssuedAt  *float64        `json:"iat"`
	NotBefore *float64        `json:"nbf"`
	JTI       string          `json:"jti"`
}

func (c assertionClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Audience, &many)
	return many
}

// errAssertion is the cause of a refused assertion, for the log.
type errAssertion struct{ reason string }

func (e errAssertion) Error() string { return "client assertion refused: " + e.reason }

func refuseAssertion(format string, args ...any) error {
	return errAssertion{fmt.Sprintf(format, args...)}
}

// verifyAssertion checks a client assertion presented at endpoint and
// returns the client it authenticates. clientID is the form's client_id,
// if any. An error is an errAssertion (a refusal) or a storage failure.
func (s *opStorage) verifyAssertion(ctx context.Context, assertion, clientID, endpoint, issuer string) (storage.Client, error) {
	if len(assertion) > 16<<10 {
		return storage.Client{}, refuseAssertion("too large")
	}
	jws, err := jose.ParseSigned(assertion, AssertionAlgorithms)
	if err != nil {
		return storage.Client{}, refuseAssertion("parse: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return storage.Client{}, refuseAssertion("not one signature")
	}
	var claims assertionClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return storage.Client{}, refuseAssertion("claims: %v", err)
	}
	switch {
	case claims.Issuer == "" || claims.Issuer != claims.Subject:
		return storage.Client{}, refuseAssertion("iss %q and sub %q must both be the client", claims.Issuer, claims.Subject)
	case clientID != "" && clientID != claims.Issuer:
		return storage.Client{}, refuseAssertion("client_id %q is not the assertion's %q", clientID, claims.Issuer)
	}
	c, err := getClient(ctx, s.store, claims.Issuer)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Client{}, refuseAssertion("unknown client %q", claims.Issuer)
	} else if err != nil {
		return storage.Client{}, err
	}
	if c.Protocol.AuthMethod != AuthPrivateKeyJWT {
		return storage.Client{}, refuseAssertion("client %q does not authenticate with private_key_jwt", c.ID)
	}
	keys, err := s.jwks.keys(ctx, c, jws.Signatures[0].Header.KeyID)
	if err != nil {
		return storage.Client{}, refuseAssertion("client %q keys: %v", c.ID, err)
	}
	verified := false
	for _, k := range keys {
		if k.Use != "" && k.Use != "sig" || !k.IsPublic() {
			continue
		}
		if _, err := jws.Verify(k); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return storage.Client{}, refuseAssertion("no key of client %q verifies the signature", c.ID)
	}
	now := s.now()
	at := func(f *float64) time.Time { return time.Unix(0, int64(*f*1e9)) }
	switch {
	case !slices.ContainsFunc(claims.audiences(), func(a string) bool { return a == issuer || a == issuer+PathToken || a == endpoint }):
		return storage.Client{}, refuseAssertion("aud %s names neither the issuer nor this endpoint", claims.Audience)
	case claims.Expiry == nil:
		return storage.Client{}, refuseAssertion("no exp")
	case !now.Before(at(claims.Expiry)):
		return storage.Client{}, refuseAssertion("expired")
	case at(claims.Expiry).After(now.Add(AssertionMaxLifetime + assertionSkew)):
		return storage.Client{}, refuseAssertion("exp more than %v ahead", AssertionMaxLifetime)
	case claims.IssuedAt != nil && at(claims.IssuedAt).After(now.Add(assertionSkew)):
		return storage.Client{}, refuseAssertion("iat in the future")
	case claims.NotBefore != nil && at(claims.NotBefore).After(now.Add(assertionSkew)):
		return storage.Client{}, refuseAssertion("not yet valid (nbf)")
	case claims.JTI == "" || len(claims.JTI) > 256:
		return storage.Client{}, refuseAssertion("jti missing or too long")
	}
	once := sha256.Sum256([]byte(c.ID + "\x00" + claims.JTI))
	err = s.store.UseOnce(ctx, "assertion:"+base64.RawURLEncoding.EncodeToString(once[:]), at(claims.Expiry), now)
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		return storage.Client{}, refuseAssertion("jti %q replayed", claims.JTI)
	case err != nil:
		return storage.Client{}, err
	}
	return c, nil
}

// clientKeys reads clients' key sets: the one registered, or the one at
// the client's jwks_uri, fetched at most once per jwksRefresh (or once per
// jwksRetry when an unknown kid suggests the client rotated its keys) and
// kept in memory. Every replica fetches for itself: the keys are public.
type clientKeys struct {
	http *http.Client
	now  func() time.Time

	mu     sync.Mutex
	cache  map[string]fetchedKeys        // by URI
	parsed map[string]jose.JSONWebKeySet // registered sets, by their JSON
}

type fetchedKeys struct {
	set     jose.JSONWebKeySet
	fetched time.Time
}

const (
	jwksRefresh  = 5 * time.Minute
	jwksRetry    = 30 * time.Second
	jwksMaxBytes = 64 << 10
)

// ParseClientJWKS parses a registered JWK set, for `sesame client add`:
// it must hold at least one public signing key of an accepted algorithm
// family (RSA, EC P-256, Ed25519), and no private key.
func ParseClientJWKS(raw []byte) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return set, fmt.Errorf("not a JWK set: %w", err)
	}
	if len(set.Keys) == 0 {
		return set, errors.New("the JWK set has no key")
	}
	for i, k := range set.Keys {
		switch {
		case !k.Valid():
			return set, fmt.Errorf("key %d is not valid", i)
		case !k.IsPublic():
			return set, fmt.Errorf("key %d is a private key: register the public part only", i)
		case k.Use != "" && k.Use != "sig":
			return set, fmt.Errorf("key %d is not for signatures (use %q)", i, k.Use)
		}
	}
	return set, nil
}

func (ck *clientKeys) keys(ctx context.Context, c storage.Client, kid string) ([]jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	switch {
	case c.Protocol.JWKS != "":
		// Parsed once per set (RSA keys cost to decode), not per request.
		ck.mu.Lock()
		cached, ok := ck.parsed[c.Protocol.JWKS]
		ck.mu.Unlock()
		if ok {
			set = cached
			break
		}
		if err := json.Unmarshal([]byte(c.Protocol.JWKS), &set); err != nil {
			return nil, err
		}
		ck.mu.Lock()
		if ck.parsed == nil || len(ck.parsed) > 1000 {
			ck.parsed = map[string]jose.JSONWebKeySet{}
		}
		ck.parsed[c.Protocol.JWKS] = set
		ck.mu.Unlock()
	case c.Protocol.JWKSURI != "":
		var err error
		if set, err = ck.fetch(ctx, c.Protocol.JWKSURI, kid); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("no keys registered")
	}
	if kid == "" {
		return set.Keys, nil
	}
	return set.Key(kid), nil
}

func (ck *clientKeys) fetch(ctx context.Context, uri, kid string) (jose.JSONWebKeySet, error) {
	now := ck.now()
	ck.mu.Lock()
	f, ok := ck.cache[uri]
	ck.mu.Unlock()
	fresh := ok && now.Sub(f.fetched) < jwksRefresh
	known := kid == "" || len(f.set.Key(kid)) > 0
	if fresh && (known || now.Sub(f.fetched) < jwksRetry) {
		return f.set, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return f.set, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := ck.http.Do(req)
	if err != nil {
		return f.set, fmt.Errorf("fetch %s: %w", uri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return f.set, fmt.Errorf("fetch %s: %s", uri, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, jwksMaxBytes+1))
	if err != nil || len(body) > jwksMaxBytes {
		return f.set, fmt.Errorf("fetch %s: unreadable or larger than %d bytes", uri, jwksMaxBytes)
	}
	set, err := ParseClientJWKS(body)
	if err != nil {
		return f.set, fmt.Errorf("fetch %s: %w", uri, err)
	}
	ck.mu.Lock()
	if len(ck.cache) > 1000 {
		clear(ck.cache)
	}
	ck.cache[uri] = fetchedKeys{set: set, fetched: now}
	ck.mu.Unlock()
	return set, nil
}

// assertionType is the only client_assertion_type (RFC 7523 §2.2).
const assertionType = oidc.ClientAssertionTypeJWTAssertion
