package login

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// setCookie puts a cookie back in the browser's jar (a replay).
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.hx.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Every bad passkey answer at the sign-in page: a clear 4xx with its
// sentence on the page, no session, no use recorded, never a 5xx.
func TestPasskeySignInBadInput(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	other := hx.User("bob@acme.example", &org, storage.RoleUser)
	k := newSoftKey(t)
	owner := hx.Browser()
	owner.SignIn(u.Email, "")
	owner.AddPasskey(k, "laptop")
	ko := newSoftKey(t)
	ob := hx.Browser()
	ob.SignIn(other.Email, "")
	ob.AddPasskey(ko, "bob's")

	// options starts a ceremony for a fresh browser and returns it with
	// the form the browser would post.
	options := func(arID string) (*browser, passkeyOptions, url.Values) {
		b := hx.Browser()
		form := url.Values{}
		if arID != "" {
			form.Set("authRequestID", arID)
		}
		b.Get(PathLogin)
		status, o := b.PasskeyOptions(PathLoginPasskey, form)
		if status != http.StatusOK {
			t.Fatalf("options: %d", status)
		}
		return b, o, form
	}
	type result struct {
		status int
		key    string
	}
	tests := []struct {
		name string
		run  func(t *testing.T) *page
		want result
	}{
		{"replayed answer with its cookie", func(t *testing.T) *page {
			b, o, form := options("")
			cookie := b.cookie(passkeyCookie)
			form.Set("credential", k.Get(t, o))
			b.Post(PathLoginPasskey, form).Redirects(PathHome)
			b.Post(PathLogout, nil)
			b.setCookie(passkeyCookie, cookie)
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Expired"}},
		{"replayed answer without its cookie", func(t *testing.T) *page {
			b, o, form := options("")
			form.Set("credential", k.Get(t, o))
			b.Post(PathLoginPasskey, form).Redirects(PathHome)
			b.Post(PathLogout, nil)
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Expired"}},
		{"no ceremony", func(t *testing.T) *page {
			b := hx.Browser()
			return b.Post(PathLoginPasskey, url.Values{"credential": {k.Get(t, passkeyOptions{})}})
		}, result{400, "Errors.Passkey.Expired"}},
		{"expired challenge", func(t *testing.T) *page {
			b, o, form := options("")
			hx.Clock.Add(ceremonyLifetime + 2*time.Second)
			form.Set("credential", k.Get(t, o))
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Expired"}},
		{"another authorization request", func(t *testing.T) *page {
			ar1, ar2 := hx.AuthRequest(nil), hx.AuthRequest(nil)
			b, o, form := options(ar1.ID)
			form.Set("authRequestID", ar2.ID)
			form.Set("credential", k.Get(t, o))
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Expired"}},
		{"a settings ceremony's cookie", func(t *testing.T) *page {
			_, o := owner.PasskeyOptions(PathSecurityPasskeys, nil)
			form := url.Values{"credential": {k.Get(t, o)}}
			return owner.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Expired"}},
		{"wrong origin (a phishing page)", func(t *testing.T) *page {
			b, o, form := options("")
			evil := *k
			evil.Origin = "https://sesame.evil.example"
			form.Set("credential", evil.Get(t, o))
			k.Count = evil.Count
			return b.Post(PathLoginPasskey, form)
		}, result{401, "Errors.Passkey.Invalid"}},
		{"wrong RP id", func(t *testing.T) *page {
			b, o, form := options("")
			evil := *k
			evil.RPID = "evil.example"
			form.Set("credential", evil.Get(t, o))
			k.Count = evil.Count
			return b.Post(PathLoginPasskey, form)
		}, result{401, "Errors.Passkey.Invalid"}},
		{"unknown credential", func(t *testing.T) *page {
			b, o, form := options("")
			stranger := newSoftKey(t)
			stranger.UserHandle = []byte(u.ID)
			form.Set("credential", stranger.Get(t, o))
			return b.Post(PathLoginPasskey, form)
		}, result{401, "Errors.Passkey.Invalid"}},
		{"another person's user handle", func(t *testing.T) *page {
			b, o, form := options("")
			liar := *k
			liar.UserHandle = []byte(other.ID)
			form.Set("credential", liar.Get(t, o))
			k.Count = liar.Count
			return b.Post(PathLoginPasskey, form)
		}, result{401, "Errors.Passkey.Invalid"}},
		{"no user verification", func(t *testing.T) *page {
			b, o, form := options("")
			lazy := *k
			lazy.UV = false
			form.Set("credential", lazy.Get(t, o))
			k.Count = lazy.Count
			return b.Post(PathLoginPasskey, form)
		}, result{401, "Errors.Passkey.Invalid"}},
		{"tampered signature", func(t *testing.T) *page {
			b, o, form := options("")
			other := newSoftKey(t) // signs with another key
			forged := *k
			forged.Private = other.Private
			form.Set("credential", forged.Get(t, o))
			k.Count = forged.Count
			return b.Post(PathLoginPasskey, form)
		}, result{401, "Errors.Passkey.Invalid"}},
		{"signature counter going backwards (a clone)", func(t *testing.T) *page {
			b, o, form := options("")
			clone := *k
			clone.Count = 0
			form.Set("credential", clone.Get(t, o))
			return b.Post(PathLoginPasskey, form)
		}, result{401, "Errors.Passkey.Invalid"}},
		{"malformed JSON", func(t *testing.T) *page {
			b, _, form := options("")
			form.Set("credential", `{"id": "x", `)
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Malformed"}},
		{"JSON that is no credential", func(t *testing.T) *page {
			b, _, form := options("")
			form.Set("credential", `{"id":"x","type":"public-key","response":{"clientDataJSON":"e30"}}`)
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Malformed"}},
		{"empty answer", func(t *testing.T) *page {
			b, _, form := options("")
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Malformed"}},
		{"oversized answer", func(t *testing.T) *page {
			b, _, form := options("")
			form.Set("credential", `{"id":"`+strings.Repeat("A", maxCredentialJSON)+`"}`)
			return b.Post(PathLoginPasskey, form)
		}, result{400, "Errors.Passkey.Malformed"}},
		{"body over the limit", func(t *testing.T) *page {
			b, _, form := options("")
			form.Set("credential", strings.Repeat("A", 70<<10))
			return b.Post(PathLoginPasskey, form)
		}, result{413, ""}},
		{"no CSRF token", func(t *testing.T) *page {
			b, o, form := options("")
			form.Set("credential", k.Get(t, o))
			form.Set("csrf_token", "x")
			return b.PostRaw(PathLoginPasskey, form)
		}, result{403, "Errors.Request.CSRF"}},
		{"unknown authorization request", func(t *testing.T) *page {
			b, o, form := options("")
			form.Set("authRequestID", "ar_unknown")
			form.Set("credential", k.Get(t, o))
			return b.Post(PathLoginPasskey, form)
		}, result{400, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := hx.passkeys(u)[0]
			p := tc.run(t)
			if p.Status >= 500 || p.Status != tc.want.status {
				t.Fatalf("status %d, want %d: %s", p.Status, tc.want.status, excerpt(p.Body))
			}
			if tc.want.key != "" {
				p.Shows(tc.want.status, tc.want.key)
			}
			if strings.Contains(strings.Join(p.Header.Values("Set-Cookie"), ";"), vocab.SessionCookie+"=") &&
				!strings.Contains(strings.Join(p.Header.Values("Set-Cookie"), ";"), vocab.SessionCookie+"=;") {
				t.Fatal("a session cookie was set")
			}
			if after := hx.passkeys(u)[0]; after.SignCount < before.SignCount {
				t.Fatalf("sign count went back: %d → %d", before.SignCount, after.SignCount)
			}
		})
	}
	if !slices.Contains(hx.Events(), "passkey.counter_regressed") {
		t.Errorf("the clone was not audited: %v", hx.Events())
	}

	// A disabled person's passkey opens nothing: the same answer as a
	// wrong password.
	if err := hx.Store.UpdateUser(context.Background(), u.ID, func(x *storage.User) error { x.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	b, o, form := options("")
	form.Set("credential", k.Get(t, o))
	b.Post(PathLoginPasskey, form).Shows(http.StatusUnauthorized, "Errors.Login.Invalid")

	// The options refuse without a CSRF token, as JSON.
	nb := hx.Browser()
	if status, _ := nb.PasskeyOptions(PathLoginPasskey, url.Values{"csrf_token": {"nope"}}); status != http.StatusForbidden {
		t.Errorf("options without CSRF: %d", status)
	}
}
