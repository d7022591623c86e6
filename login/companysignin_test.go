package login

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/domains/dnstest"
	"github.com/sesame-idp/sesame/login/sso"
	"github.com/sesame-idp/sesame/login/sso/ssotest"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// ssoHarness is the screens with company sign-in: a real DNS server
// (dnstest) as the resolver and an upstream provider (ssotest).
type ssoHarness struct {
	*harness
	DNS   *dnstest.Server
	Up    *ssotest.Server
	C     *CompanySignIn
	Org   storage.Organization
	Admin storage.User
}

const acme = "acme.example"

func newSSOHarness(t *testing.T) *ssoHarness {
	t.Helper()
	return newSSOHarnessOn(t, openSQLite)
}

// newSSOHarnessOn is newSSOHarness on the database open returns.
func newSSOHarnessOn(t *testing.T, open func(*testing.T) storage.Storage) *ssoHarness {
	t.Helper()
	sx := &ssoHarness{DNS: dnstest.Start(t), Up: ssotest.Start(t)}
	master := make([]byte, secretbox.KeySize)
	_, _ = rand.Read(master)
	box, err := secretbox.New(master, "sso-client-secrets")
	if err != nil {
		t.Fatal(err)
	}
	sx.harness = newHarnessOn(t, open(t), func(hx *harness) {
		sx.C = &CompanySignIn{Store: hx.Store, Accounts: hx.H.Accounts, Box: box, Now: hx.Clock.Now,
			Resolver: &domains.Resolver{Addr: sx.DNS.Addr, Timeout: 300 * time.Millisecond},
			Upstream: &sso.Client{Now: hx.Clock.Now, AllowPrivate: true}, Loopback: func(h string) bool { return h == "127.0.0.1" }}
		hx.H.Companies = sx.C
	})
	sx.Org = sx.harness.Org("ACME", storage.OrgValidated)
	sx.Admin = sx.User("admin@"+acme, &sx.Org, storage.RoleAdmin)
	return sx
}

var cliActor = Actor{ID: "cli", Operator: true}

// Connect verifies acme.example for the organization (through the DNS
// server) and connects it to the upstream.
func (sx *ssoHarness) Connect(edit func(*ConnectionInput)) {
	sx.t.Helper()
	ctx := context.Background()
	d, err := sx.C.AddDomain(ctx, cliActor, sx.Org.ID, acme)
	if err != nil {
		sx.t.Fatal(err)
	}
	sx.DNS.SetTXT(domains.RecordName(acme), d.Challenge)
	if _, err := sx.C.VerifyDomain(ctx, cliActor, sx.Org.ID, acme, false); err != nil {
		sx.t.Fatal(err)
	}
	in := ConnectionInput{Issuer: sx.Up.URL, ClientID: sx.Up.ClientID, ClientSecret: sx.Up.ClientSecret}
	if edit != nil {
		edit(&in)
	}
	if _, err := sx.C.SetConnection(ctx, cliActor, sx.Org.ID, in); err != nil {
		sx.t.Fatal(err)
	}
}

// Upstream follows a redirect to the upstream and returns where the
// upstream sends the browser back (the callback, with code and state).
func (b *browser) Upstream(p *page, upstream string) string {
	b.t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, upstream+"/authorize?") {
		b.t.Fatalf("status %d to %q, want a redirect to the upstream; body: %s", p.Status, p.Location, excerpt(p.Body))
	}
	back := b.Get(p.Location)
	if back.Status != http.StatusFound || !strings.Contains(back.Location, PathSSOCallback+"?") {
		b.t.Fatalf("the upstream answered %d to %q", back.Status, back.Location)
	}
	return back.Location
}

// SSO signs in by the email through the upstream, for the request ar (nil:
// none), and returns the callback's answer.
func (b *browser) SSO(email string, ar *storage.AuthRequest, upstream string) *page {
	b.t.Helper()
	form := url.Values{"email": {email}}
	if ar != nil {
		form.Set("authRequestID", ar.ID)
	}
	return b.Get(b.Upstream(b.Post(PathLogin, form), upstream))
}

func TestCompanySignInJustInTime(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(func(in *ConnectionInput) { in.Scopes = []string{"profile"} })
	sx.Up.SetIdentity(ssotest.Identity{Subject: "u1", Email: "Jeanne@" + acme, EmailVerified: true, Name: "Jeanne", AMR: []string{"pwd"}})

	ar := sx.AuthRequest(nil)
	b := sx.Browser()
	login := b.Post(PathLogin, url.Values{"email": {"jeanne@" + acme}, "password": {"ignored"}, "authRequestID": {ar.ID}})
	// Routed before any password is looked at: PKCE S256, state, nonce, login_hint.
	if login.Status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", login.Status, excerpt(login.Body))
	}
	to, _ := url.Parse(login.Location)
	q := to.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" ||
		q.Get("login_hint") != "jeanne@"+acme || q.Get("redirect_uri") != sx.URL+PathSSOCallback ||
		!strings.Contains(q.Get("scope"), "profile") || !strings.Contains(q.Get("scope"), "email") {
		t.Fatalf("authorization request: %v", q)
	}
	cb := b.Upstream(login, sx.Up.URL)
	done := b.Get(cb)
	if done.Status != http.StatusFound || !strings.HasPrefix(done.Location, "https://rp.example/cb?") {
		t.Fatalf("callback: %d %q %s", done.Status, done.Location, excerpt(done.Body))
	}
	answered := sx.Answered()
	if len(answered) != 1 || answered[0].IDP != sx.Up.URL || !slices.Equal(answered[0].AMR, []string{"pwd"}) {
		t.Fatalf("answered: %+v", answered)
	}
	p, err := sx.Store.GetPersonByEmail(context.Background(), "jeanne@"+acme)
	if err != nil || p.Membership == nil || p.Membership.OrgID != sx.Org.ID || !slices.Equal(p.Membership.Roles, []string{storage.RoleUser}) ||
		p.User.Name != "Jeanne" {
		t.Fatalf("member: %+v %v", p, err)
	}
	s, err := sx.Store.GetSessionByID(context.Background(), answered[0].SessionID)
	if err != nil || s.IDP != sx.Up.URL {
		t.Fatalf("session: %+v %v", s, err)
	}
	events := sx.Events()
	if !slices.Contains(events, "member.created") || !slices.Contains(events, "signin.succeeded") {
		t.Fatalf("events: %v", events)
	}
	// The cookie of the trip is gone; the second sign-in, in another
	// browser, reuses the membership.
	b2 := sx.Browser()
	sx.Up.SetIdentity(ssotest.Identity{Subject: "u1", Email: "jeanne@" + acme, EmailVerified: "true", AMR: []string{"pwd", "mfa"}})
	b2.SSO("jeanne@"+acme, nil, sx.Up.URL).Redirects(PathHome)
	users, _ := sx.Store.ListUsers(context.Background(), sx.Org.ID)
	if len(users) != 2 {
		t.Fatalf("%d members, want the admin and Jeanne", len(users))
	}
	// No password opens that account.
	sx.Browser().Post(PathLogin, url.Values{"email": {"jeanne@" + acme}, "password": {noPassword}, "method": {"password"}}).
		Shows(http.StatusUnauthorized, "Errors.Login.Invalid")
}

func TestCompanySignInLinksMembersAndInvitations(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(func(in *ConnectionInput) { in.DefaultRoles = []string{storage.RoleAdmin, storage.RoleUser} })
	member := sx.User("paul@"+acme, &sx.Org, storage.RoleUser)
	invited, err := sx.H.Accounts.Invite(context.Background(), Actor{ID: sx.Admin.ID}, sx.Org.ID, "lea@"+acme, "Léa", "en", []string{storage.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	// An existing member is linked.
	sx.Up.SetIdentity(ssotest.Identity{Subject: "p", Email: "paul@" + acme, EmailVerified: true})
	sx.Browser().SSO("paul@"+acme, nil, sx.Up.URL).Redirects(PathHome)
	// An invitation not yet accepted is accepted, with its roles.
	sx.Up.SetIdentity(ssotest.Identity{Subject: "l", Email: "lea@" + acme, EmailVerified: true})
	sx.Browser().SSO("lea@"+acme, nil, sx.Up.URL).Redirects(PathHome)
	for _, id := range []string{member.ID, invited.ID} {
		p, err := sx.Store.GetPerson(context.Background(), id)
		if err != nil || p.Membership == nil || !slices.Equal(p.Membership.Roles, []string{storage.RoleUser}) {
			t.Fatalf("%s: %+v %v", id, p, err)
		}
	}
	users, _ := sx.Store.ListUsers(context.Background(), sx.Org.ID)
	if len(users) != 3 {
		t.Fatalf("%d members, want 3 (no duplicate)", len(users))
	}
}

// TestCompanySignInRefusals: every bad answer of the upstream, and every
// bad callback, gets a clear 4xx page (or the retry page), never a 5xx,
// and signs no one in.
func TestCompanySignInRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(sx *ssoHarness)
		status int
		key    string
	}{
		{"email not verified", func(sx *ssoHarness) {
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@" + acme, EmailVerified: false})
		}, http.StatusForbidden, "Errors.SSO.EmailUnverified"},
		{"email_verified missing", func(sx *ssoHarness) {
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@" + acme})
		}, http.StatusForbidden, "Errors.SSO.EmailUnverified"},
		{"email outside the domains", func(sx *ssoHarness) {
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@elsewhere.example", EmailVerified: true})
		}, http.StatusForbidden, "Errors.SSO.EmailOutside"},
		{"no email", func(sx *ssoHarness) {
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", EmailVerified: true})
		}, http.StatusForbidden, "Errors.SSO.EmailOutside"},
		{"email of a domain another organization verified", func(sx *ssoHarness) {
			other := sx.harness.Org("Other", storage.OrgValidated)
			d, err := sx.C.AddDomain(context.Background(), cliActor, other.ID, "other.example")
			if err != nil {
				sx.t.Fatal(err)
			}
			sx.DNS.SetTXT(domains.RecordName("other.example"), d.Challenge)
			if _, err := sx.C.VerifyDomain(context.Background(), cliActor, other.ID, "other.example", false); err != nil {
				sx.t.Fatal(err)
			}
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@other.example", EmailVerified: true})
		}, http.StatusForbidden, "Errors.SSO.EmailOutside"},
		{"an address of another organization's account", func(sx *ssoHarness) {
			other := sx.harness.Org("Other", storage.OrgValidated)
			sx.User("taken@"+acme, &other, storage.RoleUser)
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "taken@" + acme, EmailVerified: true})
		}, http.StatusConflict, "Errors.SSO.OtherOrg"},
		{"an operator's address", func(sx *ssoHarness) {
			sx.User("operator@"+acme, nil)
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "operator@" + acme, EmailVerified: true})
		}, http.StatusConflict, "Errors.SSO.OtherOrg"},
		{"wrong nonce", func(sx *ssoHarness) { sx.Up.SetNonce("not-the-one") }, http.StatusUnauthorized, "Errors.SSO.Token"},
		{"upstream answers an error", func(sx *ssoHarness) { sx.Up.SetAuthError("access_denied") }, http.StatusOK, "Errors.SSO.Upstream"},
		{"organization suspended", func(sx *ssoHarness) {
			_ = sx.Store.UpdateOrganization(context.Background(), sx.Org.ID, func(o *storage.Organization) error {
				o.Status = storage.OrgSuspended
				return nil
			})
			sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@" + acme, EmailVerified: true})
		}, http.StatusForbidden, "Errors.SSO.OrgClosed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sx := newSSOHarness(t)
			sx.Connect(nil)
			tt.setup(sx)
			p := sx.Browser().SSO("someone@"+acme, nil, sx.Up.URL).Shows(tt.status, tt.key)
			if tt.status == http.StatusOK && !strings.Contains(p.Body, `action="/sso/start"`) {
				t.Fatalf("no retry form: %s", excerpt(p.Body))
			}
			if n := len(sx.Answered()); n != 0 || slices.Contains(sx.Events(), "signin.succeeded") {
				t.Fatalf("signed in: %v", sx.Events())
			}
		})
	}
}

func TestCompanySignInBadCallbacks(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@" + acme, EmailVerified: true})

	// No trip in this browser: refused.
	b := sx.Browser()
	b.Get(PathSSOCallback+"?code=c&state=s").Shows(http.StatusBadRequest, "Errors.SSO.State")

	// Wrong state.
	cb := b.Upstream(b.Post(PathLogin, url.Values{"email": {"x@" + acme}}), sx.Up.URL)
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", "forged")
	b.Get(PathSSOCallback+"?"+q.Encode()).Shows(http.StatusBadRequest, "Errors.SSO.State")

	// Replayed: the same callback with the same cookie, once it was used.
	b = sx.Browser()
	cb = b.Upstream(b.Post(PathLogin, url.Values{"email": {"x@" + acme}}), sx.Up.URL)
	trip := b.cookie(ssoCookie)
	b.Get(cb).Redirects(PathHome)
	thief := sx.Browser()
	base, _ := url.Parse(sx.URL)
	thief.c.Jar.SetCookies(base, []*http.Cookie{{Name: ssoCookie, Value: trip, Path: "/"}})
	thief.Get(cb).Shows(http.StatusBadRequest, "Errors.SSO.State")
	b.c.Jar.SetCookies(base, []*http.Cookie{{Name: ssoCookie, Value: trip, Path: "/"}})
	b.Get(cb).Shows(http.StatusBadRequest, "Errors.SSO.State")

	// A trip that waited too long.
	b = sx.Browser()
	cb = b.Upstream(b.Post(PathLogin, url.Values{"email": {"x@" + acme}}), sx.Up.URL)
	sx.Clock.Add(ssoLifetime + time.Second)
	b.Get(cb).Shows(http.StatusBadRequest, "Errors.SSO.State")

	// A forged cookie.
	b = sx.Browser()
	b.c.Jar.SetCookies(base, []*http.Cookie{{Name: ssoCookie, Value: "AAAA", Path: "/"}})
	b.Get(PathSSOCallback+"?code=c&state=s").Shows(http.StatusBadRequest, "Errors.SSO.State")
	if n := len(sx.Answered()); n != 0 {
		t.Fatalf("%d answers", n)
	}
}

func TestCompanySignInUpstreamDown(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@" + acme, EmailVerified: true})
	// Down at the token endpoint (the discovery is cached): the retry page.
	b := sx.Browser()
	cb := b.Upstream(b.Post(PathLogin, url.Values{"email": {"x@" + acme}}), sx.Up.URL)
	sx.Up.SetDown(true)
	b.Get(cb).Shows(http.StatusOK, "Errors.SSO.Upstream")
	// Down before the trip (discovery forgotten): the retry page, which
	// retries once the upstream is back.
	sx.C.Upstream.Forget(sx.Up.URL)
	p := b.Post(PathLogin, url.Values{"email": {"x@" + acme}}).Shows(http.StatusOK, "Errors.SSO.Upstream")
	if !strings.Contains(p.Body, `value="x@`+acme+`"`) {
		t.Fatal("the retry form lost the address")
	}
	sx.Up.SetDown(false)
	b.Get(b.Upstream(b.Post(PathSSOStart, url.Values{"email": {"x@" + acme}}), sx.Up.URL)).Redirects(PathHome)
}

func TestCompanySignInRouting(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	sx.User("known@"+acme, &sx.Org, storage.RoleUser)
	b := sx.Browser()
	// Known and unknown addresses of the domain get the same answer: the
	// upstream, with nothing told about the account.
	for _, email := range []string{"known@" + acme, "unknown@" + acme} {
		p := b.Post(PathLogin, url.Values{"email": {email}, "password": {"whatever"}})
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, sx.Up.URL+"/authorize?") {
			t.Fatalf("%s: %d %q", email, p.Status, p.Location)
		}
	}
	// Another domain takes the password path.
	b.Post(PathLogin, url.Values{"email": {"x@elsewhere.example"}, "password": {"whatever"}}).Shows(http.StatusUnauthorized, "Errors.Login.Invalid")
	// The company button with an address of no connected domain says so.
	b.Post(PathLogin, url.Values{"email": {"x@elsewhere.example"}, "method": {"company"}}).Shows(http.StatusBadRequest, "Errors.SSO.NoRoute")
	// A login_hint of a connected domain goes straight upstream.
	ar := sx.AuthRequest(func(a *storage.AuthRequest) { a.LoginHint = "someone@" + acme })
	p := b.Get(PathLogin + "?authRequestID=" + ar.ID)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, sx.Up.URL+"/authorize?") {
		t.Fatalf("login_hint: %d %q", p.Status, p.Location)
	}
	// The password form is still there for whoever asks for it (no enforce).
	b.Post(PathLogin, url.Values{"email": {"known@" + acme}, "password": {testPassword}, "method": {"password"}}).Redirects(PathHome)
	// Without CSRF, nothing is routed.
	sx.Browser().PostRaw(PathSSOStart, url.Values{"email": {"known@" + acme}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
}

func TestCompanySignInEnforce(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.User("member@"+acme, &sx.Org, storage.RoleUser)
	sx.Connect(func(in *ConnectionInput) { in.Enforce, in.BreakGlass = true, sx.Admin.ID })
	// A right password is refused for the organization's domain…
	sx.Browser().Post(PathLogin, url.Values{"email": {"member@" + acme}, "password": {testPassword}, "method": {"password"}}).
		Shows(http.StatusForbidden, "Errors.SSO.Enforced")
	// …and a wrong one gets the same answer (no password oracle:
	// TestEnforcedDomainIsNoPasswordOracle)…
	sx.Browser().Post(PathLogin, url.Values{"email": {"member@" + acme}, "password": {"wrong password!"}, "method": {"password"}}).
		Shows(http.StatusForbidden, "Errors.SSO.Enforced")
	// …and the break-glass admin still signs in with theirs.
	sx.Browser().Post(PathLogin, url.Values{"email": {"admin@" + acme}, "password": {testPassword}, "method": {"password"}}).Redirects(PathHome)
	if !slices.Contains(sx.Events(), "signin.succeeded") {
		t.Fatal("the break-glass admin did not sign in")
	}
}

func TestCompanySignInSecondFactor(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(func(in *ConnectionInput) { in.SufficientACR = []string{"phr"} })
	if err := sx.Store.UpdateOrganization(context.Background(), sx.Org.ID, func(o *storage.Organization) error {
		o.RequireMFA = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The upstream proved one factor: Sesame asks for its own (enrolment).
	sx.Up.SetIdentity(ssotest.Identity{Subject: "a", Email: "a@" + acme, EmailVerified: true, AMR: []string{"pwd"}})
	sx.Browser().SSO("a@"+acme, nil, sx.Up.URL).Redirects(PathLoginEnrol)
	// amr with mfa, or a sufficient acr: the policy is met upstream.
	for i, id := range []ssotest.Identity{
		{Subject: "b", Email: "b@" + acme, EmailVerified: true, AMR: []string{"pwd", "otp", "mfa"}},
		{Subject: "c", Email: "c@" + acme, EmailVerified: true, ACR: "phr"},
	} {
		sx.Up.SetIdentity(id)
		ar := sx.AuthRequest(nil)
		p := sx.Browser().SSO(id.Email, &ar, sx.Up.URL)
		if p.Status != http.StatusFound {
			t.Fatalf("%d: %d %s", i, p.Status, excerpt(p.Body))
		}
		got := sx.Answered()[len(sx.Answered())-1]
		if !slices.Contains(got.AMR, "mfa") {
			t.Fatalf("%d: amr %v", i, got.AMR)
		}
	}
	// A member with Sesame's own second factor is asked for it.
	u := sx.User("d@"+acme, &sx.Org, storage.RoleUser)
	secret, _ := sx.TOTP(u)
	sx.Up.SetIdentity(ssotest.Identity{Subject: "d", Email: "d@" + acme, EmailVerified: true, AMR: []string{"pwd"}})
	b := sx.Browser()
	b.SSO("d@"+acme, nil, sx.Up.URL).Redirects(PathLoginCode)
	b.Post(PathLoginCode, url.Values{"code": {sx.Code(secret)}}).Redirects(PathHome)
}

// TestCompanySignInEnforceCoversLinks: under --enforce, an invitation's
// set-password link leads to the gate like a password, and is refused
// there: no session starts.
func TestCompanySignInEnforceCoversLinks(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	if _, err := sx.H.Accounts.Invite(context.Background(), Actor{ID: sx.Admin.ID}, sx.Org.ID, "new@"+acme, "", "en",
		[]string{storage.RoleUser}); err != nil {
		t.Fatal(err)
	}
	sx.Connect(func(in *ConnectionInput) { in.Enforce = true })
	link := sx.Link("new@"+acme, PathSetPassword)
	token := mustQuery(t, link, "token")
	b := sx.Browser()
	b.Get(link)
	b.Post(PathSetPassword, newPasswordForm(token)).Shows(http.StatusForbidden, "Errors.SSO.Enforced")
	if b.cookie(vocab.SessionCookieName(false)) != "" {
		t.Fatal("a session started")
	}
}

// TestCompanySignInPasskeyPolicy: an upstream second factor does not meet
// a "passkeys only" organization: Sesame asks for a passkey of its own.
func TestCompanySignInPasskeyPolicy(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	if err := sx.Store.UpdateOrganization(context.Background(), sx.Org.ID, func(o *storage.Organization) error {
		o.RequirePasskey = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sx.Up.SetIdentity(ssotest.Identity{Subject: "p", Email: "p@" + acme, EmailVerified: true, AMR: []string{"pwd", "mfa"}})
	sx.Browser().SSO("p@"+acme, nil, sx.Up.URL).Redirects(PathLoginPasskeyEnrol)
	if slices.Contains(sx.Events(), "signin.succeeded") {
		t.Fatal("signed in without the passkey the policy requires")
	}
}
