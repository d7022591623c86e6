package login

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

func withClientHash(hx *harness) {
	hx.H.Accounts.HashClientSecret = func(s string) (string, error) {
		sum := sha256.Sum256([]byte("test:" + s))
		return "$test$" + base64.RawStdEncoding.EncodeToString(sum[:]), nil
	}
}

var secretShown = regexp.MustCompile(`id="new-secret" type="text" readonly value="([A-Za-z0-9_-]{40,})"`)

// TestConsoleApplications: the operator lists, registers (the secret shown
// once), rotates and removes applications under the command line's rules;
// a refusal names its field and keeps the form; no one else gets in.
func TestConsoleApplications(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	withClientHash(hx)
	op := hx.User("op@sesame.example", nil)
	b := hx.Browser()
	b.SignIn(op.Email, "")
	b.Get(PathApplications).Shows(http.StatusOK, "Applications.Registered")

	// Refused as the CLI refuses it: http off loopback, the form kept.
	p := b.Post(PathApplications, url.Values{"id": {"shop"}, "name": {"Shop"}, "kind": {"confidential"}, "grant_code": {"1"},
		"redirect_uris": {"http://shop.example/cb"}})
	p.Shows(http.StatusBadRequest, "Errors.Clients.RedirectURI")
	if !strings.Contains(p.Body, "must use https") || !strings.Contains(p.Body, `value="shop"`) || !strings.Contains(p.Body, "http://shop.example/cb</textarea>") {
		t.Fatalf("the refusal: %s", excerpt(p.Body))
	}
	// Scopes without client_credentials are refused too.
	b.Post(PathApplications, url.Values{"id": {"x"}, "grant_code": {"1"}, "redirect_uris": {"https://x.example/cb"},
		"scope": {vocab.ScopeAuditRead}}).Shows(http.StatusBadRequest, "Errors.Clients.Scope")
	// No grant at all.
	b.Post(PathApplications, url.Values{"id": {"x"}}).Shows(http.StatusBadRequest, "Errors.Clients.Grant")

	p = b.Post(PathApplications, url.Values{"id": {"shop"}, "name": {"Shop"}, "kind": {"confidential"}, "grant_code": {"1"},
		"redirect_uris": {"https://shop.example/cb\r\nhttps://shop.example/cb2"}, "alg": {"ES256"}})
	p.Shows(http.StatusOK, "Applications.Notice.Registered")
	m := secretShown.FindStringSubmatch(p.Body)
	if m == nil || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the secret is not shown once: %s", excerpt(p.Body))
	}
	c, err := hx.Store.GetClient(context.Background(), "shop")
	if err != nil || len(c.RedirectURIs) != 2 || c.IDTokenSignedAlg != "ES256" || strings.Contains(c.SecretHash, m[1]) {
		t.Fatalf("stored %+v %v", c, err)
	}
	if again := b.Get(PathApplications); secretShown.MatchString(again.Body) || !strings.Contains(again.Body, "shop") {
		t.Fatalf("the list shows a secret again, or lacks the client")
	}
	// A back office: client credentials with scopes, no redirect URI.
	b.Post(PathApplications, url.Values{"id": {"backoffice"}, "kind": {"confidential"}, "grant_client_credentials": {"1"},
		"scope": {vocab.ScopeOrganizationsRead, vocab.ScopeAuditRead}}).Shows(http.StatusOK, "Applications.Notice.Registered")
	// The same id twice.
	b.Post(PathApplications, url.Values{"id": {"shop"}, "grant_code": {"1"}, "redirect_uris": {"https://s.example/cb"}}).
		Shows(http.StatusConflict, "Errors.Clients.Exists")

	p = b.Post(PathApplications+"/shop/rotate", nil)
	p.Shows(http.StatusOK, "Applications.Notice.Rotated")
	if m2 := secretShown.FindStringSubmatch(p.Body); m2 == nil || m2[1] == m[1] {
		t.Fatal("no new secret shown")
	}
	if c2, _ := hx.Store.GetClient(context.Background(), "shop"); c2.SecretHash == c.SecretHash {
		t.Fatal("the secret did not change")
	}
	b.Post(PathApplications+"/nothere/rotate", nil).Shows(http.StatusNotFound, "Errors.Clients.NotFound")
	b.Post(PathApplications+"/shop/remove", nil).Redirects(PathApplications)
	if _, err := hx.Store.GetClient(context.Background(), "shop"); err == nil {
		t.Fatal("not removed")
	}
	b.Post(PathApplications+"/shop/remove", nil).Shows(http.StatusNotFound, "Errors.Clients.NotFound")

	// Without CSRF, nothing; a member who is not the operator, nothing.
	b.PostRaw(PathApplications+"/backoffice/remove", url.Values{}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	b.PostRaw(PathApplications, url.Values{"id": {"z"}, "grant_code": {"1"}, "redirect_uris": {"https://z.example/cb"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	org := hx.Org("Acme", storage.OrgValidated)
	admin := hx.User("admin@acme.example", &org, storage.RoleAdmin)
	other := hx.Browser()
	other.SignIn(admin.Email, "")
	if p := other.Get(PathApplications); p.Status != http.StatusForbidden {
		t.Fatalf("an org admin on the Applications page: %d", p.Status)
	}
	if p := other.Post(PathApplications+"/backoffice/remove", nil); p.Status != http.StatusForbidden {
		t.Fatalf("an org admin removing a client: %d", p.Status)
	}
	if _, err := hx.Store.GetClient(context.Background(), "backoffice"); err != nil {
		t.Fatal("removed by a refused request")
	}
	events := strings.Join(hx.Events(), " ")
	for _, want := range []string{"client.created", "client.secret_rotated", "client.removed"} {
		if !strings.Contains(events, want) {
			t.Errorf("no %s in the audit trail: %s", want, events)
		}
	}
}

// TestConsoleSuspendAndPeople: the operator suspends and reactivates an
// organization, disables, enables and resets the second factor of its
// people; another organization's person in the URL is refused.
func TestConsoleSuspendAndPeople(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	op := hx.User("op@sesame.example", nil)
	org := hx.Org("Acme", storage.OrgValidated)
	ada := hx.User("ada@acme.example", &org, storage.RoleAdmin, storage.RoleUser)
	hx.TOTP(ada)
	elsewhere := hx.Org("Other", storage.OrgValidated)
	bob := hx.User("bob@other.example", &elsewhere, storage.RoleUser)
	b := hx.Browser()
	b.SignIn(op.Email, "")
	base := PathOperator + "/" + org.ID
	p := b.Get(base)
	if !strings.Contains(p.Body, base+"/suspend") || !strings.Contains(p.Body, base+"/members/"+ada.ID+"/reset-2fa") {
		t.Fatalf("the page lacks the forms: %s", excerpt(p.Body))
	}
	b.Post(base+"/suspend", url.Values{"reason": {"unpaid"}}).Redirects(base)
	if o, _ := hx.Store.GetOrganization(context.Background(), org.ID); o.Status != storage.OrgSuspended {
		t.Fatalf("status %s", o.Status)
	}
	b.Post(base+"/suspend", nil).Shows(http.StatusConflict, "Errors.API.Status")
	b.Get(base+"?done=suspended").Shows(http.StatusOK, "Operator.Notice.Suspended")
	b.Post(base+"/reactivate", nil).Redirects(base)
	b.Post(base+"/reactivate", nil).Shows(http.StatusConflict, "Errors.API.Status")

	b.Post(base+"/members/"+ada.ID+"/disable", nil).Redirects(base)
	if u, _ := hx.Store.GetUser(context.Background(), ada.ID); !u.Disabled {
		t.Fatal("not disabled")
	}
	b.Post(base+"/members/"+ada.ID+"/enable", nil).Redirects(base)
	b.Post(base+"/members/"+ada.ID+"/reset-2fa", nil).Redirects(base)
	if _, err := hx.Store.GetTOTP(context.Background(), ada.ID); err == nil {
		t.Fatal("the second factor is still there")
	}
	// Another organization's person under this organization's URL.
	b.Post(base+"/members/"+bob.ID+"/disable", nil).Shows(http.StatusNotFound, "Errors.Members.NotFound")
	if u, _ := hx.Store.GetUser(context.Background(), bob.ID); u.Disabled {
		t.Fatal("another organization's person was disabled")
	}
	b.PostRaw(base+"/suspend", url.Values{}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	// An organization's own admin cannot use the console's forms.
	own := hx.Browser()
	own.SignIn(bob.Email, "")
	if p := own.Post(PathOperator+"/"+elsewhere.ID+"/suspend", nil); p.Status != http.StatusForbidden {
		t.Fatalf("a member suspending: %d", p.Status)
	}
	events := strings.Join(hx.Events(), " ")
	for _, want := range []string{"org.suspended", "org.reactivated", "user.disabled", "user.enabled", "2fa.reset"} {
		if !strings.Contains(events, want) {
			t.Errorf("no %s in the audit trail: %s", want, events)
		}
	}
}
