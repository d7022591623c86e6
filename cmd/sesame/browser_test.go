package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// journeys are the tests that need a browser, longest first (so that the
// two lanes end together): each opens its Chromium with chromium().
var journeys = []struct {
	name string
	run  func(*testing.T)
}{
	{"SignedInSpace", journeySignedInSpace},
	{"PlainPages", journeyPlainPages},
	{"AccountSecurity", journeyAccountSecurity},
	{"CompanySignIn", journeyCompanySignIn},
	{"PasskeyPolicyEnrolment", journeyPasskeyPolicyEnrolment},
	{"Applications", journeyApplications},
	{"DevicePage", journeyDevicePage},
	{"Organization", journeyOrganization},
	{"CrossSiteRequestsChangeNothing", journeyCrossSiteRequestsChangeNothing},
	{"PasskeyJourneys", journeyPasskeyJourneys},
	{"Consent", journeyConsent},
	{"Branding", journeyBranding},
	{"AbroadSignup", journeyAbroadSignup},
	{"LoginPage", journeyLoginPage},
	{"FormPost", journeyFormPost},
	{"KeyboardSignIn", journeyKeyboardSignIn},
	{"PasskeyInvitation", journeyPasskeyInvitation},
	{"OperatorConsoleCompanySignIn", journeyOperatorConsoleCompanySignIn},
	{"PushedRequestErrorPage", journeyPushedRequestErrorPage},
}

// browserLanes is how many journeys run at once: two overlap one's waits
// with the other's work without starving the servers they drive on a
// 2-core machine.
const browserLanes = 2

// TestChromiumJourneys runs the journeys, browserLanes at a time, as
// subtests of one parallel test (go test -run 'TestChromiumJourneys/Consent'
// runs one). Journeys were parallel tests of their own that waited for a
// browser: the waiting ones held go test's -parallel slots, so while they
// ran the package's other tests could not, and the package took the sum of
// the two phases. Subtests that do not call t.Parallel hold no slot of
// their own; this test holds one, and the other tests run beside it.
func TestChromiumJourneys(t *testing.T) {
	if testing.Short() {
		t.Skip("the Chromium journeys: -short leaves them out")
	}
	t.Parallel()
	queue := make(chan int)
	var lanes sync.WaitGroup
	for range browserLanes {
		lanes.Go(func() {
			for i := range queue {
				t.Run(journeys[i].name, journeys[i].run)
			}
		})
	}
	for i := range journeys {
		queue <- i
	}
	close(queue)
	lanes.Wait()
}

// chromium opens a new browser context, with a tab, in a headless Debian
// Chromium that speaks lang (sharedBrowser), or skips the test when none is
// installed outside CI (in CI, .ci/run installs it and a missing browser
// fails). A browser context has its own cookies, storage, cache and
// authenticators, as a fresh profile has, and is disposed of with the test.
func chromium(t *testing.T, lang string) context.Context {
	t.Helper()
	browser, err := sharedBrowser(lang)
	if errors.Is(err, errNoChromium) {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium-headless-shell is not installed (.ci/run installs it)")
		}
		t.Skip("chromium is not installed; apt-get install chromium-headless-shell")
	}
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelCtx := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	// A guard against a hang, not a measure: journeys share the cores with
	// the package's other tests, and a busy machine must not trip it.
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a browser context: %v", err)
	}
	return ctx
}

var errNoChromium = errors.New("no chromium installed")

// browsers are the running Chromiums, one per language, each started by
// the first journey that asks for it and shared by the rest until the test
// binary ends (closeBrowsers). Each journey opens its own browser contexts
// in them: that costs a fifth of starting a browser (0.2 CPU-seconds
// against 1), and the journeys took 80 s and 141 CPU-seconds instead of
// 98 s and 184.
var browsers = struct {
	sync.Mutex
	byLang map[string]context.Context
	stop   []context.CancelFunc
}{byLang: map[string]context.Context{}}

// sharedBrowser is the running Chromium for lang, started if need be. It
// prefers chromium-headless-shell, Chromium's headless build without the
// desktop browser around it: the same engine (Blink, V8, the DevTools
// protocol, the virtual WebAuthn authenticator) for about half the CPU
// (the 19 journeys, each starting its own browsers: 350 CPU-seconds with
// chromium --headless, 184 with the shell; 141 sharing them).
func sharedBrowser(lang string) (context.Context, error) {
	browsers.Lock()
	defer browsers.Unlock()
	if b, ok := browsers.byLang[lang]; ok {
		return b, nil
	}
	var path string
	for _, name := range []string{"chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return nil, errNoChromium
	}
	profile, err := os.MkdirTemp(binary.dir, "chromium-"+lang+"-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(browser); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, err
	}
	browsers.byLang[lang] = browser
	browsers.stop = append(browsers.stop, cancelBrowser, cancelAlloc)
	return browser, nil
}

// closeBrowsers ends the shared Chromiums (TestMain, after the tests).
func closeBrowsers() {
	browsers.Lock()
	defer browsers.Unlock()
	for _, stop := range browsers.stop {
		stop()
	}
}

// inputFor finds an input through its label, as a person (or a screen
// reader) would: the label's text, then its for attribute.
func inputFor(t *testing.T, ctx context.Context, label string) string {
	t.Helper()
	res, err := chromedp.Run(ctx, chromedp.AttributeValue(fmt.Sprintf(`//label[normalize-space()=%q]`, label), "for"))
	if err != nil || !res.Exists {
		t.Fatalf("no label %q pointing to an input: %v", label, err)
	}
	return "#" + res.Value
}

func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// artifact saves a screenshot beside the tests, for people to look at.
func artifact(t *testing.T, name string, png []byte) {
	dir := filepath.Join("testdata", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func journeyLoginPage(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	e := newEnv(t)
	// A relying party that shows what it received.
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<!doctype html><title>RP</title><p id=result>%s %s</p>", r.URL.Query().Get("error"), map[bool]string{true: "code received"}[r.URL.Query().Get("code") != ""])
	}))
	defer rpSrv.Close()
	f := fixture{clientID: "marketplace", secret: "marketplace-secret-0123456789abcdef", redirect: rpSrv.URL + "/cb", email: "alice@acme.example", pw: testPassword}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--secret", f.secret, "--redirect-uri", f.redirect, "--name", "Marketplace")
	e.person(&f)
	_, challenge := pkce()

	do(t, ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(e.authorizeURL(f, challenge, nil)))
	do(t, ctx, chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
	email, pass := inputFor(t, ctx, "Adresse e-mail"), inputFor(t, ctx, "Mot de passe")
	if email != "#email" || pass != "#password" {
		t.Fatalf("labels point to %q and %q", email, pass)
	}
	artifact(t, "login-fr-desktop.png", get(t, ctx, chromedp.CaptureScreenshot()))

	// A wrong password: the form comes back with one message and the email kept.
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(email), f.email), chromedp.SendKeys(chromedp.CSS(pass), "not-my-password"),
		chromedp.Click(`//button[normalize-space()="Se connecter"]`), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	if alert := get(t, ctx, chromedp.Text(chromedp.CSS(`[role=alert]`))); strings.TrimSpace(alert) != "Adresse e-mail ou mot de passe incorrect." {
		t.Fatalf("alert %q", alert)
	}
	artifact(t, "login-fr-error.png", get(t, ctx, chromedp.CaptureScreenshot()))
	if kept := get(t, ctx, chromedp.Value(chromedp.CSS(email))); kept != f.email {
		t.Fatalf("email not kept: %q", kept)
	}

	// The right password takes the person to the relying party with a code.
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(pass), f.pw), chromedp.Click(`//button[normalize-space()="Se connecter"]`),
		chromedp.WaitVisible(chromedp.CSS(`#result`)))
	if result := get(t, ctx, chromedp.Text(chromedp.CSS(`#result`))); strings.TrimSpace(result) != "code received" {
		t.Fatalf("relying party got %q", result)
	}

	// On a phone, in English by ui_locales (a new browser: the session above would sign in at once).
	ctx2 := chromium(t, "fr-FR")
	do(t, ctx2, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.authorizeURL(f, challenge, url.Values{"ui_locales": {"en"}})),
		chromedp.WaitVisible(`//h1[normalize-space()="Sign in"]`))
	inputFor(t, ctx2, "Email address")
	inputFor(t, ctx2, "Password")
	if width := get(t, ctx2, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Fatalf("the page scrolls sideways on a phone: %dpx wide", width)
	}
	artifact(t, "login-en-phone.png", get(t, ctx2, chromedp.CaptureScreenshot()))
}

// journeyFormPost: a relying party that asks for
// response_mode=form_post receives the code by POST: the page sends itself
// at once (its one script allowed by nonce), and without JavaScript the
// person presses its button.
func journeyFormPost(t *testing.T) {
	e := newEnv(t)
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got := "nothing"
		if r.Method == http.MethodPost && r.PostForm.Get("code") != "" {
			got = "code received by POST, state " + r.PostForm.Get("state")
		}
		fmt.Fprintf(w, "<!doctype html><title>RP</title><p id=result>%s</p>", html.EscapeString(got))
	}))
	defer rpSrv.Close()
	f := fixture{clientID: "marketplace", secret: "marketplace-secret-0123456789abcdef", redirect: rpSrv.URL + "/cb", email: "alice@acme.example", pw: testPassword}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--secret", f.secret, "--redirect-uri", f.redirect, "--name", "Marketplace")
	e.person(&f)
	_, challenge := pkce()
	noScript := chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	})
	for _, scripts := range []bool{true, false} {
		ctx := chromium(t, "fr-FR")
		if !scripts {
			do(t, ctx, noScript)
		}
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(e.authorizeURL(f, challenge, url.Values{"response_mode": {"form_post"}})),
			chromedp.WaitVisible(`//h1[normalize-space()="Connexion"]`))
		do(t, ctx, chromedp.SendKeys(chromedp.CSS(inputFor(t, ctx, "Adresse e-mail")), f.email),
			chromedp.SendKeys(chromedp.CSS(inputFor(t, ctx, "Mot de passe")), f.pw),
			chromedp.Click(`//button[normalize-space()="Se connecter"]`))
		if !scripts {
			button := `//button[normalize-space()="Continuer vers l'application"]`
			do(t, ctx, chromedp.WaitVisible(button))
			artifact(t, "form-post-fr-phone-noscript.png", get(t, ctx, chromedp.CaptureScreenshot()))
			do(t, ctx, chromedp.Click(button))
		}
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#result`)))
		if result := get(t, ctx, chromedp.Text(chromedp.CSS(`#result`))); strings.TrimSpace(result) != "code received by POST, state st-marketplace" {
			t.Fatalf("scripts %v: the relying party got %q", scripts, result)
		}
	}
}
