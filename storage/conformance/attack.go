package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// testPasskeyLimitConcurrent: the per-person limit holds when adds race,
// each in its own transaction as the settings make them (on PostgreSQL, two
// INSERT … SELECT count(*) under READ COMMITTED both saw room).
func testPasskeyLimitConcurrent(t *testing.T, s storage.Storage) {
	const max, tries = 3, 12
	for round := range 5 {
		u := storage.User{ID: storage.NewID("usr"), Email: fmt.Sprintf("race%d@pk.example", round), CreatedAt: base}
		must(t, s.CreateUser(ctx(), u, nil))
		var wg sync.WaitGroup
		errs := make(chan error, tries)
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.Atomic(ctx(), func(tx storage.Tx) error {
					return tx.CreatePasskey(ctx(), storage.Passkey{ID: fmt.Sprintf("race-%d-%d", round, i), UserID: u.ID, Name: "k",
						PublicKey: []byte{1}, CreatedAt: base}, max)
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil && !errors.Is(err, storage.ErrTooManyPasskeys) {
				t.Fatal(err)
			}
		}
		list, err := s.ListPasskeys(ctx(), u.ID)
		must(t, err)
		if len(list) != max {
			t.Fatalf("round %d: %d concurrent adds left %d passkeys, want %d", round, tries, len(list), max)
		}
	}
}
