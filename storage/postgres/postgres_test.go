package postgres_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/conformance"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

func TestConformance(t *testing.T) {
	base := pgtest.BaseDSN(t)
	conformance.RunTests(t, func(t *testing.T) storage.Storage {
		db, err := postgres.Open(context.Background(), pgtest.Schema(t, base), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestConcurrentMigrations starts replicas at once: one migrates, the
// others wait on the advisory lock, none fails.
func TestConcurrentMigrations(t *testing.T) {
	d := pgtest.Schema(t, pgtest.BaseDSN(t))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), d, postgres.Options{MaxConns: 2})
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("pgx", d)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	files, _ := filepath.Glob("migrations/*.sql")
	if err := db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(files) {
		t.Fatalf("%d migrations recorded, want %d: %v", n, len(files), err)
	}
}
