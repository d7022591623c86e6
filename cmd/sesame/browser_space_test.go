package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/sesame-idp/sesame/login/totp"
)

// axe-core, vendored in testdata/axe (its README says how to update it).
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	return string(b), err
})

// axeViolation is what the tests print of one axe-core violation.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkAxe runs axe-core on the page shown (WCAG 2.0-2.2 A and AA, and
// axe's best practices) and fails the test on any violation. The script is
// evaluated through the DevTools protocol, which the page's CSP does not
// govern: the page itself allows no inline script.
func checkAxe(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, v := range axeViolations(t, ctx, page) {
		t.Errorf("%s: axe %s (%s): %s\n  %s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}

func axeViolations(t *testing.T, ctx context.Context, page string) []axeViolation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		t.Fatalf("%s: load axe-core: %v", page, err)
	}
	out := get(t, ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({ID: v.id, Impact: v.impact, Help: v.help,
			Nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}))))`, chromedp.EvalAwaitPromise))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("%s: axe answer %q: %v", page, out, err)
	}
	return vs
}

// allScreens: SESAME_SCREENSHOTS=1 takes a screenshot of every page in
// every language and width, and runs axe-core on each of them; by default
// (CI) every page is still checked, by axe-core in one language and width
// (French on a desktop, English on a phone, so each page and both
// languages and widths are covered), and screenshots are of a few pages:
// the full sweep does not fit the race-enabled suite's time on 2 cores.
var allScreens = os.Getenv("SESAME_SCREENSHOTS") != ""

// shoot saves a full-page screenshot under testdata/artifacts.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	artifact(t, name+".png", get(t, ctx, chromedp.FullScreenshot(100))) // 100: a PNG
}

// sweep reports whether this page, language and width get axe-core and a
// screenshot (see allScreens).
func sweep(lang string, width int64) bool {
	return allScreens || (lang == "fr") == (width > 390)
}

// signInChromium signs in with the login form, typing as a person would.
func signInChromium(t *testing.T, ctx context.Context, issuer string, f fixture) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(issuer+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), f.email), chromedp.SendKeys(chromedp.CSS("#password"), f.pw),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("header.bar")))
}

// spaceEnv is an organization with an admin, a member and an invitation,
// a pending organization, and the operator; each has a trail.
type spaceEnv struct {
	*orgEnv
	admin, member fixture
}

func newSpaceEnv(t *testing.T, extra ...string) *spaceEnv {
	e := &spaceEnv{orgEnv: newOrgEnv(t, extra...)}
	org := e.mustCLI("", "org", "create", "--name", "Acme Cloud", "--country", "BE", "--validated")
	e.admin = fixture{email: "alice@acme.example", pw: "correct-horse-battery", orgID: org}
	e.admin.userID = e.mustCLI(e.admin.pw+"\n", "user", "add", "--email", e.admin.email, "--name", "Alice Martin", "--org", org,
		"--role", "admin", "--role", "user", "--password-stdin")
	e.member = fixture{email: "bob@acme.example", pw: "tall-ship-passphrase-26", orgID: org}
	e.member.userID = e.mustCLI(e.member.pw+"\n", "user", "add", "--email", e.member.email, "--name", "Bob Durand", "--org", org,
		"--role", "user", "--password-stdin")
	admin := e.browser()
	admin.signInPlain(e.admin)
	e.inviteMember(admin, "carol@acme.example", false)
	bob := e.browser()
	bob.signInPlain(e.member)
	if resp, body := e.signupFrance(e.browser(), "73282932000074"); resp.StatusCode != 200 {
		t.Fatalf("signup: %d %.300s", resp.StatusCode, body)
	}
	return e
}

// roleCase is what one kind of person sees in the space.
type roleCase struct {
	name  string
	who   func(e *spaceEnv) fixture
	pages []string
	menu  map[string][]string // by language: the menu's entries, in order
}

var spaceRoles = []roleCase{
	{"person", func(e *spaceEnv) fixture { return e.member }, []string{"/", "/account/security"}, map[string][]string{
		"fr": {"Accueil", "Sécurité", "Se déconnecter"},
		"en": {"Home", "Security", "Sign out"},
	}},
	{"admin", func(e *spaceEnv) fixture { return e.admin }, []string{"/", "/organization/members", "/organization/policy", "/organization/audit"}, map[string][]string{
		"fr": {"Accueil", "Sécurité", "Organisation", "Membres", "Politique de sécurité", "Domaines", "Connexion d'entreprise", "Journal d'audit", "Se déconnecter"},
		"en": {"Home", "Security", "Organization", "Members", "Security policy", "Domains", "Company sign-in", "Audit trail", "Sign out"},
	}},
	{"operator", func(e *spaceEnv) fixture { return e.operator }, []string{"/", "/admin/organizations", "/admin/audit"}, map[string][]string{
		"fr": {"Accueil", "Sécurité", "Console", "Organisations", "Applications", "Journal d'audit", "Se déconnecter"},
		"en": {"Home", "Security", "Console", "Organizations", "Applications", "Audit trail", "Sign out"},
	}},
}

// The signed-in space for each role, in French and in English, on a
// desktop and at 390 px: the header names the person and the organization,
// the menu holds the role's entries with this page marked, the phone's
// menu folds (no script), nothing scrolls sideways, and axe-core finds
// nothing on any page.
func journeySignedInSpace(t *testing.T) {
	e := newSpaceEnv(t)
	for _, rc := range spaceRoles {
		t.Run(rc.name, func(t *testing.T) {
			f := rc.who(e)
			ctx := chromium(t, "fr-FR")
			do(t, ctx, chromedp.EmulateViewport(1280, 900))
			signInChromium(t, ctx, e.issuer, f)
			for _, lang := range []string{"fr", "en"} {
				// The page's language link, remembered by the browser (the
				// account's own language would win otherwise).
				do(t, ctx, chromedp.Navigate(e.issuer+"/?lang="+lang), chromedp.WaitVisible(chromedp.CSS("h1")))
				for _, width := range []int64{1280, 390} {
					if width == 390 {
						do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
					} else {
						do(t, ctx, chromedp.EmulateViewport(1280, 900))
					}
					pages := rc.pages
					if !sweep(lang, width) { // the header and menu only: the home page and the last of the menu
						pages = []string{pages[0], pages[len(pages)-1]}
					}
					for _, p := range pages {
						do(t, ctx, chromedp.Navigate(e.issuer+p), chromedp.WaitVisible(chromedp.CSS("h1")))
						name := fmt.Sprintf("space-%s-%s-%d-%s", rc.name, lang, width, strings.Trim(strings.ReplaceAll(p, "/", "-"), "-"))
						if p == "/" {
							name += "home"
						}
						checkSpace(t, ctx, rc, lang, f, p, width)
						if sweep(lang, width) {
							checkAxe(t, ctx, name)
							shoot(t, ctx, name)
						}
					}
				}
			}
			// Back to French on a desktop for the pages' particular states.
			do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(e.issuer+"/?lang=fr"), chromedp.WaitVisible(chromedp.CSS("h1")))
			if rc.name == "operator" { // one organization of the console: its entry is marked as the page's parent
				do(t, ctx, chromedp.Navigate(e.issuer+"/admin/organizations"), chromedp.WaitVisible(chromedp.CSS("table")),
					chromedp.Click(chromedp.CSS("table a")), chromedp.WaitVisible(chromedp.CSS("table")))
				if cur := get(t, ctx, chromedp.Evaluate[string](`document.querySelector(".side a[aria-current]").getAttribute("aria-current")`)); cur != "true" {
					t.Errorf("an organization's page marks its menu entry %q", cur)
				}
				checkAxe(t, ctx, "operator-org")
				shoot(t, ctx, "space-operator-fr-1280-org")
				do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
				shoot(t, ctx, "space-operator-fr-390-org")
			}
			if rc.name == "admin" { // a row's actions, opened (no script: a <details>)
				do(t, ctx, chromedp.Navigate(e.issuer+"/organization/members"), chromedp.WaitVisible(chromedp.CSS("table")),
					chromedp.Click(chromedp.CSS(".row-actions > summary")), chromedp.WaitVisible(chromedp.CSS(".row-actions .pop")))
				checkAxe(t, ctx, "members-actions")
				shoot(t, ctx, "space-admin-fr-1280-members-actions")
			}
			// On the phone, the menu opens without a script.
			do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(e.issuer+"/"), chromedp.WaitVisible(chromedp.CSS("summary")),
				chromedp.Click(chromedp.CSS(".menu-fold > summary")), chromedp.WaitVisible(chromedp.CSS(".menu-fold nav")))
			shoot(t, ctx, fmt.Sprintf("space-%s-fr-390-menu-open", rc.name))
			checkAxe(t, ctx, rc.name+" menu open")
			// Signing out is the menu's last entry.
			do(t, ctx, chromedp.Click(chromedp.CSS(".menu-fold .signout button")), chromedp.WaitVisible(chromedp.CSS("main.card h1")))
			if p := get(t, ctx, chromedp.Evaluate[string](`location.pathname`)); p != "/logged-out" {
				t.Errorf("signing out lands on %s", p)
			}
		})
	}
}

func checkSpace(t *testing.T, ctx context.Context, rc roleCase, lang string, f fixture, path string, width int64) {
	t.Helper()
	where := fmt.Sprintf("%s %s %s %dpx", rc.name, lang, path, width)
	if got := get(t, ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); got != lang {
		t.Errorf("%s: page in %q", where, got)
	}
	if w := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > int(width) {
		t.Errorf("%s: the page scrolls sideways: %dpx wide", where, w)
	}
	// The visible menu: beside the content on a desktop, folded on a phone.
	menu := ".side nav"
	if width == 390 {
		menu = ".menu-fold nav"
		if get(t, ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".side")).display !== "none" || document.querySelector(".menu-fold").open`)) {
			t.Errorf("%s: the menu does not fold", where)
		}
	}
	entries := get(t, ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.textContent.trim())`,
		menu+" .menu-title, "+menu+" a, "+menu+" button")))
	if !slices.Equal(entries, rc.menu[lang]) {
		t.Errorf("%s: menu %q, want %q", where, entries, rc.menu[lang])
	}
	current := get(t, ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(a => a.getAttribute("href") + " " + a.getAttribute("aria-current"))`,
		menu+" a[aria-current]")))
	if len(current) != 1 || current[0] != path+" page" {
		t.Errorf("%s: current %q", where, current)
	}
	header := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("header.bar").textContent`))
	if width == 390 {
		header = get(t, ctx, chromedp.Evaluate[string](`document.querySelector(".fold-who").textContent`))
	}
	if !strings.Contains(header, f.email) {
		t.Errorf("%s: the header does not name %s: %q", where, f.email, header)
	}
	if rc.name != "operator" && !strings.Contains(header, "Acme Cloud") {
		t.Errorf("%s: the header does not name the organization: %q", where, header)
	}
}

// Keyboard only: the sign-in form is filled and sent with the keyboard,
// each focused control shows a ring of at least 3:1 against the page, and
// the skip link leads to the content.
func journeyKeyboardSignIn(t *testing.T) {
	e := &spaceEnv{orgEnv: newOrgEnv(t)}
	e.admin = e.orgEnv.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	ctx := chromium(t, "fr-FR")
	do(t, ctx, chromedp.EmulateViewport(1000, 800), chromedp.Navigate(e.issuer+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	focused := func() (id string, ring float64) {
		var r struct {
			ID    string
			Style string
			Width float64
			Color []float64
		}
		raw := get(t, ctx, chromedp.Evaluate[string](`(() => { const a = document.activeElement, s = getComputedStyle(a);
			const c = s.outlineColor.match(/[\d.]+/g).map(Number);
			return JSON.stringify({ID: a.id || a.tagName, Style: s.outlineStyle, Width: parseFloat(s.outlineWidth), Color: c}); })()`))
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatal(err)
		}
		if r.Style == "none" || r.Width < 2 || len(r.Color) < 3 {
			return r.ID, 0
		}
		return r.ID, contrastOnWhite(r.Color[0], r.Color[1], r.Color[2])
	}
	if id, _ := focused(); id != "email" {
		t.Fatalf("the page opens with the focus on %s, not the email", id)
	}
	do(t, ctx, chromedp.KeyEvent(e.admin.email), chromedp.KeyEvent("\t"))
	for _, want := range []string{"password"} {
		if id, ring := focused(); id != want || ring < 3 {
			t.Fatalf("focus on %s with a ring of %.2f:1, want %s with at least 3:1", id, ring, want)
		}
	}
	do(t, ctx, chromedp.KeyEvent(e.admin.pw), chromedp.KeyEvent("\t"))
	if id, ring := focused(); id != "BUTTON" || ring < 3 {
		t.Fatalf("focus on %s with a ring of %.2f:1, want the button with at least 3:1", id, ring)
	}
	shoot(t, ctx, "keyboard-signin-focus")
	do(t, ctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("header.bar")))
	// The first Tab of a page reaches the skip link, shown when focused.
	do(t, ctx, chromedp.KeyEvent("\t"))
	if id, ring := focused(); id != "A" || ring < 3 || !get(t, ctx, chromedp.Evaluate[bool](`document.activeElement.classList.contains("skip") && document.activeElement.getBoundingClientRect().top >= 0`)) {
		t.Fatalf("first Tab: %s (ring %.2f:1), want the visible skip link", id, ring)
	}
	shoot(t, ctx, "keyboard-skip-link")
	do(t, ctx, chromedp.KeyEvent("\r"))
	if h := get(t, ctx, chromedp.Evaluate[string](`location.hash`)); h != "#main" {
		t.Fatalf("the skip link went to %q", h)
	}
}

// contrastOnWhite is the WCAG contrast of an sRGB colour against white.
func contrastOnWhite(r, g, b float64) float64 {
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
	return 1.05 / (l + 0.05)
}

// The pages outside the space and the second factor's pages, in both
// languages and on a phone: axe-core finds nothing; the recovery codes
// offer Copy (the script) and Download (a form), and the file holds them.
func journeyPlainPages(t *testing.T) {
	e := newSpaceEnv(t)
	// axe-core runs and sees: a page made to fail does.
	sanity := chromium(t, "fr-FR")
	do(t, sanity, chromedp.Navigate(`data:text/html,<!doctype html><html lang="fr"><title>x</title><main><img src="x.png"><input></main></html>`),
		chromedp.WaitReady("body"))
	if vs := axeViolations(t, sanity, "a page made to fail"); !slices.ContainsFunc(vs, func(v axeViolation) bool { return v.ID == "image-alt" }) ||
		!slices.ContainsFunc(vs, func(v axeViolation) bool { return v.ID == "label" }) {
		t.Fatalf("axe-core misses an image without alt and an input without label: %+v", vs)
	}
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx := chromium(t, map[string]string{"fr": "fr-FR", "en": "en-GB"}[lang])
			for _, width := range []int64{1100, 390} {
				if !sweep(lang, width) {
					continue
				}
				if width == 390 {
					do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
				} else {
					do(t, ctx, chromedp.EmulateViewport(width, 900))
				}
				for _, p := range []string{"/login", "/forgot", "/signup", "/logged-out", "/nowhere", "/set-password?token=not-a-token"} {
					do(t, ctx, chromedp.Navigate(e.issuer+p), chromedp.WaitVisible(chromedp.CSS("h1")))
					name := fmt.Sprintf("plain-%s-%d-%s", lang, width, strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(p), "-"))
					if w := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > int(width) {
						t.Errorf("%s: %dpx wide", name, w)
					}
					if sweep(lang, width) {
						checkAxe(t, ctx, name)
						shoot(t, ctx, name)
					}
				}
			}
			// A refused sign-in: the fields point to the message.
			do(t, ctx, chromedp.EmulateViewport(1100, 900), chromedp.Navigate(e.issuer+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")),
				chromedp.SendKeys(chromedp.CSS("#email"), e.member.email), chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
				chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("#form-error")))
			for _, id := range []string{"email", "password"} {
				attrs := get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`(e => e.getAttribute("aria-invalid") + " " + e.getAttribute("aria-describedby"))(document.getElementById(%q))`, id)))
				if attrs != "true form-error" {
					t.Errorf("%s after a refusal: %q", id, attrs)
				}
			}
			checkAxe(t, ctx, "login-error-"+lang)
			shoot(t, ctx, "plain-"+lang+"-login-error")

			// The second factor: the key and the codes, with Copy and Download.
			person := e.member
			if lang == "en" {
				person = e.admin
			}
			signInChromium(t, ctx, e.issuer, person)
			do(t, ctx, chromedp.Navigate(e.issuer+"/account/security/totp?lang="+lang), chromedp.WaitVisible(chromedp.CSS("#totp-key")))
			if get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("button[data-copy=totp-key]").hidden`)) {
				t.Error("the script did not show the key's Copy button")
			}
			key := get(t, ctx, chromedp.Evaluate[string](`document.getElementById("totp-key").dataset.value`))
			checkAxe(t, ctx, "totp-setup-"+lang)
			shoot(t, ctx, "space-totp-setup-"+lang)
			do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
			shoot(t, ctx, "space-totp-setup-"+lang+"-390")
			// The key's groups never break inside: each is one line high.
			if broken := get(t, ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("#totp-key span")).filter(s => s.getClientRects().length > 1).length`)); broken != 0 {
				t.Errorf("%d groups of the key break", broken)
			}
			code, _ := totp.Code(key, e.clock.Now())
			do(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS("#recovery-codes")))
			checkAxe(t, ctx, "recovery-codes-"+lang)
			shoot(t, ctx, "space-recovery-codes-"+lang+"-390")
			if broken := get(t, ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("#recovery-codes code")).filter(c => c.getClientRects().length > 1).length`)); broken != 0 {
				t.Errorf("%d recovery codes break at 390px", broken)
			}
			do(t, ctx, chromedp.EmulateViewport(1100, 900))
			shoot(t, ctx, "space-recovery-codes-"+lang)
			if get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("button[data-copy=recovery-codes]").hidden`)) {
				t.Error("the script did not show the codes' Copy button")
			}
			// Download: the form (no script) posts the sealed codes back; the
			// browser saves the answer as a file that holds them.
			dir := t.TempDir()
			do(t, ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := cdp.Call(ctx, tg, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
					Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
					BrowserContextID: chromedp.FromContext(ctx).BrowserContextID})
				return chromedp.Void{}, err
			}), chromedp.Click(chromedp.CSS("form[action$='recovery-codes.txt'] button")))
			shown := get(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes code")).map(c => c.textContent)`))
			file := waitFile(t, filepath.Join(dir, "recovery-codes.txt"))
			if len(shown) != 10 {
				t.Fatalf("%d codes shown", len(shown))
			}
			for _, c := range shown {
				if !strings.Contains(file, c+"\r\n") {
					t.Errorf("the file misses %s:\n%s", c, file)
				}
			}
		})
	}
}

// Branding: the name, the colour (its own stylesheet), the logo and the
// help link, on the plain pages and in the space.
func journeyBranding(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="140" height="32" viewBox="0 0 140 32">`+
		`<rect width="32" height="32" rx="8" fill="#7a1fa2"/><text x="40" y="23" font-family="sans-serif" font-size="20" font-weight="700" fill="#1b1f24">Acme ID</text></svg>`), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newSpaceEnv(t, "SESAME_BRANDING_NAME=Acme ID", "SESAME_BRANDING_PRIMARY_COLOR=#7a1fa2", "SESAME_BRANDING_LOGO="+logo,
		"SESAME_BRANDING_SUPPORT_URL=https://help.acme.example/id")
	ctx := chromium(t, "fr-FR")
	do(t, ctx, chromedp.EmulateViewport(1100, 900), chromedp.Navigate(e.issuer+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if title := get(t, ctx, chromedp.Evaluate[string](`document.title`)); title != "Connexion · Acme ID" {
		t.Errorf("title %q", title)
	}
	if accent := get(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button[type=submit]")).backgroundColor`)); accent != "rgb(122, 31, 162)" {
		t.Errorf("the button's colour %q", accent)
	}
	if ok := get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("img.logo").naturalWidth > 0 && document.querySelector("img.logo").alt === "Acme ID"`)); !ok {
		t.Error("the logo is not shown")
	}
	if help := get(t, ctx, chromedp.Evaluate[string](`document.querySelector("footer a[href^='https://help']").textContent`)); help != "Aide" {
		t.Errorf("help link %q", help)
	}
	checkAxe(t, ctx, "branded login")
	shoot(t, ctx, "branded-login-fr")
	signInChromium(t, ctx, e.issuer, e.admin)
	do(t, ctx, chromedp.Navigate(e.issuer+"/organization/members"), chromedp.WaitVisible(chromedp.CSS("table")))
	checkAxe(t, ctx, "branded members")
	shoot(t, ctx, "branded-members-fr")
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table")))
	shoot(t, ctx, "branded-members-fr-390")
	// The mails carry the name.
	e.waitSubject(t, "carol@acme.example", "Acme ID")
}

// waitFile waits for a download to be complete (Chromium writes a
// .crdownload first and renames it) and returns its content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(filepath.Dir(path))
			t.Fatalf("no file %s (the folder holds %v)", path, entries)
		}
		time.Sleep(50 * time.Millisecond) // polling the disk, not waiting for time to pass
	}
}
