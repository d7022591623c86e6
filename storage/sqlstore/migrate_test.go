package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"sort"
	"testing"
	"testing/fstest"
)

// TestMigrationsAreWholeOrNotAtAll: an upgrade whose second migration
// fails leaves the database as it found it (no table of the first, no
// record of either), and the mended upgrade then applies both, once.
func TestMigrationsAreWholeOrNotAtAll(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	write, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer write.Close()
	write.SetMaxOpenConns(1)
	d := *testDialect(false, true)
	first := &fstest.MapFile{Data: []byte("CREATE TABLE first (id TEXT PRIMARY KEY);")}
	tables := func() []string {
		rows, err := write.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		sort.Strings(names)
		return names
	}

	broken := fstest.MapFS{"m/0001_first.sql": first, "m/0002_second.sql": {Data: []byte("CREATE TABLE second (id TEXT PRIMARY KEY, oops);;; NOT SQL")}}
	if err := ApplyMigrations(ctx, write, d, broken, "m"); err == nil {
		t.Fatal("a broken migration was applied")
	}
	if got := tables(); len(got) != 0 {
		t.Fatalf("a failed upgrade left tables %v", got)
	}

	mended := fstest.MapFS{"m/0001_first.sql": first, "m/0002_second.sql": {Data: []byte("CREATE TABLE second (id TEXT PRIMARY KEY);")}}
	for range 2 { // the second run finds nothing pending
		if err := ApplyMigrations(ctx, write, d, mended, "m"); err != nil {
			t.Fatal(err)
		}
	}
	if got := tables(); len(got) != 3 || got[0] != "first" || got[1] != "schema_migrations" || got[2] != "second" {
		t.Fatalf("tables after the mended upgrade: %v", got)
	}
	var n int
	if err := write.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d migrations recorded (%v), want 2", n, err)
	}
}
