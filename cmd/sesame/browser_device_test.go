package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sesame-idp/sesame/provider"
)

// journeyDevicePage: a command-line tool starts a device
// authorization; the person opens verification_uri_complete on a phone,
// is sent through the sign-in and back to the device page with the code
// filled, reads which application asks and for what, and approves; the
// tool's next poll gets the tokens. A wrong code shows its error on the
// field. Each screen is checked with axe-core (French on a phone, English
// on a desktop) and photographed.
func journeyDevicePage(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	e := newEnv(t)
	f := fixture{email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.person(&f)
	e.mustCLI("", "client", "add", "--id", "cli-tool", "--name", "Outil CLI de la place de marché", "--public", "--grant", "device_code")
	start := func() map[string]any {
		resp, err := testClient.PostForm(e.issuer+"/oauth/device_authorization", url.Values{"client_id": {"cli-tool"}, "scope": {"openid email organization offline_access"}})
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
	poll := func(deviceCode string) (int, map[string]any) {
		resp, err := testClient.PostForm(e.issuer+"/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code": {deviceCode}, "client_id": {"cli-tool"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	a := start()
	code := a["user_code"].(string)

	// On a phone, in French: the link, the sign-in, back with the code.
	do(t, ctx, chromedp.EmulateViewport(375, 800), chromedp.Navigate(a["verification_uri_complete"].(string)),
		chromedp.WaitVisible(chromedp.CSS("#email")))
	fill(t, ctx, "Adresse e-mail", f.email)
	fill(t, ctx, "Mot de passe", f.pw)
	click(t, ctx, "Se connecter")
	do(t, ctx, chromedp.WaitVisible(`//h1[normalize-space()="Connecter un appareil"]`))
	if got := get(t, ctx, chromedp.Value(chromedp.CSS("#user_code"))); got != code {
		t.Fatalf("the code field holds %q, want %q", got, code)
	}
	checkAxe(t, ctx, "device code (fr, phone)")
	shoot(t, ctx, "device-code-fr-phone")

	click(t, ctx, "Continuer")
	waitText(t, ctx, "« Outil CLI de la place de marché » demande l'accès à votre compte.")
	for _, s := range []string{"votre adresse e-mail", "votre organisation et vos rôles", "un accès qui dure après votre déconnexion"} {
		waitText(t, ctx, s)
	}
	checkAxe(t, ctx, "device confirmation (fr, phone)")
	shoot(t, ctx, "device-confirm-fr-phone")
	if status, body := poll(a["device_code"].(string)); status != http.StatusBadRequest || body["error"] != "authorization_pending" {
		t.Fatalf("before the answer: %d %v", status, body)
	}

	click(t, ctx, "Autoriser")
	waitText(t, ctx, "C'est fait : « Outil CLI de la place de marché » est connecté à votre compte.")
	checkAxe(t, ctx, "device approved (fr, phone)")
	shoot(t, ctx, "device-done-fr-phone")
	e.clock.Add(provider.DevicePollInterval)
	if status, body := poll(a["device_code"].(string)); status != http.StatusOK || body["access_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("after the approval: %d %v", status, body)
	}

	// A wrong code, in English on a desktop: the error is on the field.
	do(t, ctx, chromedp.EmulateViewport(1100, 900), chromedp.Navigate(e.issuer+"/device?lang=en"),
		chromedp.WaitVisible(`//h1[normalize-space()="Connect a device"]`))
	fill(t, ctx, "Device code", "bbbb-bbbb")
	click(t, ctx, "Continue")
	waitText(t, ctx, "This code is unknown. Check it on the device.")
	if inv := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("#user_code").getAttribute("aria-invalid") || ""`)); inv != "true" {
		t.Fatalf("the field is not marked invalid: %q", inv)
	}
	checkAxe(t, ctx, "device wrong code (en, desktop)")
	shoot(t, ctx, "device-wrong-en-desktop")
	if !strings.Contains(get(t, ctx, chromedp.Value(chromedp.CSS("#user_code"))), "BBBB-BBBB") {
		t.Fatal("the code typed is not kept")
	}
}
