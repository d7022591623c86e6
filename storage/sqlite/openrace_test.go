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
	// Three rounds: each opener applies every migration in SQLite's
	// translated C, which the race detector slows tenfold.
	for round := range 3 {
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
