package login

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

func (hx *harness) passkeys(u storage.User) []storage.Passkey {
	hx.t.Helper()
	list, err := hx.Store.ListPasskeys(context.Background(), u.ID)
	if err != nil {
		hx.t.Fatal(err)
	}
	return list
}

// sessionAMR is the amr of the browser's session.
func (b *browser) sessionAMR() []string {
	b.t.Helper()
	s, err := b.hx.Store.GetSession(context.Background(), storage.HashToken(b.cookie(vocab.SessionCookie)), b.hx.Clock.Now())
	if err != nil {
		b.t.Fatalf("no session: %v", err)
	}
	return s.AMR
}

func TestPasskeySettingsAddSignInRenameRemove(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	b := hx.Browser()
	b.SignIn(u.Email, "")
	page := b.Get(PathSecurity)
	if page.Status != http.StatusOK || !page.Says("Passkey.Section") || !page.Says("Passkey.None") ||
		!strings.Contains(page.Body, `data-passkey="create"`) || !strings.Contains(page.Body, `src="/static/passkey.js"`) {
		t.Fatalf("settings without the passkey section: %s", excerpt(page.Body))
	}
	k := newSoftKey(t)
	b.AddPasskey(k, "Work laptop")
	list := hx.passkeys(u)
	if len(list) != 1 || list[0].Name != "Work laptop" || list[0].BackupEligible || list[0].UserID != u.ID {
		t.Fatalf("stored: %+v", list)
	}
	page = b.Get(PathSecurity + "?done=passkey-added")
	if !page.Says("Passkey.Notice.Added") || !strings.Contains(page.Body, "Work laptop") || !page.Says("Passkey.DeviceBound") {
		t.Fatalf("list: %s", excerpt(page.Body))
	}
	if !slices.Contains(hx.Events(), "passkey.added") {
		t.Fatalf("not audited: %v", hx.Events())
	}
	if len(hx.Mails(u.Email)) == 0 {
		t.Fatal("not mailed")
	}

	// Sign out; sign in at a relying party with the passkey alone.
	b.Post(PathLogout, nil)
	ar := hx.AuthRequest(nil)
	b2 := hx.Browser()
	b2.Get(vocab.LoginURL(ar.ID))
	res := b2.PasskeySignIn(k, ar.ID)
	if res.Status != http.StatusFound || !strings.HasPrefix(res.Location, "https://rp.example/cb?") {
		t.Fatalf("passkey sign-in: %d %s %s", res.Status, res.Location, excerpt(res.Body))
	}
	answered := hx.Answered()
	amr := answered[len(answered)-1].AMR
	if !slices.Equal(amr, []string{"hwk", "user", "mfa"}) {
		t.Fatalf("amr = %v", amr)
	}
	if got := hx.passkeys(u)[0]; got.SignCount != 1 || got.LastUsedAt.IsZero() {
		t.Fatalf("use not recorded: %+v", got)
	}

	// Rename, then remove (a fresh sign-in: no password asked).
	id := list[0].ID
	b2.Post(PathSecurityPasskeys+"/"+id+"/rename", url.Values{"name": {"Old laptop"}}).Redirects(PathSecurity)
	if hx.passkeys(u)[0].Name != "Old laptop" {
		t.Fatal("not renamed")
	}
	b2.Post(PathSecurityPasskeys+"/"+id+"/remove", nil).Redirects(PathSecurity)
	if len(hx.passkeys(u)) != 0 {
		t.Fatal("not removed")
	}
	ev := hx.Events()
	if !slices.Contains(ev, "passkey.renamed") || !slices.Contains(ev, "passkey.removed") {
		t.Fatalf("events: %v", ev)
	}
}

func TestNewWebAuthn(t *testing.T) {
	t.Parallel()
	for _, issuer := range []string{"http://127.0.0.1:8080", "https://[::1]:8443", "http://10.0.0.7"} {
		wa, why, err := NewWebAuthn(issuer, nil)
		if wa != nil || err != nil || !strings.Contains(why, "IP-address") {
			t.Errorf("%s: %v %q %v", issuer, wa, why, err)
		}
	}
	wa, why, err := NewWebAuthn("https://id.example.com", []string{"https://login.id.example.com/", "https://id.example.com"})
	if err != nil || why != "" || wa == nil || wa.Config.RPID != "id.example.com" ||
		!slices.Equal(wa.Config.RPOrigins, []string{"https://id.example.com", "https://login.id.example.com"}) {
		t.Fatalf("%+v %q %v", wa, why, err)
	}
	if _, _, err := NewWebAuthn("not a url", nil); err == nil {
		t.Fatal("a bad issuer accepted")
	}
}

// Passkeys off (an IP-address issuer): no passkey control on any page, and
// the endpoints refuse with a clear 404.
func TestPasskeysOff(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	hx.H.build().signIn.pk.WA = nil
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	b := hx.Browser()
	login := b.Get(PathLogin)
	if strings.Contains(login.Body, "data-passkey") || strings.Contains(login.Body, "passkey.js") || strings.Contains(login.Body, "webauthn") {
		t.Fatalf("passkey controls shown: %s", excerpt(login.Body))
	}
	if status, _ := b.PasskeyOptions(PathLoginPasskey, nil); status != http.StatusNotFound {
		t.Fatalf("options: %d", status)
	}
	b.Post(PathLoginPasskey, url.Values{"credential": {"{}"}}).Shows(http.StatusNotFound, "Errors.Passkey.Unavailable")
	b.SignIn(u.Email, "")
	if page := b.Get(PathSecurity); strings.Contains(page.Body, "data-passkey") {
		t.Fatal("the settings offer to add a passkey")
	}
	// The password and the code keep working (nothing here needs a script).
	if hx.passkeys(u) != nil {
		t.Fatal("passkeys appeared")
	}
}
