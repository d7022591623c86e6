package login

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
)

// TestConsoleApplicationProtocol: the Applications form offers the
// protocol options of the command line and the API, under the same rules
// (CheckProtocol) and the provider's parsing of keys and origins: a
// private_key_jwt application registered with its pasted keys gets no
// secret; each refusal names its field and keeps the options unfolded.
func TestConsoleApplicationProtocol(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	withClientHash(hx)
	hx.H.Accounts.ParseClientKeys = func(raw []byte) (string, error) {
		set, err := provider.ParseClientJWKS(raw)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(set)
		return string(b), err
	}
	hx.H.Accounts.NormalizeOrigin = provider.NormalizeOrigin
	op := hx.User("op@sesame.example", nil)
	b := hx.Browser()
	b.SignIn(op.Email, "")
	if p := b.Get(PathApplications); !strings.Contains(p.Body, `name="auth_method"`) || !strings.Contains(p.Body, `for="app_jwks"`) ||
		!strings.Contains(p.Body, `name="require_dpop"`) || strings.Contains(p.Body, `<details class="options" open>`) {
		t.Fatalf("the options on the form: %s", excerpt(p.Body))
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "ES256"}}})
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1"}}})
	form := func(extra url.Values) url.Values {
		v := url.Values{"id": {"api-rp"}, "kind": {"confidential"}, "grant_code": {"1"}, "redirect_uris": {"https://rp.example/cb"}}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		in    url.Values
		key   string
		field string
	}{
		{"a private key pasted", url.Values{"auth_method": {"private_key_jwt"}, "jwks": {string(priv)}}, "Errors.Clients.Keys", "jwks"},
		{"not JSON", url.Values{"auth_method": {"private_key_jwt"}, "jwks": {"{not json"}}, "Errors.Clients.Keys", "jwks"},
		{"keys and a key URL", url.Values{"auth_method": {"private_key_jwt"}, "jwks": {string(pub)}, "jwks_uri": {"https://rp.example/jwks"}}, "Errors.Clients.Keys", "token_endpoint_auth_method"},
		{"keys without private_key_jwt", url.Values{"jwks_uri": {"https://rp.example/jwks"}}, "Errors.Clients.Keys", "jwks_uri"},
		{"a public keyed client", url.Values{"kind": {"public"}, "auth_method": {"private_key_jwt"}, "jwks_uri": {"https://rp.example/jwks"}}, "Errors.Clients.Auth", "token_endpoint_auth_method"},
		{"an unknown method", url.Values{"auth_method": {"magic"}}, "Errors.Clients.Auth", "token_endpoint_auth_method"},
		{"a resource of opaque tokens", url.Values{"resource": {"https://api.example"}}, "Errors.Clients.TokenFormat", "resource"},
		{"an origin with a path", url.Values{"allowed_origins": {"https://app.example/path"}}, "Errors.Clients.Origin", "allowed_origins"},
		{"an http origin", url.Values{"allowed_origins": {"http://app.example"}}, "Errors.Clients.RedirectURI", "allowed_origins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Post(PathApplications, form(tc.in)).Shows(http.StatusBadRequest, tc.key)
			if !strings.Contains(p.Body, `<p class="hint" id="problem">`+tc.field+" : ") || !strings.Contains(p.Body, `<details class="options" open>`) {
				t.Fatalf("the refusal does not name %s with the options open: %s", tc.field, excerpt(p.Body))
			}
			if tc.in.Get("jwks") != "" && !strings.Contains(html.UnescapeString(p.Body), tc.in.Get("jwks")+"</textarea>") {
				t.Fatalf("the keys typed are not kept: %s", excerpt(p.Body))
			}
		})
	}
	if _, err := hx.Store.GetClient(context.Background(), "api-rp"); err == nil {
		t.Fatal("a refused application was registered")
	}

	p := b.Post(PathApplications, form(url.Values{"auth_method": {"private_key_jwt"}, "jwks": {string(pub)}, "require_par": {"1"},
		"require_dpop": {"1"}, "access_token_format": {"jwt"}, "resource": {"https://api.rp.example"},
		"allowed_origins": {"https://App.rp.example\r\nhttps://admin.rp.example:8443"}}))
	p.Shows(http.StatusOK, "Applications.Notice.Registered")
	if secretShown.MatchString(p.Body) {
		t.Fatal("a private_key_jwt application was shown a secret")
	}
	c, err := hx.Store.GetClient(context.Background(), "api-rp")
	if err != nil || c.SecretHash != "" {
		t.Fatalf("stored %+v %v", c, err)
	}
	want := storage.ClientProtocol{AuthMethod: storage.AuthPrivateKeyJWT, JWKS: c.Protocol.JWKS, RequirePAR: true, RequireDPoP: true,
		AccessTokenFormat: "jwt", Resource: "https://api.rp.example", AllowedOrigins: []string{"https://app.rp.example", "https://admin.rp.example:8443"}}
	if !reflect.DeepEqual(c.Protocol, want) || !strings.Contains(c.Protocol.JWKS, `"kid":"k1"`) {
		t.Fatalf("the options stored: %+v", c.Protocol)
	}
	if l := b.Get(PathApplications); !strings.Contains(l.Body, "private_key_jwt · PAR · DPoP") {
		t.Fatalf("the list does not show the options: %s", excerpt(l.Body))
	}
}
