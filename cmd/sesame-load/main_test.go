package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/sesame-idp/sesame/storage/sqlite" // the sqlite driver
)

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "http://192.0.2.1:8080"}, "loopback only"},
		{[]string{"--target", "ftp://127.0.0.1"}, "is not an http(s) URL"},
		{[]string{"--scenario", "dance"}, "--scenario: must be signin, token, refresh, userinfo, jwks, discovery or api-orgs"},
		{[]string{"--orgs", "5"}, "--orgs: only with --setup"},
		{[]string{"-c", "0"}, "--c: must be from 1 to 1024"},
		{[]string{"-d", "1h"}, "--d: must be more than 0 and at most 10m"},
		{[]string{"--id-token-alg", "HS256", "--setup"}, "--id-token-alg: must be RS256, ES256 or EdDSA"},
		{[]string{"--id-token-alg", "ES256"}, "only with --setup"},
		{[]string{"--op", "keycloak"}, "--op: must be sesame or zitadel-example"},
		{[]string{"--op", "zitadel-example", "--setup"}, "--setup: only for --op sesame"},
		{[]string{"--users", "many"}, `--users: invalid value "many"`},
		{[]string{"--nope"}, "--nope: unknown flag"},
		{[]string{"now"}, `unexpected argument "now"`},
	} {
		var out, errs strings.Builder
		if code := run(context.Background(), tc.args, &out, &errs, nil); code != 2 || out.Len() != 0 ||
			!strings.Contains(errs.String(), tc.want) || strings.Count(errs.String(), "\n") != 1 {
			t.Errorf("%v: %d %q %q", tc.args, code, out.String(), errs.String())
		}
	}
	var out, errs strings.Builder
	if code := run(context.Background(), []string{"--help"}, &out, &errs, nil); code != 0 || !strings.Contains(out.String(), "--scenario S") {
		t.Fatalf("--help: %d %s", code, out.String())
	}
}

// TestSetupWritesThroughStorage: --setup creates the client and the people
// in the configured database, then the run measures (here the discovery
// scenario, against a stand-in).
func TestSetupWritesThroughStorage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer srv.Close()
	dir := t.TempDir()
	env := []string{"SESAME_DATA_DIR=" + dir, "SESAME_PASSWORD_ARGON2_MEMORY_KIB=8192", "SESAME_PASSWORD_ARGON2_ITERATIONS=1"}
	var out, errs strings.Builder
	code := run(context.Background(), []string{"--setup", "--users", "3", "--target", srv.URL, "--scenario", "discovery", "-c", "1", "--max-requests", "2"},
		&out, &errs, env)
	if code != 0 || !strings.Contains(out.String(), "3 users created") || !strings.Contains(out.String(), "errors 0") {
		t.Fatalf("%d\n%s%s", code, out.String(), errs.String())
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "sesame.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var users, clients int
	db.QueryRow(`SELECT count(*) FROM users`).Scan(&users)
	db.QueryRow(`SELECT count(*) FROM clients WHERE id = 'loadtest'`).Scan(&clients)
	if users != 3 || clients != 1 {
		t.Fatalf("users %d, clients %d", users, clients)
	}
}
