package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/testclock"
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/mail/mailtest"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// newLocalhostEnv is newEnv at a localhost issuer: browsers refuse
// passkeys for an IP address, and accept http only for localhost.
func newLocalhostEnv(t *testing.T, extraEnv ...string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	issuer := "http://localhost:" + port
	env := append([]string{"SESAME_DATA_DIR=" + dir, "SESAME_ISSUER=" + issuer, "SESAME_LISTEN=" + ln.Addr().String()}, cheapArgon...)
	env = append(env, extraEnv...)
	if base := postgresBase(t); base != "" {
		env = append(env, "SESAME_STORAGE_DRIVER=postgres", "SESAME_STORAGE_POSTGRES_DSN="+pgtest.Schema(t, base))
	}
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	clk := testclock.New(time.Now())
	m := &Main{Config: cfg, Listener: ln, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		m.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &testEnv{t: t, dir: dir, issuer: issuer, env: env, main: m, clock: clk}
}

// virtualAuthenticator gives the browser a platform authenticator that
// keeps discoverable credentials and verifies the person (Chrome DevTools
// Protocol, WebAuthn domain).
func virtualAuthenticator(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{Protocol: cdpwebauthn.AuthenticatorProtocolCtap2,
				Ctap2version: cdpwebauthn.Ctap2versionCtap21, Transport: cdpwebauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		return chromedp.Void{}, err
	}))
}

// noAutofill makes the browser say it has no passkey autofill
// (conditional mediation): the virtual authenticator answers a conditional
// request at once, which a person's browser never does, and the buttons
// are what the rest of a journey tests.
func noAutofill(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);`})
		return chromedp.Void{}, err
	}))
}

// passkeyRP is a relying party page that shows what it received.
func passkeyRP(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<!doctype html><title>RP</title><p id=result>%s</p><p id=code>%s</p>",
			html.EscapeString(r.URL.Query().Get("error")+" "+map[bool]string{true: "code received"}[r.URL.Query().Get("code") != ""]),
			html.EscapeString(r.URL.Query().Get("code")))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// step runs steps within 45 s (a guard, not a measure); on failure it says where the browser is
// and what it shows.
func step(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, steps...); err != nil {
		loc := get(t, ctx, chromedp.Location())
		body := get(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
		artifact(t, "passkey-failure.png", get(t, ctx, chromedp.CaptureScreenshot()))
		t.Fatalf("%v: at %s: %s", err, loc, body)
	}
}

// rpCode waits for the relying party's page and returns the code it got.
func rpCode(t *testing.T, ctx context.Context) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`#result`))); err != nil {
		loc := get(t, ctx, chromedp.Location())
		body := get(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
		artifact(t, "passkey-failure.png", get(t, ctx, chromedp.CaptureScreenshot()))
		t.Fatalf("no answer at the relying party (%v): at %s: %s", err, loc, body)
	}
	if got := strings.TrimSpace(get(t, ctx, chromedp.Text(chromedp.CSS(`#result`)))); got != "code received" {
		t.Fatalf("the relying party got %q", got)
	}
	return strings.TrimSpace(get(t, ctx, chromedp.Text(chromedp.CSS(`#code`))))
}

func journeyPasskeyJourneys(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	e := newLocalhostEnv(t)
	rpSrv := passkeyRP(t)
	f := fixture{clientID: "marketplace", secret: "marketplace-secret-0123456789abcdef", redirect: rpSrv.URL + "/cb",
		email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--secret", f.secret, "--redirect-uri", f.redirect, "--name", "Marketplace")
	e.person(&f)
	party := e.relyingParty(f, "n-marketplace")
	verifier, challenge := pkce()
	virtualAuthenticator(t, ctx)

	// Sign in with the password, add a passkey in the settings.
	do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(e.issuer+"/login"),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	if ac := get(t, ctx, chromedp.AttributeValue(chromedp.CSS(`#email`), "autocomplete")); ac.Value != "username webauthn" {
		t.Fatalf("email autocomplete %q", ac.Value)
	}
	do(t, ctx, chromedp.WaitVisible(`//button[normalize-space()="Se connecter avec une clé d'accès"]`))
	artifact(t, "passkey-login-fr.png", get(t, ctx, chromedp.CaptureScreenshot()))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(inputFor(t, ctx, "Adresse e-mail")), f.email),
		chromedp.SendKeys(chromedp.CSS(inputFor(t, ctx, "Mot de passe")), f.pw),
		chromedp.Click(`//button[normalize-space()="Se connecter"]`),
		chromedp.WaitVisible(signOutButton),
		chromedp.Navigate(e.issuer+"/account/security"),
		chromedp.WaitVisible(`//button[normalize-space()="Ajouter une clé d'accès"]`))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(inputFor(t, ctx, "Nom de la clé d'accès (facultatif)")), "Portable"),
		chromedp.Click(`//button[normalize-space()="Ajouter une clé d'accès"]`),
		chromedp.WaitVisible(`//p[@role="status" and normalize-space()="Votre clé d'accès est ajoutée."]`))
	do(t, ctx, chromedp.EmulateViewport(1280, 1500))
	artifact(t, "passkey-settings-fr.png", get(t, ctx, chromedp.CaptureScreenshot()))
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	list := e.mustCLI("", "user", "passkeys", "list", f.userID)
	if !strings.Contains(list, "Portable") || !strings.Contains(list, "device-bound") {
		t.Fatalf("sesame user passkeys list:\n%s", list)
	}

	// Sign out; sign in at the relying party with the passkey alone: the
	// email field's autofill offers it (conditional mediation; the virtual
	// authenticator picks it at once).
	signOut := func() {
		step(t, ctx, chromedp.Navigate(e.issuer+"/"), chromedp.Click(signOutButton),
			chromedp.WaitVisible(`//h1[normalize-space()="Déconnexion"]`))
	}
	signOut()
	do(t, ctx, chromedp.Navigate(e.authorizeURL(f, challenge, nil)))
	tokens := exchange(t, party, rpCode(t, ctx), verifier)
	if amr := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(amr, []string{"hwk", "user", "mfa"}) {
		t.Fatalf("amr = %v", amr)
	}
	if acr := tokens.IDTokenClaims.AuthenticationContextClassReference; acr != vocab.ACRMFA {
		t.Fatalf("acr = %q", acr)
	}
	// The same with the button.
	signOut()
	noAutofill(t, ctx)
	step(t, ctx, chromedp.Navigate(e.authorizeURL(f, challenge, nil)), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`),
		chromedp.Click(`//button[normalize-space()="Se connecter avec une clé d'accès"]`))
	tokens = exchange(t, party, rpCode(t, ctx), verifier)
	if amr := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(amr, []string{"hwk", "user", "mfa"}) {
		t.Fatalf("amr = %v", amr)
	}

	// A relying party asking for a phishing-resistant sign-in gets loa:3
	// from the passkey session (single sign-on).
	do(t, ctx, chromedp.Navigate(e.authorizeURL(f, challenge, url.Values{"acr_values": {vocab.ACRPasskey}})))
	tokens = exchange(t, party, rpCode(t, ctx), verifier)
	if acr := tokens.IDTokenClaims.AuthenticationContextClassReference; acr != vocab.ACRPasskey {
		t.Fatalf("acr = %q", acr)
	}

	// The passkey as second factor, after the password.
	do(t, ctx, chromedp.Navigate(e.authorizeURL(f, challenge, url.Values{"prompt": {"login"}})),
		chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`),
		chromedp.SendKeys(chromedp.CSS(`#email`), f.email), chromedp.SendKeys(chromedp.CSS(`#password`), f.pw),
		chromedp.Click(`//button[normalize-space()="Se connecter"]`),
		chromedp.WaitVisible(`//button[normalize-space()="Utiliser ma clé d'accès"]`))
	artifact(t, "passkey-second-factor-fr.png", get(t, ctx, chromedp.CaptureScreenshot()))
	do(t, ctx, chromedp.Click(`//button[normalize-space()="Utiliser ma clé d'accès"]`))
	tokens = exchange(t, party, rpCode(t, ctx), verifier)
	if amr := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(amr, []string{"pwd", "hwk", "user", "mfa"}) {
		t.Fatalf("second factor amr = %v", amr)
	}

	// Removal, from the settings (a fresh sign-in: no password asked).
	do(t, ctx, chromedp.Navigate(e.issuer+"/account/security"), chromedp.Click(`//button[normalize-space()="Supprimer"]`),
		chromedp.WaitVisible(`//p[@role="status" and normalize-space()="Votre clé d'accès est supprimée."]`))
	if list := e.mustCLI("", "--json", "user", "passkeys", "list", f.userID); list != "[]" {
		t.Fatalf("after removal: %s", list)
	}
}

// The organization's "passkeys only" policy: a member without a passkey
// creates one at their next sign-in, on a phone.
func journeyPasskeyPolicyEnrolment(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	e := newLocalhostEnv(t)
	rpSrv := passkeyRP(t)
	f := fixture{clientID: "marketplace", secret: "marketplace-secret-0123456789abcdef", redirect: rpSrv.URL + "/cb",
		email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--secret", f.secret, "--redirect-uri", f.redirect, "--name", "Marketplace")
	e.person(&f)
	err := e.main.Store.UpdateOrganization(context.Background(), f.orgID, func(o *storage.Organization) error {
		o.RequirePasskey = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	party := e.relyingParty(f, "n-marketplace")
	verifier, challenge := pkce()
	virtualAuthenticator(t, ctx)
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.authorizeURL(f, challenge, nil)), chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`),
		chromedp.SendKeys(chromedp.CSS(`#email`), f.email), chromedp.SendKeys(chromedp.CSS(`#password`), f.pw),
		chromedp.Click(`//button[normalize-space()="Se connecter"]`),
		chromedp.WaitVisible(`//h1[normalize-space()="Créer une clé d'accès"]`),
		chromedp.WaitVisible(`//button[normalize-space()="Créer une clé d'accès"]`))
	if width := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Fatalf("the page scrolls sideways on a phone: %dpx wide", width)
	}
	artifact(t, "passkey-enrol-fr-phone.png", get(t, ctx, chromedp.CaptureScreenshot()))
	do(t, ctx, chromedp.Click(`//button[normalize-space()="Créer une clé d'accès"]`))
	tokens := exchange(t, party, rpCode(t, ctx), verifier)
	if amr := tokens.IDTokenClaims.AuthenticationMethodsReferences; !slices.Equal(amr, []string{"pwd", "hwk", "user", "mfa"}) {
		t.Fatalf("amr = %v", amr)
	}
	if list := e.mustCLI("", "user", "passkeys", "list", f.userID); !strings.Contains(list, "device-bound") {
		t.Fatalf("no passkey stored:\n%s", list)
	}
}

// An invitation activated with a passkey instead of a password.
func journeyPasskeyInvitation(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	smtp := mailtest.Start(t)
	e := &orgEnv{testEnv: newLocalhostEnv(t, "SESAME_MAIL_SMTP_HOST="+smtp.Host, "SESAME_MAIL_SMTP_PORT="+strconv.Itoa(smtp.Port),
		"SESAME_MAIL_SMTP_TLS=none", "SESAME_MAIL_POLL_INTERVAL=100ms"), smtp: smtp}
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	admin := e.browser()
	admin.signInPlain(f)
	if resp := e.inviteMember(admin, "carol@acme.example", false); resp.StatusCode != http.StatusOK {
		t.Fatalf("invite: %d", resp.StatusCode)
	}
	link := e.mailLink("carol@acme.example", 1)
	virtualAuthenticator(t, ctx)
	step(t, ctx, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(link),
		chromedp.WaitVisible(`//button[normalize-space()="Créer une clé d'accès"]`))
	artifact(t, "passkey-invitation-fr.png", get(t, ctx, chromedp.CaptureScreenshot()))
	step(t, ctx, chromedp.Click(`//button[normalize-space()="Créer une clé d'accès"]`),
		chromedp.WaitVisible(signOutButton))
	u, err := e.main.Store.GetUserByEmail(context.Background(), "carol@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if list := e.mustCLI("", "user", "passkeys", "list", u.ID); !strings.Contains(list, "device-bound") {
		t.Fatalf("no passkey:\n%s", list)
	}
	// Signed out, the passkey alone signs in again.
	noAutofill(t, ctx)
	step(t, ctx, chromedp.Click(signOutButton),
		chromedp.WaitVisible(`//h1[normalize-space()="Déconnexion"]`),
		chromedp.Navigate(e.issuer+"/login"),
		chromedp.Click(`//button[normalize-space()="Se connecter avec une clé d'accès"]`),
		chromedp.WaitVisible(signOutButton))
}

// signOutButton is the side menu's "Se déconnecter" on a desktop: the
// folded phone menu has one too, hidden there, and a wait for every match
// to be visible would never end.
const signOutButton = `//div[@class="side"]//button[normalize-space()="Se déconnecter"]`
