package main

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// journeyConsent: a third-party application (registered with
// --third-party) driven by zitadel/oidc's relying party: after the
// sign-in, the consent page names it and what it will receive (French, on
// a phone, axe-clean); Deny answers access_denied, Allow the tokens; the
// consent is remembered, listed in the security settings, revoked there,
// and asked again after.
func journeyConsent(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	e := newEnv(t)

	// The third party: it starts with PKCE, exchanges the code with rp and
	// shows the verified ID token's email, or the error it was answered.
	var (
		mu       sync.Mutex
		verifier string
		f        fixture
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			v, challenge := pkce()
			mu.Lock()
			verifier = v
			mu.Unlock()
			http.Redirect(w, r, e.authorizeURL(f, challenge, nil), http.StatusFound)
		case "/cb":
			if msg := r.URL.Query().Get("error"); msg != "" {
				fmt.Fprintf(w, "<!doctype html><title>Partner</title><p id=result>error %s state %s</p>",
					html.EscapeString(msg), html.EscapeString(r.URL.Query().Get("state")))
				return
			}
			mu.Lock()
			v := verifier
			mu.Unlock()
			tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](r.Context(), r.URL.Query().Get("code"),
				e.relyingParty(f, "n-"+f.clientID), rp.WithCodeVerifier(v))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			fmt.Fprintf(w, "<!doctype html><title>Partner</title><p id=result>signed in %s</p>", html.EscapeString(tokens.IDTokenClaims.Email))
		}
	}))
	t.Cleanup(srv.Close)
	f = fixture{clientID: "partner", secret: "partner-secret-0123456789abcdefghijkl", redirect: srv.URL + "/cb",
		email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--secret", f.secret, "--redirect-uri", f.redirect,
		"--name", "Partenaire Analytics", "--third-party")
	e.person(&f)
	result := func() string {
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#result")))
		return strings.TrimSpace(get(t, ctx, chromedp.Text(chromedp.CSS("#result"))))
	}

	// 1. Sign in on a phone: the consent page comes after the password.
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(srv.URL+"/start"),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	fill(t, ctx, "Adresse e-mail", f.email)
	fill(t, ctx, "Mot de passe", f.pw)
	click(t, ctx, "Se connecter")
	do(t, ctx, chromedp.WaitVisible(`//h1[normalize-space()="Autoriser l'accès"]`))
	text := get(t, ctx, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"« Partenaire Analytics » demande à accéder à votre compte", "votre adresse e-mail",
		"votre nom et votre langue", "votre organisation : son nom", "un accès qui dure quand vous n'êtes pas connecté",
		"Vous êtes connecté avec l'adresse alice@acme.example"} {
		if !strings.Contains(text, want) {
			t.Errorf("the consent page does not say %q: %q", want, text)
		}
	}
	if width := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Errorf("the consent page scrolls sideways on a phone: %dpx wide", width)
	}
	checkAxe(t, ctx, "consent (fr, phone)")
	artifact(t, "consent-fr-phone.png", get(t, ctx, chromedp.FullScreenshot(100)))

	// 2. Deny: the application is told access_denied, with its state.
	click(t, ctx, "Refuser")
	if got := result(); got != "error access_denied state st-partner" {
		t.Fatalf("after Deny the application shows %q", got)
	}

	// 3. Again (single sign-on, still asked), in English on a desktop: Allow.
	do(t, ctx, chromedp.EmulateViewport(1100, 900), chromedp.Navigate(srv.URL+"/start"),
		chromedp.WaitVisible(`//h1[normalize-space()="Autoriser l'accès"]`),
		chromedp.Click(`//a[@hreflang="en"]`), chromedp.WaitVisible(`//h1[normalize-space()="Allow access"]`))
	checkAxe(t, ctx, "consent (en, desktop)")
	artifact(t, "consent-en-desktop.png", get(t, ctx, chromedp.CaptureScreenshot()))
	click(t, ctx, "Allow")
	if got := result(); got != "signed in alice@acme.example" {
		t.Fatalf("after Allow the application shows %q", got)
	}

	// 4. Remembered: straight through.
	do(t, ctx, chromedp.Navigate(srv.URL+"/start"))
	if got := result(); got != "signed in alice@acme.example" {
		t.Fatalf("a remembered consent: %q", got)
	}

	// 5. The security settings list it; revoking it asks again next time.
	do(t, ctx, chromedp.Navigate(e.issuer+"/account/security?lang=fr"), chromedp.WaitVisible(`//h2[normalize-space()="Applications autorisées"]`))
	do(t, ctx, chromedp.ScrollIntoView(`//h2[normalize-space()="Applications autorisées"]`))
	if section := get(t, ctx, chromedp.Text(`//section[@aria-labelledby="sec-consents"]`)); !strings.Contains(section, "Partenaire Analytics") ||
		!strings.Contains(section, "votre adresse e-mail") {
		t.Fatalf("the settings' section: %q", section)
	}
	checkAxe(t, ctx, "security settings with an authorized application")
	artifact(t, "consent-settings-fr.png", get(t, ctx, chromedp.CaptureScreenshot()))
	click(t, ctx, "Retirer l'accès")
	waitText(t, ctx, "L'accès de l'application est retiré")
	if section := get(t, ctx, chromedp.Text(`//section[@aria-labelledby="sec-consents"]`)); strings.Contains(section, "Partenaire Analytics") {
		t.Fatalf("still listed after revocation: %q", section)
	}
	do(t, ctx, chromedp.Navigate(srv.URL+"/start"), chromedp.WaitVisible(`//h1[normalize-space()="Autoriser l'accès"]`))
}
