package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestClientProtocolOptions: `sesame client add` registers the protocol's
// options, refuses each bad combination with one line naming its flag
// (exit 2, nothing written), and `client list --json` shows them.
func TestClientProtocolOptions(t *testing.T) {
	t.Parallel()
	e := cliEnv(t)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	public := write("public.json", jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1"}}})
	private := write("private.json", jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1"}}})
	empty := write("empty.json", jose.JSONWebKeySet{})
	enc := write("enc.json", jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "enc"}}})
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("not json"), 0o600)
	add := []string{"client", "add", "--id", "x", "--redirect-uri", "https://x.example/cb"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--auth", "magic"}, "--auth: must be client_secret_basic or private_key_jwt"},
		{[]string{"--auth", "private_key_jwt"}, "--auth: private_key_jwt needs exactly one key set: jwks (--jwks-file) or jwks_uri (--jwks-uri)"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", public, "--jwks-uri", "https://x.example/jwks"}, "exactly one key set"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", public, "--public"}, "--auth: private_key_jwt is for confidential clients"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", public, "--secret", strings.Repeat("s", 40)}, "--secret: a private_key_jwt client has no secret"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", private}, "--jwks-file: key 0 is a private key"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", empty}, "--jwks-file: the JWK set has no key"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", enc}, "--jwks-file: key 0 is not for signatures"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", garbage}, "--jwks-file: not a JWK set"},
		{[]string{"--auth", "private_key_jwt", "--jwks-file", filepath.Join(dir, "missing.json")}, "--jwks-file: cannot read"},
		{[]string{"--auth", "private_key_jwt", "--jwks-uri", "http://x.example/jwks"}, "--jwks-uri:"},
		{[]string{"--jwks-file", public}, "--jwks-file: keys are for private_key_jwt clients"},
		{[]string{"--access-token-format", "paseto"}, "--access-token-format: must be opaque or jwt"},
		{[]string{"--resource", "https://api.example"}, "--resource: is the audience of JWT access tokens"},
		{[]string{"--allowed-origin", "https://app.example/path"}, `--allowed-origin: "https://app.example/path" is not an origin`},
		{[]string{"--allowed-origin", "http://app.example"}, "--allowed-origin:"},
	}
	for _, tc := range tests {
		out, errs, code := e.cli("", append(add, tc.args...)...)
		if code != 2 || out != "" || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and one line with %q", tc.args, code, out, errs, tc.want)
		}
	}
	out, errs, code := e.cli("", "client", "add", "--id", "fapi", "--redirect-uri", "https://fapi.example/cb", "--auth", "private_key_jwt",
		"--jwks-file", public, "--require-par", "--require-dpop", "--access-token-format", "jwt", "--resource", "https://api.example",
		"--allowed-origin", "https://App.example", "--json")
	var created clientJSON
	if code != 0 || strings.Contains(errs, "secret") || json.Unmarshal([]byte(out), &created) != nil {
		t.Fatalf("client add: %d %q %q", code, out, errs)
	}
	want := protocolJSON{AuthMethod: "private_key_jwt", HasJWKS: true, RequirePAR: true, RequireDPoP: true, AccessTokenFormat: "jwt",
		Resource: "https://api.example", AllowedOrigins: []string{"https://app.example"}}
	if created.Secret != "" || created.AuthMethod != want.AuthMethod || !created.HasJWKS || !created.RequirePAR || !created.RequireDPoP ||
		created.AccessTokenFormat != "jwt" || created.Resource != want.Resource || strings.Join(created.AllowedOrigins, " ") != "https://app.example" {
		t.Fatalf("created: %+v", created)
	}
	e.mustCLI("", "client", "add", "--id", "byuri", "--redirect-uri", "https://u.example/cb", "--auth", "private_key_jwt",
		"--jwks-uri", "https://u.example/jwks")
	var list []clientJSON
	json.Unmarshal([]byte(e.mustCLI("", "client", "list", "--json")), &list)
	got := map[string]clientJSON{}
	for _, c := range list {
		got[c.ID] = c
	}
	if got["byuri"].JWKSURI != "https://u.example/jwks" || got["byuri"].AuthMethod != "private_key_jwt" || got["fapi"].AccessTokenFormat != "jwt" {
		t.Fatalf("client list: %+v", list)
	}
}
