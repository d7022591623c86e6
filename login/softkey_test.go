package login

// The test double of a passkey (internal/softauthn) and the harness's
// steps that use it.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/softauthn"
)

// passkeyOrigin is the origin the harness's relying party expects.
const passkeyOrigin = "http://localhost:8080"

// softKey is a software authenticator (internal/softauthn) a test drives.
type softKey struct{ softauthn.Key }

type passkeyOptions = softauthn.Options

func newSoftKey(t *testing.T) *softKey {
	t.Helper()
	k, err := softauthn.New(passkeyOrigin, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return &softKey{*k}
}

// Create answers a creation ceremony: the new credential, as JSON.
func (k *softKey) Create(t *testing.T, o passkeyOptions) string {
	t.Helper()
	s, err := k.Key.Create(o.PublicKey.Challenge, o.PublicKey.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Get answers a request ceremony: a signed assertion, as JSON.
func (k *softKey) Get(t *testing.T, o passkeyOptions) string {
	t.Helper()
	s, err := k.Key.Get(o.PublicKey.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	return s
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
