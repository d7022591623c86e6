package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sesame-idp/sesame/login/totp"
)

// Issue 13, defects 1 and 13, as an attacker stages them: a page on
// another origin (another loopback port) that the signed-in person opens.
// Its links are followed with the Lax session cookie, its image is loaded,
// its form is posted; none of it turns the second factor off or ends the
// session.
func journeyCrossSiteRequestsChangeNothing(t *testing.T) {
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	ctx := chromium(t, "fr-FR")
	do(t, ctx, chromedp.Navigate(e.issuer+"/login"), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	fill(t, ctx, "Adresse e-mail", f.email)
	fill(t, ctx, "Mot de passe", f.pw)
	click(t, ctx, "Se connecter")
	waitText(t, ctx, "Vous êtes connecté en tant que alice@acme.example")
	do(t, ctx, chromedp.Navigate(e.issuer+"/account/security/totp"), chromedp.WaitVisible(chromedp.CSS("#totp-key")))
	key := strings.ReplaceAll(get(t, ctx, chromedp.Text(chromedp.CSS("#totp-key"))), " ", "")
	code, _ := totp.Code(key, e.clock.Now())
	fill(t, ctx, "Code de vérification", code)
	click(t, ctx, "Confirmer et activer")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#recovery-codes")))
	before, err := e.main.Store.GetTOTP(context.Background(), f.userID)
	if err != nil || before.ConfirmedAt.IsZero() {
		t.Fatalf("enabled: %v", err)
	}

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>You won</title>
<p><a id="totp" href="%[1]s/account/security/totp">Claim your prize</a></p>
<p><a id="bye" href="%[1]s/end_session">Claim another</a></p>
<img src="%[1]s/login/enrol" alt="">
<form id="off" method="post" action="%[1]s/account/security/totp/disable">
<input name="current_password" value="guess"><input name="code" value="000000"></form>`, e.issuer)
	}))
	defer evil.Close()

	// The setup page is shown, and shows the replacement's proof; nothing is stored.
	do(t, ctx, chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS("#totp")), chromedp.Click(chromedp.CSS("#totp")),
		chromedp.WaitVisible(chromedp.CSS("#current_code")), chromedp.EmulateViewport(1000, 1500))
	artifact(t, "totp-replace.png", get(t, ctx, chromedp.FullScreenshot(100)))
	// end_session without a hint asks first.
	do(t, ctx, chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS("#bye")), chromedp.Click(chromedp.CSS("#bye")))
	waitText(t, ctx, "Voulez-vous vous déconnecter de Sesame ?")
	artifact(t, "confirm-logout.png", get(t, ctx, chromedp.CaptureScreenshot()))
	// A form posted from the other origin is refused.
	do(t, ctx, chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS("#off")))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('off').submit(), true`)); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.WaitVisible(`//body[not(.//form[@id="off"])]`))

	after, err := e.main.Store.GetTOTP(context.Background(), f.userID)
	if err != nil || after.ConfirmedAt.IsZero() || string(after.SecretEncrypted) != string(before.SecretEncrypted) {
		t.Fatalf("the other site changed the second factor: %+v %v", after, err)
	}
	do(t, ctx, chromedp.Navigate(e.issuer+"/account/security"),
		chromedp.WaitVisible(`//h1[normalize-space()="Paramètres d'authentification"]`))
}
