package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

var (
	totpKey      = regexp.MustCompile(`id="totp-key" data-value="([A-Z2-7]+)"`)
	recoveryCode = regexp.MustCompile(`<li><code>([^<]+)</code></li>`)
)

// setupSecret reads the key the setup page shows.
func setupSecret(t *testing.T, p *page) string {
	t.Helper()
	m := totpKey.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no TOTP key on the page: %s", excerpt(p.Body))
	}
	return strings.ReplaceAll(m[1], " ", "")
}

func recoveryCodes(p *page) []string {
	var out []string
	for _, m := range recoveryCode.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestSignInRefusals(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	hx.User("ada@acme.example", &org, storage.RoleUser)
	off := hx.User("off@acme.example", &org, storage.RoleUser)
	if err := hx.Store.UpdateUser(context.Background(), off.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		form   url.Values
		noCSRF bool
		status int
		key    string
	}{
		{"wrong password", url.Values{"email": {"ada@acme.example"}, "password": {"wrong password!"}}, false, 401, "Errors.Login.Invalid"},
		{"unknown email", url.Values{"email": {"nobody@acme.example"}, "password": {testPassword}}, false, 401, "Errors.Login.Invalid"},
		{"disabled account", url.Values{"email": {"off@acme.example"}, "password": {testPassword}}, false, 401, "Errors.Login.Invalid"},
		{"missing password", url.Values{"email": {"ada@acme.example"}}, false, 400, "Errors.Login.Missing"},
		{"no CSRF token", url.Values{"email": {"ada@acme.example"}, "password": {testPassword}}, true, 403, "Errors.Request.CSRF"},
		{"unknown request", url.Values{"email": {"ada@acme.example"}, "password": {testPassword}, "authRequestID": {"ar_nope"}}, false, 400, "Errors.AuthRequest.Unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := hx.Browser()
			b.Get(PathLogin).Shows(http.StatusOK, "")
			var p *page
			if c.noCSRF {
				p = b.PostRaw(PathLogin, c.form)
			} else {
				p = b.Post(PathLogin, c.form)
			}
			p.Shows(c.status, c.key)
			if b.cookie("sesame_session") != "" {
				t.Fatal("a refused sign-in set a session cookie")
			}
		})
	}
}

func TestSignInLockAndDeviceCookie(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	hx.User("ada@acme.example", &org, storage.RoleUser)
	trusted := hx.Browser()
	trusted.SignIn("ada@acme.example", "")
	attacker := hx.Browser()
	wrong := url.Values{"email": {"ada@acme.example"}, "password": {"not the password"}}
	for range 4 {
		attacker.Post(PathLogin, wrong).Shows(http.StatusUnauthorized, "Errors.Login.Invalid")
	}
	// Locked for a minute, even with the right password…
	attacker.Post(PathLogin, url.Values{"email": {"ada@acme.example"}, "password": {testPassword}}).
		Shows(http.StatusTooManyRequests, "Errors.Login.Locked")
	// …but not for the browser that signed in before (its device cookie).
	trusted.Post(PathLogin, url.Values{"email": {"ada@acme.example"}, "password": {testPassword}}).Redirects(PathHome)
	if !slices.Contains(hx.Events(), "signin.locked") {
		t.Errorf("no signin.locked event in %v", hx.Events())
	}
	hx.Clock.Add(61 * time.Second)
	attacker.SignIn("ada@acme.example", "")
}

func TestSignInAnswersTheRelyingParty(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	ar := hx.AuthRequest(nil)
	b := hx.Browser()
	form := b.Get(PathLogin+"?authRequestID="+ar.ID).Shows(http.StatusOK, "")
	if form.Field("authRequestID") != ar.ID {
		t.Fatal("the form does not carry the request")
	}
	p := b.Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}, "authRequestID": {ar.ID}})
	if p.Status != http.StatusFound || !strings.HasPrefix(p.Location, "https://rp.example/cb?code=") {
		t.Fatalf("answer %d %q", p.Status, p.Location)
	}
	got := hx.Answered()
	if len(got) != 1 || got[0].UserID != u.ID || !slices.Equal(got[0].AMR, []string{"pwd"}) {
		t.Fatalf("answered %+v", got)
	}
	// Single sign-on: the next request is answered without the form.
	ar2 := hx.AuthRequest(nil)
	if p := b.Get(PathLogin + "?authRequestID=" + ar2.ID); p.Status != http.StatusFound {
		t.Fatalf("single sign-on: %d", p.Status)
	}
	// …unless the relying party wants the second factor: enrolment first.
	ar3 := hx.AuthRequest(func(a *storage.AuthRequest) { a.ACRValues = []string{vocab.ACRMFA} })
	b.Get(PathLogin+"?authRequestID="+ar3.ID).Shows(http.StatusOK, "")
	b.Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}, "authRequestID": {ar3.ID}}).Redirects(PathLoginEnrol)
	// prompt=none without a session answers login_required.
	ar4 := hx.AuthRequest(func(a *storage.AuthRequest) { a.Prompt = []string{"none"} })
	p = hx.Browser().Get(PathLogin + "?authRequestID=" + ar4.ID)
	if !strings.Contains(p.Location, "error=login_required") {
		t.Fatalf("prompt=none: %d %q", p.Status, p.Location)
	}
	// An expired request is refused.
	ar5 := hx.AuthRequest(nil)
	hx.Clock.Add(11 * time.Minute)
	hx.Browser().Get(PathLogin+"?authRequestID="+ar5.ID).Shows(http.StatusBadRequest, "Errors.AuthRequest.Unknown")
}

func TestCodeStep(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	secret, codes := hx.TOTP(u)
	pw := url.Values{"email": {u.Email}, "password": {testPassword}}

	t.Run("no attempt", func(t *testing.T) {
		hx.Browser().Get(PathLoginCode).Redirects(PathLogin)
		hx.Browser().Post(PathLoginCode, url.Values{"code": {"123456"}}).Redirects(PathLogin)
	})
	t.Run("wrong code, no CSRF, then right", func(t *testing.T) {
		b := hx.Browser()
		b.Post(PathLogin, pw).Redirects(PathLoginCode)
		b.Get(PathLoginCode).Shows(http.StatusOK, "")
		b.Post(PathLoginCode, url.Values{"code": {"000000"}}).Shows(http.StatusUnauthorized, "Errors.Code.Invalid")
		b.PostRaw(PathLoginCode, url.Values{"code": {hx.Code(secret)}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
		if b.cookie("sesame_session") != "" {
			t.Fatal("session before the second factor")
		}
		code := hx.Code(secret)
		b.Post(PathLoginCode, url.Values{"code": {code}}).Redirects(PathHome)
		s, ok := hx.session(b)
		if !ok || !slices.Equal(s.AMR, []string{"pwd", "otp", "mfa"}) {
			t.Fatalf("session %+v", s)
		}
		// The same code again, from another browser: refused (replay).
		b2 := hx.Browser()
		b2.Post(PathLogin, pw).Redirects(PathLoginCode)
		b2.Post(PathLoginCode, url.Values{"code": {code}}).Shows(http.StatusUnauthorized, "Errors.Code.Invalid")
	})
	t.Run("recovery code once", func(t *testing.T) {
		b := hx.Browser()
		b.Post(PathLogin, pw).Redirects(PathLoginCode)
		b.Post(PathLoginCode, url.Values{"code": {codes[0]}}).Redirects(PathHome)
		b2 := hx.Browser()
		b2.Post(PathLogin, pw).Redirects(PathLoginCode)
		b2.Post(PathLoginCode, url.Values{"code": {codes[0]}}).Shows(http.StatusUnauthorized, "Errors.Code.Invalid")
	})
	t.Run("attempt expires", func(t *testing.T) {
		b := hx.Browser()
		b.Post(PathLogin, pw).Redirects(PathLoginCode)
		hx.Clock.Add(secondStepLifetime + time.Second)
		b.Get(PathLoginCode).Redirects(PathLogin)
	})
}

// session is the browser's session, as stored.
func (hx *harness) session(b *browser) (storage.Session, bool) {
	v := b.cookie("sesame_session")
	if v == "" {
		return storage.Session{}, false
	}
	s, err := hx.Store.GetSession(context.Background(), storage.HashToken(v), hx.Clock.Now())
	return s, err == nil
}

func TestEnrolmentAtSignIn(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	if err := hx.Store.UpdateOrganization(context.Background(), org.ID, func(o *storage.Organization) error { o.RequireMFA = true; return nil }); err != nil {
		t.Fatal(err)
	}
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	ar := hx.AuthRequest(nil)
	b := hx.Browser()
	b.Get(PathLogin + "?authRequestID=" + ar.ID)
	b.Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}, "authRequestID": {ar.ID}}).Redirects(PathLoginEnrol)
	setup := b.Get(PathLoginEnrol).Shows(http.StatusOK, "TOTP.Required")
	b.Get(PathLoginEnrol) // showing it twice stores nothing either
	if _, err := hx.Store.GetTOTP(context.Background(), u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the setup page stored a factor: %v", err)
	}
	secret := setupSecret(t, setup)
	enrolment := setup.Field("enrolment")
	b.Post(PathLoginEnrol, url.Values{"enrolment": {enrolment}, "code": {"000000"}}).Shows(http.StatusUnauthorized, "Errors.Code.Invalid")
	if _, err := hx.Store.GetTOTP(context.Background(), u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a wrong code stored a factor: %v", err)
	}
	if b.cookie("sesame_session") != "" {
		t.Fatal("a session before enrolment")
	}
	p := b.Post(PathLoginEnrol, url.Values{"enrolment": {enrolment}, "code": {hx.Code(secret)}}).Shows(http.StatusOK, "Recovery.Enabled")
	if got := recoveryCodes(p); len(got) != 10 {
		t.Fatalf("%d recovery codes", len(got))
	}
	if !strings.Contains(p.Body, "/callback?id="+ar.ID) {
		t.Fatal("the recovery page does not continue to the relying party")
	}
	if s, ok := hx.session(b); !ok || !slices.Contains(s.AMR, "mfa") {
		t.Fatalf("session %+v", s)
	}
	// Another's sealed secret does not enrol this person.
	other := hx.User("bob@acme.example", &org, storage.RoleUser)
	b2 := hx.Browser()
	b2.Post(PathLogin, url.Values{"email": {other.Email}, "password": {testPassword}}).Redirects(PathLoginEnrol)
	b2.Post(PathLoginEnrol, url.Values{"enrolment": {enrolment}, "code": {hx.Code(secret)}}).Shows(http.StatusUnauthorized, "Errors.Code.Invalid")
}
