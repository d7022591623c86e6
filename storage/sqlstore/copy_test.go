package sqlstore_test

import (
	"context"
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
	"github.com/sesame-idp/sesame/storage/sqlite"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

func openSQLite(t *testing.T) (*sqlite.DB, *sql.DB) {
	t.Helper()
	db := sqlitetest.Open(t)
	// A connection of the test's own, for what the store has no method for.
	raw, err := sql.Open("sqlite", "file:"+db.Path()+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw
}

// migratedTables is the set of tables the migration files of a backend
// leave: every CREATE TABLE but those a later DROP TABLE removes. It is
// read from the SQL text, not from the database, so that a catalog query
// that missed a table fails the test below.
func migratedTables(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations in %s: %v", dir, err)
	}
	slices.Sort(files)
	create := regexp.MustCompile(`(?i)\bCREATE TABLE (?:IF NOT EXISTS )?(\w+)`)
	drop := regexp.MustCompile(`(?i)\bDROP TABLE (?:IF EXISTS )?(\w+)`)
	rename := regexp.MustCompile(`(?i)\bALTER TABLE (\w+) RENAME TO (\w+)`)
	tables := map[string]bool{"schema_migrations": true} // ApplyMigrations creates it
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(body), "\n") {
			if m := create.FindStringSubmatch(line); m != nil {
				tables[m[1]] = true
			}
			if m := drop.FindStringSubmatch(line); m != nil {
				delete(tables, m[1])
			}
			if m := rename.FindStringSubmatch(line); m != nil {
				delete(tables, m[1])
				tables[m[2]] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(tables))
}

// checkPlan fails when a table of db's schema is neither copied nor
// deliberately left (sqlstore.NotCopied), when NotCopied names a table the
// schema no longer has, or when a table comes before one it references.
func checkPlan(t *testing.T, db *sqlstore.DB, migrations string) {
	t.Helper()
	ctx := context.Background()
	schema, err := sqlstore.SchemaTables(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(schema)), migratedTables(t, migrations); !slices.Equal(got, want) {
		t.Fatalf("the catalog lists %v, the migrations create %v", got, want)
	}
	plan, err := sqlstore.Plan(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for table := range schema {
		_, excluded := sqlstore.NotCopied[table]
		if copied := slices.Contains(plan, table); copied == excluded {
			t.Errorf("table %s: copied %v, in sqlstore.NotCopied %v: a table is either copied or deliberately excluded, with its reason",
				table, copied, excluded)
		}
	}
	for table := range sqlstore.NotCopied {
		if _, ok := schema[table]; !ok {
			t.Errorf("sqlstore.NotCopied names %s, which the schema does not have", table)
		}
	}
	at := map[string]int{}
	for i, table := range plan {
		at[table] = i
	}
	for table, parents := range schema {
		for _, p := range parents {
			if _, ok := at[table]; ok && p != table && at[p] > at[table] {
				t.Errorf("%s is copied before %s, which it references", table, p)
			}
		}
	}
}

func TestCopyPlanCoversTheSchema(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, _ := openSQLite(t)
		checkPlan(t, db.DB, "../sqlite/migrations")
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := postgres.Open(context.Background(), pgtest.Schema(t, pgtest.BaseDSN(t)), postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkPlan(t, db.DB, "../postgres/migrations")
	})
}

// A table that a migration adds is copied with no list to update, after
// the tables it references: to SQLite, and to PostgreSQL (numbered
// placeholders, quoted identifiers).
func TestCopyTakesATableAddedToTheSchema(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dst, dstRaw := openSQLite(t)
		copyAddedTable(t, dst.DB, dstRaw)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Schema(t, pgtest.BaseDSN(t))
		dst, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		copyAddedTable(t, dst.DB, raw)
	})
}

func copyAddedTable(t *testing.T, dst *sqlstore.DB, dstRaw *sql.DB) {
	ctx := context.Background()
	src, srcRaw := openSQLite(t)
	for _, raw := range []*sql.DB{srcRaw, dstRaw} {
		for _, q := range []string{
			// Named so that name order alone would copy the child first.
			`CREATE TABLE zz_parent (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id))`,
			`CREATE TABLE aa_child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES zz_parent (id))`,
		} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	u := storage.User{ID: "u1", Email: "ada@example.org", CreatedAt: time.Unix(1_700_000_000, 0)}
	if err := src.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`INSERT INTO zz_parent VALUES ('p1', 'u1')`, `INSERT INTO aa_child VALUES ('c1', 'p1')`} {
		if _, err := srcRaw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := sqlstore.Plan(ctx, src.DB)
	if err != nil {
		t.Fatal(err)
	}
	if i, j, k := slices.Index(plan, "users"), slices.Index(plan, "zz_parent"), slices.Index(plan, "aa_child"); i < 0 || !(i < j && j < k) {
		t.Fatalf("plan %v: want users, zz_parent, aa_child in that order", plan)
	}
	for run := range 2 { // the second copy finds every row there
		counts, err := sqlstore.Copy(ctx, src.DB, dst)
		if err != nil {
			t.Fatalf("copy %d: %v", run, err)
		}
		got := map[string]sqlstore.TableCount{}
		for _, c := range counts {
			got[c.Table] = c
		}
		for _, table := range []string{"users", "zz_parent", "aa_child"} {
			if c := got[table]; c.Source != 1 || c.Target != 1 {
				t.Errorf("copy %d: %s %+v, want one row on each side", run, table, c)
			}
		}
		if _, ok := got["schema_migrations"]; ok {
			t.Errorf("copy %d copied schema_migrations", run)
		}
	}
	var parent string
	if err := dstRaw.QueryRow(`SELECT parent_id FROM aa_child WHERE id = 'c1'`).Scan(&parent); err != nil || parent != "p1" {
		t.Fatalf("the copied row: %q %v", parent, err)
	}
}

func TestCopyRefusesSchemasAtDifferentVersions(t *testing.T) {
	src, _ := openSQLite(t)
	dst, dstRaw := openSQLite(t)
	if _, err := dstRaw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlstore.Copy(context.Background(), src.DB, dst.DB); err == nil || !strings.Contains(err.Error(), "9999_future") {
		t.Fatalf("copy to a newer schema: %v, want a refusal naming the versions", err)
	}
}

func TestCopyPlanRefusesACycle(t *testing.T) {
	db, raw := openSQLite(t)
	for _, q := range []string{
		`CREATE TABLE cycle_a (id TEXT PRIMARY KEY, b TEXT REFERENCES cycle_b (id))`,
		`CREATE TABLE cycle_b (id TEXT PRIMARY KEY, a TEXT REFERENCES cycle_a (id))`,
		`CREATE TABLE tree (id TEXT PRIMARY KEY, parent TEXT REFERENCES tree (id))`, // itself: fine
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sqlstore.Plan(context.Background(), db.DB); err == nil || !strings.Contains(err.Error(), "cycle_a, cycle_b") {
		t.Fatalf("plan with a cycle: %v", err)
	}
}
