package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

const newPassword = "velvet orbit lantern"

func newPasswordForm(token string) url.Values {
	return url.Values{"token": {token}, "password": {newPassword}, "password_confirm": {newPassword}}
}

// invite has admin invite email from the members screen and returns the
// link of the invitation mail.
func invite(t *testing.T, hx *harness, admin *browser, email string) string {
	t.Helper()
	admin.Post(PathMembers+"/invite", url.Values{"email": {email}, "name": {"New One"}, "role_user": {"1"}}).Redirects(PathMembers)
	return hx.Link(email, PathSetPassword)
}

func TestSetPasswordLink(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	hx.User("admin@acme.example", &org, storage.RoleAdmin)
	admin := hx.Browser()
	admin.SignIn("admin@acme.example", "")

	link := invite(t, hx, admin, "new@acme.example")
	token := mustQuery(t, link, "token")
	b := hx.Browser()
	b.Get(link).Shows(http.StatusOK, "")
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		key    string
	}{
		{"mismatch", url.Values{"token": {token}, "password": {newPassword}, "password_confirm": {"something else entirely"}}, 400, "Errors.Password.Mismatch"},
		{"too short", url.Values{"token": {token}, "password": {"short"}, "password_confirm": {"short"}}, 400, "Errors.Password.TooShort"},
		{"contains email", url.Values{"token": {token}, "password": {"new@acme.example!!"}, "password_confirm": {"new@acme.example!!"}}, 400, "Errors.Password.ContainsEmail"},
		{"bad token", newPasswordForm("nope"), 410, "Errors.Link.Invalid"},
	} {
		t.Run(c.name, func(t *testing.T) { b.Post(PathSetPassword, c.form).Shows(c.status, c.key) })
	}
	b.PostRaw(PathSetPassword, newPasswordForm(token)).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	b.Post(PathSetPassword, newPasswordForm(token)).Redirects(PathHome)
	if _, ok := hx.session(b); !ok {
		t.Fatal("no session after setting the password")
	}
	// Used once.
	hx.Browser().Get(link).Shows(http.StatusGone, "Errors.Link.Used")
	hx.Browser().Post(PathSetPassword, newPasswordForm(token)).Shows(http.StatusGone, "Errors.Link.Used")
	// Expired.
	late := invite(t, hx, admin, "late@acme.example")
	hx.Clock.Add(25 * time.Hour)
	hx.Browser().Get(late).Shows(http.StatusGone, "Errors.Link.Invalid")
	hx.Browser().Get(PathSetPassword+"?token=garbage").Shows(http.StatusGone, "Errors.Link.Invalid")
}

func mustQuery(t *testing.T, link, name string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get(name) == "" {
		t.Fatalf("no %s in %q", name, link)
	}
	return u.Query().Get(name)
}

func TestResetPassword(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	signedIn := hx.Browser()
	signedIn.SignIn(u.Email, "")

	b := hx.Browser()
	b.Get(PathForgot).Shows(http.StatusOK, "")
	b.Post(PathForgot, url.Values{"email": {"not an address"}}).Shows(http.StatusBadRequest, "Errors.Members.Email")
	b.PostRaw(PathForgot, url.Values{"email": {u.Email}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	// Unknown and known addresses get the same page; only one gets mail.
	unknown := b.Post(PathForgot, url.Values{"email": {"nobody@acme.example"}}).Shows(http.StatusOK, "")
	known := b.Post(PathForgot, url.Values{"email": {u.Email}}).Shows(http.StatusOK, "")
	if strings.ReplaceAll(unknown.Body, "nobody@acme.example", u.Email) != known.Body {
		t.Error("the forgot page differs for an unknown address")
	}
	if len(hx.Mails("nobody@acme.example")) != 0 {
		t.Error("mail to an unknown address")
	}
	link := hx.Link(u.Email, PathResetPassword)
	token := mustQuery(t, link, "token")
	b.Get(link).Shows(http.StatusOK, "")
	b.Post(PathResetPassword, url.Values{"token": {token}, "password": {newPassword}, "password_confirm": {"x"}}).
		Shows(http.StatusBadRequest, "Errors.Password.Mismatch")
	b.Post(PathResetPassword, newPasswordForm(token)).Shows(http.StatusOK, "")
	// Every session ended; the new password signs in, the old one not.
	signedIn.Get(PathSecurity).Redirects(PathLogin)
	hx.Browser().Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}}).Shows(http.StatusUnauthorized, "Errors.Login.Invalid")
	hx.Browser().Post(PathLogin, url.Values{"email": {u.Email}, "password": {newPassword}}).Redirects(PathHome)
	// Used; and a new one expires after five minutes.
	hx.Browser().Get(link).Shows(http.StatusGone, "Errors.Link.Used")
	b.Post(PathForgot, url.Values{"email": {u.Email}}).Shows(http.StatusOK, "")
	late := hx.Link(u.Email, PathResetPassword)
	hx.Clock.Add(6 * time.Minute)
	hx.Browser().Get(late).Shows(http.StatusGone, "Errors.Link.Invalid")
	hx.Browser().Post(PathResetPassword, newPasswordForm(mustQuery(t, late, "token"))).Shows(http.StatusGone, "Errors.Link.Invalid")
}

func TestSecuritySettings(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	change := url.Values{"password": {newPassword}, "password_confirm": {newPassword}}

	hx.Browser().Get(PathSecurity).Redirects(PathLogin)
	b := hx.Browser()
	b.SignIn(u.Email, "")
	b.Get(PathSecurity).Shows(http.StatusOK, "")
	b.PostRaw(PathSecurity+"/password", change).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	b.Post(PathSecurity+"/password", url.Values{"password": {newPassword}, "password_confirm": {"other"}}).Shows(http.StatusBadRequest, "Errors.Password.Mismatch")
	// A fresh sign-in changes the password without the current one.
	b.Post(PathSecurity+"/password", change).Redirects(PathSecurity)
	// An older one needs it.
	hx.Clock.Add(6 * time.Minute)
	again := url.Values{"password": {"yet another passphrase"}, "password_confirm": {"yet another passphrase"}}
	b.Post(PathSecurity+"/password", again).Shows(http.StatusUnauthorized, "Errors.Security.Current")
	again.Set("current_password", newPassword)
	b.Post(PathSecurity+"/password", again).Redirects(PathSecurity)
}

func TestSecondFactorSettings(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	b := hx.Browser()
	b.SignIn(u.Email, "")

	// Enrol from the settings: the page stores nothing until confirmed.
	setup := b.Get(PathSecurity+"/totp").Shows(http.StatusOK, "TOTP.Title")
	if _, err := hx.Store.GetTOTP(context.Background(), u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the setup page stored a factor: %v", err)
	}
	secret := setupSecret(t, setup)
	b.Post(PathSecurity+"/totp", url.Values{"enrolment": {setup.Field("enrolment")}, "code": {"000000"}}).Shows(http.StatusUnauthorized, "Errors.Code.Invalid")
	p := b.Post(PathSecurity+"/totp", url.Values{"enrolment": {setup.Field("enrolment")}, "code": {hx.Code(secret)}}).Shows(http.StatusOK, "Recovery.Enabled")
	if n := len(recoveryCodes(p)); n != 10 {
		t.Fatalf("%d recovery codes", n)
	}

	// Replacing it needs the password and a current code.
	replace := b.Get(PathSecurity+"/totp").Shows(http.StatusOK, "TOTP.ReplaceTitle")
	next := setupSecret(t, replace)
	form := url.Values{"enrolment": {replace.Field("enrolment")}, "code": {hx.Code(next)}, "current_password": {testPassword}, "current_code": {"000000"}}
	b.Post(PathSecurity+"/totp", form).Shows(http.StatusUnauthorized, "Errors.TOTP.ReplaceRefused")
	form.Set("code", hx.Code(next))
	form.Set("current_code", hx.Code(secret))
	b.Post(PathSecurity+"/totp", form).Shows(http.StatusOK, "Recovery.Enabled")
	if n := len(hx.Mails(u.Email)); n != 2 {
		t.Errorf("%d mails, want one for the enabled and one for the replaced factor", n)
	}

	// Disabling it needs the same proof; not while the organization requires it.
	off := url.Values{"current_password": {testPassword}, "code": {hx.Code(secret)}} // the old factor
	b.Post(PathSecurity+"/totp/disable", off).Shows(http.StatusUnauthorized, "Errors.TOTP.DisableRefused")
	if err := hx.Store.UpdateOrganization(context.Background(), org.ID, func(o *storage.Organization) error { o.RequireMFA = true; return nil }); err != nil {
		t.Fatal(err)
	}
	off.Set("code", hx.Code(next))
	b.Post(PathSecurity+"/totp/disable", off).Shows(http.StatusConflict, "Errors.TOTP.Required")
	if err := hx.Store.UpdateOrganization(context.Background(), org.ID, func(o *storage.Organization) error { o.RequireMFA = false; return nil }); err != nil {
		t.Fatal(err)
	}
	off.Set("code", hx.Code(next))
	b.Post(PathSecurity+"/totp/disable", off).Redirects(PathSecurity)
	if _, err := hx.Store.GetTOTP(context.Background(), u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the factor is still there: %v", err)
	}
}

func TestSessionsSettings(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	other := hx.User("bob@acme.example", &org, storage.RoleUser)
	b, b2, bob := hx.Browser(), hx.Browser(), hx.Browser()
	b.SignIn(u.Email, "")
	b2.SignIn(u.Email, "")
	bob.SignIn(other.Email, "")
	bobs, _ := hx.session(bob)
	b.Post(PathSecurity+"/sessions/"+bobs.ID+"/end", nil).Shows(http.StatusNotFound, "Errors.Request.NotFound")
	b.Post(PathSecurity+"/sessions/end-others", nil).Redirects(PathSecurity)
	b2.Get(PathSecurity).Redirects(PathLogin)
	bob.Get(PathSecurity).Shows(http.StatusOK, "")
	mine, _ := hx.session(b)
	b.Post(PathSecurity+"/sessions/"+mine.ID+"/end", nil).Redirects(PathLoggedOut)
	b.Get(PathSecurity).Redirects(PathLogin)
}

func TestMembersScreen(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	admin := hx.User("admin@acme.example", &org, storage.RoleAdmin)
	member := hx.User("member@acme.example", &org, storage.RoleUser)
	a, m := hx.Browser(), hx.Browser()
	a.SignIn(admin.Email, "")
	m.SignIn(member.Email, "")

	hx.Browser().Get(PathMembers).Redirects(PathLogin)
	m.Get(PathMembers).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	m.Post(PathMembers+"/invite", url.Values{"email": {"x@acme.example"}, "role_user": {"1"}}).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	a.Get(PathMembers).Shows(http.StatusOK, "")

	for _, c := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		key    string
	}{
		{"invite a bad address", "/invite", url.Values{"email": {"nope"}, "role_user": {"1"}}, 400, "Errors.Members.Email"},
		{"invite without a role", "/invite", url.Values{"email": {"x@acme.example"}}, 400, "Errors.Members.Roles"},
		{"invite a taken address", "/invite", url.Values{"email": {member.Email}, "role_user": {"1"}}, 409, "Errors.Members.EmailTaken"},
		{"the last admin steps down", "/" + admin.ID + "/roles", url.Values{"role_user": {"1"}}, 409, "Errors.Members.LastAdmin"},
		{"the last admin leaves", "/" + admin.ID + "/remove", nil, 409, "Errors.Members.LastAdmin"},
		{"roles of a stranger", "/usr_nobody/roles", url.Values{"role_user": {"1"}}, 404, "Errors.Members.NotFound"},
	} {
		t.Run(c.name, func(t *testing.T) { a.Post(PathMembers+c.path, c.form).Shows(c.status, c.key) })
	}
	a.PostRaw(PathMembers+"/invite", url.Values{"email": {"x@acme.example"}, "role_user": {"1"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	invite(t, hx, a, "new@acme.example")
	a.Post(PathMembers+"/"+member.ID+"/roles", url.Values{"role_admin": {"1"}, "role_user": {"1"}}).Redirects(PathMembers)
	got, err := hx.Store.GetMembership(context.Background(), member.ID)
	if err != nil || len(got.Roles) != 2 {
		t.Fatalf("roles %v %v", got.Roles, err)
	}
	// With a second admin, the first may step down.
	a.Post(PathMembers+"/"+admin.ID+"/roles", url.Values{"role_user": {"1"}}).Redirects(PathMembers)
	a.Get(PathMembers).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	m.Post(PathMembers+"/"+admin.ID+"/remove", nil).Redirects(PathMembers)
	if _, err := hx.Store.GetMembership(context.Background(), admin.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("removed member still a member: %v", err)
	}
	m.Post(PathMembers+"/require-2fa", url.Values{"require": {"1"}}).Redirects(PathPolicy)
	if o, _ := hx.Store.GetOrganization(context.Background(), org.ID); !o.RequireMFA {
		t.Error("the policy did not change")
	}
}

func TestSignupScreens(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	b := hx.Browser()
	b.Get(PathSignup).Shows(http.StatusOK, "")
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		key    string
	}{
		{"missing", url.Values{"email": {"founder@cloud.example"}}, 400, "Errors.Signup.Missing"},
		{"wrong cloud password", url.Values{"email": {"founder@cloud.example"}, "password": {"wrong"}}, 401, "Errors.Signup.CloudInvalid"},
		{"unknown cloud account", url.Values{"email": {"who@cloud.example"}, "password": {"cloud password 42"}}, 401, "Errors.Signup.CloudInvalid"},
	} {
		t.Run(c.name, func(t *testing.T) { b.Post(PathSignup, c.form).Shows(c.status, c.key) })
	}
	b.PostRaw(PathSignup, url.Values{"email": {"founder@cloud.example"}, "password": {"cloud password 42"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	step2 := b.Post(PathSignup, url.Values{"email": {"founder@cloud.example"}, "password": {"cloud password 42"}}).Shows(http.StatusOK, "")
	draft := step2.Field("draft")
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		key    string
	}{
		{"no domicile", url.Values{"draft": {draft}}, 400, "Errors.Signup.Domicile"},
		{"SIRET format", url.Values{"draft": {draft}, "domicile": {"FR"}, "siret": {"123"}}, 400, "Errors.Signup.SIRETFormat"},
		{"SIRET key", url.Values{"draft": {draft}, "domicile": {"FR"}, "siret": {"73282932000075"}}, 400, "Errors.Signup.SIRETKey"},
		{"SIRET unknown", url.Values{"draft": {draft}, "domicile": {"FR"}, "siret": {"73282932000074"}}, 400, "Errors.Signup.SIRETUnknown"},
		{"SIRET closed", url.Values{"draft": {draft}, "domicile": {"FR"}, "siret": {closedSIRET}}, 410, "Errors.Signup.SIRETClosed"},
		{"abroad without a name", url.Values{"draft": {draft}, "domicile": {"abroad"}, "country": {"DE"}}, 400, "Errors.Signup.Name"},
		{"abroad in France", url.Values{"draft": {draft}, "domicile": {"abroad"}, "name": {"Acme"}, "country": {"FR"}}, 400, "Errors.Signup.CountryFrance"},
		{"forged draft", url.Values{"draft": {"AAAA"}, "domicile": {"abroad"}, "name": {"Acme"}, "country": {"DE"}}, 400, "Errors.Signup.Expired"},
	} {
		t.Run(c.name, func(t *testing.T) { b.Post(PathSignupCompany, c.form).Shows(c.status, c.key) })
	}
	b.Post(PathSignupCompany, url.Values{"draft": {draft}, "domicile": {"abroad"}, "name": {"Acme GmbH"}, "country": {"DE"}}).Shows(http.StatusOK, "")
	hx.Link("founder@cloud.example", PathSetPassword)
	// The draft expires.
	hx.Clock.Add(31 * time.Minute)
	b.Post(PathSignupCompany, url.Values{"draft": {draft}, "domicile": {"abroad"}, "name": {"Other"}, "country": {"DE"}}).Shows(http.StatusBadRequest, "Errors.Signup.Expired")
}

func TestOperatorAndAudit(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	pending := hx.Org("Pending Co", storage.OrgPending)
	other := hx.Org("Other Co", storage.OrgPending)
	admin := hx.User("admin@pending.example", &pending, storage.RoleAdmin)
	op := hx.User("operator@sesame.example", nil)
	o, a := hx.Browser(), hx.Browser()
	o.SignIn(op.Email, "")
	a.SignIn(admin.Email, "")

	hx.Browser().Get(PathOperator).Redirects(PathLogin)
	a.Get(PathOperator).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	a.Post(PathOperator+"/"+pending.ID+"/validate", nil).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	o.Get(PathOperator).Shows(http.StatusOK, "")
	o.Get(PathOperator+"/"+pending.ID).Shows(http.StatusOK, "")
	o.PostRaw(PathOperator+"/"+pending.ID+"/validate", nil).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	o.Post(PathOperator+"/"+pending.ID+"/validate", nil).Redirects(PathOperator)
	o.Post(PathOperator+"/"+pending.ID+"/validate", nil).Shows(http.StatusConflict, "Errors.Operator.NotPending")
	o.Post(PathOperator+"/"+other.ID+"/reject", url.Values{"reason": {"  "}}).Shows(http.StatusBadRequest, "Errors.Operator.Reason")
	o.Post(PathOperator+"/"+other.ID+"/reject", url.Values{"reason": {"not a company"}}).Redirects(PathOperator)
	if got, _ := hx.Store.GetOrganization(context.Background(), other.ID); got.Status != storage.OrgRejected {
		t.Fatalf("status %s", got.Status)
	}
	if len(hx.Mails(admin.Email)) == 0 {
		t.Error("the admin was not told of the validation")
	}

	// The trails: the organization's to its admins, everything to operators.
	hx.Browser().Get(PathOrgAudit).Redirects(PathLogin)
	o.Get(PathOrgAudit).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	a.Get(PathOperatorAudit).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	mine := a.Get(PathOrgAudit).Shows(http.StatusOK, "")
	all := o.Get(PathOperatorAudit).Shows(http.StatusOK, "")
	if !strings.Contains(mine.Body, "validated the organization Pending Co") || strings.Contains(mine.Body, "rejected") {
		t.Errorf("the organization's trail: %s", excerpt(mine.Body))
	}
	if !strings.Contains(all.Body, "rejected the organization Other Co: “not a company”") || !strings.Contains(all.Body, " signed in") {
		t.Errorf("the operator's trail: %s", excerpt(all.Body))
	}
}
