package main

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/domains/dnstest"
	"github.com/sesame-idp/sesame/login/sso/ssotest"
)

// journeyOperatorConsoleCompanySignIn: the operator's page of an
// organization shows its domains and its company sign-in connection, and
// the operator marks a pending domain verified by hand; in French, then
// in English on a phone.
func journeyOperatorConsoleCompanySignIn(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	up := ssotest.Start(t)
	dns := dnstest.Start(t)
	e := newEnv(t, "SESAME_DOMAINS_RESOLVER="+dns.Addr, "SESAME_DOMAINS_TIMEOUT=300ms", "SESAME_DOMAINS_PRIVATE_ISSUERS=true")
	const opEmail, opPass = "operator@sesame.example", "console-passphrase-2026"
	e.mustCLI(opPass+"\n", "user", "add", "--operator", "--email", opEmail, "--password-stdin")
	org := e.mustCLI("", "org", "create", "--name", "ACME", "--country", "DE", "--validated")
	admin := e.mustCLI("tall pass phrase 2026\n", "user", "add", "--email", "admin@acme.example", "--org", org, "--role", "admin",
		"--password-stdin")
	m := recordRe.FindStringSubmatch(e.mustCLI("", "org", "domain", "add", org, "acme.example"))
	if m == nil {
		t.Fatal("no record")
	}
	dns.SetTXT(domains.RecordName("acme.example"), m[2])
	e.mustCLI("", "org", "domain", "verify", org, "acme.example")
	e.mustCLI("", "org", "domain", "add", org, "acme-group.example")
	e.mustCLI(up.ClientSecret+"\n", "org", "sso", "set", org, "--issuer", up.URL, "--client-id", up.ClientID,
		"--client-secret-stdin", "--scope", "profile", "--enforce", "--break-glass", admin)

	do(t, ctx, chromedp.EmulateViewport(1100, 1400), chromedp.Navigate(e.issuer+"/login"),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	fill(t, ctx, "Adresse e-mail", opEmail)
	fill(t, ctx, "Mot de passe", opPass)
	click(t, ctx, "Se connecter")
	do(t, ctx, chromedp.WaitVisible(`//h1[normalize-space()="Votre compte"]`),
		chromedp.Navigate(e.issuer+"/admin/organizations/"+org),
		chromedp.WaitVisible(`//h2[normalize-space()="Connexion d'entreprise"]`))
	waitText(t, ctx, up.URL)
	artifact(t, "operator-sso-fr.png", get(t, ctx, chromedp.FullScreenshot(100)))
	click(t, ctx, "Marquer comme vérifié acme-group.example")
	waitText(t, ctx, "Le domaine est marqué comme vérifié.")
	artifact(t, "operator-sso-fr-verified.png", get(t, ctx, chromedp.FullScreenshot(100)))

	// In English, on a phone.
	enCtx := chromium(t, "en-GB")
	do(t, enCtx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.issuer+"/login"),
		chromedp.WaitVisible(`//h1[normalize-space()="Sign in"]`))
	fill(t, enCtx, "Email address", opEmail)
	fill(t, enCtx, "Password", opPass)
	click(t, enCtx, "Sign in")
	do(t, enCtx, chromedp.WaitVisible(`//h1[normalize-space()="Your account"]`),
		chromedp.Navigate(e.issuer+"/admin/organizations/"+org),
		chromedp.WaitVisible(`//h2[normalize-space()="Company sign-in"]`))
	waitText(t, enCtx, "refused: only company sign-in is accepted")
	artifact(t, "operator-sso-en-phone.png", get(t, enCtx, chromedp.FullScreenshot(100)))
}
