package login

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// The attacker's review of the merged whole (/work/notes/review.md): each
// attempt kept as a test.

// passkeyOnly is a person with a confirmed TOTP factor and a passkey but no
// password (activated with a passkey, then added an authenticator app).
func (hx *harness) passkeyOnly(email string, org *storage.Organization) (storage.User, string, *softKey) {
	hx.t.Helper()
	u := hx.User(email, org, storage.RoleUser)
	secret, _ := hx.TOTP(u)
	k := newSoftKey(hx.t)
	hx.withPasskey(u, k, secret)
	err := hx.Store.UpdateUser(context.Background(), u.ID, func(x *storage.User) error {
		x.PasswordHash = noPassword
		return nil
	})
	if err != nil {
		hx.t.Fatal(err)
	}
	u, _ = hx.Store.GetUser(context.Background(), u.ID)
	return u, secret, k
}

func (hx *harness) totpOn(u storage.User) bool {
	t, err := hx.Store.GetTOTP(context.Background(), u.ID)
	return err == nil && !t.ConfirmedAt.IsZero()
}

// A person without a password proves turning off (or replacing) the
// second factor with a fresh sign-in and a current code; a stale sign-in
// is told to sign in again, and no failure is counted against the account.
func TestPasskeyOnlyPersonTurnsOffTOTP(t *testing.T) {
	t.Parallel()
	// Each case on a harness of its own: a refusal fails its own test.
	setup := func(t *testing.T) (*harness, storage.Organization) {
		t.Parallel()
		hx := newHarness(t)
		return hx, hx.Org("Acme", storage.OrgValidated)
	}
	t.Run("fresh sign-in: the code suffices", func(t *testing.T) {
		hx, org := setup(t)
		u, secret, k := hx.passkeyOnly("fresh@acme.example", &org)
		b := hx.Browser()
		b.PasskeySignIn(k, "").Redirects(PathHome)
		if page := b.Get(PathSecurity); strings.Contains(page.Body, `id="disable_password"`) {
			t.Fatalf("the form asks a password the person does not have: %s", excerpt(page.Body))
		}
		b.Post(PathSecurity+"/totp/disable", url.Values{"code": {"000000"}}).Shows(http.StatusUnauthorized, "Errors.TOTP.DisableRefused")
		if !hx.totpOn(u) {
			t.Fatal("turned off with a wrong code")
		}
		b.Post(PathSecurity+"/totp/disable", url.Values{"code": {hx.Code(secret)}}).Redirects(PathSecurity)
		if hx.totpOn(u) {
			t.Fatal("still on")
		}
	})
	t.Run("stale sign-in: sign in again", func(t *testing.T) {
		hx, org := setup(t)
		u, secret, k := hx.passkeyOnly("stale@acme.example", &org)
		b := hx.Browser()
		b.PasskeySignIn(k, "").Redirects(PathHome)
		hx.Clock.Add(6 * time.Minute)
		b.Post(PathSecurity+"/totp/disable", url.Values{"code": {hx.Code(secret)}}).Shows(http.StatusUnauthorized, "Errors.Passkey.Reauth")
		if !hx.totpOn(u) {
			t.Fatal("turned off from a stale sign-in")
		}
		f, _ := hx.Store.GetLoginFailures(context.Background(), hx.H.build().throttle.throttleKey(&http.Request{}, u.Email))
		if f.Failures != 0 {
			t.Fatalf("%d failures counted against the account", f.Failures)
		}
		// A fresh sign-in, and it works.
		b2 := hx.Browser()
		b2.PasskeySignIn(k, "").Redirects(PathHome)
		b2.Post(PathSecurity+"/totp/disable", url.Values{"code": {hx.Code(secret)}}).Redirects(PathSecurity)
	})
	t.Run("replace: fresh with the current code, stale told to sign in again", func(t *testing.T) {
		hx, org := setup(t)
		u, secret, k := hx.passkeyOnly("replace@acme.example", &org)
		b := hx.Browser()
		b.PasskeySignIn(k, "").Redirects(PathHome)
		replace := b.Get(PathSecurity+"/totp").Shows(http.StatusOK, "TOTP.ReplaceTitle")
		if strings.Contains(replace.Body, `name="current_password"`) {
			t.Fatalf("the replacement asks a password the person does not have")
		}
		next := setupSecret(t, replace)
		form := url.Values{"enrolment": {replace.Field("enrolment")}, "code": {hx.Code(next)}, "current_code": {hx.Code(secret)}}
		b.Post(PathSecurity+"/totp", form).Shows(http.StatusOK, "Recovery.Enabled")
		// Stale: a first factor or a replacement asks for a fresh sign-in.
		hx.Clock.Add(6 * time.Minute)
		again := b.Get(PathSecurity + "/totp")
		later := setupSecret(t, again)
		form = url.Values{"enrolment": {again.Field("enrolment")}, "code": {hx.Code(later)}, "current_code": {hx.Code(next)}}
		b.Post(PathSecurity+"/totp", form).Shows(http.StatusUnauthorized, "Errors.Passkey.Reauth")
		if err := hx.Store.DeleteTOTP(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		first := b.Get(PathSecurity + "/totp")
		s := setupSecret(t, first)
		b.Post(PathSecurity+"/totp", url.Values{"enrolment": {first.Field("enrolment")}, "code": {hx.Code(s)}}).
			Shows(http.StatusUnauthorized, "Errors.Passkey.Reauth")
		f, _ := hx.Store.GetLoginFailures(context.Background(), hx.H.build().throttle.throttleKey(&http.Request{}, u.Email))
		if f.Failures != 0 {
			t.Fatalf("%d failures counted against the account", f.Failures)
		}
	})
}

// Under --enforce, the password form (method=password) must not confirm a
// guessed password: a right password of a member, a wrong one, an unknown
// address of the domain and the break-glass admin's wrong password all get
// the same answer; only the break-glass admin's right password signs in.
func TestEnforcedDomainIsNoPasswordOracle(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.User("member@"+acme, &sx.Org, storage.RoleUser)
	sx.Connect(func(in *ConnectionInput) { in.Enforce, in.BreakGlass = true, sx.Admin.ID })
	type answer struct {
		status int
		body   string
	}
	var first *answer
	for _, c := range []struct{ name, email, password string }{
		{"member, right password", "member@" + acme, testPassword},
		{"member, wrong password", "member@" + acme, "wrong password!"},
		{"unknown address", "nobody@" + acme, "wrong password!"},
		{"break-glass admin, wrong password", "admin@" + acme, "wrong password!"},
	} {
		p := sx.Browser().Post(PathLogin, url.Values{"email": {c.email}, "password": {c.password}, "method": {"password"}})
		p.Shows(http.StatusForbidden, "Errors.SSO.Enforced")
		got := &answer{p.Status, strings.ReplaceAll(p.Body, c.email, "EMAIL")}
		if first == nil {
			first = got
		} else if got.status != first.status {
			t.Fatalf("%s: %d, the first %d", c.name, got.status, first.status)
		}
	}
	sx.Browser().Post(PathLogin, url.Values{"email": {"admin@" + acme}, "password": {testPassword}, "method": {"password"}}).Redirects(PathHome)
}

// An admin of one organization names another organization's people,
// sessions, passkeys and domains in every screen that takes an id, with a
// valid CSRF token: refused, nothing changes.
func TestOtherOrganizationsIDsInEveryScreen(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	ctx := context.Background()
	// Organization B: an admin with a second factor, a member with a
	// passkey, a pending invitation, a domain, a session.
	orgB := sx.harness.Org("Beta", storage.OrgValidated)
	bAdmin := sx.User("admin@beta.example", &orgB, storage.RoleAdmin, storage.RoleUser)
	sx.TOTP(bAdmin)
	bMember := sx.User("member@beta.example", &orgB, storage.RoleUser)
	k := newSoftKey(t)
	sx.withPasskey(bMember, k)
	bBrowser := sx.Browser()
	bBrowser.PasskeySignIn(k, "").Redirects(PathHome)
	if _, err := sx.C.AddDomain(ctx, cliActor, orgB.ID, "beta.example"); err != nil {
		t.Fatal(err)
	}
	invited, err := sx.H.Accounts.Invite(ctx, Actor{ID: bAdmin.ID}, orgB.ID, "new@beta.example", "New", "en", []string{storage.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	sessions, _ := sx.Store.ListUserSessions(ctx, bMember.ID, sx.Clock.Now())
	pks := sx.passkeys(bMember)
	if len(sessions) == 0 || len(pks) != 1 {
		t.Fatalf("setup: %d sessions, %d passkeys", len(sessions), len(pks))
	}
	before := stateOf(t, sx.harness, bAdmin, bMember, invited)

	a := sx.Browser()
	a.SignIn(sx.Admin.Email, "") // ACME's admin
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{PathMembers + "/" + bMember.ID + "/roles", url.Values{"role_admin": {"1"}, "role_user": {"1"}}},
		{PathMembers + "/" + bAdmin.ID + "/roles", url.Values{"role_user": {"1"}}},
		{PathMembers + "/" + bMember.ID + "/remove", nil},
		{PathMembers + "/" + bAdmin.ID + "/reset-2fa", nil},
		{PathMembers + "/" + invited.ID + "/resend", nil},
		{PathMembers + "/" + invited.ID + "/remove", nil},
		{PathSecurity + "/sessions/" + sessions[0].ID + "/end", nil},
		{PathSecurityPasskeys + "/" + pks[0].ID + "/rename", url.Values{"name": {"mine"}}},
		{PathSecurityPasskeys + "/" + pks[0].ID + "/remove", url.Values{"current_password": {testPassword}}},
		{PathDomains + "/remove", url.Values{"domain": {"beta.example"}}},
		{PathDomains + "/verify", url.Values{"domain": {"beta.example"}}},
	} {
		p := a.Post(c.path, c.form)
		if p.Status < 400 || p.Status >= 500 {
			t.Errorf("POST %s: %d, want a refusal", c.path, p.Status)
		}
	}
	if after := stateOf(t, sx.harness, bAdmin, bMember, invited); after != before {
		t.Fatalf("organization B changed:\nbefore %s\nafter  %s", before, after)
	}
	if d, err := sx.Store.GetDomain(ctx, orgB.ID, "beta.example"); err != nil || d.Verified() {
		t.Fatalf("B's domain: %+v, %v", d, err)
	}
}

// stateOf is what an attack on organization B could change, as one line.
func stateOf(t *testing.T, hx *harness, people ...storage.User) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, u := range people {
		p, err := hx.Store.GetPerson(ctx, u.ID)
		if err != nil {
			out = append(out, u.Email+" gone")
			continue
		}
		sessions, _ := hx.Store.ListUserSessions(ctx, u.ID, hx.Clock.Now())
		var roles []string
		if p.Membership != nil {
			roles = p.Membership.Roles
		}
		out = append(out, fmt.Sprintf("%s roles=%v totp=%v passkeys=%d sessions=%d disabled=%v", u.Email, roles, hx.totpOn(u),
			len(hx.passkeys(u)), len(sessions), p.User.Disabled))
		for _, pk := range hx.passkeys(u) {
			out = append(out, pk.Name)
		}
	}
	return strings.Join(out, "; ")
}

// Account enumeration, by content and by work: a sign-in for an unknown
// address, an account without a password (activated with a passkey), a
// disabled account and a wrong password each cost exactly one argon2id
// hash (the dummy's parameters are the hasher's, as are the accounts') and
// get the same answer; a reset request costs none either way and answers
// the same page.
func TestNoEnumerationByAnswerOrWork(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	var mu sync.Mutex
	hashes := 0
	hx.H.Hasher.Wait = func(time.Duration) { mu.Lock(); hashes++; mu.Unlock() }
	took := func(do func()) int {
		mu.Lock()
		hashes = 0
		mu.Unlock()
		do()
		mu.Lock()
		defer mu.Unlock()
		return hashes
	}
	org := hx.Org("Acme", storage.OrgValidated)
	known := hx.User("known@acme.example", &org, storage.RoleUser)
	nopw, _, _ := hx.passkeyOnly("nopw@acme.example", &org)
	disabled := hx.User("disabled@acme.example", &org, storage.RoleUser)
	if err := hx.Store.UpdateUser(context.Background(), disabled.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	normalize := func(p *page, email string) string {
		return fmt.Sprint(p.Status, strings.ReplaceAll(p.Body, email, "EMAIL"))
	}
	var first string
	for _, c := range []struct{ name, email, password string }{
		{"unknown address", "nobody@acme.example", testPassword},
		{"no password", nopw.Email, testPassword},
		{"no password, the sentinel as password", nopw.Email, noPassword},
		{"disabled", disabled.Email, testPassword},
		{"wrong password", known.Email, "not the password"},
	} {
		b := hx.Browser()
		b.csrf()
		var p *page
		if n := took(func() { p = b.Post(PathLogin, url.Values{"email": {c.email}, "password": {c.password}}) }); n != 1 {
			t.Errorf("%s: %d hashes, want 1", c.name, n)
		}
		p.Shows(http.StatusUnauthorized, "Errors.Login.Invalid")
		got := normalize(p, c.email)
		got = regexp.MustCompile(`name="csrf_token" value="[^"]*"`).ReplaceAllString(got, "")
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("%s: the answer differs from the first", c.name)
		}
	}
	first = ""
	for _, email := range []string{"nobody@acme.example", nopw.Email, known.Email, disabled.Email} {
		b := hx.Browser()
		b.csrf()
		var p *page
		if n := took(func() { p = b.Post(PathForgot, url.Values{"email": {email}}) }); n != 0 {
			t.Errorf("reset for %s: %d hashes", email, n)
		}
		got := regexp.MustCompile(`name="csrf_token" value="[^"]*"`).ReplaceAllString(normalize(p, email), "")
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("reset for %s: the answer differs from the first", email)
		}
	}
}

// Where passkeys are off (an IP-address issuer), "passkeys only" cannot be
// met: an admin turning it on would lock every member out, themselves
// included (the enrolment page does not exist). It is refused, and a
// relying party asking for loa:3 is answered unmet_authentication_requirements
// rather than left at a page that does not exist.
func TestPasskeyPolicyWherePasskeysAreOff(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	hx.H.build().signIn.pk.WA = nil
	org := hx.Org("Acme", storage.OrgValidated)
	admin := hx.User("admin@acme.example", &org, storage.RoleAdmin, storage.RoleUser)
	b := hx.Browser()
	b.SignIn(admin.Email, "")
	if page := b.Get(PathPolicy); strings.Contains(page.Body, `name="require" value="1"`) && strings.Contains(page.Body, "require_passkeys") {
		t.Errorf("the policy page offers passkeys only: %s", excerpt(page.Body))
	}
	p := b.Post(PathMembers+"/require-passkeys", url.Values{"require": {"1"}})
	if p.Status < 400 || p.Status >= 500 {
		t.Fatalf("turning passkeys only on: %d, want a refusal", p.Status)
	}
	if o, _ := hx.Store.GetOrganization(context.Background(), org.ID); o.RequirePasskey {
		t.Fatal("the policy was saved: nobody of the organization can sign in any more")
	}
	// Turning it off stays possible (a policy saved while passkeys were on).
	b.Post(PathMembers+"/require-passkeys", nil).Redirects(PathPolicy)

	ar := hx.AuthRequest(func(a *storage.AuthRequest) { a.ACRValues = []string{"urn:sesame:loa:3"} })
	b2 := hx.Browser()
	b2.Get("/login?authRequestID=" + ar.ID)
	res := b2.Post(PathLogin, url.Values{"authRequestID": {ar.ID}, "email": {admin.Email}, "password": {testPassword}})
	if res.Status != http.StatusFound || !strings.Contains(res.Location, "error=unmet_authentication_requirements") {
		t.Fatalf("loa:3 where passkeys are off: %d %s", res.Status, res.Location)
	}
}
