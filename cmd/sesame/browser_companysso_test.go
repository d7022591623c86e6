package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/domains/dnstest"
)

// journeyCompanySignIn: an admin adds and verifies a domain
// and connects the organization to its provider on the screens; a new
// person of that domain signs in at a relying party by typing their email,
// authenticates at the provider (a second Sesame on 127.0.0.2), and comes
// back: the relying party sees the organization's claims and idp; a second
// sign-in, in another browser, reuses the membership.
func journeyCompanySignIn(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	up := startUpstream(t)
	dns := dnstest.Start(t)
	e := newEnv(t, "SESAME_DOMAINS_RESOLVER="+dns.Addr, "SESAME_DOMAINS_PRIVATE_ISSUERS=true")
	app := newClaimsRP(t, e)
	org := e.mustCLI("", "org", "create", "--name", "ACME", "--country", "DE", "--validated")
	e.mustCLI("tall pass phrase 2026\n", "user", "add", "--email", "admin@acme.example", "--org", org, "--role", "admin",
		"--password-stdin")
	upSecret := rand.Text() + rand.Text()
	up.cli(t, "", "client", "add", "--id", "sesame", "--secret", upSecret, "--redirect-uri", e.issuer+"/sso/callback")
	upOrg := up.cli(t, "", "org", "create", "--name", "ACME upstream", "--country", "DE", "--validated")
	up.cli(t, "upstream pass phrase 7781\n", "user", "add", "--email", "jeanne@acme.example", "--org", upOrg, "--name", "Jeanne",
		"--password-stdin")

	// 1. The admin signs in and adds the domain.
	do(t, ctx, chromedp.EmulateViewport(1100, 1400), chromedp.Navigate(e.issuer+"/login"),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	fill(t, ctx, "Adresse e-mail", "admin@acme.example")
	fill(t, ctx, "Mot de passe", "tall pass phrase 2026")
	click(t, ctx, "Se connecter")
	do(t, ctx, chromedp.WaitVisible(`//h1[normalize-space()="Votre compte"]`))
	do(t, ctx, chromedp.Navigate(e.issuer+"/organization/members"), chromedp.Click(`//div[@class="side"]//a[normalize-space()="Domaines"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Domaines"]`))
	fill(t, ctx, "Nom de domaine", "acme.example")
	click(t, ctx, "Ajouter")
	waitText(t, ctx, "Le domaine est ajouté")
	record := get(t, ctx, chromedp.Text(chromedp.CSS("code.record")))
	m := recordRe.FindStringSubmatch(strings.TrimSpace(record))
	if m == nil {
		t.Fatalf("record %q", record)
	}
	artifact(t, "domains-fr-added.png", get(t, ctx, chromedp.FullScreenshot(100)))
	// Verified before it is published: a clear message.
	click(t, ctx, "Vérifier acme.example")
	waitText(t, ctx, "n'existe pas (encore)")
	artifact(t, "domains-fr-not-published.png", get(t, ctx, chromedp.FullScreenshot(100)))
	dns.SetTXT(domains.RecordName("acme.example"), m[2])
	click(t, ctx, "Vérifier acme.example")
	waitText(t, ctx, "Le domaine est vérifié.")
	artifact(t, "domains-fr-verified.png", get(t, ctx, chromedp.FullScreenshot(100)))

	// 2. The connection.
	do(t, ctx, chromedp.Click(`//div[@class="side"]//a[normalize-space()="Connexion d'entreprise"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion d'entreprise"]`))
	fill(t, ctx, "Émetteur (issuer) du fournisseur", up.issuer)
	fill(t, ctx, "Identifiant client", "sesame")
	fill(t, ctx, "Secret client", upSecret)
	click(t, ctx, "Enregistrer")
	waitText(t, ctx, "La connexion d'entreprise est enregistrée.")
	artifact(t, "company-sso-fr.png", get(t, ctx, chromedp.FullScreenshot(100)))

	// 3. Jeanne, new here, at the relying party: her email only.
	signIn := func(name string) map[string]any {
		t.Helper()
		jctx := chromium(t, "fr-FR")
		do(t, jctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(app.srv.URL+"/start"),
			chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
		fill(t, jctx, "Adresse e-mail", "jeanne@acme.example")
		artifact(t, name+"-1-login.png", get(t, jctx, chromedp.CaptureScreenshot()))
		click(t, jctx, "Continuer avec l'authentification de votre entreprise")
		// The company's provider, another host, its own form with her address.
		waitAt(t, jctx, up.issuer+"/login")
		if v := get(t, jctx, chromedp.Value(chromedp.CSS("#email"))); v != "jeanne@acme.example" {
			t.Fatalf("login_hint not carried: %q", v)
		}
		fill(t, jctx, "Mot de passe", "upstream pass phrase 7781")
		artifact(t, name+"-2-upstream.png", get(t, jctx, chromedp.CaptureScreenshot()))
		click(t, jctx, "Se connecter")
		do(t, jctx, chromedp.WaitVisible(chromedp.CSS("#claims")))
		var claims map[string]any
		if err := json.Unmarshal([]byte(get(t, jctx, chromedp.Text(chromedp.CSS("#claims")))), &claims); err != nil {
			t.Fatal(err)
		}
		return claims
	}
	first := signIn("company-signin-first")
	if first["org_id"] != org || first["idp"] != up.issuer || first["org_status"] != "validated" ||
		!strings.Contains(strings.Join(toStrings(first["org_roles"]), ","), "user") {
		t.Fatalf("claims: %v", first)
	}
	second := signIn("company-signin-second")
	if second["sub"] != first["sub"] || second["idp"] != up.issuer {
		t.Fatalf("second sign-in: %v vs %v", second, first)
	}

	// 4. The provider answers an error (here: the person declined): a page
	// that says so and offers to try again, never a 5xx.
	rctx := chromium(t, "fr-FR")
	do(t, rctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(app.srv.URL+"/start"),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	fill(t, rctx, "Adresse e-mail", "jeanne@acme.example")
	click(t, rctx, "Continuer avec l'authentification de votre entreprise")
	upstreamURL, _ := url.Parse(waitAt(t, rctx, up.issuer+"/login"))
	// The state Sesame sent is in the upstream's own request (its database).
	upCfg, err := config.Load("", up.env)
	if err != nil {
		t.Fatal(err)
	}
	upMain := &Main{Config: upCfg}
	if err := upMain.Open(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ar, err := upMain.Store.GetAuthRequest(context.Background(), upstreamURL.Query().Get("authRequestID"))
	upMain.Close()
	if err != nil {
		t.Fatal(err)
	}
	do(t, rctx, chromedp.Navigate(e.issuer+"/sso/callback?"+url.Values{"state": {ar.State}, "error": {"access_denied"}}.Encode()),
		chromedp.WaitVisible(`//button[normalize-space()="Réessayer"]`))
	waitText(t, rctx, "n'a pas répondu, ou a répondu par une erreur")
	artifact(t, "company-signin-retry-fr-phone.png", get(t, rctx, chromedp.CaptureScreenshot()))
	click(t, rctx, "Réessayer")
	waitAt(t, rctx, up.issuer+"/login")
}

// waitAt waits until the browser's page is at a URL starting with prefix,
// its form shown, and returns the URL: the page the click left has the same
// heading, so the heading alone does not tell that the browser arrived.
func waitAt(t *testing.T, ctx context.Context, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && strings.HasPrefix(loc, prefix) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser never reached %s", prefix)
		}
		time.Sleep(50 * time.Millisecond) // polling a navigation, not waiting for time to pass
	}
	do(t, ctx, chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	return get(t, ctx, chromedp.Location())
}
