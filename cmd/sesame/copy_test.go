package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// TestStorageCopyKeepsRefreshTokens moves a deployment from SQLite to
// PostgreSQL: a refresh token issued before the copy works after it, and a
// second copy changes nothing.
func TestStorageCopyKeepsRefreshTokens(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Schema(t, pgtest.BaseDSN(t))
	key := make([]byte, 32)
	rand.Read(key)
	secret := "SESAME_SECRETS_KEY=" + base64.StdEncoding.EncodeToString(key)

	// Before: Sesame on SQLite issues a refresh token.
	a := newEnv(t, secret)
	f := a.fixture("marketplace")
	a.person(&f)
	v, c := pkce()
	code := a.browser().signIn(f, c, nil)
	status, tok, _ := a.tokenRequest(f, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect}, "code_verifier": {v}})
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	a.main.Close()

	dir := t.TempDir()
	from, to := filepath.Join(dir, "sqlite.yaml"), filepath.Join(dir, "postgres.yaml")
	os.WriteFile(from, []byte("data_dir: "+a.dir+"\n"), 0o600)
	os.WriteFile(to, []byte("data_dir: "+t.TempDir()+"\nstorage:\n  driver: postgres\n  postgres:\n    dsn: \""+dsn+"\"\n"), 0o600)
	for i := range 2 { // the second run is a no-op
		out, errs, code := a.cli("", "storage", "copy", "--from", from, "--to", to)
		if code != 0 {
			t.Fatalf("copy %d: %d %s", i, code, errs)
		}
		for _, table := range []string{"refresh_tokens", "users", "signing_keys", "clients"} {
			if !strings.Contains(out, table) {
				t.Fatalf("copy output lacks %s:\n%s", table, out)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) != 3 || fields[1] != fields[2] {
				t.Fatalf("counts differ: %q", line)
			}
		}
	}

	// After: Sesame on PostgreSQL, with the same secret key, honours the token.
	b := newEnv(t, secret, "SESAME_STORAGE_DRIVER=postgres", "SESAME_STORAGE_POSTGRES_DSN="+dsn)
	f.secret = "s3cret-marketplace-0123456789abcdefghijklmnopqrstuv"
	status, refreshed, _ := b.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
	if status != 200 || refreshed["id_token"] == nil {
		t.Fatalf("refresh after the copy: %d %v", status, refreshed)
	}
	if n, _ := b.main.Store.ListUsers(context.Background(), ""); len(n) != 1 {
		t.Fatalf("%d users after the copy", len(n))
	}
	// Bad input.
	if _, errs, code := a.cli("", "storage", "copy", "--from", from); code != 2 || !strings.Contains(errs, "--to: is required") {
		t.Fatalf("missing --to: %d %s", code, errs)
	}
	if _, errs, code := a.cli("", "storage", "copy", "--from", filepath.Join(dir, "missing.yaml"), "--to", to); code != 2 || !strings.Contains(errs, "--from") {
		t.Fatalf("missing file: %d %s", code, errs)
	}
}
