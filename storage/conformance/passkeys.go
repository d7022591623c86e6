package conformance

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

func testPasskeys(t *testing.T, s storage.Storage) {
	u := storage.User{ID: storage.NewID("usr"), Email: "pk@x.example", CreatedAt: base}
	other := storage.User{ID: storage.NewID("usr"), Email: "pk2@x.example", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, nil))
	must(t, s.CreateUser(ctx(), other, nil))
	pk := storage.Passkey{ID: "cred-1", UserID: u.ID, Name: "Laptop", PublicKey: []byte{1, 2, 3}, SignCount: 5,
		Transports: []string{"internal", "hybrid"}, BackupEligible: true, BackedUp: true,
		AAGUID: []byte{0xad, 0xce}, AttestationType: "none", CreatedAt: base}
	must(t, s.CreatePasskey(ctx(), pk, 10))
	got, err := s.GetPasskey(ctx(), "cred-1")
	must(t, err)
	if got.UserID != u.ID || got.Name != "Laptop" || string(got.PublicKey) != "\x01\x02\x03" || got.SignCount != 5 ||
		!slices.Equal(got.Transports, pk.Transports) || !got.BackupEligible || !got.BackedUp ||
		string(got.AAGUID) != "\xad\xce" || got.AttestationType != "none" || !got.CreatedAt.Equal(base) || !got.LastUsedAt.IsZero() {
		t.Fatalf("passkey: %+v", got)
	}
	_, err = s.GetPasskey(ctx(), "nope")
	wantErr(t, err, storage.ErrNotFound)
	// An id is one credential, whoever registers it again.
	dup := pk
	dup.UserID = other.ID
	wantErr(t, s.CreatePasskey(ctx(), dup, 10), storage.ErrConflict)
	missing := pk
	missing.ID, missing.UserID = "cred-x", "usr_missing"
	wantErr(t, s.CreatePasskey(ctx(), missing, 10), storage.ErrNotFound)
	wantErr(t, s.CreatePasskey(ctx(), storage.Passkey{ID: "cred-y", UserID: u.ID}, 10), storage.ErrInvalid)

	// The sign count only moves forward (a cloned authenticator goes back).
	must(t, s.RecordPasskeyUse(ctx(), "cred-1", 6, false, base.Add(time.Minute)))
	wantErr(t, s.RecordPasskeyUse(ctx(), "cred-1", 6, false, base.Add(2*time.Minute)), storage.ErrAlreadyUsed)
	wantErr(t, s.RecordPasskeyUse(ctx(), "cred-1", 3, false, base.Add(2*time.Minute)), storage.ErrAlreadyUsed)
	wantErr(t, s.RecordPasskeyUse(ctx(), "nope", 9, false, base), storage.ErrNotFound)
	got, _ = s.GetPasskey(ctx(), "cred-1")
	if got.SignCount != 6 || got.BackedUp || !got.LastUsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("after use: %+v", got)
	}
	// An authenticator without a counter (always 0) signs in again and again.
	zero := storage.Passkey{ID: "cred-0", UserID: u.ID, Name: "Phone", PublicKey: []byte{9}, CreatedAt: base.Add(time.Second)}
	must(t, s.CreatePasskey(ctx(), zero, 10))
	must(t, s.RecordPasskeyUse(ctx(), "cred-0", 0, false, base))
	must(t, s.RecordPasskeyUse(ctx(), "cred-0", 0, false, base))

	// Renaming and removing touch the person's own credentials only.
	must(t, s.RenamePasskey(ctx(), u.ID, "cred-0", "Téléphone"))
	wantErr(t, s.RenamePasskey(ctx(), other.ID, "cred-0", "stolen"), storage.ErrNotFound)
	wantErr(t, s.DeletePasskey(ctx(), other.ID, "cred-0"), storage.ErrNotFound)
	list, err := s.ListPasskeys(ctx(), u.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != "cred-1" || list[1].Name != "Téléphone" {
		t.Fatalf("list: %+v", list)
	}
	must(t, s.DeletePasskey(ctx(), u.ID, "cred-0"))
	wantErr(t, s.DeletePasskey(ctx(), u.ID, "cred-0"), storage.ErrNotFound)

	// At most max per person.
	for i := range 2 {
		must(t, s.CreatePasskey(ctx(), storage.Passkey{ID: fmt.Sprint("o-", i), UserID: other.ID, Name: "k", PublicKey: []byte{1}, CreatedAt: base}, 2))
	}
	wantErr(t, s.CreatePasskey(ctx(), storage.Passkey{ID: "o-2", UserID: other.ID, Name: "k", PublicKey: []byte{1}, CreatedAt: base}, 2), storage.ErrTooManyPasskeys)
	if n, err := s.DeletePasskeys(ctx(), other.ID); err != nil || n != 2 {
		t.Fatalf("DeletePasskeys = %d, %v", n, err)
	}
	// Deleting the person deletes their credentials.
	must(t, s.DeleteUser(ctx(), u.ID))
	_, err = s.GetPasskey(ctx(), "cred-1")
	wantErr(t, err, storage.ErrNotFound)

	// A challenge is answered once; expired ones are forgotten.
	must(t, s.UsePasskeyChallenge(ctx(), "c1", base.Add(2*time.Minute), base))
	wantErr(t, s.UsePasskeyChallenge(ctx(), "c1", base.Add(2*time.Minute), base.Add(time.Minute)), storage.ErrAlreadyUsed)
	must(t, s.UsePasskeyChallenge(ctx(), "c1", base.Add(10*time.Minute), base.Add(3*time.Minute)))
	// Inside a transaction too, and a refusal leaves the transaction usable.
	must(t, s.Atomic(ctx(), func(tx storage.Tx) error {
		wantErr(t, tx.UsePasskeyChallenge(ctx(), "c1", base.Add(10*time.Minute), base.Add(3*time.Minute)), storage.ErrAlreadyUsed)
		return tx.UsePasskeyChallenge(ctx(), "c2", base.Add(10*time.Minute), base.Add(3*time.Minute))
	}))
	wantErr(t, s.UsePasskeyChallenge(ctx(), "c2", base.Add(10*time.Minute), base.Add(3*time.Minute)), storage.ErrAlreadyUsed)

	// The policy is kept.
	org := newOrg("")
	org.RequirePasskey = true
	must(t, s.CreateOrganization(ctx(), org))
	if o, _ := s.GetOrganization(ctx(), org.ID); !o.RequirePasskey {
		t.Fatal("require_passkey lost")
	}
}
