package conformance

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

func testAtomic(t *testing.T, s storage.Storage) {
	org := newOrg("73282932000074")
	org.SignupKey = "form-1"
	u := storage.User{ID: storage.NewID("usr"), Email: "founder@acme.example", CreatedAt: base}
	boom := errors.New("boom")
	// Everything or nothing: the failing last step rolls back the first ones.
	err := s.Atomic(ctx(), func(tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx(), org); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx(), u, &storage.Membership{OrgID: org.ID, Roles: []string{"admin"}}); err != nil {
			return err
		}
		// Reads inside the transaction see its writes.
		if _, err := tx.GetUser(ctx(), u.ID); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	if _, err := s.GetOrganization(ctx(), org.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("organization survived the rollback")
	}
	if _, err := s.GetUserByEmail(ctx(), u.Email); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("user survived the rollback")
	}
	must(t, s.Atomic(ctx(), func(tx storage.Tx) error {
		if err := tx.CreateOrganization(ctx(), org); err != nil {
			return err
		}
		return tx.CreateUser(ctx(), u, &storage.Membership{OrgID: org.ID, Roles: []string{"admin"}})
	}))
	// A call on the store itself from inside the function would run outside
	// the transaction (on SQLite, wait for it until the request times out):
	// it panics at once, naming the mistake, and the transaction rolls back.
	escaped := func() (p any) {
		defer func() { p = recover() }()
		_ = s.Atomic(ctx(), func(tx storage.Tx) error {
			if err := tx.UpdateOrganization(ctx(), org.ID, func(o *storage.Organization) error { o.Name = "Escaped"; return nil }); err != nil {
				return err
			}
			return s.UpdateOrganization(ctx(), org.ID, func(o *storage.Organization) error { o.Name = "Outside"; return nil })
		})
		return nil
	}()
	if msg, _ := escaped.(string); !strings.Contains(msg, "inside a transaction") {
		t.Fatalf("a store call inside Atomic's function: panic %v, want the escape named", escaped)
	}
	if o, err := s.GetOrganization(ctx(), org.ID); err != nil || o.Name != org.Name {
		t.Fatalf("after the escape: %q %v, want the name rolled back to %q", o.Name, err, org.Name)
	}
	// Reads escape as surely as writes, and calls outside any function are fine.
	escaped = func() (p any) {
		defer func() { p = recover() }()
		_ = s.Atomic(ctx(), func(tx storage.Tx) error { _, err := s.GetUser(ctx(), u.ID); return err })
		return nil
	}()
	if escaped == nil {
		t.Fatal("a read on the store inside Atomic's function did not panic")
	}
	got, err := s.GetOrganizationBySignupKey(ctx(), "form-1")
	must(t, err)
	if got.ID != org.ID {
		t.Fatal("by signup key")
	}
	dup := newOrg("")
	dup.SignupKey = "form-1"
	wantErr(t, s.CreateOrganization(ctx(), dup), storage.ErrConflict)
}

func testMemberships(t *testing.T, s storage.Storage) {
	org := newOrg("")
	must(t, s.CreateOrganization(ctx(), org))
	var ids []string
	for i, email := range []string{"a@x.example", "b@x.example", "c@x.example"} {
		u := storage.User{ID: storage.NewID("usr"), Email: email, CreatedAt: base.Add(time.Duration(i) * time.Second)}
		must(t, s.CreateUser(ctx(), u, &storage.Membership{OrgID: org.ID, Roles: []string{"user"}}))
		ids = append(ids, u.ID)
	}
	op := storage.User{ID: storage.NewID("usr"), Email: "op@x.example", IsOperator: true, CreatedAt: base}
	must(t, s.CreateUser(ctx(), op, nil))
	gotOp, _ := s.GetUser(ctx(), op.ID)
	if !gotOp.IsOperator {
		t.Fatal("operator flag lost")
	}
	list, err := s.ListMemberships(ctx(), org.ID)
	must(t, err)
	if len(list) != 3 || list[0].UserID != ids[0] || list[2].UserID != ids[2] {
		t.Fatalf("memberships: %+v", list)
	}
	must(t, s.SetRoles(ctx(), ids[1], []string{"user", "admin", "user"}[:2]))
	m, _ := s.GetMembership(ctx(), ids[1])
	if !slices.Equal(m.Roles, []string{"admin", "user"}) {
		t.Fatalf("roles %v", m.Roles)
	}
	wantErr(t, s.SetRoles(ctx(), ids[1], []string{"owner"}), storage.ErrInvalid)
	wantErr(t, s.SetRoles(ctx(), op.ID, []string{"user"}), storage.ErrNotFound)

	// Deleting a person takes their sessions, links and tokens along.
	must(t, s.CreateSession(ctx(), storage.Session{ID: "ses_del", Hash: "hdel", UserID: ids[2], AuthTime: base, CreatedAt: base,
		LastSeen: base, IdleExpiresAt: base.Add(time.Hour), AbsoluteExpiresAt: base.Add(time.Hour)}))
	must(t, s.CreateActionToken(ctx(), storage.ActionToken{Hash: "tdel", UserID: ids[2], Purpose: storage.PurposeSetPassword,
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
	a, r := tokens("gdel", "ses_del", 0)
	a.UserID, r.UserID = ids[2], ids[2]
	must(t, s.CreateTokens(ctx(), a, &r))
	must(t, s.DeleteUser(ctx(), ids[2]))
	for name, err := range map[string]error{
		"user":    func() error { _, err := s.GetUser(ctx(), ids[2]); return err }(),
		"session": func() error { _, err := s.GetSessionByID(ctx(), "ses_del"); return err }(),
		"link":    func() error { _, err := s.GetActionToken(ctx(), "tdel"); return err }(),
		"access":  func() error { _, err := s.GetAccessToken(ctx(), a.ID); return err }(),
		"refresh": func() error { _, err := s.GetRefreshToken(ctx(), r.Hash); return err }(),
		"member":  func() error { _, err := s.GetMembership(ctx(), ids[2]); return err }(),
	} {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s survived the deletion: %v", name, err)
		}
	}
	wantErr(t, s.DeleteUser(ctx(), ids[2]), storage.ErrNotFound)
}

func testActionTokens(t *testing.T, s storage.Storage) {
	u := storage.User{ID: storage.NewID("usr"), Email: "t@x.example", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, nil))
	tok := storage.ActionToken{Hash: storage.HashToken("link"), UserID: u.ID, Purpose: storage.PurposeSetPassword,
		CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)}
	must(t, s.CreateActionToken(ctx(), tok))
	wantErr(t, s.CreateActionToken(ctx(), tok), storage.ErrConflict)
	wantErr(t, s.CreateActionToken(ctx(), storage.ActionToken{Hash: "x", UserID: "usr_missing", Purpose: storage.PurposeSetPassword,
		CreatedAt: base, ExpiresAt: base}), storage.ErrNotFound)
	wantErr(t, s.CreateActionToken(ctx(), storage.ActionToken{Hash: "y", UserID: u.ID, Purpose: "teleport", CreatedAt: base, ExpiresAt: base}), storage.ErrInvalid)

	// Expired at exactly 24 h + 1 s; live one second before.
	_, err := s.ConsumeActionToken(ctx(), tok.Hash, base.Add(24*time.Hour+time.Second))
	wantErr(t, err, storage.ErrNotFound)
	// Two clicks at once: exactly one wins.
	var wg sync.WaitGroup
	results := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ConsumeActionToken(ctx(), tok.Hash, base.Add(24*time.Hour-time.Second))
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		if err == nil {
			wins++
		} else if !errors.Is(err, storage.ErrAlreadyUsed) {
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d consumptions won", wins)
	}
	got, err := s.GetActionToken(ctx(), tok.Hash)
	must(t, err)
	if got.UsedAt.IsZero() || got.Purpose != storage.PurposeSetPassword || got.UserID != u.ID {
		t.Fatalf("token: %+v", got)
	}
	_, err = s.ConsumeActionToken(ctx(), "unknown", base)
	wantErr(t, err, storage.ErrNotFound)

	// Voiding: every unused link of the person is spent at once; another
	// person's stay live, and a spent one keeps its time.
	other := storage.User{ID: storage.NewID("usr"), Email: "o@x.example", CreatedAt: base}
	must(t, s.CreateUser(ctx(), other, nil))
	for _, tk := range []storage.ActionToken{
		{Hash: storage.HashToken("a"), UserID: u.ID, Purpose: storage.PurposeSetPassword},
		{Hash: storage.HashToken("b"), UserID: u.ID, Purpose: storage.PurposeResetPassword},
		{Hash: storage.HashToken("c"), UserID: other.ID, Purpose: storage.PurposeSetPassword},
	} {
		tk.CreatedAt, tk.ExpiresAt = base, base.Add(time.Hour)
		must(t, s.CreateActionToken(ctx(), tk))
	}
	voidAt := base.Add(time.Minute)
	must(t, s.VoidActionTokens(ctx(), u.ID, voidAt))
	for _, name := range []string{"a", "b"} {
		_, err := s.ConsumeActionToken(ctx(), storage.HashToken(name), base.Add(2*time.Minute))
		wantErr(t, err, storage.ErrAlreadyUsed)
	}
	if _, err := s.ConsumeActionToken(ctx(), storage.HashToken("c"), base.Add(2*time.Minute)); err != nil {
		t.Fatalf("another person's link was voided: %v", err)
	}
	if got, _ := s.GetActionToken(ctx(), tok.Hash); !got.UsedAt.Equal(base.Add(24*time.Hour - time.Second)) {
		t.Fatalf("a spent link's time changed: %v", got.UsedAt)
	}
}

func testOutbox(t *testing.T, s storage.Storage) {
	for i := range 3 {
		must(t, s.EnqueueMail(ctx(), storage.Mail{ID: storage.NewID("mail"), Kind: "invitation", To: "a@x.example",
			Subject: "Hello", Text: "text", HTML: "<p>html</p>", CreatedAt: base.Add(time.Duration(i) * time.Second)}))
	}
	wantErr(t, s.EnqueueMail(ctx(), storage.Mail{ID: "m", CreatedAt: base}), storage.ErrInvalid)
	claimed, err := s.ClaimMails(ctx(), base.Add(time.Minute), time.Minute, 2)
	must(t, err)
	if len(claimed) != 2 || claimed[0].Attempts != 1 || claimed[0].Subject != "Hello" || claimed[0].HTML != "<p>html</p>" {
		t.Fatalf("claimed: %+v", claimed)
	}
	// Leased mails are not handed out again; the third one is.
	again, _ := s.ClaimMails(ctx(), base.Add(time.Minute), time.Minute, 10)
	if len(again) != 1 || again[0].ID == claimed[0].ID || again[0].ID == claimed[1].ID {
		t.Fatalf("second claim: %+v", again)
	}
	must(t, s.MarkMailSent(ctx(), claimed[0].ID, base.Add(time.Minute)))
	must(t, s.MarkMailFailed(ctx(), claimed[1].ID, "connection refused", base.Add(5*time.Minute)))
	// After the lease, only the failed one (due again) and the unreported third come back.
	later, _ := s.ClaimMails(ctx(), base.Add(10*time.Minute), time.Minute, 10)
	if len(later) != 2 {
		t.Fatalf("after the lease: %+v", later)
	}
	for _, m := range later {
		if m.ID == claimed[0].ID {
			t.Fatal("a sent mail was claimed again")
		}
		if m.ID == claimed[1].ID && (m.Attempts != 2 || m.LastError != "connection refused") {
			t.Fatalf("failed mail: %+v", m)
		}
	}
	list, err := s.ListMails(ctx(), 10)
	must(t, err)
	if len(list) != 3 || list[0].CreatedAt.Before(list[2].CreatedAt) {
		t.Fatalf("list: %+v", list)
	}
	// A sent mail keeps no body: it may carry a live link (set-password,
	// reset), which must not stay at rest, in the table and its backups.
	// What is left says who got what, when.
	for _, m := range list {
		sent := m.ID == claimed[0].ID
		if sent && (m.Text != "" || m.HTML != "" || m.SentAt.IsZero() || m.Subject != "Hello" || m.To != "a@x.example" || m.Kind != "invitation") {
			t.Errorf("sent mail: %+v", m)
		}
		if !sent && (m.Text != "text" || m.HTML != "<p>html</p>") {
			t.Errorf("unsent mail lost its body: %+v", m)
		}
	}
	wantErr(t, s.MarkMailSent(ctx(), "missing", base), storage.ErrNotFound)
	if n, err := s.CountUnsentMails(ctx()); err != nil || n != 2 {
		t.Fatalf("unsent: %d, %v", n, err)
	}

	// Concurrent workers never claim the same mail twice.
	for range 20 {
		must(t, s.EnqueueMail(ctx(), storage.Mail{ID: storage.NewID("mail"), To: "b@x.example", CreatedAt: base}))
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.ClaimMails(ctx(), base.Add(20*time.Minute), time.Hour, 10)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range got {
				if seen[m.ID] {
					t.Errorf("mail %s claimed twice", m.ID)
				}
				seen[m.ID] = true
			}
		}()
	}
	wg.Wait()
}

func testAuditAndRateLimits(t *testing.T, s storage.Storage) {
	for i, org := range []string{"org_a", "org_b", "org_a"} {
		must(t, s.RecordEvent(ctx(), storage.AuditEvent{ID: storage.NewID("evt"), At: base.Add(time.Duration(i) * time.Minute),
			ActorID: "usr_1", Action: "org.validated", TargetType: "organization", TargetID: org, OrgID: org, IP: "127.0.0.1"}))
	}
	wantErr(t, s.RecordEvent(ctx(), storage.AuditEvent{ID: "e"}), storage.ErrInvalid)
	all, err := s.ListEvents(ctx(), storage.AuditFilter{})
	must(t, err)
	if len(all) != 3 || !all[0].At.Equal(base.Add(2*time.Minute)) {
		t.Fatalf("events: %+v", all)
	}
	a, _ := s.ListEvents(ctx(), storage.AuditFilter{OrgID: "org_a"})
	recent, _ := s.ListEvents(ctx(), storage.AuditFilter{Since: base.Add(time.Minute)})
	if len(a) != 2 || len(recent) != 2 {
		t.Fatalf("filters: %d %d", len(a), len(recent))
	}

	if n, err := s.PruneEvents(ctx(), base.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if left, _ := s.ListEvents(ctx(), storage.AuditFilter{}); len(left) != 2 {
		t.Fatalf("%d events after pruning", len(left))
	}
	for i := 1; i <= 3; i++ {
		n, reset, err := s.Hit(ctx(), "signup:192.0.2.1", time.Hour, base.Add(time.Duration(i)*time.Minute))
		must(t, err)
		if n != i || !reset.Equal(base.Truncate(time.Hour).Add(time.Hour)) {
			t.Fatalf("hit %d: count %d reset %v", i, n, reset)
		}
	}
	if n, _, _ := s.Hit(ctx(), "signup:192.0.2.2", time.Hour, base); n != 1 {
		t.Fatal("keys are separate")
	}
	if n, _, _ := s.Hit(ctx(), "signup:192.0.2.1", time.Hour, base.Add(2*time.Hour)); n != 1 {
		t.Fatal("a new window starts from 1")
	}
	// Concurrent hits on one key each get their own count, and a hit in a
	// transaction that fails is undone with it.
	const n = 24
	counts := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], _, _ = s.Hit(ctx(), "signin:198.51.100.7", time.Hour, base)
		}()
	}
	wg.Wait()
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("concurrent hits counted %v, want 1…%d once each", counts, n)
		}
	}
	boom := errors.New("boom")
	wantErr(t, s.Atomic(ctx(), func(tx storage.Tx) error {
		if _, _, err := tx.Hit(ctx(), "signin:198.51.100.7", time.Hour, base); err != nil {
			return err
		}
		return boom
	}), boom)
	if got, _, _ := s.Hit(ctx(), "signin:198.51.100.7", time.Hour, base); got != n+1 {
		t.Fatalf("after a rolled-back hit: count %d, want %d", got, n+1)
	}
}
