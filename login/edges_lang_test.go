package login

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// The language that sticks (issue 19): ui_locales of this sign-in, the
// link chosen in this browser, the account's choice, Accept-Language,
// French.

var htmlLang = regexp.MustCompile(`<html lang="([a-z]+)"`)

// pageLang is the language a page is written in.
func pageLang(t *testing.T, p *page) string {
	t.Helper()
	m := htmlLang.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("status %d, no <html lang>: %s", p.Status, excerpt(p.Body))
	}
	return m[1]
}

// acceptLang sends its requests with its own Accept-Language ("" none),
// where the harness's browser always asks for English.
type acceptLang struct {
	*browser
	accept string
}

func (a acceptLang) send(method, path string, form url.Values) *page {
	a.t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodPost {
		form = cloneForm(form)
		if form.Get("csrf_token") == "" {
			form.Set("csrf_token", a.csrf())
		}
		req, err = http.NewRequest(method, a.abs(path), strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequest(method, a.abs(path), nil)
	}
	if err != nil {
		a.t.Fatal(err)
	}
	if a.accept != "" {
		req.Header.Set("Accept-Language", a.accept)
	}
	res, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return &page{t: a.t, Status: res.StatusCode, Location: res.Header.Get("Location"), Body: sb.String(), Header: res.Header}
}

func (a acceptLang) get(path string) *page { a.t.Helper(); return a.send(http.MethodGet, path, nil) }
func (a acceptLang) post(path string, f url.Values) *page {
	a.t.Helper()
	return a.send(http.MethodPost, path, f)
}

// cliUser is an account as `sesame user add` made it without --lang: the
// mail's language set to French, no choice of the person's.
func cliUser(hx *harness, email string, org *storage.Organization) storage.User {
	hx.t.Helper()
	u := hx.User(email, org, "user")
	if err := hx.Store.UpdateUser(context.Background(), u.ID, func(x *storage.User) error { x.Locale = "fr"; return nil }); err != nil {
		hx.t.Fatal(err)
	}
	u.Locale = "fr"
	return u
}

// TestEnglishBrowserKeepsEnglish: a person whose browser asks for English,
// with an account the CLI created (no choice of theirs), reads English on
// the code step and on every signed-in page. (Failed before: the account's
// mail language, French, outranked the browser.)
func TestEnglishBrowserKeepsEnglish(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := cliUser(hx, "cli@acme.example", &org)
	secret, _ := hx.TOTP(u)
	b := acceptLang{hx.Browser(), "en-GB,en;q=0.9"}
	if l := pageLang(t, b.get(PathLogin)); l != "en" {
		t.Fatalf("sign-in page in %s", l)
	}
	b.post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}}).Redirects(PathLoginCode)
	if l := pageLang(t, b.get(PathLoginCode)); l != "en" {
		t.Fatalf("the code step is in %s for an English browser", l)
	}
	b.post(PathLoginCode, url.Values{"code": {hx.Code(secret)}}).Redirects(PathHome)
	for _, path := range []string{PathHome, PathSecurity} {
		if l := pageLang(t, b.get(path)); l != "en" {
			t.Errorf("%s is in %s for an English browser", path, l)
		}
	}
}

// TestLanguageOrder walks the order, each rule against the ones below it.
func TestLanguageOrder(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	chose := func(email, lang string) storage.User {
		u := cliUser(hx, email, &org)
		if err := hx.Store.UpdateUser(context.Background(), u.ID, func(x *storage.User) error { x.ChosenLang = lang; return nil }); err != nil {
			t.Fatal(err)
		}
		return u
	}
	i := 0
	for _, tc := range []struct {
		name      string
		uiLocales []string // of the authorization request ("": signs in without one)
		link      string   // the language link clicked earlier in this browser
		chosen    string   // the account's choice
		accept    string
		want      string
		page      string // the sign-in page's, when the account's choice cannot count yet ("": want)
	}{
		{name: "nothing: French", want: "fr"},
		{name: "Accept-Language", accept: "en-US,en;q=0.8", want: "en"},
		{name: "an unknown Accept-Language: French", accept: "de-DE", want: "fr"},
		{name: "the account's choice over Accept-Language", chosen: "en", accept: "fr-FR", want: "en"},
		{name: "the account's French over an English browser", chosen: "fr", accept: "en", want: "fr"},
		{name: "the link over the account's choice", link: "fr", chosen: "en", accept: "en", want: "fr"},
		{name: "ui_locales over the link", uiLocales: []string{"en"}, link: "fr", chosen: "fr", accept: "fr", want: "en"},
		{name: "ui_locales: the first spoken", uiLocales: []string{"de", "fr-CA", "en"}, accept: "en", want: "fr"},
		{name: "ui_locales none spoken: the next rules", uiLocales: []string{"de", "it"}, chosen: "en", want: "en", page: "fr"},
	} {
		i++
		t.Run(tc.name, func(t *testing.T) {
			u := chose(fmt.Sprintf("order%d@acme.example", i), tc.chosen)
			secret, _ := hx.TOTP(u)
			b := acceptLang{hx.Browser(), tc.accept}
			if tc.link != "" {
				b.get(PathLogin + "?lang=" + tc.link)
			}
			form := url.Values{"email": {u.Email}, "password": {testPassword}}
			login := PathLogin
			if tc.uiLocales != nil {
				ar := hx.AuthRequest(func(ar *storage.AuthRequest) { ar.UILocales = tc.uiLocales })
				login += "?authRequestID=" + ar.ID
				form.Set("authRequestID", ar.ID)
			}
			p := b.get(login)
			// Before the account is known, its choice cannot count.
			want := tc.want
			if tc.page != "" {
				want = tc.page
			} else if tc.chosen != "" && tc.uiLocales == nil && tc.link == "" {
				want = templatesLang(tc.accept)
			}
			if l := pageLang(t, p); l != want {
				t.Fatalf("sign-in page in %s, want %s", l, want)
			}
			b.post(PathLogin, form).Redirects(PathLoginCode)
			if l := pageLang(t, b.get(PathLoginCode)); l != tc.want {
				t.Fatalf("code step in %s, want %s", l, tc.want)
			}
			p = b.post(PathLoginCode, url.Values{"code": {hx.Code(secret)}})
			if tc.uiLocales == nil {
				p.Redirects(PathHome)
				if l := pageLang(t, b.get(PathSecurity)); l != tc.want {
					t.Fatalf("security page in %s, want %s", l, tc.want)
				}
			}
		})
	}
}

// TestLanguageLinkOverridesUILocales: clicking the link on a sign-in the
// relying party asked in English switches to French, and the code step
// and a failed password keep the click.
func TestLanguageLinkOverridesUILocales(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := cliUser(hx, "click@acme.example", &org)
	secret, _ := hx.TOTP(u)
	ar := hx.AuthRequest(func(ar *storage.AuthRequest) { ar.UILocales = []string{"en"} })
	b := acceptLang{hx.Browser(), "en"}
	if l := pageLang(t, b.get(PathLogin+"?authRequestID="+ar.ID)); l != "en" {
		t.Fatalf("ui_locales=en: page in %s", l)
	}
	if l := pageLang(t, b.get(PathLogin+"?authRequestID="+ar.ID+"&lang=fr")); l != "fr" {
		t.Fatalf("after the click: page in %s", l)
	}
	p := b.post(PathLogin, url.Values{"authRequestID": {ar.ID}, "email": {u.Email}, "password": {"wrong password here"}})
	if l := pageLang(t, p); p.Status != http.StatusUnauthorized || l != "fr" {
		t.Fatalf("a failed password: %d in %s", p.Status, l)
	}
	b.post(PathLogin, url.Values{"authRequestID": {ar.ID}, "email": {u.Email}, "password": {testPassword}}).Redirects(PathLoginCode)
	if l := pageLang(t, b.get(PathLoginCode)); l != "fr" {
		t.Fatalf("code step in %s after the click", l)
	}
	_ = secret
}

// TestLanguageSetting: the person chooses their language in the security
// settings; another browser (asking for French) then shows it, and the
// choice is the mail's language too. Forged, cross-site or odd values
// change nothing.
func TestLanguageSetting(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := cliUser(hx, "set@acme.example", &org)
	b := acceptLang{hx.Browser(), "fr"}
	b.post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}}).Redirects(PathHome)
	if l := pageLang(t, b.get(PathSecurity)); l != "fr" {
		t.Fatalf("security page in %s", l)
	}
	for _, bad := range []url.Values{{"lang": {"de"}}, {"lang": {""}}, {"lang": {strings.Repeat("e", 5000)}}} {
		if p := b.post(PathLanguage, bad); p.Status != http.StatusBadRequest {
			t.Fatalf("lang %.10q: status %d, want 400", bad.Get("lang"), p.Status)
		}
	}
	if p := b.send(http.MethodPost, PathLanguage, url.Values{"lang": {"en"}, "csrf_token": {"forged"}}); p.Status != http.StatusForbidden {
		t.Fatalf("forged CSRF: status %d", p.Status)
	}
	if got, _ := hx.Store.GetUser(context.Background(), u.ID); got.ChosenLang != "" {
		t.Fatalf("refused forms changed the choice: %q", got.ChosenLang)
	}
	p := b.post(PathLanguage, url.Values{"lang": {"en"}})
	p.Redirects(PathSecurity)
	if l := pageLang(t, b.get(PathSecurity)); l != "en" {
		t.Fatalf("after choosing English, this browser shows %s", l)
	}
	got, _ := hx.Store.GetUser(context.Background(), u.ID)
	if got.ChosenLang != "en" || got.Locale != "en" {
		t.Fatalf("stored choice %q, mail language %q", got.ChosenLang, got.Locale)
	}
	other := acceptLang{hx.Browser(), "fr-FR"}
	other.post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}}).Redirects(PathHome)
	if l := pageLang(t, other.get(PathHome)); l != "en" {
		t.Fatalf("another browser asking for French shows %s, want the account's English", l)
	}
	// Signed out: the form sends to the sign-in page, nothing changes.
	anon := acceptLang{hx.Browser(), "fr"}
	if p := anon.post(PathLanguage, url.Values{"lang": {"fr"}}); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, PathLogin) {
		t.Fatalf("signed out: %d %s", p.Status, p.Location)
	}
}

func templatesLang(accept string) string {
	if strings.HasPrefix(accept, "en") {
		return "en"
	}
	return "fr"
}

// TestActivationRecordsLanguage: the set-password form offers the
// language, preselected to the page's; what the person submits is their
// choice. A form without it (an older page) records none.
func TestActivationRecordsLanguage(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	hx.User("admin@acme.example", &org, storage.RoleAdmin)
	admin := hx.Browser()
	admin.SignIn("admin@acme.example", "")
	for _, tc := range []struct {
		email, accept, posted, want string
	}{
		{"en@acme.example", "en", "en", "en"},
		{"fr@acme.example", "en", "fr", "fr"},
		{"none@acme.example", "en", "", ""},
		{"odd@acme.example", "en", "xx", ""},
	} {
		link := invite(t, hx, admin, tc.email)
		b := acceptLang{hx.Browser(), tc.accept}
		p := b.get(link)
		if !strings.Contains(p.Body, `<option value="en" lang="en" selected>`) {
			t.Fatalf("%s: the language is not preselected to the page's: %s", tc.email, excerpt(p.Body))
		}
		form := newPasswordForm(mustQuery(t, link, "token"))
		if tc.posted != "" {
			form.Set("lang", tc.posted)
		}
		b.post(PathSetPassword, form).Redirects(PathHome)
		u, err := hx.Store.GetUserByEmail(context.Background(), tc.email)
		if err != nil || u.ChosenLang != tc.want {
			t.Fatalf("%s: chosen %q, want %q (%v)", tc.email, u.ChosenLang, tc.want, err)
		}
		if tc.want != "" && pageLang(t, b.get(PathHome)) != tc.want {
			t.Fatalf("%s: home not in the chosen %s", tc.email, tc.want)
		}
	}
}
