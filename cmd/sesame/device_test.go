package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/api/apiclient"
)

// deviceStart registers (once) the public device client "tv" with the CLI
// and starts a device authorization for it, as a command-line tool does;
// it returns the provider's answer.
func (e *testEnv) deviceStart(t *testing.T, scope string) map[string]any {
	t.Helper()
	if out, _, _ := e.cli("", "client", "list"); !strings.Contains(out, "tv") {
		e.mustCLI("", "client", "add", "--id", "tv", "--name", "Outil CLI", "--public", "--grant", "device_code")
	}
	resp, err := testClient.PostForm(e.issuer+"/oauth/device_authorization", url.Values{"client_id": {"tv"}, "scope": {scope}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("device authorization: %d %v", resp.StatusCode, out)
	}
	return out
}

// TestDeviceClientRegistration: client add --grant device_code needs no
// redirect URI, gets refresh tokens with it, and keeps the other rules.
func TestDeviceClientRegistration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustCLI("", "client", "add", "--id", "tv", "--public", "--grant", "device_code")
	out := e.mustCLI("", "client", "list", "--json")
	if !strings.Contains(out, `"device_code"`) || !strings.Contains(out, `"refresh_token"`) {
		t.Fatalf("client list: %s", out)
	}
	for _, bad := range [][]string{
		{"--id", "tv2", "--public", "--grant", "device_code", "--redirect-uri", "https://rp.example/cb"},
		{"--id", "tv3", "--public", "--grant", "device"},
	} {
		if _, stderr, code := e.cli("", append([]string{"client", "add"}, bad...)...); code != 2 {
			t.Errorf("client add %v: %d %s, want exit 2", bad, code, stderr)
		}
	}
	a := e.deviceStart(t, "openid")
	if a["verification_uri"] != e.issuer+"/device" {
		t.Fatalf("verification_uri %v", a["verification_uri"])
	}
}

// TestAPIRegistersDeviceClient: the management API's client resource
// takes the device_code grant under the CLI's rules.
func TestAPIRegistersDeviceClient(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ctx := context.Background()
	c := e.client(e.token("backoffice", e.secret))
	created, err := c.CreateClientWithResponse(ctx, nil, apiclient.ClientCreate{Id: "tv", Public: ptr(true),
		Grants: ptr([]apiclient.Grant{apiclient.DeviceCode})})
	if err != nil || created.JSON201 == nil || !slices.Contains(created.JSON201.Client.Grants, apiclient.DeviceCode) ||
		!slices.Contains(created.JSON201.Client.Grants, apiclient.RefreshToken) {
		t.Fatalf("create: %v %s", err, created.Body)
	}
	refused, _ := c.CreateClientWithResponse(ctx, nil, apiclient.ClientCreate{Id: "tv2", Public: ptr(true),
		Grants: ptr([]apiclient.Grant{apiclient.DeviceCode}), RedirectUris: ptr([]string{"https://tv.example/cb"})})
	if refused.StatusCode() != http.StatusBadRequest {
		t.Fatalf("a redirect URI without the code grant: %d %s", refused.StatusCode(), refused.Body)
	}
}
