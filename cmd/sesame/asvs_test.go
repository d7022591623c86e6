package main

// Sesame's own security suite, by OWASP ASVS v4 chapter and RFC 9700.
//
// V2 Authentication
//   - generic answer, same time, unknown vs known email: TestWrongPasswordIsGenericAndCSRFIsChecked
//   - enumeration on every form that takes an email: TestEnumerationOnEveryEmailForm (below), TestForgotAndResetPassword
//   - guessing throttled per account and per IP: TestGuessingIsThrottled, TestSignupThrottledPerIP
//   - second factor, replay, recovery codes: TestSecondFactorSignIn, TestStepUpAndForcedEnrolment
//   - password policy and storage: TestSetPasswordLinks, login/password tests, TestPasswordRehashedAtSignIn
// V3 Sessions
//   - a new session id at sign-in (fixation): TestWrongPasswordIsGenericAndCSRFIsChecked
//   - idle and absolute expiry: TestSessionIdleAndAbsoluteExpiry
//   - cookies HttpOnly, SameSite, Secure with https: TestSecurityHeadersOnPages, TestCookiesSecureWithHTTPSIssuer (below)
//   - logout ends the session everywhere: TestSingleSignOnAndLogout, TestBackchannelLogout
//   - CSRF on every form: TestCSRFOnEveryForm (below)
//   - clickjacking and other headers on every page: TestHeadersOnEveryPage (below)
// V4 Access control
//   - every admin and operator route, as anonymous, a member, an admin of
//     another organization: TestPrivilegeMatrix (below), TestMembersScreenRules
// RFC 9700 (OAuth 2.0 Security BCP)
//   - open redirects via redirect_uri and post_logout_redirect_uri: TestAuthorizeBadInput, TestSingleSignOnAndLogout
//   - PKCE required, S256 only, downgrade refused: TestAuthorizeBadInput, TestTokenEndpointBadInput
//   - code replay revokes, code injection across clients refused: TestTokenEndpointBadInput
//   - refresh token rotation and reuse detection: TestRefreshRotationAndReuse
//   - token substitution between clients (introspection, refresh, code): TestRevocationIntrospectionAndUserinfo,
//     TestRefreshRotationAndReuse, TestTokenEndpointBadInput

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPrivilegeMatrix tries every admin and operator route as each kind of caller.
func TestPrivilegeMatrix(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	admin := e.member("admin@acme.example", "keys-to-the-castle-26", "admin", "user")
	memberPw := "quiet-harbour-passphrase"
	member := fixture{email: "member@acme.example", pw: memberPw}
	member.userID = e.mustCLI(memberPw+"\n", "user", "add", "--email", member.email, "--org", admin.orgID, "--password-stdin")
	otherAdmin := e.member("boss@other.example", "another-castle-key-26", "admin")
	pendingOrg := e.mustCLI("", "org", "create", "--name", "Pending", "--country", "ES")

	anonymous := e.browser()
	asMember, asOtherAdmin, asAdmin, asOperator := e.browser(), e.browser(), e.browser(), e.browser()
	asMember.signInPlain(member)
	asOtherAdmin.signInPlain(otherAdmin)
	asAdmin.signInPlain(admin)
	asOperator.signInPlain(e.operator)

	type route struct {
		method, path string
		form         url.Values
	}
	memberRoutes := []route{
		{"GET", "/organization/members", nil},
		{"POST", "/organization/members/invite", url.Values{"email": {"x@acme.example"}, "role_user": {"1"}}},
		{"POST", "/organization/members/" + admin.userID + "/roles", url.Values{"role_user": {"1"}}},
		{"POST", "/organization/members/" + admin.userID + "/resend", nil},
		{"POST", "/organization/members/" + admin.userID + "/remove", nil},
		{"POST", "/organization/members/" + admin.userID + "/reset-2fa", nil},
		{"POST", "/organization/members/require-2fa", url.Values{"require": {"1"}}},
		{"GET", "/organization/policy", nil},
	}
	operatorRoutes := []route{
		{"GET", "/admin/organizations", nil},
		{"POST", "/admin/organizations/" + pendingOrg + "/validate", nil},
		{"POST", "/admin/organizations/" + pendingOrg + "/reject", url.Values{"reason": {"no"}}},
	}
	try := func(b *browser, r route) *http.Response {
		if r.method == "GET" {
			resp, _ := b.get(e.issuer + r.path)
			return resp
		}
		_, body := b.get(e.issuer + "/account/security") // a CSRF token of this browser, if signed in
		if !strings.Contains(body, "csrf_token") {
			_, body = b.get(e.issuer + "/login")
		}
		form := url.Values{"csrf_token": {field(csrfRe, body)}}
		for k, v := range r.form {
			form[k] = v
		}
		resp, _ := b.post(e.issuer+r.path, form)
		return resp
	}
	for _, r := range append(memberRoutes, operatorRoutes...) {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			if resp := try(anonymous, r); resp.Request.URL.Path != "/login" {
				t.Errorf("anonymous: %d at %s, want the sign-in page", resp.StatusCode, resp.Request.URL.Path)
			}
			if resp := try(asMember, r); resp.StatusCode != 403 {
				t.Errorf("member: %d, want 403", resp.StatusCode)
			}
		})
	}
	for _, r := range operatorRoutes {
		for name, b := range map[string]*browser{"admin": asAdmin, "admin of another organization": asOtherAdmin} {
			if resp := try(b, r); resp.StatusCode != 403 {
				t.Errorf("%s on %s %s: %d, want 403", name, r.method, r.path, resp.StatusCode)
			}
		}
	}
	// The admin of another organization reaches only their own members.
	for _, r := range memberRoutes[2:6] {
		if resp := try(asOtherAdmin, r); resp.StatusCode != 404 {
			t.Errorf("admin of another organization on %s: %d, want 404", r.path, resp.StatusCode)
		}
	}
	// Nothing changed on the way.
	if m, _ := e.main.Store.GetMembership(t.Context(), admin.userID); len(m.Roles) != 2 {
		t.Fatalf("admin's roles changed: %v", m.Roles)
	}
	if o, _ := e.main.Store.GetOrganization(t.Context(), pendingOrg); o.Status != "pending" {
		t.Fatalf("the pending organization became %s", o.Status)
	}
	// The operator does get in.
	if resp := try(asOperator, operatorRoutes[0]); resp.StatusCode != 200 {
		t.Fatalf("operator: %d", resp.StatusCode)
	}
}

// TestCSRFOnEveryForm posts every form of a signed-in person without its
// token: 403, and nothing happens.
func TestCSRFOnEveryForm(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	admin := e.member("admin@acme.example", "keys-to-the-castle-26", "admin", "user")
	b := e.browser()
	b.signInPlain(admin)
	op := e.browser()
	op.signInPlain(e.operator)
	pendingOrg := e.mustCLI("", "org", "create", "--name", "Pending", "--country", "ES")
	sessions, _ := e.main.Store.ListUserSessions(t.Context(), admin.userID, e.clock.Now())
	forms := []struct {
		b    *browser
		path string
		form url.Values
	}{
		{b, "/logout", nil},
		{b, "/account/security/password", url.Values{"password": {"new-passphrase-2026"}, "password_confirm": {"new-passphrase-2026"}}},
		{b, "/account/security/totp", url.Values{"code": {"123456"}}},
		{b, "/account/security/totp/disable", url.Values{"current_password": {admin.pw}}},
		{b, "/account/security/sessions/" + sessions[0].ID + "/end", nil},
		{b, "/account/security/sessions/end-others", nil},
		{b, "/account/security/recovery-codes.txt", url.Values{"codes": {"x"}}},
		{b, "/organization/members/invite", url.Values{"email": {"x@acme.example"}, "role_user": {"1"}}},
		{b, "/organization/members/" + admin.userID + "/roles", url.Values{"role_user": {"1"}}},
		{b, "/organization/members/require-2fa", url.Values{"require": {"1"}}},
		{op, "/admin/organizations/" + pendingOrg + "/validate", nil},
		{b, "/login", url.Values{"email": {admin.email}, "password": {admin.pw}}},
		{b, "/signup", url.Values{"email": {"demo@cloud.example"}, "password": {"demo-cloud-password"}}},
		{b, "/forgot", url.Values{"email": {admin.email}}},
	}
	for _, f := range forms {
		resp, _ := f.b.post(e.issuer+f.path, f.form)
		if resp.StatusCode != 403 {
			t.Errorf("POST %s without a CSRF token: %d", f.path, resp.StatusCode)
		}
	}
	if resp, _ := b.get(e.issuer + "/"); resp.Request.URL.Path != "/" {
		t.Fatal("the session was ended by a forged request")
	}
	if o, _ := e.main.Store.GetOrganization(t.Context(), pendingOrg); o.Status != "pending" {
		t.Fatal("a forged request validated an organization")
	}
	if _, err := findPerson(e.main.Store, "x@acme.example"); err == nil {
		t.Fatal("a forged request invited a member")
	}
}

// TestHeadersOnEveryPage checks the security headers on every screen.
func TestHeadersOnEveryPage(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	admin := e.member("admin@acme.example", "keys-to-the-castle-26", "admin", "user")
	b := e.browser()
	b.signInPlain(admin)
	for _, p := range []string{"/", "/login", "/signup", "/forgot", "/logged-out", "/account/security", "/account/security/totp",
		"/organization/members", "/set-password?token=x", "/reset-password?token=x", "/nope", "/authorize?client_id=nope"} {
		resp, _ := b.get(e.issuer + p)
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || strings.Contains(h.Get("Content-Security-Policy"), "unsafe") ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" ||
			h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: %v", p, h)
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestEnumerationOnEveryEmailForm: the forms that take an email answer the
// same for an address with an account and one without.
func TestEnumerationOnEveryEmailForm(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	known := e.member("known@acme.example", "keys-to-the-castle-26")
	for _, path := range []string{"/login", "/forgot"} {
		var pages []string
		for _, email := range []string{known.email, "unknown@acme.example"} {
			b := e.browser()
			_, body := b.get(e.issuer + path)
			resp, body := b.post(e.issuer+path, url.Values{"csrf_token": {field(csrfRe, body)}, "email": {email}, "password": {"wrong-password-x"}})
			body = csrfRe.ReplaceAllString(strings.ReplaceAll(body, email, "EMAIL"), "CSRF") // each browser has its own token
			pages = append(pages, resp.Status+body)
		}
		if pages[0] != pages[1] {
			t.Errorf("%s answers differently for a known and an unknown address", path)
		}
	}
}

// TestCookiesSecureWithHTTPSIssuer: behind TLS, cookies are Secure and __Host-.
func TestCookiesSecureWithHTTPSIssuer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.main.Close()
	cfg := e.main.Config
	cfg.Issuer = "https://id.example.com"
	m := &Main{Config: cfg, Now: e.clock.Now}
	if err := m.Open(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, err := m.handler()
	if err != nil {
		t.Fatal(err)
	}
	w := newRecorder()
	h.ServeHTTP(w, httpRequest("GET", "https://id.example.com/login"))
	cookies := w.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatal("no cookie")
	}
	for _, c := range cookies {
		if !c.Secure || !c.HttpOnly || !strings.HasPrefix(c.Name, "__Host-") && c.Name != "sesame_lang" {
			t.Errorf("cookie %s: Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
		}
	}
	if w.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS with an https issuer")
	}
}

// TestAuditScreens: an organization's admins see its trail, operators see
// everything, members and other organizations' admins see nothing.
func TestAuditScreens(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	admin := e.member("admin@acme.example", "keys-to-the-castle-26", "admin", "user")
	other := e.member("boss@other.example", "another-castle-key-26", "admin")
	member := fixture{email: "member@acme.example", pw: "quiet-harbour-passphrase"}
	e.mustCLI(member.pw+"\n", "user", "add", "--email", member.email, "--org", admin.orgID, "--password-stdin")
	ab, ob, mb, opb := e.browser(), e.browser(), e.browser(), e.browser()
	ab.signInPlain(admin)
	ob.signInPlain(other)
	mb.signInPlain(member)
	opb.signInPlain(e.operator)
	_, body := ab.get(e.issuer + "/organization/audit")
	if !strings.Contains(body, "Connexion de admin@acme.example") || strings.Contains(body, "boss@other.example") ||
		!strings.Contains(body, "127.0.0.1") {
		t.Fatalf("the admin's trail:\n%.2000s", body)
	}
	_, body = opb.get(e.issuer + "/admin/audit")
	if !strings.Contains(body, "admin@acme.example") || !strings.Contains(body, "boss@other.example") {
		t.Fatal("the operator does not see every organization")
	}
	for name, b := range map[string]*browser{"member": mb} {
		if resp, _ := b.get(e.issuer + "/organization/audit"); resp.StatusCode != 403 {
			t.Errorf("%s on the organization's trail: %d", name, resp.StatusCode)
		}
	}
	for name, b := range map[string]*browser{"member": mb, "admin": ab} {
		if resp, _ := b.get(e.issuer + "/admin/audit"); resp.StatusCode != 403 {
			t.Errorf("%s on the operator's trail: %d", name, resp.StatusCode)
		}
	}
}
