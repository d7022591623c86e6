package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sesame-idp/sesame/login/totp"
)

func journeyAccountSecurity(t *testing.T) {
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	ctx := chromium(t, "fr-FR")
	signIn := func(ctx context.Context, pw string) {
		do(t, ctx, chromedp.Navigate(e.issuer+"/login"), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
		fill(t, ctx, "Adresse e-mail", f.email)
		fill(t, ctx, "Mot de passe", pw)
		click(t, ctx, "Se connecter")
	}
	signIn(ctx, f.pw)
	do(t, ctx, chromedp.Click(`//a[normalize-space()="Paramètres d'authentification"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Paramètres d'authentification"]`), chromedp.EmulateViewport(1000, 1400))
	artifact(t, "security.png", get(t, ctx, chromedp.FullScreenshot(100)))

	// Enable the second factor: read the key as text, compute the code.
	do(t, ctx, chromedp.Click(`//a[normalize-space()="Activer la double authentification"]`), chromedp.WaitVisible(chromedp.CSS("#totp-key")))
	key := strings.ReplaceAll(get(t, ctx, chromedp.Text(chromedp.CSS("#totp-key"))), " ", "")
	artifact(t, "totp-setup.png", get(t, ctx, chromedp.FullScreenshot(100)))
	code, _ := totp.Code(key, e.clock.Now())
	fill(t, ctx, "Code de vérification", code)
	click(t, ctx, "Confirmer et activer")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#recovery-codes")))
	codes := regexp.MustCompile(`[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}`).FindAllString(get(t, ctx, chromedp.Text(chromedp.CSS("#recovery-codes"))), -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	artifact(t, "recovery-codes.png", get(t, ctx, chromedp.CaptureScreenshot()))

	// Sign in elsewhere with a code, then with a recovery code.
	e.clock.Add(totp.Period)
	b2 := chromium(t, "fr-FR")
	signIn(b2, f.pw)
	do(t, b2, chromedp.WaitVisible(`//h1[normalize-space()="Double authentification"]`))
	if ac := get(t, b2, chromedp.AttributeValue(chromedp.CSS("#code"), "autocomplete")); ac.Value != "one-time-code" {
		t.Fatalf("autocomplete %q", ac.Value)
	}
	artifact(t, "code.png", get(t, b2, chromedp.CaptureScreenshot()))
	code, _ = totp.Code(key, e.clock.Now())
	fill(t, b2, "Code de vérification", code)
	click(t, b2, "Vérifier")
	waitText(t, b2, "Vous êtes connecté en tant que alice@acme.example")
	b3 := chromium(t, "fr-FR")
	signIn(b3, f.pw)
	do(t, b3, chromedp.WaitVisible(`//h1[normalize-space()="Double authentification"]`))
	fill(t, b3, "Code de vérification", codes[3])
	click(t, b3, "Vérifier")
	waitText(t, b3, "Vous êtes connecté en tant que alice@acme.example")

	// The sessions page lists the three browsers; sign the others out.
	do(t, ctx, chromedp.Navigate(e.issuer+"/account/security"), chromedp.WaitVisible(`//h2[normalize-space()="Sessions actives"]`))
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/end"]').length`)); n != 3 {
		t.Fatalf("%d sessions listed", n)
	}
	click(t, ctx, "Déconnecter toutes les autres sessions")
	waitText(t, ctx, "Vos autres sessions sont fermées.")
	do(t, b2, chromedp.Navigate(e.issuer+"/"), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))

	// Disable: password and a code.
	e.clock.Add(totp.Period)
	code, _ = totp.Code(key, e.clock.Now())
	fill(t, ctx, "Mot de passe actuel", f.pw)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#disable_code"), code))
	click(t, ctx, "Désactiver la double authentification")
	waitText(t, ctx, "La double authentification est désactivée.")

	// Change the password (a fresh sign-in: no current password asked).
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#password"), "a-brand-new-passphrase"),
		chromedp.SendKeys(chromedp.CSS("#password_confirm"), "a-brand-new-passphrase"))
	click(t, ctx, "Mettre à jour")
	waitText(t, ctx, "Votre mot de passe est changé")
	e.waitSubject(t, f.email, "a changé")

	// Forgot → mail → reset, in a new browser.
	b4 := chromium(t, "fr-FR")
	do(t, b4, chromedp.Navigate(e.issuer+"/login"), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`),
		chromedp.Click(`//a[normalize-space()="Mot de passe oublié ?"]`), chromedp.WaitVisible(`//h1[normalize-space()="Mot de passe oublié"]`))
	fill(t, b4, "Adresse e-mail", f.email)
	click(t, b4, "Envoyer le lien")
	waitText(t, b4, "Si un compte existe pour alice@acme.example")
	artifact(t, "forgot-sent.png", get(t, b4, chromedp.CaptureScreenshot()))
	do(t, b4, chromedp.Navigate(resetLink(e, f.email, 1)), chromedp.WaitVisible(`//h1[normalize-space()="Nouveau mot de passe"]`))
	fill(t, b4, "Nouveau mot de passe", "third-passphrase-of-the-day")
	fill(t, b4, "Confirmez le mot de passe", "third-passphrase-of-the-day")
	click(t, b4, "Changer le mot de passe")
	waitText(t, b4, "toutes vos sessions sont fermées")
	// The first browser's session ended with the reset.
	do(t, ctx, chromedp.Navigate(e.issuer+"/"), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	signIn(b4, "third-passphrase-of-the-day")
	waitText(t, b4, "Vous êtes connecté en tant que alice@acme.example")
}
