package loadgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoP makes the run's token and userinfo requests carry DPoP proofs
// (RFC 9449), as a sender-constrained client's do: one ES256 key for the
// run, a new proof (a new jti) per request, the userinfo token sent with
// the DPoP scheme. The proofs are signed by the generator, whose CPU is
// reported apart.
func (r *Run) DPoP() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return err
	}
	r.dpop = signer
	return nil
}

// prove adds a DPoP proof for req (and accessToken, when one goes with it).
func (r *Run) prove(req *http.Request, accessToken string) error {
	if r.dpop == nil {
		return nil
	}
	jti := make([]byte, 16)
	rand.Read(jti)
	u := *req.URL
	u.RawQuery, u.Fragment = "", ""
	claims := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti), "htm": req.Method, "htu": u.String(),
		"iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
		req.Header.Set("Authorization", "DPoP "+accessToken)
	}
	payload, _ := json.Marshal(claims)
	jws, err := r.dpop.Sign(payload)
	if err != nil {
		return err
	}
	proof, err := jws.CompactSerialize()
	if err != nil {
		return err
	}
	req.Header.Set("DPoP", proof)
	return nil
}
