package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// TestSafeReturn: only a path of this site is landed on.
func TestSafeReturn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"/account/security", "/account/security"},
		{"/organization/members?x=1", "/organization/members?x=1"},
		{"/admin/audit?since=2026-01-01&type=member", "/admin/audit?since=2026-01-01&type=member"},
		{"/account/../organization/members", "/organization/members"},
		{"", ""},
		{"/", ""}, // the default anyway
		{"//evil.example", ""},
		{"//evil.example/account/security", ""},
		{"///evil.example", ""},
		{"https://evil.example", ""},
		{"https://evil.example/account/security", ""},
		{"http:/evil.example", ""},
		{"javascript:alert(1)", ""},
		{"data:text/html,hi", ""},
		{`/\evil.example`, ""},
		{`/\/evil.example`, ""},
		{`\\evil.example`, ""},
		{"/%2F%2Fevil.example", "/evil.example"}, // a path of this site, cleaned
		{"/%2f/evil.example", "/evil.example"},
		{"/\t/evil.example", ""},
		{"/\n/evil.example", ""},
		{"/%0d%0aLocation:%20http://evil.example", "/%0D%0ALocation:%20http:/evil.example"},
		{"/login", ""},
		{"/login/code", ""},
		{"/account/security#x", ""},
		{"evil.example", ""},
		{"/" + strings.Repeat("a", 600), ""},
	} {
		got := safeReturn(tc.in)
		if got != tc.want {
			t.Errorf("safeReturn(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got != "" {
			base, _ := url.Parse("https://id.example.com/login")
			ref, err := url.Parse(got)
			if err != nil || base.ResolveReference(ref).Host != "id.example.com" || strings.ContainsAny(got, "\\\r\n\t") {
				t.Errorf("safeReturn(%q) = %q leaves the site", tc.in, got)
			}
		}
	}
}

// TestLandOnTheProtectedPage: signing in from a page that needs a session
// lands on that page, through the code step too. (Failed before: the home
// page.)
func TestLandOnTheProtectedPage(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	hx.User("admin@acme.example", &org, storage.RoleAdmin)
	totpUser := hx.User("totp@acme.example", &org, storage.RoleAdmin)
	secret, _ := hx.TOTP(totpUser)
	for _, tc := range []struct {
		path, email, secret string
	}{
		{PathSecurity, "admin@acme.example", ""},
		{PathMembers, "admin@acme.example", ""},
		{PathOrgAudit, "admin@acme.example", ""},
		{PathSecurity, "totp@acme.example", secret},
		{PathMembers, "totp@acme.example", secret},
	} {
		b := hx.Browser()
		p := b.Get(tc.path)
		want := PathLogin + "?next=" + url.QueryEscape(tc.path)
		if p.Status != http.StatusSeeOther || p.Location != want {
			t.Fatalf("%s signed out: %d %q, want %q", tc.path, p.Status, p.Location, want)
		}
		if f := b.Get(p.Location).Field("next"); f != tc.path {
			t.Fatalf("%s: the form carries %q", tc.path, f)
		}
		p = b.Post(PathLogin, url.Values{"email": {tc.email}, "password": {testPassword}, "next": {tc.path}})
		if tc.secret != "" {
			p.Redirects(PathLoginCode)
			p = b.Post(PathLoginCode, url.Values{"code": {hx.Code(tc.secret)}})
		}
		p.Redirects(tc.path)
		b.Get(tc.path).Shows(http.StatusOK, "")
		// Signed in, the sign-in page with next goes there at once.
		b.Get(PathLogin + "?next=" + url.QueryEscape(tc.path)).Redirects(tc.path)
	}
}

// TestLandingRefusesOtherSites: a crafted next lands on the home page, and
// is not written into the form.
func TestLandingRefusesOtherSites(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("u@acme.example", &org, storage.RoleUser)
	secret, _ := hx.TOTP(u)
	for _, next := range []string{"//evil.example", "https://evil.example", `/\evil.example`, "/\t/evil.example",
		"javascript:alert(1)", "/login", "/login/code"} {
		b := hx.Browser()
		p := b.Get(PathLogin + "?next=" + url.QueryEscape(next))
		if strings.Contains(p.Body, `name="next"`) {
			t.Fatalf("%q is carried by the form", next)
		}
		b.Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}, "next": {next}}).Redirects(PathLoginCode)
		p = b.Post(PathLoginCode, url.Values{"code": {hx.Code(secret)}})
		if p.Location != PathHome {
			t.Fatalf("next %q: landed on %q", next, p.Location)
		}
		if p := b.Get(PathLogin + "?next=" + url.QueryEscape(next)); p.Location != PathHome {
			t.Fatalf("next %q, signed in: sent to %q", next, p.Location)
		}
	}
}

// TestCancelOnCodeStep: "Cancel" answers the waiting relying party
// access_denied, once; without one it goes back to the form. A cross-site
// post cancels nothing. (Failed before: a link to /login that left the
// relying party waiting.)
func TestCancelOnCodeStep(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("u@acme.example", &org, storage.RoleUser)
	hx.TOTP(u)
	ar := hx.AuthRequest(nil)
	b := hx.Browser()
	b.Get(PathLogin + "?authRequestID=" + ar.ID)
	b.Post(PathLogin, url.Values{"authRequestID": {ar.ID}, "email": {u.Email}, "password": {testPassword}}).Redirects(PathLoginCode)
	code := b.Get(PathLoginCode)
	if !strings.Contains(code.Body, `action="/login/cancel"`) {
		t.Fatalf("no cancel form on the code step: %s", excerpt(code.Body))
	}
	b.PostRaw(PathLoginCancel, url.Values{"csrf_token": {"forged"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	if len(hx.Answered()) != 0 {
		t.Fatal("a forged cancel answered the relying party")
	}
	p := b.Post(PathLoginCancel, nil)
	loc, err := url.Parse(p.Location)
	if p.Status != http.StatusFound || err != nil || loc.Host != "rp.example" || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st" {
		t.Fatalf("cancel: %d %q", p.Status, p.Location)
	}
	if got := hx.Answered(); len(got) != 1 || got[0].Error != "access_denied" || !got[0].Done {
		t.Fatalf("answered %+v", got)
	}
	// The attempt is over: the code step and a second cancel lead to the form.
	b.Get(PathLoginCode).Redirects(PathLogin)
	b.Post(PathLoginCancel, nil).Redirects(PathLogin)
	if _, ok := hx.session(b); ok {
		t.Fatal("a session after cancelling")
	}
	if len(hx.Answered()) != 1 {
		t.Fatal("the relying party was answered twice")
	}
	// Without a relying party: back to the form.
	b2 := hx.Browser()
	b2.Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}}).Redirects(PathLoginCode)
	b2.Post(PathLoginCancel, nil).Redirects(PathLogin)
	b2.Get(PathLoginCode).Redirects(PathLogin)
}
