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
