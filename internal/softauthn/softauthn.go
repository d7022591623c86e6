// Package softauthn is a software WebAuthn authenticator for tests and
// benchmarks: the test double of a passkey. It makes real answers (an
// ECDSA P-256 key, "none" attestation objects in CBOR, signed assertions)
// for the challenges a relying party sends, so that the relying party's
// side (go-webauthn) runs for real without a browser. It is never linked
// into the server.
package softauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Key is one discoverable credential. A copy is the same key with its own
// settings (a test changes the copy's origin to play a phishing page).
type Key struct {
	ID         []byte
	Private    *ecdsa.PrivateKey
	UserHandle []byte
	Count      uint32
	// What the authenticator reports: user verification, a synced
	// (backup-eligible, backed-up) passkey.
	UV, Synced bool
	// Where the browser says the ceremony ran.
	Origin, RPID string
}

// New makes a key for origin and RP id, verifying the person.
func New(origin, rpID string) (*Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return &Key{ID: id, Private: k, UV: true, Origin: origin, RPID: rpID}, nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *Key) flags(attested bool) byte {
	f := byte(0x01) // user present
	if k.UV {
		f |= 0x04
	}
	if k.Synced {
		f |= 0x08 | 0x10
	}
	if attested {
		f |= 0x40
	}
	return f
}

func (k *Key) authData(attested bool) ([]byte, error) {
	h := sha256.Sum256([]byte(k.RPID))
	out := append([]byte{}, h[:]...)
	out = append(out, k.flags(attested))
	out = binary.BigEndian.AppendUint32(out, k.Count)
	if !attested {
		return out, nil
	}
	out = append(out, make([]byte, 16)...) // AAGUID: none
	out = binary.BigEndian.AppendUint16(out, uint16(len(k.ID)))
	out = append(out, k.ID...)
	// The COSE_Key: kty EC2, alg ES256, crv P-256, x, y.
	cose, err := k.PublicKey()
	return append(out, cose...), err
}

// PublicKey is the credential's public key as a COSE_Key (what a relying
// party stores).
func (k *Key) PublicKey() ([]byte, error) {
	x, y := make([]byte, 32), make([]byte, 32)
	k.Private.PublicKey.X.FillBytes(x)
	k.Private.PublicKey.Y.FillBytes(y)
	return webauthncbor.Marshal(map[int]any{1: int(webauthncose.EllipticKey), 3: int(webauthncose.AlgES256), -1: 1, -2: x, -3: y})
}

func (k *Key) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.Origin, "crossOrigin": false})
	return b
}

// Create answers a creation ceremony for the challenge and user handle
// (base64url, as the options carry them): the new credential, as JSON.
func (k *Key) Create(challenge, userHandle string) (string, error) {
	uh, err := base64.RawURLEncoding.DecodeString(userHandle)
	if err != nil {
		return "", err
	}
	k.UserHandle = uh
	ad, err := k.authData(true)
	if err != nil {
		return "", err
	}
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]any{"id": b64(k.ID), "rawId": b64(k.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(k.clientData("webauthn.create", challenge)),
			"attestationObject": b64(att), "transports": []string{"internal"}}})
	return string(b), err
}

// Get answers a request ceremony for the challenge: a signed assertion,
// as JSON. The counter moves on first.
func (k *Key) Get(challenge string) (string, error) {
	k.Count++
	ad, err := k.authData(false)
	if err != nil {
		return "", err
	}
	cd := k.clientData("webauthn.get", challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.Private, digest[:])
	if err != nil {
		return "", err
	}
	resp := map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig)}
	if len(k.UserHandle) > 0 {
		resp["userHandle"] = b64(k.UserHandle)
	}
	b, err := json.Marshal(map[string]any{"id": b64(k.ID), "rawId": b64(k.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{}, "response": resp})
	return string(b), err
}

// Options is what a ceremony's options tell the authenticator.
type Options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials   []struct{ ID string } `json:"allowCredentials"`
		ExcludeCredentials []struct{ ID string } `json:"excludeCredentials"`
		UserVerification   string                `json:"userVerification"`
	} `json:"publicKey"`
}
