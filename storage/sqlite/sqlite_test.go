package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/conformance"
	"github.com/sesame-idp/sesame/storage/sqlite"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
)

func TestConformance(t *testing.T) {
	conformance.RunTests(t, func(t *testing.T) storage.Storage {
		return sqlitetest.Open(t)
	})
}

func TestFileModeAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "sesame.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(context.Background(), storage.Client{ID: "c", RedirectURIs: []string{"https://x/cb"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	// Reopening applies no migration twice and keeps the data.
	db, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.GetClient(context.Background(), "c"); err != nil {
		t.Fatal(err)
	}
	if res, err := db.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Fatalf("integrity: %q %v", res, err)
	}
}

func TestBackupWhileOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateClient(ctx, storage.Client{ID: "c", RedirectURIs: []string{"https://x/cb"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, out); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", fi.Mode().Perm())
	}
	restored, err := sqlite.Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if _, err := restored.GetClient(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if res, _ := restored.IntegrityCheck(ctx); res != "ok" {
		t.Fatal(res)
	}
}
