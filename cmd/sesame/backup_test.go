package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRestoreAndSignIn backs up the database of a running Sesame,
// restores it in a new data directory and signs in with it.
func TestBackupRestoreAndSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	_, c := pkce()
	e.browser().signIn(f, c, nil) // the server is live and writing

	restoreDir := t.TempDir()
	out := e.mustCLI("", "backup", "--out", filepath.Join(restoreDir, "sesame.db"))
	if out != filepath.Join(restoreDir, "sesame.db") {
		t.Fatalf("backup printed %q", out)
	}
	if _, errs, code := e.cli("", "backup", "--out", out); code != 2 || !strings.Contains(errs, "exists") {
		t.Fatalf("backup over a file: %d %s", code, errs)
	}
	if _, errs, code := e.cli("", "backup"); code != 2 || !strings.Contains(errs, "--out: is required") {
		t.Fatalf("backup without --out: %d %s", code, errs)
	}
	// Restore: the backup and the secret key, in a new directory.
	key, _ := os.ReadFile(filepath.Join(e.dir, "secret.key"))
	os.WriteFile(filepath.Join(restoreDir, "secret.key"), key, 0o600)
	r := newEnv(t, "SESAME_DATA_DIR="+restoreDir)
	r.dir = restoreDir
	_, c = pkce()
	f.issuer = r.issuer // the restored copy runs on an address of its own
	r.browser().signIn(f, c, nil)

	// The audit trail of what happened, from the command line.
	var events []auditJSON
	if err := json.Unmarshal([]byte(r.mustCLI("", "audit", "list", "--json")), &events); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
	}
	for _, want := range []string{"client.created", "signin.succeeded"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Fatalf("audit lacks %s: %v", want, actions)
		}
	}
	if got := r.mustCLI("", "audit", "list", "--org", f.orgID, "--since", "1h"); !strings.Contains(got, "signin.succeeded") || strings.Contains(got, "client.created") {
		t.Fatalf("audit list --org:\n%s", got)
	}
	if _, errs, code := r.cli("", "audit", "list", "--since", "yesterday"); code != 2 || !strings.Contains(errs, "--since") {
		t.Fatalf("bad --since: %d %s", code, errs)
	}
}
