package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// claimsRP is a relying party for the browser tests: it starts the flow
// with PKCE and shows the verified ID token's organization claims.
type claimsRP struct {
	srv      *httptest.Server
	f        fixture
	mu       sync.Mutex
	verifier string
}

func newClaimsRP(t *testing.T, e *testEnv) *claimsRP {
	c := &claimsRP{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			v, challenge := pkce()
			c.mu.Lock()
			c.verifier = v
			c.mu.Unlock()
			http.Redirect(w, r, e.authorizeURL(c.f, challenge, nil), http.StatusFound)
		case "/cb":
			c.mu.Lock()
			v := c.verifier
			c.mu.Unlock()
			party := e.relyingParty(c.f, "n-"+c.f.clientID)
			tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](r.Context(), r.URL.Query().Get("code"), party, rp.WithCodeVerifier(v))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			raw, _ := json.Marshal(tokens.IDTokenClaims.Claims)
			fmt.Fprintf(w, "<!doctype html><title>RP</title><p id=status>%s</p><pre id=claims>%s</pre>",
				tokens.IDTokenClaims.Claims["org_status"], html.EscapeString(string(raw)))
		}
	}))
	t.Cleanup(c.srv.Close)
	c.f = fixture{clientID: "rp-" + strings.ToLower(t.Name()[:4]), secret: "claims-rp-secret-0123456789abcdefgh", redirect: c.srv.URL + "/cb"}
	e.mustCLI("", "client", "add", "--id", c.f.clientID, "--secret", c.f.secret, "--redirect-uri", c.f.redirect, "--name", "Place de marché")
	return c
}

// fill types into the input a label names.
func fill(t *testing.T, ctx context.Context, label, value string) {
	t.Helper()
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(inputFor(t, ctx, label)), value))
}

func click(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	do(t, ctx, chromedp.Click(fmt.Sprintf(`//button[normalize-space()=%q]`, text)))
}

func waitText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	do(t, ctx, chromedp.WaitVisible(fmt.Sprintf(`//*[contains(normalize-space(), %q)]`, text)))
}

func journeyOrganization(t *testing.T) {
	e := newOrgEnv(t)
	app := newClaimsRP(t, e.testEnv)
	ctx := chromium(t, "fr-FR")

	// 1. From the login page, create an organization.
	do(t, ctx, chromedp.EmulateViewport(1100, 1400), chromedp.Navigate(app.srv.URL+"/start"),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`), chromedp.Click(`//a[normalize-space()="Créer une organisation"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Créer une organisation"]`))
	fill(t, ctx, "Adresse e-mail du compte cloud", demoCloudEmail)
	fill(t, ctx, "Mot de passe du compte cloud", demoCloudPassword)
	artifact(t, "signup-1-cloud.png", get(t, ctx, chromedp.CaptureScreenshot()))
	click(t, ctx, "Continuer")
	waitText(t, ctx, "Compte cloud vérifié")
	do(t, ctx, chromedp.Click(chromedp.CSS("#domicile_fr")))
	artifact(t, "signup-2-domicile.png", get(t, ctx, chromedp.CaptureScreenshot()))
	click(t, ctx, "Continuer")
	waitText(t, ctx, "Entreprise française")
	fill(t, ctx, "Numéro SIRET", "732 829 320 00074")
	click(t, ctx, "Rechercher")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#company")))
	if card := get(t, ctx, chromedp.Text(chromedp.CSS("#company"))); !strings.Contains(card, "NUAGE SOUVERAIN SAS") ||
		!strings.Contains(card, "AIX-EN-PROVENCE") || !strings.Contains(card, "732829320") || !strings.Contains(card, "63.11Z") {
		t.Fatalf("company card: %q", card)
	}
	artifact(t, "signup-2-company.png", get(t, ctx, chromedp.FullScreenshot(100)))
	click(t, ctx, "Sélectionner cette entreprise et créer l'organisation")
	waitText(t, ctx, "L'organisation NUAGE SOUVERAIN est créée.")
	artifact(t, "signup-3-done.png", get(t, ctx, chromedp.CaptureScreenshot()))

	// 2. The mail's link: choose the password; the waiting sign-in goes on to the application.
	link := e.mailLink(demoCloudEmail, 1)
	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(`//h1[normalize-space()="Choisir votre mot de passe"]`))
	fill(t, ctx, "Nouveau mot de passe", "founder-passphrase-2026")
	fill(t, ctx, "Confirmez le mot de passe", "founder-passphrase-2026")
	artifact(t, "set-password.png", get(t, ctx, chromedp.CaptureScreenshot()))
	click(t, ctx, "Enregistrer le mot de passe")
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#status")))
	if s := get(t, ctx, chromedp.Text(chromedp.CSS("#status"))); s != "pending" {
		t.Fatalf("the application sees org_status %q", s)
	}

	// 3. The founder invites a member.
	do(t, ctx, chromedp.Navigate(e.issuer+"/organization/members"), chromedp.WaitVisible(`//h1[normalize-space()="Membres de l'organisation"]`))
	fill(t, ctx, "Adresse e-mail", "bob@nuage.example")
	fill(t, ctx, "Nom (facultatif)", "Bob Durand")
	click(t, ctx, "Envoyer l'invitation")
	waitText(t, ctx, "L'invitation est envoyée.")
	artifact(t, "members.png", get(t, ctx, chromedp.FullScreenshot(100)))

	// 4. The operator validates in the console (another browser).
	opCtx := chromium(t, "fr-FR")
	do(t, opCtx, chromedp.EmulateViewport(1100, 1400), chromedp.Navigate(e.issuer+"/login"), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	fill(t, opCtx, "Adresse e-mail", e.operator.email)
	fill(t, opCtx, "Mot de passe", e.operator.pw)
	click(t, opCtx, "Se connecter")
	do(t, opCtx, chromedp.Click(`//a[normalize-space()="Console opérateur : organisations à valider"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Console opérateur"]`))
	artifact(t, "operator-console.png", get(t, opCtx, chromedp.FullScreenshot(100)))
	click(t, opCtx, "Valider NUAGE SOUVERAIN")
	waitText(t, opCtx, "L'organisation est validée")

	// 5. Every member is mailed; the application now sees "validated".
	e.waitSubject(t, demoCloudEmail, "validée")
	e.waitSubject(t, "bob@nuage.example", "validée")
	do(t, ctx, chromedp.Navigate(app.srv.URL+"/start"), chromedp.WaitVisible(chromedp.CSS("#status")))
	if s := get(t, ctx, chromedp.Text(chromedp.CSS("#status"))); s != "validated" {
		t.Fatalf("after validation the application sees %q", s)
	}

	// 6. The invited member sets a password and signs in with org_roles ["user"].
	bobCtx := chromium(t, "fr-FR")
	do(t, bobCtx, chromedp.Navigate(e.mailLink("bob@nuage.example", 1)), chromedp.WaitVisible(`//h1[normalize-space()="Choisir votre mot de passe"]`))
	fill(t, bobCtx, "Nouveau mot de passe", "tall-ship-passphrase-26")
	fill(t, bobCtx, "Confirmez le mot de passe", "tall-ship-passphrase-26")
	click(t, bobCtx, "Enregistrer le mot de passe")
	waitText(t, bobCtx, "Vous êtes connecté en tant que bob@nuage.example")
	do(t, bobCtx, chromedp.Navigate(app.srv.URL+"/start"), chromedp.WaitVisible(chromedp.CSS("#claims")))
	var claims map[string]any
	json.Unmarshal([]byte(get(t, bobCtx, chromedp.Text(chromedp.CSS("#claims")))), &claims)
	if roles, _ := claims["org_roles"].([]any); len(roles) != 1 || roles[0] != "user" || claims["org_status"] != "validated" {
		t.Fatalf("bob's claims: %v", claims)
	}
}

func journeyAbroadSignup(t *testing.T) {
	e := newOrgEnv(t)
	ctx := chromium(t, "en-GB")
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(e.issuer+"/signup"),
		chromedp.WaitVisible(`//h1[normalize-space()="Create an organization"]`))
	fill(t, ctx, "Cloud account email address", demoCloudEmail)
	fill(t, ctx, "Cloud account password", demoCloudPassword)
	click(t, ctx, "Continue")
	waitText(t, ctx, "Cloud account verified")
	do(t, ctx, chromedp.Click(chromedp.CSS("#domicile_abroad")))
	click(t, ctx, "Continue")
	waitText(t, ctx, "Company abroad")
	fill(t, ctx, "Organization name", "Wolke GmbH")
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#country"), "DE"))
	if width := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Fatalf("the sign-up scrolls sideways on a phone: %dpx", width)
	}
	artifact(t, "signup-abroad-phone.png", get(t, ctx, chromedp.FullScreenshot(100)))
	click(t, ctx, "Create the organization")
	waitText(t, ctx, "The organization Wolke GmbH is created.")
	orgs, _ := e.main.Store.ListOrganizations(context.Background(), "pending")
	if len(orgs) != 1 || orgs[0].Country != "DE" {
		t.Fatalf("organizations: %+v", orgs)
	}
	// The founder's mail is in English, the language of the sign-up.
	got := e.smtp.WaitFor(t, 1, 10*time.Second)
	if got[0].Subject != "Choose your Sesame password" {
		t.Fatalf("subject %q", got[0].Subject)
	}
}

// waitSubject waits for a mail to addr whose subject contains s.
func (e *orgEnv) waitSubject(t *testing.T, addr, s string) {
	t.Helper()
	for i := 0; ; i++ {
		for _, m := range e.smtp.To(addr) {
			if strings.Contains(m.Subject, s) {
				return
			}
		}
		if i > 100 {
			t.Fatalf("no mail %q for %s", s, addr)
		}
		e.smtp.WaitFor(t, len(e.smtp.Messages())+1, 10*time.Second)
	}
}
