package login

// A software authenticator: the test double of a passkey. It makes real
// WebAuthn answers (an ECDSA P-256 key, CBOR attestation objects with the
// "none" format, signed assertions) from the options the server returns,
// so that the server side runs go-webauthn for real.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// passkeyOrigin is the origin the harness's relying party expects.
const passkeyOrigin = "http://localhost:8080"

type softKey struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	UserHandle []byte
	Count      uint32
	// What the authenticator claims: user verification, a synced passkey.
	UV, Synced bool
	// What a phishing page or a broken client would change.
	Origin, RPID string
}

func newSoftKey(t *testing.T) *softKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &softKey{ID: id, Key: k, UV: true, Origin: passkeyOrigin, RPID: "localhost"}
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (k *softKey) flags(attested bool) byte {
	f := byte(0x01) // user present
	if k.UV {
		f |= 0x04
	}
	if k.Synced {
		f |= 0x08 | 0x10 // backup eligible, backed up
	}
	if attested {
		f |= 0x40
	}
	return f
}

func (k *softKey) authData(attested bool) []byte {
	h := sha256.Sum256([]byte(k.RPID))
	out := append([]byte{}, h[:]...)
	out = append(out, k.flags(attested))
	out = binary.BigEndian.AppendUint32(out, k.Count)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID: none
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.ID)))
		out = append(out, k.ID...)
		pub := k.Key.PublicKey
		x, y := make([]byte, 32), make([]byte, 32)
		pub.X.FillBytes(x)
		pub.Y.FillBytes(y)
		// The COSE_Key: kty EC2, alg ES256, crv P-256, x, y.
		cose, err := webauthncbor.Marshal(map[int]any{1: int(webauthncose.EllipticKey), 3: int(webauthncose.AlgES256), -1: 1, -2: x, -3: y})
		if err != nil {
			panic(err)
		}
		out = append(out, cose...)
	}
	return out
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.Origin, "crossOrigin": false})
	return b
}

// options reads the server's options: the challenge and, for a creation,
// the user handle.
type passkeyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		UserVerification string `json:"userVerification"`
		RP               struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
	} `json:"publicKey"`
}

// Create answers a creation ceremony: the new credential, as JSON.
func (k *softKey) Create(t *testing.T, o passkeyOptions) string {
	t.Helper()
	uh, err := base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		t.Fatalf("user id %q: %v", o.PublicKey.User.ID, err)
	}
	k.UserHandle = uh
	cd := k.clientData("webauthn.create", o.PublicKey.Challenge)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(true)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"id": b64u(k.ID), "rawId": b64u(k.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response":               map[string]any{"clientDataJSON": b64u(cd), "attestationObject": b64u(att), "transports": []string{"internal"}}})
	return string(b)
}

// Get answers a request ceremony: a signed assertion, as JSON; the counter
// moves on (unless the test set it).
func (k *softKey) Get(t *testing.T, o passkeyOptions) string {
	t.Helper()
	k.Count++
	ad := k.authData(false)
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.Key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp := map[string]any{"clientDataJSON": b64u(cd), "authenticatorData": b64u(ad), "signature": b64u(sig)}
	if len(k.UserHandle) > 0 {
		resp["userHandle"] = b64u(k.UserHandle)
	}
	b, _ := json.Marshal(map[string]any{"id": b64u(k.ID), "rawId": b64u(k.ID), "type": "public-key",
		"clientExtensionResults": map[string]any{}, "response": resp})
	return string(b)
}

// PasskeyOptions posts the ceremony's options request (action + "/options")
// with the browser's CSRF token and returns the status and the options.
func (b *browser) PasskeyOptions(action string, form url.Values) (int, passkeyOptions) {
	b.t.Helper()
	form = cloneForm(form)
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", b.csrf())
	}
	req, err := http.NewRequest(http.MethodPost, b.abs(action+"/options"), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := b.do(req)
	var o passkeyOptions
	if p.Status == http.StatusOK {
		if err := json.Unmarshal([]byte(p.Body), &o); err != nil || o.PublicKey.Challenge == "" {
			b.t.Fatalf("options: %v: %s", err, p.Body)
		}
	} else if !strings.Contains(p.Header.Get("Content-Type"), "application/json") {
		b.t.Fatalf("options refused without JSON: %d %s", p.Status, excerpt(p.Body))
	}
	return p.Status, o
}

// AddPasskey adds k in the security settings of the signed-in browser.
func (b *browser) AddPasskey(k *softKey, name string) {
	b.t.Helper()
	status, o := b.PasskeyOptions(PathSecurityPasskeys, nil)
	if status != http.StatusOK {
		b.t.Fatalf("options: %d", status)
	}
	b.Post(PathSecurityPasskeys, url.Values{"name": {name}, "credential": {k.Create(b.t, o)}}).Redirects(PathSecurity)
}

// PasskeySignIn signs in with k alone at the sign-in page (for the
// authorization request arID, "" for none) and returns the answer.
func (b *browser) PasskeySignIn(k *softKey, arID string) *page {
	b.t.Helper()
	form := url.Values{}
	if arID != "" {
		form.Set("authRequestID", arID)
	}
	status, o := b.PasskeyOptions(PathLoginPasskey, form)
	if status != http.StatusOK {
		b.t.Fatalf("options: %d", status)
	}
	form.Set("credential", k.Get(b.t, o))
	return b.Post(PathLoginPasskey, form)
}
