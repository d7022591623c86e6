package conformance

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testDeviceAuthorizations: a device authorization is found by its user
// code, answered once while pending and live, polled by its client only
// (each poll sooner than the interval raises it by 5 s, also when polls
// race), spent once, removed with its client and collected after expiry.
func testDeviceAuthorizations(t *testing.T, s storage.Storage) {
	c := newClient("tv")
	must(t, s.CreateClient(ctx(), c))
	must(t, s.CreateClient(ctx(), newClient("other")))
	d := storage.DeviceAuthorization{ID: "dv_1", DeviceHash: "dh1", UserHash: "uh1", ClientID: c.ID, Scopes: []string{"openid", "offline_access"},
		Interval: 5, CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute)}
	must(t, s.CreateDeviceAuthorization(ctx(), d))
	dup := d
	dup.ID = "dv_2"
	wantErr(t, s.CreateDeviceAuthorization(ctx(), dup), storage.ErrConflict) // same hashes
	dup.DeviceHash = "dh2"
	wantErr(t, s.CreateDeviceAuthorization(ctx(), dup), storage.ErrConflict) // same user code
	dup.UserHash, dup.ClientID = "uh2", "nobody"
	wantErr(t, s.CreateDeviceAuthorization(ctx(), dup), storage.ErrNotFound)
	wantErr(t, s.CreateDeviceAuthorization(ctx(), storage.DeviceAuthorization{ID: "x"}), storage.ErrInvalid)

	got, err := s.GetDeviceAuthorizationByUserCode(ctx(), "uh1")
	must(t, err)
	if got.State != storage.DevicePending || got.ClientID != c.ID || !reflect.DeepEqual(got.Scopes, d.Scopes) || got.Interval != 5 ||
		!got.ExpiresAt.Equal(d.ExpiresAt) || !got.CreatedAt.Equal(base) || !got.LastPollAt.IsZero() || got.UserID != "" {
		t.Fatalf("by user code: %+v", got)
	}
	_, err = s.GetDeviceAuthorizationByUserCode(ctx(), "nope")
	wantErr(t, err, storage.ErrNotFound)

	// Polls: the first is never too fast; one within the interval raises
	// it by 5 s; another client's poll finds nothing and changes nothing.
	p, err := s.PollDeviceAuthorization(ctx(), c.ID, "dh1", base.Add(time.Second), 0)
	must(t, err)
	if p.TooFast || p.Interval != 5 || p.State != storage.DevicePending || !p.LastPollAt.Equal(base.Add(time.Second)) {
		t.Fatalf("first poll: %+v", p)
	}
	_, err = s.PollDeviceAuthorization(ctx(), "other", "dh1", base.Add(2*time.Second), 0)
	wantErr(t, err, storage.ErrNotFound)
	p, err = s.PollDeviceAuthorization(ctx(), c.ID, "dh1", base.Add(3*time.Second), 0)
	must(t, err)
	if !p.TooFast || p.Interval != 10 {
		t.Fatalf("too fast: %+v", p)
	}
	p, err = s.PollDeviceAuthorization(ctx(), c.ID, "dh1", base.Add(12500*time.Millisecond), time.Second) // 9.5 s later, within the tolerance
	must(t, err)
	if p.TooFast || p.Interval != 10 {
		t.Fatalf("within the tolerance: %+v", p)
	}
	p, err = s.PollDeviceAuthorization(ctx(), c.ID, "dh1", base.Add(22500*time.Millisecond), 0) // 10 s later: in time
	must(t, err)
	if p.TooFast || p.Interval != 10 {
		t.Fatalf("in time: %+v", p)
	}
	// Polls racing: each one after the first is too fast, none is lost.
	var wg sync.WaitGroup
	at := base.Add(40 * time.Second)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.PollDeviceAuthorization(ctx(), c.ID, "dh1", at, 0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p, err = s.PollDeviceAuthorization(ctx(), c.ID, "dh1", at, 0)
	must(t, err)
	if p.Interval != 10+4*5 {
		t.Fatalf("racing polls: interval %d, want 30", p.Interval)
	}

	// Answers: only while pending and live, only once.
	wantErr(t, s.UseDeviceAuthorization(ctx(), "dv_1"), storage.ErrAlreadyUsed) // not approved
	u := storage.User{ID: storage.NewID("usr"), Email: "device@example.com", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, nil))
	answer := storage.DeviceAuthorization{UserID: u.ID, SessionID: "ses_1", AuthTime: base, AMR: []string{"pwd", "otp", "mfa"}, DecidedAt: base.Add(time.Minute)}
	wantErr(t, s.DecideDeviceAuthorization(ctx(), "dv_1", true, storage.DeviceAuthorization{DecidedAt: base}), storage.ErrInvalid)
	late := answer
	late.DecidedAt = d.ExpiresAt
	wantErr(t, s.DecideDeviceAuthorization(ctx(), "dv_1", true, late), storage.ErrNotFound)
	must(t, s.DecideDeviceAuthorization(ctx(), "dv_1", true, answer))
	wantErr(t, s.DecideDeviceAuthorization(ctx(), "dv_1", false, answer), storage.ErrNotFound)
	wantErr(t, s.DecideDeviceAuthorization(ctx(), "dv_unknown", true, answer), storage.ErrNotFound)
	got, err = s.GetDeviceAuthorizationByUserCode(ctx(), "uh1")
	must(t, err)
	if got.State != storage.DeviceApproved || got.UserID != u.ID || got.SessionID != "ses_1" || !got.AuthTime.Equal(base) ||
		!reflect.DeepEqual(got.AMR, answer.AMR) || !got.DecidedAt.Equal(answer.DecidedAt) {
		t.Fatalf("approved: %+v", got)
	}
	// Spent once, also when two polls race for it.
	results := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); results <- s.UseDeviceAuthorization(ctx(), "dv_1") }()
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, storage.ErrAlreadyUsed):
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d uses won, want 1", wins)
	}
	// Inside a transaction, a failed use rolls back with the rest.
	err = s.Atomic(ctx(), func(tx storage.Tx) error { return tx.UseDeviceAuthorization(ctx(), "dv_1") })
	wantErr(t, err, storage.ErrAlreadyUsed)

	// Denied.
	d2 := storage.DeviceAuthorization{ID: "dv_3", DeviceHash: "dh3", UserHash: "uh3", ClientID: c.ID, Interval: 5, CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute)}
	must(t, s.CreateDeviceAuthorization(ctx(), d2))
	must(t, s.DecideDeviceAuthorization(ctx(), "dv_3", false, storage.DeviceAuthorization{DecidedAt: base}))
	if got, _ := s.GetDeviceAuthorizationByUserCode(ctx(), "uh3"); got.State != storage.DeviceDenied || got.UserID != "" {
		t.Fatalf("denied: %+v", got)
	}
	wantErr(t, s.UseDeviceAuthorization(ctx(), "dv_3"), storage.ErrAlreadyUsed)

	// Collected an hour after expiry; removed with its client.
	res, err := s.GarbageCollect(ctx(), d2.ExpiresAt.Add(59*time.Minute))
	must(t, err)
	if _, err := s.GetDeviceAuthorizationByUserCode(ctx(), "uh3"); err != nil {
		t.Fatalf("collected too soon: %v (%+v)", err, res)
	}
	_, err = s.GarbageCollect(ctx(), d2.ExpiresAt.Add(time.Hour))
	must(t, err)
	_, err = s.GetDeviceAuthorizationByUserCode(ctx(), "uh3")
	wantErr(t, err, storage.ErrNotFound)
	d4 := storage.DeviceAuthorization{ID: "dv_4", DeviceHash: "dh4", UserHash: "uh4", ClientID: "other", Interval: 5, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.CreateDeviceAuthorization(ctx(), d4))
	must(t, s.DeleteClient(ctx(), "other"))
	_, err = s.GetDeviceAuthorizationByUserCode(ctx(), "uh4")
	wantErr(t, err, storage.ErrNotFound)
}
