package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/login/sso/ssotest"
	"github.com/sesame-idp/sesame/storage"
)

// The callback read as an attacker: each attempt is kept here (the
// replayed callback, a callback without a trip, a forged cookie and a
// wrong nonce are in TestCompanySignInBadCallbacks and
// TestCompanySignInRefusals).

// noSignIn fails when anything signed in.
func (sx *ssoHarness) noSignIn(t *testing.T) {
	t.Helper()
	if n := len(sx.Answered()); n != 0 || slices.Contains(sx.Events(), "signin.succeeded") {
		t.Fatalf("signed in: %v", sx.Events())
	}
}

// TestSSOAttackStateOfAnotherBrowser: a browser that opens the callback
// of another browser's trip (the attacker's link in the victim's browser,
// or the victim's URL in the attacker's) is refused, and neither trip is
// spent by the attempt.
func TestSSOAttackStateOfAnotherBrowser(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	sx.Up.SetIdentity(ssotest.Identity{Subject: "a", Email: "alice@" + acme, EmailVerified: true})
	alice := sx.Browser()
	aliceCB := alice.Upstream(alice.Post(PathLogin, url.Values{"email": {"alice@" + acme}}), sx.Up.URL)
	sx.Up.SetIdentity(ssotest.Identity{Subject: "m", Email: "mallory@" + acme, EmailVerified: true})
	mallory := sx.Browser()
	malloryCB := mallory.Upstream(mallory.Post(PathLogin, url.Values{"email": {"mallory@" + acme}}), sx.Up.URL)

	// Each browser opens the other's callback: refused, nothing signed in.
	mallory.Get(aliceCB).Shows(http.StatusBadRequest, "Errors.SSO.State")
	alice.Get(malloryCB).Shows(http.StatusBadRequest, "Errors.SSO.State")
	sx.noSignIn(t)
	// Each trip is intact: its own browser finishes it, as itself.
	alice.Get(aliceCB).Redirects(PathHome)
	mallory.Get(malloryCB).Redirects(PathHome)
	for who, b := range map[string]*browser{"alice": alice, "mallory": mallory} {
		p := b.Get(PathHome)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, who+"@"+acme) {
			t.Fatalf("%s's home: %d %s", who, p.Status, excerpt(p.Body))
		}
	}
}

// TestSSOAttackCodeOfAnotherTrip: the code of one trip pasted into another
// trip's callback (its state and cookie right) is refused by the
// upstream's PKCE check (the verifier is the other trip's).
func TestSSOAttackCodeOfAnotherTrip(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	sx.Up.SetIdentity(ssotest.Identity{Subject: "a", Email: "alice@" + acme, EmailVerified: true})
	alice := sx.Browser()
	aliceCB, _ := url.Parse(alice.Upstream(alice.Post(PathLogin, url.Values{"email": {"alice@" + acme}}), sx.Up.URL))
	mallory := sx.Browser()
	malloryCB, _ := url.Parse(mallory.Upstream(mallory.Post(PathLogin, url.Values{"email": {"mallory@" + acme}}), sx.Up.URL))
	q := malloryCB.Query()
	q.Set("code", aliceCB.Query().Get("code"))
	mallory.Get(PathSSOCallback+"?"+q.Encode()).Shows(http.StatusUnauthorized, "Errors.SSO.Token")
	sx.noSignIn(t)
}

// TestSSOAttackEmailVerified: only a JSON true, or the string "true" that
// some providers send, proves the address; every other spelling is
// refused.
func TestSSOAttackEmailVerified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value any
		ok    bool
	}{
		{true, true}, {"true", true},
		{false, false}, {"false", false}, {"True", false}, {"TRUE", false}, {"1", false}, {1, false}, {"yes", false},
		{" true", false}, {[]any{true}, false}, {map[string]any{"value": true}, false}, {nil, false},
	}
	sx := newSSOHarness(t)
	sx.Connect(nil)
	for i, tt := range tests {
		email := "v" + string(rune('a'+i)) + "@" + acme
		sx.Up.SetIdentity(ssotest.Identity{Subject: email, Email: email, EmailVerified: tt.value})
		p := sx.Browser().SSO(email, nil, sx.Up.URL)
		if tt.ok {
			p.Redirects(PathHome)
		} else {
			p.Shows(http.StatusForbidden, "Errors.SSO.EmailUnverified")
			if _, err := sx.Store.GetPersonByEmail(context.Background(), email); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("email_verified %#v: an account was made (%v)", tt.value, err)
			}
		}
	}
}

// TestSSOAttackEmailSpelling: an upstream address spelt with capitals or
// a final dot in its domain is the same address: it signs the existing
// member in (never a second account beside theirs), and a new person's
// account gets the domain's normal form. An address whose domain does not
// normalise is refused.
func TestSSOAttackEmailSpelling(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	ctx := context.Background()
	sx.User("jeanne@"+acme, &sx.Org, storage.RoleAdmin)
	for _, spelt := range []string{"Jeanne@ACME.Example", "jeanne@acme.example.", "JEANNE@Acme.Example."} {
		sx.Up.SetIdentity(ssotest.Identity{Subject: "j", Email: spelt, EmailVerified: true})
		b := sx.Browser()
		b.SSO("jeanne@"+acme, nil, sx.Up.URL).Redirects(PathHome)
		if p := b.Get(PathHome); !strings.Contains(p.Body, "jeanne@"+acme) {
			t.Fatalf("%s: home %d %s", spelt, p.Status, excerpt(p.Body))
		}
	}
	sx.Up.SetIdentity(ssotest.Identity{Subject: "p", Email: "Paul@ACME.example.", EmailVerified: true})
	sx.Browser().SSO("paul@"+acme, nil, sx.Up.URL).Redirects(PathHome)
	sx.Up.SetIdentity(ssotest.Identity{Subject: "p", Email: "paul@" + acme, EmailVerified: true})
	sx.Browser().SSO("paul@"+acme, nil, sx.Up.URL).Redirects(PathHome)
	users, err := sx.Store.ListUsers(ctx, sx.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, u := range users {
		emails = append(emails, u.Email)
	}
	slices.Sort(emails)
	if want := []string{"Paul@" + acme, "admin@" + acme, "jeanne@" + acme}; !slices.Equal(emails, want) {
		t.Fatalf("members %q, want %q", emails, want)
	}
	for _, bad := range []string{"x@acme.example..", "x@.acme.example", "x@acme..example"} {
		sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: bad, EmailVerified: true})
		sx.Browser().SSO("x@"+acme, nil, sx.Up.URL).Shows(http.StatusForbidden, "Errors.SSO.EmailOutside")
	}
}

// TestSSOAttackIssuerMismatch: an upstream whose discovery names another
// issuer is refused when the connection is saved, and, once saved, sends
// nobody anywhere (the retry page); an ID token of another issuer, or for
// another client, is refused at the callback.
func TestSSOAttackIssuerMismatch(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	ctx := context.Background()
	sx.Up.SetIdentity(ssotest.Identity{Subject: "x", Email: "x@" + acme, EmailVerified: true})
	// The discovery now names another issuer: saving the connection again
	// is refused, and the connection saved before sends nobody upstream.
	sx.Up.SetDiscoveredIssuer("https://evil.example")
	sx.C.Upstream.Forget(sx.Up.URL)
	_, err := sx.C.SetConnection(ctx, cliActor, sx.Org.ID,
		ConnectionInput{Issuer: sx.Up.URL, ClientID: sx.Up.ClientID, ClientSecret: sx.Up.ClientSecret})
	if fail.KeyOf(err) != "Errors.SSO.Discovery" {
		t.Fatalf("saved with a discovery naming another issuer: %v", err)
	}
	sx.C.Upstream.Forget(sx.Up.URL)
	p := sx.Browser().Post(PathLogin, url.Values{"email": {"x@" + acme}}).Shows(http.StatusOK, "Errors.SSO.Upstream")
	if p.Location != "" {
		t.Fatalf("sent to %q", p.Location)
	}
	sx.Up.SetDiscoveredIssuer("")
	sx.C.Upstream.Forget(sx.Up.URL)
	// ID tokens of another issuer, or for another client: refused.
	sx.Up.SetTokenIssuer("https://evil.example")
	sx.Browser().SSO("x@"+acme, nil, sx.Up.URL).Shows(http.StatusUnauthorized, "Errors.SSO.Token")
	sx.Up.SetTokenIssuer("")
	sx.Up.SetAudience("another-client")
	sx.Browser().SSO("x@"+acme, nil, sx.Up.URL).Shows(http.StatusUnauthorized, "Errors.SSO.Token")
	sx.noSignIn(t)
	sx.Up.SetAudience("")
	sx.Browser().SSO("x@"+acme, nil, sx.Up.URL).Redirects(PathHome)
}
