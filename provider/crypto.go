package provider

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/crypto/chacha20poly1305"
)

// tokenCrypto seals what the library puts in an access token (its id and
// subject) and in a code (its request's id): XChaCha20-Poly1305 under a key
// derived from the master key, with a random 192-bit nonce, in base64url.
//
// Why not the library's own: it makes a JWE (A256GCMKW key wrapping around
// A256GCM) for every token, building a new encrypter each time and parsing
// JSON headers back on every userinfo or introspection call, about a tenth
// of a userinfo request's CPU. One AEAD built at start is safe for
// concurrent use; a 192-bit random nonce, unlike GCM's 96 bits, has no
// practical limit on the number of tokens one key seals. Tokens the
// library sealed before (a server upgraded while they live) still open.
type tokenCrypto struct {
	aead   cipher.AEAD
	legacy []op.Decrypter
	// jwts holds, by "tokenID:subject", the RFC 9068 JWT a client of the
	// jwt format gets instead of a sealed token (jwtat.go): the library
	// asks Encrypt for the token right after storing it. A handOff the
	// library never asked for (a failure between the two) is dropped by
	// the next one after a minute.
	jwts sync.Map
}

// handOff is a JWT waiting for Encrypt, and when it was left there.
type handOff struct {
	jwt string
	at  time.Time
}

// handOffLife is how long an unclaimed JWT stays: the library claims it
// within the same request.
const handOffLife = time.Minute

// leave puts jwt where Encrypt(key) takes it, and drops what was left more
// than handOffLife before now (there is normally nothing to drop).
func (c *tokenCrypto) leave(key, jwt string, now time.Time) {
	c.jwts.Range(func(k, v any) bool {
		if now.Sub(v.(handOff).at) > handOffLife {
			c.jwts.Delete(k)
		}
		return true
	})
	c.jwts.Store(key, handOff{jwt: jwt, at: now})
}

func newTokenCrypto(key [32]byte, legacyKeyID string) (*tokenCrypto, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	return &tokenCrypto{aead: aead, legacy: []op.Decrypter{op.NewAES256GCMCrypto(key, legacyKeyID), op.NewAESDecrypter(key)}}, nil
}

var errUnsealed = errors.New("provider: token does not open")

func (c *tokenCrypto) Encrypt(s string) (string, error) {
	if h, ok := c.jwts.LoadAndDelete(s); ok {
		return h.(handOff).jwt, nil
	}
	n := c.aead.NonceSize()
	nonce := make([]byte, n, n+len(s)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(c.aead.Seal(nonce, nonce, []byte(s), nil)), nil
}

func (c *tokenCrypto) Decrypt(s string) (string, error) {
	// A JWE has dots, which base64url has not: it goes to the legacy path.
	n := c.aead.NonceSize()
	if raw, err := base64.RawURLEncoding.DecodeString(s); err == nil && len(raw) >= n+c.aead.Overhead() {
		if out, err := c.aead.Open(nil, raw[:n], raw[n:], nil); err == nil {
			return string(out), nil
		}
		return "", errUnsealed
	}
	for _, d := range c.legacy {
		if out, err := d.Decrypt(s); err == nil {
			return out, nil
		}
	}
	return "", errUnsealed
}
