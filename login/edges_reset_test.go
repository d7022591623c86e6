package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// TestDeadResetLinkOffersANewOne: an expired, used or unknown reset link
// says so in a reset's words and offers "Send me a new link", filled with
// the address the link was mailed to; the form sends one. An invitation's
// dead link keeps the invitation's advice. (Failed before: the
// invitation's text, "ask an administrator to send the invitation again",
// and no form.)
func TestDeadResetLinkOffersANewOne(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("reset@acme.example", &org, storage.RoleAdmin)
	b := hx.Browser()
	b.Post(PathForgot, url.Values{"email": {u.Email}}).Shows(http.StatusOK, "")
	expired := hx.Link(u.Email, PathResetPassword)
	hx.Clock.Add(10 * time.Minute)

	offers := func(t *testing.T, p *page, status int, key, email string) {
		t.Helper()
		p.Shows(status, key)
		if !p.Says("Link.NewLink") || !p.Says("Link.ResetNextStep") || p.Says("Link.NextStep") {
			t.Fatalf("the page does not offer a new reset link in a reset's words: %s", excerpt(p.Body))
		}
		if !strings.Contains(p.Body, `action="/forgot"`) || p.Field("email") != email {
			t.Fatalf("the form: email %q, want %q", p.Field("email"), email)
		}
	}
	offers(t, b.Get(expired), http.StatusGone, "Errors.Link.Invalid", u.Email)
	// Posting the form the expired link offers sends a new link.
	b.Post(PathForgot, url.Values{"email": {u.Email}}).Shows(http.StatusOK, "Forgot.Sent")
	fresh := hx.Link(u.Email, PathResetPassword)
	token := mustQuery(t, fresh, "token")
	b.Post(PathResetPassword, newPasswordForm(token)).Shows(http.StatusOK, "Reset.Done")
	offers(t, hx.Browser().Get(fresh), http.StatusGone, "Errors.Link.Used", u.Email)
	offers(t, hx.Browser().Post(PathResetPassword, newPasswordForm(token)), http.StatusGone, "Errors.Link.Used", u.Email)
	offers(t, hx.Browser().Get(PathResetPassword+"?token=garbage"), http.StatusGone, "Errors.Link.Invalid", "")
	offers(t, hx.Browser().Get(PathResetPassword+"?token="+strings.Repeat("x", 5000)), http.StatusGone, "Errors.Link.Invalid", "")

	// An invitation's token on the reset page: invalid there, and its
	// address is not shown.
	hx.User("admin@acme.example", &org, storage.RoleAdmin)
	admin := hx.Browser()
	admin.SignIn("admin@acme.example", "")
	hx.Clock.Add(time.Minute)
	inv := invite(t, hx, admin, "new@acme.example")
	offers(t, hx.Browser().Get(PathResetPassword+"?token="+mustQuery(t, inv, "token")), http.StatusGone, "Errors.Link.Invalid", "")
	// The invitation's own dead link keeps the invitation's advice.
	hx.Clock.Add(25 * time.Hour)
	p := hx.Browser().Get(inv).Shows(http.StatusGone, "Errors.Link.Invalid")
	if !p.Says("Link.NextStep") || p.Says("Link.NewLink") {
		t.Fatalf("an invitation's dead link: %s", excerpt(p.Body))
	}
}
