package login

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/storage"
)

// TestRoutes lists every screen's route: the flows mount them all, once.
func TestRoutes(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	r := chi.NewRouter()
	hx.H.Routes(r)
	var got []string
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		got = append(got, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /", "GET /account/security", "GET /account/security/totp", "GET /admin/audit", "GET /admin/organizations",
		"GET /admin/organizations/{id}", "GET /forgot", "GET /logged-out", "GET /login", "GET /login/code", "GET /login/enrol",
		"GET /organization/audit", "GET /organization/members", "GET /organization/policy", "GET /static/{name}", "GET /reset-password", "GET /set-password", "GET /signup",
		"GET /static/sesame.css",
		"POST /account/security/password", "POST /account/security/recovery-codes.txt", "POST /account/security/sessions/end-others", "POST /account/security/sessions/{id}/end",
		"POST /account/security/totp", "POST /account/security/totp/disable", "POST /admin/organizations/{id}/members/{user}/roles",
		"POST /admin/organizations/{id}/reject", "POST /admin/organizations/{id}/validate", "POST /forgot", "POST /login",
		"POST /login/code", "POST /login/enrol", "POST /logout", "POST /organization/members/invite",
		"POST /organization/members/require-2fa", "POST /organization/members/{id}/remove", "POST /organization/members/{id}/reset-2fa",
		"POST /organization/members/{id}/resend", "POST /organization/members/{id}/roles", "POST /reset-password",
		"POST /set-password", "POST /signup", "POST /signup/company",
		// passkeys (passkey_signin.go, passkey_settings.go)
		"GET /static/passkey.js", "GET /login/passkey/enrol", "POST /login/passkey", "POST /login/passkey/options",
		"POST /login/code/passkey", "POST /login/code/passkey/options", "POST /login/passkey/enrol",
		"POST /login/passkey/enrol/options", "POST /organization/members/require-passkeys", "POST /set-password/passkey", "POST /set-password/passkey/options", "POST /account/security/passkeys", "POST /account/security/passkeys/options",
		"POST /account/security/passkeys/{id}/rename", "POST /account/security/passkeys/{id}/remove",
		// The console's applications, suspensions and people (applications.go, operator_people.go).
		"GET /admin/applications", "POST /admin/applications", "POST /admin/applications/{id}/remove", "POST /admin/applications/{id}/rotate",
		"POST /admin/organizations/{id}/members/{user}/disable", "POST /admin/organizations/{id}/members/{user}/enable",
		"POST /admin/organizations/{id}/members/{user}/reset-2fa", "POST /admin/organizations/{id}/reactivate",
		"POST /admin/organizations/{id}/suspend",
		"POST /account/language", "POST /login/cancel", // issue 19
		// consent for third-party applications (consent.go, consent_settings.go)
		"GET /login/consent", "POST /login/consent", "POST /account/security/applications/{client}/revoke",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("routes:\n got %q\nwant %q", got, want)
	}
}

func TestHomeAndSignOut(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleAdmin)
	hx.Browser().Get(PathHome).Redirects(PathLogin)
	css := hx.Browser().Get(PathCSS)
	if css.Status != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %s", css.Status, css.Header.Get("Content-Type"))
	}
	b := hx.Browser()
	b.SignIn(u.Email, "")
	home := b.Get(PathHome).Shows(http.StatusOK, "")
	if !strings.Contains(home.Body, u.Email) || !strings.Contains(home.Body, "Acme") {
		t.Errorf("home: %s", excerpt(home.Body))
	}
	b.PostRaw(PathLogout, nil).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	b.Post(PathLogout, nil).Redirects(PathLoggedOut)
	b.Get(PathLoggedOut).Shows(http.StatusOK, "")
	b.Get(PathHome).Redirects(PathLogin)
	// A disabled person's session no longer opens anything.
	b.SignIn(u.Email, "")
	if err := hx.H.Accounts.DisableUser(context.Background(), Actor{ID: "cli", Operator: true}, u.ID); err != nil {
		t.Fatal(err)
	}
	b.Get(PathHome).Redirects(PathLogin)
}

// TestProviderPages: what the provider renders through the screens.
func TestProviderPages(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/authorize", nil)
	r.Header.Set("Accept-Language", "en")
	hx.H.FormPost(w, r, "https://rp.example/cb", url.Values{"code": {"c<1>"}, "state": {"s"}}, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `value="c&lt;1&gt;"`) ||
		!strings.Contains(w.Header().Get("Content-Security-Policy"), "nonce-") {
		t.Errorf("form_post: %d %s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	hx.H.ConfirmLogout(w, r, "/end_session", url.Values{"state": {"s"}}, []string{"en"})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `action="/end_session"`) {
		t.Errorf("confirm logout: %d", w.Code)
	}
	post := httptest.NewRequest(http.MethodPost, "/end_session", strings.NewReader("csrf_token=x"))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if hx.H.LogoutConfirmed(post) {
		t.Error("a confirmation without the CSRF cookie was accepted")
	}
	w = httptest.NewRecorder()
	hx.H.Fail(w, r, errUnknownRequest)
	if w.Code != http.StatusBadRequest || !(&page{Body: w.Body.String()}).Says("Errors.AuthRequest.Unknown") {
		t.Errorf("error page: %d", w.Code)
	}
	if hx.H.CurrentSessionID(r) != "" {
		t.Error("a session without a cookie")
	}
	// Ending the browser session through the provider's hook.
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	b := hx.Browser()
	b.SignIn(u.Email, "")
	s, _ := hx.session(b)
	in := http.Header{"Cookie": {"sesame_session=" + b.cookie("sesame_session")}}
	out := http.Header{}
	if err := hx.H.EndBrowserSession(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Get("Set-Cookie"), "sesame_session=;") {
		t.Errorf("no clearing cookie: %q", out.Get("Set-Cookie"))
	}
	if _, err := hx.Store.GetSessionByID(context.Background(), s.ID); err == nil {
		if got, _ := hx.session(b); got.ID == s.ID {
			t.Error("the session is still live")
		}
	}
}

// TestInvitationContinuesTheRequest: a person invited while signing in for
// a relying party sets their password from the mail and lands there, after
// the enrolment their organization requires.
func TestInvitationContinuesTheRequest(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	hx.User("admin@acme.example", &org, storage.RoleAdmin)
	admin := hx.Browser()
	admin.SignIn("admin@acme.example", "")
	link := invite(t, hx, admin, "new@acme.example")
	admin.Post(PathMembers+"/require-2fa", url.Values{"require": {"1"}}).Redirects(PathPolicy)

	ar := hx.AuthRequest(nil)
	b := hx.Browser()
	b.Get(PathLogin+"?authRequestID="+ar.ID).Shows(http.StatusOK, "")
	b.Get(link).Shows(http.StatusOK, "")
	b.Post(PathSetPassword, newPasswordForm(mustQuery(t, link, "token"))).Redirects(PathLoginEnrol)
	setup := b.Get(PathLoginEnrol)
	p := b.Post(PathLoginEnrol, url.Values{"enrolment": {setup.Field("enrolment")}, "code": {hx.Code(setupSecret(t, setup))}}).
		Shows(http.StatusOK, "Recovery.Enabled")
	if !strings.Contains(p.Body, "/callback?id="+ar.ID) {
		t.Fatal("the recovery page does not continue to the relying party")
	}
	stored, err := hx.Store.GetAuthRequest(context.Background(), ar.ID)
	if err != nil || !stored.Done || !slices.Contains(stored.AMR, "mfa") {
		t.Fatalf("request %+v %v", stored, err)
	}
}

func TestMemberSecondFactorAndResend(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	hx.User("admin@acme.example", &org, storage.RoleAdmin)
	member := hx.User("member@acme.example", &org, storage.RoleUser)
	hx.TOTP(member)
	a := hx.Browser()
	a.SignIn("admin@acme.example", "")
	a.Post(PathMembers+"/"+member.ID+"/reset-2fa", nil).Redirects(PathMembers)
	if _, err := hx.Store.GetTOTP(context.Background(), member.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the member's factor is still there: %v", err)
	}
	invite(t, hx, a, "new@acme.example")
	invited, err := hx.Store.GetPersonByEmail(context.Background(), "new@acme.example")
	if err != nil {
		// Invited people are found by listing (GetPersonByEmail finds accounts only).
		list, _ := hx.Store.ListMemberships(context.Background(), org.ID)
		for _, m := range list {
			if u, err := hx.Store.GetUser(context.Background(), m.UserID); err == nil && u.Email == "new@acme.example" {
				invited.User = u
			}
		}
	}
	if invited.User.ID == "" {
		t.Fatal("the invited person is not a member")
	}
	a.Post(PathMembers+"/"+invited.User.ID+"/resend", nil).Redirects(PathMembers)
	hx.Link("new@acme.example", PathSetPassword)
}

func TestOperatorRepairsRoles(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	member := hx.User("member@acme.example", &org, storage.RoleUser)
	op := hx.User("operator@sesame.example", nil)
	o := hx.Browser()
	o.SignIn(op.Email, "")
	o.Get(PathOperator+"/"+org.ID).Shows(http.StatusOK, "")
	o.PostRaw(PathOperator+"/"+org.ID+"/members/"+member.ID+"/roles", url.Values{"role_admin": {"1"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	o.Post(PathOperator+"/"+org.ID+"/members/"+member.ID+"/roles", url.Values{"role_admin": {"1"}, "role_user": {"1"}}).
		Redirects(PathOperator + "/" + org.ID)
	if m, _ := hx.Store.GetMembership(context.Background(), member.ID); !isAdmin(m) {
		t.Errorf("roles %v", m.Roles)
	}
	o.Post(PathOperator+"/"+org.ID+"/members/"+member.ID+"/roles", url.Values{"role_user": {"1"}}).
		Shows(http.StatusConflict, "Errors.Members.LastAdmin")
}
