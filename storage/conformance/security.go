package conformance

import (
	"slices"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

func testSecondFactors(t *testing.T, s storage.Storage) {
	u := storage.User{ID: storage.NewID("usr"), Email: "mfa@x.example", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, nil))
	_, err := s.GetTOTP(ctx(), u.ID)
	wantErr(t, err, storage.ErrNotFound)
	must(t, s.PutTOTP(ctx(), storage.TOTP{UserID: u.ID, SecretEncrypted: []byte{1}, CreatedAt: base}))
	// A new enrolment replaces an unconfirmed one.
	must(t, s.PutTOTP(ctx(), storage.TOTP{UserID: u.ID, SecretEncrypted: []byte{2}, CreatedAt: base.Add(time.Second)}))
	got, err := s.GetTOTP(ctx(), u.ID)
	must(t, err)
	if got.SecretEncrypted[0] != 2 || !got.ConfirmedAt.IsZero() {
		t.Fatalf("totp: %+v", got)
	}
	wantErr(t, s.PutTOTP(ctx(), storage.TOTP{UserID: "usr_missing", SecretEncrypted: []byte{1}, CreatedAt: base}), storage.ErrNotFound)
	must(t, s.ConfirmTOTP(ctx(), u.ID, 100, base, []string{"h1", "h2"}))
	got, _ = s.GetTOTP(ctx(), u.ID)
	if !got.ConfirmedAt.Equal(base) || got.LastStep != 100 {
		t.Fatalf("confirmed: %+v", got)
	}
	// Steps only move forward: a replay in the same step is refused.
	wantErr(t, s.UseTOTPStep(ctx(), u.ID, 100), storage.ErrAlreadyUsed)
	wantErr(t, s.UseTOTPStep(ctx(), u.ID, 99), storage.ErrAlreadyUsed)
	must(t, s.UseTOTPStep(ctx(), u.ID, 101))
	// Recovery codes work once.
	must(t, s.UseRecoveryCode(ctx(), u.ID, "h1", base))
	wantErr(t, s.UseRecoveryCode(ctx(), u.ID, "h1", base), storage.ErrAlreadyUsed)
	wantErr(t, s.UseRecoveryCode(ctx(), u.ID, "nope", base), storage.ErrNotFound)
	if n, _ := s.CountRecoveryCodes(ctx(), u.ID); n != 1 {
		t.Fatalf("%d codes left", n)
	}
	must(t, s.DeleteTOTP(ctx(), u.ID))
	_, err = s.GetTOTP(ctx(), u.ID)
	wantErr(t, err, storage.ErrNotFound)
	if n, _ := s.CountRecoveryCodes(ctx(), u.ID); n != 0 {
		t.Fatal("codes survived")
	}
	// Organizations and clients keep the new settings.
	org := newOrg("")
	org.RequireMFA = true
	must(t, s.CreateOrganization(ctx(), org))
	if o, _ := s.GetOrganization(ctx(), org.ID); !o.RequireMFA {
		t.Fatal("require_mfa lost")
	}
	c := newClient("bcl")
	c.BackchannelLogoutURI = "https://rp.example/bcl"
	must(t, s.CreateClient(ctx(), c))
	if got, _ := s.GetClient(ctx(), "bcl"); got.BackchannelLogoutURI != c.BackchannelLogoutURI {
		t.Fatal("backchannel URI lost")
	}
}

func testLoginThrottle(t *testing.T, s storage.Storage) {
	lockFor := func(n int) time.Duration {
		if n%4 == 0 {
			return time.Duration(n/4) * time.Minute
		}
		return 0
	}
	f, err := s.GetLoginFailures(ctx(), "k")
	must(t, err)
	if f.Failures != 0 || !f.LockedUntil.IsZero() {
		t.Fatalf("fresh: %+v", f)
	}
	for i := 1; i <= 4; i++ {
		f, err = s.RecordLoginFailure(ctx(), "k", base, lockFor)
		must(t, err)
		if f.Failures != i {
			t.Fatalf("failures %d", f.Failures)
		}
	}
	if !f.LockedUntil.Equal(base.Add(time.Minute)) {
		t.Fatalf("lock %v", f.LockedUntil)
	}
	got, _ := s.GetLoginFailures(ctx(), "k")
	if got.Failures != 4 || !got.LockedUntil.Equal(base.Add(time.Minute)) {
		t.Fatalf("read back: %+v", got)
	}
	must(t, s.ClearLoginFailures(ctx(), "k"))
	if got, _ := s.GetLoginFailures(ctx(), "k"); got.Failures != 0 {
		t.Fatal("not cleared")
	}
}

func testLogoutNotices(t *testing.T, s storage.Storage) {
	n := storage.LogoutNotice{ID: storage.NewID("bcl"), ClientID: "c", URI: "https://rp.example/bcl", Token: "jwt", CreatedAt: base}
	must(t, s.EnqueueLogoutNotice(ctx(), n))
	wantErr(t, s.EnqueueLogoutNotice(ctx(), storage.LogoutNotice{ID: "x"}), storage.ErrInvalid)
	got, err := s.ClaimLogoutNotices(ctx(), base, time.Minute, 10)
	must(t, err)
	if len(got) != 1 || got[0].Token != "jwt" || got[0].Attempts != 1 {
		t.Fatalf("claimed: %+v", got)
	}
	if again, _ := s.ClaimLogoutNotices(ctx(), base, time.Minute, 10); len(again) != 0 {
		t.Fatal("claimed twice within the lease")
	}
	must(t, s.MarkLogoutNoticeFailed(ctx(), n.ID, "503", base.Add(30*time.Second)))
	got, _ = s.ClaimLogoutNotices(ctx(), base.Add(31*time.Second), time.Minute, 10)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "503" {
		t.Fatalf("retry: %+v", got)
	}
	must(t, s.MarkLogoutNoticeSent(ctx(), n.ID, base))
	if again, _ := s.ClaimLogoutNotices(ctx(), base.Add(time.Hour), time.Minute, 10); len(again) != 0 {
		t.Fatal("a sent notice was claimed")
	}

	// The clients of a session, and expired sessions.
	u := storage.User{ID: storage.NewID("usr"), Email: "sc@x.example", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, nil))
	must(t, s.CreateSession(ctx(), storage.Session{ID: "ses_c", Hash: "hc", UserID: u.ID, AuthTime: base, CreatedAt: base, LastSeen: base,
		IdleExpiresAt: base.Add(time.Hour), AbsoluteExpiresAt: base.Add(2 * time.Hour)}))
	for _, c := range []string{"b-app", "a-app", "a-app"} {
		a, _ := tokens("g-"+c, "ses_c", 0)
		a.ClientID = c
		must(t, s.CreateTokens(ctx(), a, nil))
	}
	clients, err := s.ListSessionClients(ctx(), "ses_c")
	must(t, err)
	if !slices.Equal(clients, []string{"a-app", "b-app"}) {
		t.Fatalf("clients %v", clients)
	}
	expired, err := s.ListExpiredSessions(ctx(), base.Add(time.Hour), 10)
	must(t, err)
	if len(expired) != 1 || expired[0].ID != "ses_c" {
		t.Fatalf("expired %+v", expired)
	}
	if none, _ := s.ListExpiredSessions(ctx(), base, 10); len(none) != 0 {
		t.Fatal("a live session listed as expired")
	}
}
