package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// TestOpenedAtOnceOnAFreshFile: several openers of one new database file,
// as several commands started at once on a fresh data directory are, all
// end up with the schema; none fails on SQLITE_BUSY while another applies
// the migrations. (A CI run saw "migrations table: database is locked".)
func TestOpenedAtOnceOnAFreshFile(t *testing.T) {
	rounds := 10
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		path := filepath.Join(t.TempDir(), "sesame.db")
		errs := make([]error, 6)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db, err := Open(context.Background(), path)
				if err == nil {
					err = db.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
		}
	}
}
