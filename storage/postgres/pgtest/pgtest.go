// Package pgtest gives tests an empty PostgreSQL schema of their own on the
// server named by SESAME_TEST_POSTGRES_DSN. Without the variable a test is
// skipped, except under CI, which sets it: there it fails.
package pgtest

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// BaseDSN is the test server's DSN, or skips (fails under CI).
func BaseDSN(t testing.TB) string {
	t.Helper()
	d := os.Getenv("SESAME_TEST_POSTGRES_DSN")
	if d == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SESAME_TEST_POSTGRES_DSN is not set (.ci/run sets it after starting PostgreSQL)")
		}
		t.Skip("SESAME_TEST_POSTGRES_DSN is not set")
	}
	return d
}

// SchemaName is the schema of the test named test: readable, and within
// PostgreSQL's 63-byte identifiers. A long name keeps its first 50
// characters and gains a hash of the whole, so that two tests whose names
// share a long prefix never share, and drop, one schema.
func SchemaName(test string) string {
	name := "t_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_", " ", "_", "#", "_", `"`, "_").Replace(test))
	if len(name) <= 60 {
		return name
	}
	sum := sha256.Sum256([]byte(test))
	return name[:50] + "_" + hex.EncodeToString(sum[:4])
}

// Schema creates an empty schema named after the test, dropped at its end,
// and returns a DSN whose connections use it.
func Schema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := SchemaName(t.Name())
	for _, q := range []string{`DROP SCHEMA IF EXISTS "` + name + `" CASCADE`, `CREATE SCHEMA "` + name + `"`} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", base); err == nil {
			a.Exec(`DROP SCHEMA IF EXISTS "` + name + `" CASCADE`)
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
