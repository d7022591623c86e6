package sqlitetest_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
)

// A copy holds every migration, is private, and is a database of its own.
func TestCopiesAreMigratedPrivateAndApart(t *testing.T) {
	files, err := os.ReadDir("../migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".sql") {
			want = append(want, strings.TrimSuffix(f.Name(), ".sql"))
		}
	}
	ctx := context.Background()
	a, b := sqlitetest.Open(t), sqlitetest.Open(t)
	if a.Path() == b.Path() {
		t.Fatalf("both copies at %s", a.Path())
	}
	raw, err := sql.Open("sqlite", "file:"+a.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	rows.Close()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("applied %v, migrations %v", got, want)
	}
	fi, err := os.Stat(a.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	org := storage.Organization{ID: storage.NewID("org"), Name: "ACME", Domicile: storage.DomicileAbroad, Country: "DE",
		Status: storage.OrgPending, CreatedAt: time.Now()}
	if err := a.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetOrganization(ctx, org.ID); err == nil {
		t.Fatal("an organization made in one copy is in the other")
	}
	if filepath.Dir(a.Path()) == filepath.Dir(b.Path()) {
		t.Fatal("copies share a directory")
	}
}
