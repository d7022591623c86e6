package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/internal/config"
	_ "github.com/sesame-idp/sesame/storage/sqlite" // the sqlite driver
)

// commandResult is how a `sesame` process ended.
type commandResult struct {
	args   []string
	stdout string
	stderr string
	err    error
}

// startCommand runs `sesame args...` as a process of its own; its result
// arrives on the channel.
func startCommand(t *testing.T, bin string, env []string, stdin string, args ...string) <-chan commandResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = childEnv(env)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan commandResult, 1)
	go func() {
		err := cmd.Wait()
		done <- commandResult{args: args, stdout: out.String(), stderr: errb.String(), err: err}
	}()
	return done
}

// TestCommandsWaitForABusyServer runs several `sesame` commands at once
// while the database's one write lock is taken, as by a server whose writer
// is never idle. The commands that only read must not need that lock (their
// migrations are applied already: they are checked, not applied again), and
// a command that writes waits its turn rather than failing with SQLITE_BUSY.
func TestCommandsWaitForABusyServer(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	env := []string{"SESAME_DATA_DIR=" + dir}
	if r := <-startCommand(t, bin, env, "", "migrate"); r.err != nil {
		t.Fatalf("migrate: %v: %s", r.err, r.stderr)
	}

	// The busy server: a write transaction held open on the same file.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "sesame.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	lock, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	release := func() {
		if locked {
			locked = false
			if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer release()

	writer := startCommand(t, bin, env, "", "client", "add", "--id", "busy", "--secret", "busy-secret-0123456789abcdefghijklmnop",
		"--redirect-uri", "https://rp.example/cb")
	var readers []<-chan commandResult
	for _, args := range [][]string{{"migrate"}, {"keys", "list"}, {"client", "list"}, {"org", "list"}, {"migrate"}, {"user", "list"}} {
		readers = append(readers, startCommand(t, bin, env, "", args...))
	}
	for _, ch := range readers {
		if r := <-ch; r.err != nil {
			t.Errorf("sesame %s while the server writes: %v: %s", strings.Join(r.args, " "), r.err, strings.TrimSpace(r.stderr))
		}
	}
	select {
	case r := <-writer:
		t.Fatalf("sesame client add ended while the write lock was taken: %v: %s", r.err, r.stderr)
	default:
	}
	release() // the server's write ends: the waiting command goes on
	if r := <-writer; r.err != nil {
		t.Fatalf("sesame client add, once the server's write ended: %v: %s", r.err, strings.TrimSpace(r.stderr))
	}
}

// TestCommandsStartedAtOnceOnAFreshDataDir starts several commands at once
// on an empty data directory: one of them creates the secret-encryption key
// and the schema, the others use them, and none fails.
func TestCommandsStartedAtOnceOnAFreshDataDir(t *testing.T) {
	bin := buildBinary(t)
	for round := range 3 {
		dir := t.TempDir()
		env := []string{"SESAME_DATA_DIR=" + dir}
		var results []<-chan commandResult
		for range 6 {
			results = append(results, startCommand(t, bin, env, "", "migrate"))
		}
		for _, ch := range results {
			if r := <-ch; r.err != nil {
				t.Errorf("round %d: sesame migrate: %v: %s", round, r.err, strings.TrimSpace(r.stderr))
			}
		}
	}
}

// TestMasterKeyCreatedOnce: commands started at once on a fresh data
// directory all end up with the one key that was created, never with a file
// another is still writing.
func TestMasterKeyCreatedOnce(t *testing.T) {
	for round := range 50 {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		keys := make([]string, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, _, err := cfg.MasterKey()
				keys[i], errs[i] = fmt.Sprintf("%x", k), err
			}()
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			if keys[i] != keys[0] {
				t.Fatalf("round %d: two different keys", round)
			}
		}
	}
}

// TestProcessTestsAreHermetic: the processes the tests start get the
// environment the test gives them, not the SESAME_* variables of whoever
// runs the tests (a developer's SESAME_STORAGE_SQLITE_PATH would point every
// child at one database).
func TestProcessTestsAreHermetic(t *testing.T) {
	bin := buildBinary(t)
	callers := t.TempDir()
	t.Setenv("SESAME_DATA_DIR", callers)
	t.Setenv("SESAME_STORAGE_SQLITE_PATH", filepath.Join(callers, "callers.db"))
	dir, addr := t.TempDir(), freeAddr(t)
	startProcess(t, bin, []string{"SESAME_DATA_DIR=" + dir, "SESAME_LISTEN=" + addr, "SESAME_ISSUER=http://" + addr})
	if r := <-startCommand(t, bin, []string{"SESAME_DATA_DIR=" + dir}, "", "keys", "list"); r.err != nil {
		t.Fatalf("sesame keys list: %v: %s", r.err, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "sesame.db")); err != nil {
		t.Errorf("the child's database is not in its data directory: %v", err)
	}
	if entries, _ := os.ReadDir(callers); len(entries) > 0 {
		t.Errorf("a child used the caller's SESAME_* variables: %s holds %s", callers, entries[0].Name())
	}
}
