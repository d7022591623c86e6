package provider

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// DPoP (RFC 9449): a client proves, with each request, that it holds the
// private key its tokens are bound to. A proof is a JWS of type dpop+jwt
// whose header carries the public key (jwk); its claims name the request
// (htm, htu), when it was made (iat), a unique id (jti, used once: kept in
// storage until the proof could no longer be accepted, so that a replay
// is refused by every replica) and, at a protected resource, the hash of
// the access token it goes with (ath). A token is bound to the key's
// RFC 7638 thumbprint (cnf.jkt).

// DPoPAlgorithms are the proof signatures accepted (asymmetric only).
var DPoPAlgorithms = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256, jose.EdDSA}

// Limits of a proof: how old its iat may be, how far ahead of our clock,
// and how large the header value.
const (
	dpopMaxAge   = 60 * time.Second
	dpopMaxAhead = 5 * time.Second
	dpopMaxSize  = 8 << 10
	dpopType     = "dpop+jwt"
	// The token_type of a DPoP-bound access token (RFC 9449 §5).
	tokenTypeDPoP = "DPoP"
)

type dpopClaims struct {
	JTI string      `json:"jti"`
	HTM string      `json:"htm"`
	HTU string      `json:"htu"`
	IAT json.Number `json:"iat"`
	ATH string      `json:"ath"`
}

// dpopProof checks the DPoP proofs of a request (values: its DPoP header
// values) for method and target, and for accessToken when one is
// presented with it; it returns the thumbprint of the proof's key. Every
// refusal is refusal (errDPoPProof at the token endpoint, errDPoPResource
// at a resource); the cause says why, for the log.
func (s *opStorage) dpopProof(ctx context.Context, values []string, method, target, accessToken string, refusal *fail.Error) (string, error) {
	refuse := func(format string, args ...any) (string, error) {
		e := *refusal
		e.Err = fmt.Errorf("dpop: "+format, args...)
		return "", &e
	}
	switch {
	case len(values) == 0:
		return refuse("no proof")
	case len(values) > 1:
		return refuse("more than one proof")
	case len(values[0]) > dpopMaxSize:
		return refuse("proof too large")
	}
	jws, err := jose.ParseSigned(values[0], DPoPAlgorithms)
	if err != nil {
		return refuse("parse: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return refuse("not one signature")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != dpopType {
		return refuse("typ %q", typ)
	}
	key := h.JSONWebKey
	if key == nil || !key.Valid() || !key.IsPublic() {
		return refuse("no public jwk in the header")
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return refuse("signature: %v", err)
	}
	var c dpopClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return refuse("claims: %v", err)
	}
	iat, err := c.IAT.Int64()
	now := s.now()
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return refuse("jti missing or too long")
	case c.HTM != method:
		return refuse("htm %q, want %q", c.HTM, method)
	case !sameTarget(c.HTU, target):
		return refuse("htu %q, want %q", c.HTU, target)
	case err != nil:
		return refuse("iat missing")
	case time.Unix(iat, 0).Before(now.Add(-dpopMaxAge)) || time.Unix(iat, 0).After(now.Add(dpopMaxAhead)):
		return refuse("iat %d outside the window at %d", iat, now.Unix())
	}
	if accessToken != "" {
		if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(accessTokenHash(accessToken))) != 1 {
			return refuse("ath does not match the access token")
		}
	}
	thumb, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return refuse("thumbprint: %v", err)
	}
	jkt := base64.RawURLEncoding.EncodeToString(thumb)
	// The jti is kept until no proof with this iat would be accepted.
	once := sha256.Sum256([]byte(jkt + "\x00" + c.JTI))
	err = s.store.UseOnce(ctx, "dpop:"+base64.RawURLEncoding.EncodeToString(once[:]), time.Unix(iat, 0).Add(dpopMaxAge+dpopMaxAhead), now)
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		return refuse("jti replayed")
	case err != nil:
		return "", serverError(err)
	}
	return jkt, nil
}

// sameTarget compares a proof's htu with the URI of the request, without
// query and fragment (RFC 9449 §4.3), the scheme and host in any case.
func sameTarget(htu, target string) bool {
	a, err := url.Parse(htu)
	if err != nil || !a.IsAbs() {
		return false
	}
	b, err := url.Parse(target)
	if err != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath()
}

// accessTokenHash is a proof's ath for token.
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
