package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// The consent step for third-party applications (consent.go) and the
// authorized applications of the security settings (consent_settings.go).

// thirdParty registers a third-party client and returns it.
func (hx *harness) thirdParty(id, name string) storage.Client {
	hx.t.Helper()
	c := storage.Client{ID: id, Name: name, RedirectURIs: []string{"https://" + id + ".example/cb"}, CreatedAt: hx.Clock.Now(),
		Protocol: storage.ClientProtocol{ThirdParty: true}}
	if err := hx.Store.CreateClient(context.Background(), c); err != nil {
		hx.t.Fatal(err)
	}
	return c
}

// requestOf is an authorization request of client c with scopes and prompt.
func (hx *harness) requestOf(c storage.Client, scopes []string, prompt ...string) storage.AuthRequest {
	return hx.AuthRequest(func(a *storage.AuthRequest) {
		a.ClientID, a.RedirectURI, a.Scopes, a.Prompt, a.State = c.ID, c.RedirectURIs[0], scopes, prompt, "state-"+c.ID
	})
}

// answer checks a redirect to the relying party and returns its query.
func (p *page) answer(c storage.Client) url.Values {
	p.t.Helper()
	if p.Status != http.StatusFound && p.Status != http.StatusSeeOther {
		p.t.Fatalf("status %d, want the answer to %s; body: %s", p.Status, c.ID, excerpt(p.Body))
	}
	u, err := url.Parse(p.Location)
	if err != nil || "https://"+u.Host+u.Path != c.RedirectURIs[0] {
		p.t.Fatalf("redirect to %q, want %s", p.Location, c.RedirectURIs[0])
	}
	q := u.Query()
	if q.Get("state") != "state-"+c.ID {
		p.t.Fatalf("the answer lost the state: %q", p.Location)
	}
	return q
}

func (hx *harness) consentOf(userID, clientID string) (storage.Consent, bool) {
	hx.t.Helper()
	c, err := hx.Store.GetConsent(context.Background(), userID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return c, false
	}
	if err != nil {
		hx.t.Fatal(err)
	}
	return c, true
}

func signInFor(b *browser, ar storage.AuthRequest, email string) *page {
	b.t.Helper()
	return b.Post(PathLogin, url.Values{"authRequestID": {ar.ID}, "email": {email}, "password": {testPassword}})
}

func TestConsentAllowRememberAndAskAgain(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	ada := hx.User("ada@acme.example", &org, storage.RoleUser)
	tp := hx.thirdParty("partner", "Partner App")
	b := hx.Browser()

	// After the gate: the consent page, not the relying party.
	ar := hx.requestOf(tp, []string{"openid", "profile", "email", "organization", "offline_access", "custom:thing"})
	signInFor(b, ar, ada.Email).Redirects(PathConsent)
	if len(hx.Answered()) != 0 {
		t.Fatal("the third party was answered before the person consented")
	}
	if got, _ := hx.Store.GetAuthRequest(context.Background(), ar.ID); got.Done {
		t.Fatal("the request is marked answered before consent")
	}
	page := b.Get(PathConsent).Shows(200, "Consent.Title")
	for _, key := range []string{"Consent.Scope.openid", "Consent.Scope.profile", "Consent.Scope.email", "Consent.Scope.organization",
		"Consent.Scope.offline_access", "Consent.Scope.Other", "Consent.ThirdParty", "Consent.Allow", "Consent.Deny"} {
		if !page.Says(key) {
			t.Errorf("the consent page does not say %s", key)
		}
	}
	if !strings.Contains(page.Body, "Partner App") || !strings.Contains(page.Body, "custom:thing") || !strings.Contains(page.Body, ada.Email) {
		t.Errorf("the page names neither the application, the unknown scope nor the person: %s", excerpt(page.Body))
	}
	if page.Says("Consent.Again") {
		t.Error("a first consent says 'again'")
	}
	// Showing the page changes nothing.
	if _, ok := hx.consentOf(ada.ID, tp.ID); ok {
		t.Fatal("GET stored a consent")
	}
	q := b.Post(PathConsent, url.Values{"decision": {"allow"}}).answer(tp)
	if q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("allow: %v", q)
	}
	c, ok := hx.consentOf(ada.ID, tp.ID)
	if !ok || !slices.Equal(c.Scopes, ar.Scopes) {
		t.Fatalf("consent stored: %+v %v", c, ok)
	}
	if got := hx.Answered(); len(got) != 1 || got[0].ID != ar.ID || got[0].UserID != ada.ID {
		t.Fatalf("answered: %+v", got)
	}
	// The ticket served once: posting again is refused.
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).Shows(400, "Errors.Consent.Expired")

	// Remembered: the same scopes (or fewer) through single sign-on, not asked.
	q = b.Get(loginURL(hx.requestOf(tp, []string{"openid", "email"}))).answer(tp)
	if q.Get("code") == "" {
		t.Fatalf("a remembered consent was asked again: %v", q)
	}
	// prompt=none with the consent: answered too.
	if q := b.Get(loginURL(hx.requestOf(tp, []string{"openid"}, "none"))).answer(tp); q.Get("code") == "" {
		t.Fatalf("prompt=none with consent: %v", q)
	}

	// More scopes: asked again, the page says so; allowing keeps the union.
	more := hx.requestOf(tp, []string{"openid", "phone"})
	b.Get(loginURL(more)).Redirects(PathConsent)
	if p := b.Get(PathConsent).Shows(200, "Consent.Again"); !strings.Contains(p.Body, "phone") {
		t.Fatalf("the new scope is not shown: %s", excerpt(p.Body))
	}
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).answer(tp)
	c, _ = hx.consentOf(ada.ID, tp.ID)
	if !slices.Contains(c.Scopes, "phone") || !slices.Contains(c.Scopes, "organization") {
		t.Fatalf("the consent lost scopes: %v", c.Scopes)
	}

	// prompt=consent asks although everything was allowed.
	b.Get(loginURL(hx.requestOf(tp, []string{"openid"}, "consent"))).Redirects(PathConsent)
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).answer(tp)

	if ev := hx.Events(); !slices.Contains(ev, "consent.granted") {
		t.Errorf("no consent.granted event: %v", ev)
	}
}

func loginURL(ar storage.AuthRequest) string {
	return PathLogin + "?authRequestID=" + url.QueryEscape(ar.ID)
}

func TestConsentDenyAndPromptNone(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	ada := hx.User("ada@acme.example", &org, storage.RoleUser)
	tp := hx.thirdParty("partner", "Partner App")
	b := hx.Browser()

	ar := hx.requestOf(tp, []string{"openid", "email"})
	signInFor(b, ar, ada.Email).Redirects(PathConsent)
	q := b.Post(PathConsent, url.Values{"decision": {"deny"}}).answer(tp)
	if q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("deny: %v", q)
	}
	if _, ok := hx.consentOf(ada.ID, tp.ID); ok {
		t.Fatal("a denial stored a consent")
	}
	if got, _ := hx.Store.GetAuthRequest(context.Background(), ar.ID); !got.Done || got.Error != "access_denied" {
		t.Fatalf("the denied request: %+v", got)
	}
	// The ticket is spent: the request cannot be allowed after all.
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).Shows(400, "Errors.Consent.Expired")

	// prompt=none, signed in, no consent: consent_required, no page.
	q = b.Get(loginURL(hx.requestOf(tp, []string{"openid"}, "none"))).answer(tp)
	if q.Get("error") != "consent_required" {
		t.Fatalf("prompt=none without consent: %v", q)
	}
	if ev := hx.Events(); !slices.Contains(ev, "consent.denied") {
		t.Errorf("no consent.denied event: %v", ev)
	}
}

func TestConsentFirstPartyNeverAsked(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	ada := hx.User("ada@acme.example", &org, storage.RoleUser)
	b := hx.Browser()
	first := hx.client // registered without --third-party
	ar := hx.AuthRequest(func(a *storage.AuthRequest) {
		a.Scopes = []string{"openid", "email", "offline_access"}
		a.Prompt = []string{"consent"}
	})
	p := signInFor(b, ar, ada.Email)
	if p.Status != http.StatusFound || !strings.HasPrefix(p.Location, first.RedirectURIs[0]+"?") || !strings.Contains(p.Location, "code=") {
		t.Fatalf("a first-party client was not answered at once: %d %s", p.Status, p.Location)
	}
	b.Get(PathConsent).Shows(400, "Errors.Consent.Expired")
	if _, ok := hx.consentOf(ada.ID, first.ID); ok {
		t.Fatal("a first-party client got a consent record")
	}
}

// TestConsentAfterTheGate: consent is a step after the gate's proofs,
// never a way around them; its ticket is bound to the session and the
// request, and every misuse of it is refused.
func TestConsentAfterTheGate(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	ada := hx.User("ada@acme.example", &org, storage.RoleUser)
	bob := hx.User("bob@acme.example", &org, storage.RoleUser)
	secret, _ := hx.TOTP(ada)
	tp := hx.thirdParty("partner", "Partner App")

	// The password alone leads to the code, not to consent.
	b := hx.Browser()
	ar := hx.requestOf(tp, []string{"openid"})
	signInFor(b, ar, ada.Email).Redirects(PathLoginCode)
	b.Get(PathConsent).Shows(400, "Errors.Consent.Expired")
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).Shows(400, "Errors.Consent.Expired")
	b.Post(PathLoginCode, url.Values{"code": {hx.Code(secret)}}).Redirects(PathConsent)

	// CSRF: a post without the token, or with another, is refused and
	// answers nothing; the ticket still works after.
	b.PostRaw(PathConsent, url.Values{"decision": {"allow"}}).Shows(403, "Errors.Request.CSRF")
	b.PostRaw(PathConsent, url.Values{"decision": {"allow"}, "csrf_token": {strings.Repeat("x", 43)}}).Shows(403, "Errors.Request.CSRF")
	b.Post(PathConsent, url.Values{"decision": {"maybe"}}).Shows(400, "Errors.Request.Invalid")
	b.Post(PathConsent, url.Values{}).Shows(400, "Errors.Request.Invalid")
	if len(hx.Answered()) != 0 {
		t.Fatal("a refused post answered the request")
	}
	if _, ok := hx.consentOf(ada.ID, tp.ID); ok {
		t.Fatal("a refused post stored a consent")
	}

	// The ticket carried to another browser, signed in as bob: refused
	// (it names ada's session), and nothing is answered for bob.
	thief := hx.Browser()
	thief.SignIn(bob.Email, "")
	u, _ := url.Parse(hx.URL)
	thief.c.Jar.SetCookies(u, []*http.Cookie{{Name: consentCookie, Value: b.cookie(consentCookie)}})
	thief.Get(PathConsent).Shows(400, "Errors.Consent.Expired")
	thief.Post(PathConsent, url.Values{"decision": {"allow"}}).Shows(400, "Errors.Consent.Expired")
	// A forged ticket is refused.
	forged := hx.Browser()
	forged.SignIn(bob.Email, "")
	forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: consentCookie, Value: "bm90IGEgdGlja2V0"}})
	forged.Get(PathConsent).Shows(400, "Errors.Consent.Expired")

	// The ticket's session ends: refused.
	b2 := hx.Browser()
	ar2 := hx.requestOf(tp, []string{"openid"})
	signInFor(b2, ar2, bob.Email).Redirects(PathConsent)
	b2.Post(PathLogout, url.Values{}) // ends the session
	b2.Post(PathConsent, url.Values{"decision": {"allow"}}).Shows(400, "Errors.Consent.Expired")

	// The ticket expires with time.
	hx.Clock.Add(consentLifetime + time.Second)
	b.Get(PathConsent).Shows(400, "Errors.Consent.Expired")
	if len(hx.Answered()) != 0 {
		t.Fatalf("answered: %+v", hx.Answered())
	}
}

func TestConsentNotAfterTheRequestExpired(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	ada := hx.User("ada@op.example", nil)
	tp := hx.thirdParty("partner", "Partner App")
	b := hx.Browser()
	ar := hx.AuthRequest(func(a *storage.AuthRequest) {
		a.ClientID, a.RedirectURI, a.ExpiresAt = tp.ID, tp.RedirectURIs[0], hx.Clock.Now().Add(time.Minute)
	})
	signInFor(b, ar, ada.Email).Redirects(PathConsent)
	hx.Clock.Add(2 * time.Minute)
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).Shows(400, "Errors.AuthRequest.Unknown")
	if _, ok := hx.consentOf(ada.ID, tp.ID); ok {
		t.Fatal("a consent was stored for an expired request")
	}
}

func TestAuthorizedApplicationsRevoke(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	ctx := context.Background()
	org := hx.Org("Acme", storage.OrgValidated)
	ada := hx.User("ada@acme.example", &org, storage.RoleUser)
	bob := hx.User("bob@acme.example", &org, storage.RoleUser)
	tp := hx.thirdParty("partner", "Partner App")
	other := hx.thirdParty("other", "Other App")

	b := hx.Browser()
	signInFor(b, hx.requestOf(tp, []string{"openid", "email"}), ada.Email).Redirects(PathConsent)
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).answer(tp)
	b.Get(loginURL(hx.requestOf(other, []string{"openid"}))).Redirects(PathConsent)
	b.Post(PathConsent, url.Values{"decision": {"allow"}}).answer(other)
	bb := hx.Browser()
	signInFor(bb, hx.requestOf(tp, []string{"openid"}), bob.Email).Redirects(PathConsent)
	bb.Post(PathConsent, url.Values{"decision": {"allow"}}).answer(tp)

	// Tokens the applications hold: ada's with both, bob's with partner.
	now := hx.Clock.Now()
	issue := func(user, client string) (storage.AccessToken, storage.RefreshToken) {
		a := storage.AccessToken{ID: storage.NewID("at"), GrantID: storage.NewID("g"), ClientID: client, UserID: user, Scopes: []string{"openid"},
			Audience: []string{client}, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		r := storage.RefreshToken{ID: storage.NewID("rt"), Hash: storage.HashToken(storage.NewSecret()), GrantID: a.GrantID, ClientID: client,
			UserID: user, Scopes: a.Scopes, Audience: a.Audience, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		if err := hx.Store.CreateTokens(ctx, a, &r); err != nil {
			t.Fatal(err)
		}
		return a, r
	}
	adaTP, adaTPR := issue(ada.ID, tp.ID)
	adaOther, _ := issue(ada.ID, other.ID)
	bobTP, bobTPR := issue(bob.ID, tp.ID)

	// The settings list both, by name, with what they receive.
	page := b.Get(PathSecurity).Shows(200, "Consent.Section")
	for _, want := range []string{"Partner App", "Other App", "/account/security/applications/partner/revoke"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the settings do not show %q", want)
		}
	}
	if !page.Says("Consent.Scope.email") {
		t.Error("the settings do not say what the application receives")
	}
	if hx.Browser().Get(PathSecurity).Status != http.StatusSeeOther {
		t.Error("the settings without a session")
	}

	// Bob cannot revoke ada's consent to "other" (he has none of his own).
	bb.Post(PathSecurity+"/applications/other/revoke", url.Values{}).Shows(404, "Errors.Request.NotFound")
	if _, ok := hx.consentOf(ada.ID, other.ID); !ok {
		t.Fatal("bob revoked ada's consent")
	}
	if _, err := hx.Store.GetAccessToken(ctx, adaOther.ID); err != nil {
		t.Fatal("bob's refused revocation ended ada's token")
	}
	// Unknown client, hostile ids, no CSRF token: refused, nothing touched.
	b.Post(PathSecurity+"/applications/nobody/revoke", url.Values{}).Shows(404, "Errors.Request.NotFound")
	b.Post(PathSecurity+"/applications/"+url.PathEscape("partner' OR '1'='1")+"/revoke", url.Values{}).Shows(404, "Errors.Request.NotFound")
	b.Post(PathSecurity+"/applications/"+strings.Repeat("a", 5000)+"/revoke", url.Values{}).Shows(404, "Errors.Request.NotFound")
	b.PostRaw(PathSecurity+"/applications/partner/revoke", url.Values{}).Shows(403, "Errors.Request.CSRF")
	if _, ok := hx.consentOf(ada.ID, tp.ID); !ok {
		t.Fatal("a refused revocation removed the consent")
	}
	// A GET on the revocation does nothing.
	if p := b.Get(PathSecurity + "/applications/partner/revoke"); p.Status < 400 {
		t.Fatalf("GET revoke: %d", p.Status)
	}

	// Ada revokes partner: its consent and ada's tokens go, bob's stay.
	b.Post(PathSecurity+"/applications/partner/revoke", url.Values{}).Redirects(PathSecurity)
	if p := b.Get(PathSecurity + "?done=consent-revoked"); !p.Says("Consent.Notice.Revoked") || strings.Contains(p.Body, "Partner App") {
		t.Fatalf("after revocation: %s", excerpt(p.Body))
	}
	if _, ok := hx.consentOf(ada.ID, tp.ID); ok {
		t.Fatal("the consent is still there")
	}
	if _, err := hx.Store.GetAccessToken(ctx, adaTP.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ada's access token survived: %v", err)
	}
	if _, err := hx.Store.GetRefreshToken(ctx, adaTPR.Hash); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ada's refresh token survived: %v", err)
	}
	if _, err := hx.Store.GetAccessToken(ctx, adaOther.ID); err != nil {
		t.Fatalf("the other application's token ended: %v", err)
	}
	if _, err := hx.Store.GetAccessToken(ctx, bobTP.ID); err != nil {
		t.Fatalf("bob's token ended: %v", err)
	}
	if _, err := hx.Store.GetRefreshToken(ctx, bobTPR.Hash); err != nil {
		t.Fatalf("bob's refresh token ended: %v", err)
	}
	// Revoking twice: not found. The next request asks again.
	b.Post(PathSecurity+"/applications/partner/revoke", url.Values{}).Shows(404, "Errors.Request.NotFound")
	b.Get(loginURL(hx.requestOf(tp, []string{"openid"}))).Redirects(PathConsent)
	if ev := hx.Events(); !slices.Contains(ev, "consent.revoked") {
		t.Errorf("no consent.revoked event: %v", ev)
	}
}

func TestConsentPageLanguages(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	ada := hx.User("ada@op.example", nil)
	tp := hx.thirdParty("partner", "Partner App")
	b := hx.Browser()
	signInFor(b, hx.requestOf(tp, []string{"openid", "email"}), ada.Email).Redirects(PathConsent)
	req, _ := http.NewRequest(http.MethodGet, hx.URL+PathConsent+"?lang=fr", nil)
	p := b.do(req)
	for _, key := range []string{"Consent.Title", "Consent.Scope.email", "Consent.Allow", "Consent.Deny"} {
		if msg := pages.T("fr", key); !strings.Contains(p.Body, msg) && !strings.Contains(p.Body, strings.ReplaceAll(msg, "'", "&#39;")) {
			t.Errorf("the French page lacks %s (%q)", key, msg)
		}
	}
	if !strings.Contains(p.Body, `lang="fr"`) {
		t.Error("the page is not in French")
	}
}

// TestConsoleThirdPartyApplication: the console's Applications page
// registers a third party (and refuses one that no person signs in to).
func TestConsoleThirdPartyApplication(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	withClientHash(hx)
	op := hx.User("op@sesame.example", nil)
	b := hx.Browser()
	b.SignIn(op.Email, "")
	if p := b.Get(PathApplications); !p.Says("Applications.ThirdParty") || !strings.Contains(p.Body, `name="third_party"`) {
		t.Fatalf("the form has no third-party choice: %s", excerpt(p.Body))
	}
	b.Post(PathApplications, url.Values{"id": {"m2m"}, "kind": {"confidential"}, "grant_client_credentials": {"1"},
		"scope": {"sesame:audit:read"}, "third_party": {"1"}}).Shows(http.StatusBadRequest, "Errors.Clients.ThirdParty")
	b.Post(PathApplications, url.Values{"id": {"partner"}, "name": {"Partner"}, "kind": {"confidential"}, "grant_code": {"1"},
		"redirect_uris": {"https://partner.example/cb"}, "third_party": {"1"}}).Shows(http.StatusOK, "Applications.Notice.Registered")
	b.Post(PathApplications, url.Values{"id": {"inhouse"}, "kind": {"confidential"}, "grant_code": {"1"},
		"redirect_uris": {"https://inhouse.example/cb"}}).Shows(http.StatusOK, "Applications.Notice.Registered")
	for id, want := range map[string]bool{"partner": true, "inhouse": false} {
		c, err := hx.Store.GetClient(context.Background(), id)
		if err != nil || c.Protocol.ThirdParty != want {
			t.Errorf("%s: third party %v, want %v (%v)", id, c.Protocol.ThirdParty, want, err)
		}
	}
	if p := b.Get(PathApplications); !p.Says("Applications.ThirdPartyChip") {
		t.Error("the list does not mark the third party")
	}
}

// TestConsentAfterEnrolment: a sign-in that enrols its second factor
// (the organization requires one) shows the recovery codes first, whose
// link leads to the consent step, not to the relying party.
func TestConsentAfterEnrolment(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	if err := hx.Store.UpdateOrganization(context.Background(), org.ID, func(o *storage.Organization) error {
		o.RequireMFA = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ada := hx.User("ada@acme.example", &org, storage.RoleUser)
	tp := hx.thirdParty("partner", "Partner App")
	b := hx.Browser()
	ar := hx.requestOf(tp, []string{"openid"})
	signInFor(b, ar, ada.Email).Redirects(PathLoginEnrol)
	setup := b.Get(PathLoginEnrol)
	p := b.Post(PathLoginEnrol, url.Values{"enrolment": {setup.Field("enrolment")}, "code": {hx.Code(setupSecret(t, setup))}}).
		Shows(http.StatusOK, "Recovery.Enabled")
	if !strings.Contains(p.Body, `href="`+PathConsent+`"`) || strings.Contains(p.Body, "/callback?id=") {
		t.Fatalf("the recovery page does not lead to the consent step: %s", excerpt(p.Body))
	}
	if got, _ := hx.Store.GetAuthRequest(context.Background(), ar.ID); got.Done {
		t.Fatal("the request was answered before consent")
	}
	b.Get(PathConsent).Shows(http.StatusOK, "Consent.Title")
	q := b.Post(PathConsent, url.Values{"decision": {"allow"}}).answer(tp)
	if q.Get("code") == "" {
		t.Fatalf("allow after enrolment: %v", q)
	}
	if got := hx.Answered(); len(got) != 1 || !slices.Contains(got[0].AMR, "mfa") {
		t.Fatalf("the answer does not carry the enrolled factor: %+v", got)
	}
}

// TestConsentAllowedOnce: concurrent Allow posts of one ticket answer the
// request once; the others are refused.
func TestConsentAllowedOnce(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	ada := hx.User("ada@op.example", nil)
	tp := hx.thirdParty("partner", "Partner App")
	b := hx.Browser()
	signInFor(b, hx.requestOf(tp, []string{"openid"}), ada.Email).Redirects(PathConsent)
	csrf := b.csrf()
	results := make(chan int, 4)
	for range 4 {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, hx.URL+PathConsent,
				strings.NewReader(url.Values{"decision": {"allow"}, "csrf_token": {csrf}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := b.c.Do(req)
			if err != nil {
				results <- 0
				return
			}
			res.Body.Close()
			results <- res.StatusCode
		}()
	}
	answered := 0
	for range 4 {
		switch s := <-results; s {
		case http.StatusFound:
			answered++
		case http.StatusBadRequest:
		default:
			t.Errorf("a concurrent allow: %d", s)
		}
	}
	if answered != 1 || len(hx.Answered()) != 1 {
		t.Fatalf("answered %d times (provider handed %d)", answered, len(hx.Answered()))
	}
}
