// Package sqlitetest gives tests a new SQLite database of the current
// schema without applying the migrations for each one.
//
// Applying every migration to a new file is the dearest part of opening a
// database in a test: under -race, modernc's SQLite is instrumented Go, and
// each ALTER TABLE re-reads the whole schema (cmd/sesame's tests spent 38 of
// their 220 CPU-seconds there). So the migrations run once per test binary,
// on a file of their own, and each test gets a copy of that file, which
// sqlite.Open then opens as it opens any database of the current schema.
// The tests of the migrations themselves (storage/sqlite, sqlstore) still
// open empty files.
package sqlitetest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/storage/sqlite"
)

// migrated is the migrated database's bytes, made once per process.
var migrated = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "sesame-migrated-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sesame.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	// Closing the last connection checkpoints the WAL into the file and
	// removes it: the file alone is the whole database.
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// Write puts a new migrated database at path (private, like the ones
// sqlite.Open creates), which must not exist yet.
func Write(t testing.TB, path string) {
	t.Helper()
	b, err := migrated()
	if err != nil {
		t.Fatalf("sqlitetest: migrate: %v", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("sqlitetest: %v", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		t.Fatalf("sqlitetest: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("sqlitetest: %v", err)
	}
}

// Open opens a new migrated database in t's temporary directory, closed
// with the test.
func Open(t testing.TB) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sesame.db")
	Write(t, path)
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("sqlitetest: open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
