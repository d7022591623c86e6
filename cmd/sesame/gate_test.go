package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/login/totp"
	"github.com/sesame-idp/sesame/storage"
)

// The regression tests of the sign-in gate (issue 13): each names the
// defect it proves fixed.

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields returns the hidden fields of the page's forms.
func formFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], strings.ReplaceAll(m[2], "&#43;", "+"))
	}
	return v
}

// postForm posts the page's hidden fields with extra.
func (b *browser) postForm(u, body string, extra url.Values) (*http.Response, string) {
	form := formFields(body)
	for k, v := range extra {
		form[k] = v
	}
	return b.post(u, form)
}

// signedIn reports whether the browser holds a live session.
func (b *browser) signedIn() bool {
	resp, _ := b.get(b.e.issuer + "/account/security")
	return resp.StatusCode == 200 && resp.Request.URL.Path == "/account/security"
}

// requireMFA makes the second factor mandatory in the person's organization.
func (e *orgEnv) requireMFA(orgID string) {
	e.t.Helper()
	if err := e.main.Accounts.SetRequireMFA(context.Background(), loginActor("cli"), orgID, true); err != nil {
		e.t.Fatal(err)
	}
}

// Defect 1: a GET (one cross-site link) replaced a confirmed second factor
// with a new unconfirmed secret, turning 2FA off in silence.
func TestGetNeverReplacesSecondFactor(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	br := e.browser()
	br.signInPlain(f)
	e.enableTOTP(br)
	before, err := e.main.Store.GetTOTP(context.Background(), f.userID)
	if err != nil || before.ConfirmedAt.IsZero() {
		t.Fatalf("enabled: %+v %v", before, err)
	}
	for _, path := range []string{"/account/security/totp", "/login/enrol"} {
		br.get(e.issuer + path) // a link followed from another site carries the Lax cookie
		after, err := e.main.Store.GetTOTP(context.Background(), f.userID)
		if err != nil || after.ConfirmedAt.IsZero() || string(after.SecretEncrypted) != string(before.SecretEncrypted) {
			t.Fatalf("GET %s changed the confirmed second factor: %+v %v", path, after, err)
		}
	}
	// In an organization that requires 2FA, the next password-only sign-in
	// asks for the code, never offers an enrolment.
	e.requireMFA(f.orgID)
	other := e.browser()
	resp, _, _ := e.signInForm(other, f, nil)
	if resp.Request.URL.Path != "/login/code" {
		t.Fatalf("password-only sign-in landed on %s, want the code step", resp.Request.URL.Path)
	}
}

// Defect 1, second half: replacing a confirmed second factor needs the
// proof that disabling it needs.
func TestReplacingSecondFactorNeedsProof(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	br := e.browser()
	br.signInPlain(f)
	oldSecret, _ := e.enableTOTP(br)
	e.clock.Add(totp.Period)
	resp, body := br.get(e.issuer + "/account/security/totp")
	if resp.StatusCode != 200 {
		t.Fatalf("setup page: %d", resp.StatusCode)
	}
	newSecret := strings.ReplaceAll(field(totpKeyRe, body), " ", "")
	code, _ := totp.Code(newSecret, e.clock.Now())
	// The new code alone does not replace it.
	before, _ := e.main.Store.GetTOTP(context.Background(), f.userID)
	resp, refused := br.postForm(e.issuer+"/account/security/totp", body, url.Values{"code": {code}})
	if resp.StatusCode != http.StatusUnauthorized || recoveryRe.MatchString(refused) {
		t.Fatalf("the new code alone: %d, want 401 and no recovery codes", resp.StatusCode)
	}
	if got, _ := e.main.Store.GetTOTP(context.Background(), f.userID); got.ConfirmedAt.IsZero() || string(got.SecretEncrypted) != string(before.SecretEncrypted) {
		t.Fatal("a refused replacement changed the confirmed factor")
	}
	// With the password and a current code it is replaced, audited, mailed.
	e.clock.Add(totp.Period)
	_, body = br.get(e.issuer + "/account/security/totp")
	newSecret = strings.ReplaceAll(field(totpKeyRe, body), " ", "")
	code, _ = totp.Code(newSecret, e.clock.Now())
	current, _ := totp.Code(oldSecret, e.clock.Now())
	mails := len(e.smtp.To(f.email))
	resp, body = br.postForm(e.issuer+"/account/security/totp", body, url.Values{"code": {code},
		"current_password": {f.pw}, "current_code": {current}})
	if resp.StatusCode != 200 || len(recoveryRe.FindAllString(body, -1)) != 10 {
		t.Fatalf("replacement with proof: %d %.300s", resp.StatusCode, body)
	}
	events, _ := e.main.Store.ListEvents(context.Background(), storage.AuditFilter{OrgID: f.orgID})
	if !slices.ContainsFunc(events, func(ev storage.AuditEvent) bool { return ev.Action == "2fa.replaced" }) {
		t.Fatal("replacement not audited")
	}
	e.smtp.WaitFor(t, mails+1, 10*time.Second)
}

// inviteMember has an admin's browser invite email into the admin's organization.
func (e *orgEnv) inviteMember(admin *browser, email string, admin2 bool) *http.Response {
	e.t.Helper()
	_, body := admin.get(e.issuer + "/organization/members")
	form := url.Values{"csrf_token": {field(csrfRe, body)}, "email": {email}, "name": {"Invited Person"}, "role_user": {"1"}}
	if admin2 {
		form.Set("role_admin", "1")
	}
	resp, _ := admin.post(e.issuer+"/organization/members/invite", form)
	return resp
}

// Defect 2a: activating an invitation signed the person in with the
// password alone although the organization requires 2FA.
func TestInvitationHonoursTwoFactorPolicy(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	admin := e.browser()
	admin.signInPlain(f)
	e.enableTOTP(admin)
	e.requireMFA(f.orgID)
	if resp := e.inviteMember(admin, "bob@acme.example", false); !landed(resp, "/organization/members", "invited") {
		t.Fatalf("invite: %d %s", resp.StatusCode, resp.Request.URL)
	}
	bob := e.browser()
	resp, body := e.setPassword(bob, e.mailLink("bob@acme.example", 1), "tall-ship-passphrase-26")
	if resp.Request.URL.Path != "/login/enrol" {
		t.Fatalf("after the invitation: %d %s, want the enrolment (%.200s)", resp.StatusCode, resp.Request.URL.Path, body)
	}
	if bob.signedIn() {
		t.Fatal("signed in with the password alone in an organization that requires 2FA")
	}
}

// Defect 2b: an older invitation link (from before "resend") still worked
// after the account was active, replacing the password without the second
// factor.
func TestOlderInvitationLinkIsVoid(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	admin := e.browser()
	admin.signInPlain(f)
	e.inviteMember(admin, "bob@acme.example", false)
	first := e.mailLink("bob@acme.example", 1)
	bobID := userByEmail(t, e.testEnv, "bob@acme.example")
	_, body := admin.get(e.issuer + "/organization/members")
	admin.post(e.issuer+"/organization/members/"+bobID+"/resend", url.Values{"csrf_token": {field(csrfRe, body)}})
	second := e.mailLink("bob@acme.example", 2)
	bob := e.browser()
	if resp, _ := e.setPassword(bob, second, "tall-ship-passphrase-26"); resp.StatusCode != 200 {
		t.Fatalf("second link: %d", resp.StatusCode)
	}
	other := e.browser()
	resp, _ := e.setPassword(other, first, "attacker-chosen-passphrase")
	if resp.StatusCode != http.StatusGone || other.signedIn() {
		t.Fatalf("the older link after activation: %d, signed in %v; want 410 and nothing", resp.StatusCode, other.signedIn())
	}
	u, _ := e.main.Store.GetUser(context.Background(), bobID)
	if err := e.main.Hasher.Verify(context.Background(), u.PasswordHash, "tall-ship-passphrase-26"); err != nil {
		t.Fatal("the older link replaced the password")
	}
}

// wrongCode is a code that the secret does not give now.
func wrongCode(secret string, now time.Time) string {
	good, _ := totp.Code(secret, now)
	if good == "000000" {
		return "111111"
	}
	return "000000"
}

// Defect 4: the right password cleared the failures before the second
// factor was checked, so "password, 3 wrong codes" never locked.
func TestRightPasswordDoesNotClearCodeFailures(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	owner := e.browser()
	owner.signInPlain(f)
	secret, _ := e.enableTOTP(owner)
	attacker := e.browser() // knows the password, not the code
	for round := 0; round < 2; round++ {
		resp, body, _ := e.signInForm(attacker, f, nil)
		if resp.StatusCode == http.StatusTooManyRequests {
			return // locked: the failures of the code step counted
		}
		if resp.Request.URL.Path != "/login/code" {
			t.Fatalf("round %d: %d %s", round, resp.StatusCode, resp.Request.URL.Path)
		}
		for i := 0; i < 3; i++ {
			resp, body = attacker.post(e.issuer+"/login/code", url.Values{"csrf_token": {field(csrfRe, body)},
				"code": {wrongCode(secret, e.clock.Now())}})
			if resp.StatusCode == http.StatusTooManyRequests {
				return
			}
		}
	}
	t.Fatal("6 wrong codes between right passwords never locked the account")
}

// Defect 5: anyone could keep an account locked, and the owner's right
// password got 429 meanwhile. A browser that signed in before holds a
// device token and is not blocked by failures made elsewhere.
func TestLockoutDoesNotLockOwnerOut(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	owner := e.browser()
	owner.signInPlain(f)
	_, body := owner.get(e.issuer + "/")
	owner.post(e.issuer+"/logout", url.Values{"csrf_token": {field(csrfRe, body)}})
	attacker := e.browser()
	locked := false
	for i := 0; i < 8 && !locked; i++ {
		_, body := attacker.get(e.issuer + "/login")
		resp, _ := attacker.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {"wrong-guess-" + string(rune('a'+i))}})
		locked = resp.StatusCode == http.StatusTooManyRequests
	}
	_, body = attacker.get(e.issuer + "/login")
	resp, _ := attacker.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {f.pw}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("an untrusted browser is not locked after repeated failures: %d", resp.StatusCode)
	}
	_, body = owner.get(e.issuer + "/login")
	resp, _ = owner.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {f.pw}})
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" {
		t.Fatalf("the owner's browser was locked out by another's failures: %d %s", resp.StatusCode, resp.Request.URL.Path)
	}
}

// Defect 15: a re-authentication (prompt=login) while a session exists,
// after more than a minute on the form, waited for the writer its own
// transaction held and answered 503.
func TestReauthenticationAfterAMinute(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	br := e.browser()
	br.signInPlain(f)
	for _, extra := range []url.Values{{"prompt": {"login"}}, {"max_age": {"30"}}} {
		e.clock.Add(time.Minute) // older than max_age
		_, c := pkce()
		resp, body := br.get(e.authorizeURL(e.marketRP, c, extra))
		if resp.StatusCode != 200 || field(arIDRe, body) == "" {
			t.Fatalf("%v: want the form, got %d", extra, resp.StatusCode)
		}
		e.clock.Add(2 * time.Minute) // the person reads, then types
		start := time.Now()
		resp, _ = br.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "authRequestID": {field(arIDRe, body)},
			"email": {f.email}, "password": {f.pw}})
		q := rpRedirect(t, resp, e.marketRP)
		if time.Since(start) > 5*time.Second || q.Get("code") == "" {
			t.Fatalf("%v: answered after %s: %v", extra, time.Since(start), q)
		}
	}
}

// Defect 18: acr_values=urn:sesame:loa:2 was advisory: a person without a
// second factor got loa:1.
func TestACRValuesMFAIsEnforced(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	br := e.browser()
	resp, _, _ := e.signInForm(br, f, url.Values{"acr_values": {"urn:sesame:loa:2"}})
	if resp.Request.URL.Path != "/login/enrol" {
		t.Fatalf("a person without a second factor asked for loa:2 landed on %d %s, want the enrolment", resp.StatusCode, resp.Request.URL.Path)
	}
	// prompt=none with a password-only session: the error says why.
	plain := e.browser()
	plain.signInPlain(f)
	_, c := pkce()
	resp, _ = plain.get(e.authorizeURL(e.marketRP, c, url.Values{"acr_values": {"urn:sesame:loa:2"}, "prompt": {"none"}}))
	if q := rpRedirect(t, resp, e.marketRP); q.Get("error") != "unmet_authentication_requirements" {
		t.Fatalf("prompt=none at loa:2 without a second factor: %v", q)
	}
}

// Review finding: adding a first second factor from a session left open
// (older than accounts.reauth_after) asked for nothing, so whoever found it
// could bind their own authenticator and keep the recovery codes. It asks
// for the current password, as a password change does, and every change of
// the second factor is mailed.
func TestSecondFactorFromAStaleSessionAsksThePassword(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	br := e.browser()
	br.signInPlain(f)
	e.clock.Add(30 * time.Minute) // the owner walked away; the session lives on
	_, body := br.get(e.issuer + "/account/security/totp")
	secret := strings.ReplaceAll(field(totpKeyRe, body), " ", "")
	code, _ := totp.Code(secret, e.clock.Now())
	resp, _ := br.postForm(e.issuer+"/account/security/totp", body, url.Values{"code": {code}})
	if got, err := e.main.Store.GetTOTP(context.Background(), f.userID); resp.StatusCode != http.StatusUnauthorized || (err == nil && !got.ConfirmedAt.IsZero()) {
		t.Fatalf("a stale session added a second factor without the password: %d", resp.StatusCode)
	}
	mails := len(e.smtp.To(f.email))
	e.clock.Add(totp.Period)
	code, _ = totp.Code(secret, e.clock.Now())
	resp, body = br.postForm(e.issuer+"/account/security/totp", body, url.Values{"code": {code}, "current_password": {f.pw}})
	if resp.StatusCode != 200 || len(recoveryRe.FindAllString(body, -1)) != 10 {
		t.Fatalf("with the password: %d", resp.StatusCode)
	}
	e.smtp.WaitFor(t, mails+1, 10*time.Second)
}

// Review finding: a sign-in stopped at its second step outlived a password
// reset. A new password ends the attempts begun with the old one.
func TestPasswordChangeEndsAttemptsInProgress(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	owner := e.browser()
	owner.signInPlain(f)
	secret, _ := e.enableTOTP(owner)
	other := e.browser()
	if resp, _, _ := e.signInForm(other, f, nil); resp.Request.URL.Path != "/login/code" {
		t.Fatalf("want the code step: %s", resp.Request.URL.Path)
	}
	hash, _ := e.main.Hasher.Hash(context.Background(), "a-brand-new-passphrase")
	if err := e.main.Accounts.ChangePassword(context.Background(), loginActor(f.userID), f.userID, hash, ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(totp.Period)
	code, _ := totp.Code(secret, e.clock.Now())
	resp, body := other.get(e.issuer + "/login/code")
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("the code step after a password change: %s", resp.Request.URL.Path)
	}
	other.post(e.issuer+"/login/code", url.Values{"csrf_token": {field(csrfRe, body)}, "code": {code}})
	if other.signedIn() {
		t.Fatal("signed in with an attempt begun under the old password")
	}
}

// The gate's sealed values come back from the browser: forged, truncated,
// oversized or another cookie's value in their place is refused as "no
// sign-in in progress" or a wrong form, never a 5xx, and starts nothing.
func TestGateRefusesForgedSealedValues(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	owner := e.browser()
	owner.signInPlain(f) // a real device token, to swap in where it does not belong
	issuer, _ := url.Parse(e.issuer)
	var device string
	for _, c := range owner.client.Jar.Cookies(issuer) {
		if c.Name == "sesame_device" {
			device = c.Value
		}
	}
	if device == "" {
		t.Fatal("no device token after a sign-in")
	}
	for _, value := range []string{"", "x", "not base64 !", strings.Repeat("A", 3000), device} {
		br := e.browser()
		br.client.Jar.SetCookies(issuer, []*http.Cookie{{Name: "sesame_mfa", Value: value}, {Name: "sesame_device", Value: value + "x"}})
		for _, path := range []string{"/login/code", "/login/enrol"} {
			resp, _ := br.get(e.issuer + path)
			if resp.StatusCode >= 500 || resp.Request.URL.Path != "/login" {
				t.Errorf("GET %s with sesame_mfa %.20q: %d at %s, want the sign-in form", path, value, resp.StatusCode, resp.Request.URL.Path)
			}
			_, body := br.get(e.issuer + "/login")
			resp, _ = br.post(e.issuer+path, url.Values{"csrf_token": {field(csrfRe, body)}, "code": {"123456"}, "enrolment": {value}})
			if resp.StatusCode >= 500 || br.signedIn() {
				t.Errorf("POST %s with sesame_mfa %.20q: %d, signed in %v", path, value, resp.StatusCode, br.signedIn())
			}
		}
	}
	// A forged setup secret, in a signed-in browser: refused, nothing stored.
	for _, value := range []string{"", "x", strings.Repeat("A", 70000), device} {
		_, body := owner.get(e.issuer + "/account/security/totp")
		form := formFields(body)
		form.Set("enrolment", value)
		form.Set("code", "123456")
		if resp, _ := owner.post(e.issuer+"/account/security/totp", form); resp.StatusCode >= 500 || resp.StatusCode == 200 {
			t.Errorf("a forged setup secret %.20q: %d", value, resp.StatusCode)
		}
	}
	if _, err := e.main.Store.GetTOTP(context.Background(), f.userID); err == nil {
		t.Fatal("a forged setup secret stored a second factor")
	}
}
