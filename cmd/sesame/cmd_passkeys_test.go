package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// sesame user passkeys list|remove, and reset-2fa removing passkeys.
func TestCLIPasskeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("app")
	e.person(&f)
	ctx := context.Background()
	for i, synced := range []bool{false, true} {
		err := e.main.Store.CreatePasskey(ctx, storage.Passkey{ID: []string{"cred-a", "cred-b"}[i], UserID: f.userID,
			Name: []string{"Laptop", "Phone"}[i], PublicKey: []byte{1}, BackupEligible: synced, Transports: []string{"internal"},
			CreatedAt: e.clock.Now()}, 10)
		if err != nil {
			t.Fatal(err)
		}
	}
	out := e.mustCLI("", "user", "passkeys", "list", f.userID)
	if !strings.Contains(out, "cred-a") || !strings.Contains(out, "Laptop") || !strings.Contains(out, "device-bound") ||
		!strings.Contains(out, "synced") || !strings.Contains(out, "never") {
		t.Fatalf("list:\n%s", out)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(e.mustCLI("", "--json", "user", "passkeys", "list", f.userID)), &list); err != nil || len(list) != 2 {
		t.Fatalf("--json: %v %v", list, err)
	}
	// Refusals exit 2 with one line.
	for _, args := range [][]string{
		{"user", "passkeys", "list", "usr_unknown"},
		{"user", "passkeys", "remove", f.userID, "cred-unknown"},
		{"user", "passkeys", "remove", "usr_unknown", "cred-a"},
		{"user", "passkeys"},
		{"user", "passkeys", "list"},
	} {
		if _, errs, code := e.cli("", args...); code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("sesame %s: exit %d, %q", strings.Join(args, " "), code, errs)
		}
	}
	e.mustCLI("", "user", "passkeys", "remove", f.userID, "cred-a")
	if out := e.mustCLI("", "user", "passkeys", "list", f.userID); strings.Contains(out, "cred-a") || !strings.Contains(out, "cred-b") {
		t.Fatalf("after remove:\n%s", out)
	}
	events, _ := e.main.Store.ListEvents(ctx, storage.AuditFilter{Limit: 50})
	found := false
	for _, ev := range events {
		found = found || (ev.Action == "passkey.removed" && strings.Contains(ev.Details, "cred-a"))
	}
	if !found {
		t.Fatal("removal not audited")
	}
	// The operator's reset of the second factor removes the passkeys.
	e.mustCLI("", "user", "reset-2fa", f.userID)
	if list, _ := e.main.Store.ListPasskeys(ctx, f.userID); len(list) != 0 {
		t.Fatalf("passkeys survived reset-2fa: %v", list)
	}
	if out, _, code := e.cli("", "help", "user"); code != 0 || !strings.Contains(out, "sesame user passkeys remove USER_ID PASSKEY_ID") {
		t.Fatalf("help user:\n%s", out)
	}
}

// An IP-address issuer: passkeys are off, the log says why once, and the
// sign-in page shows no passkey control.
func TestPasskeysOffForIPIssuer(t *testing.T) {
	t.Parallel()
	logs := &lockedWriter{w: &strings.Builder{}}
	e := newEnvWith(t, slog.New(slog.NewTextHandler(logs, nil)))
	b := e.browser()
	_, body := b.get(e.issuer + "/login")
	if strings.Contains(body, "data-passkey") || strings.Contains(body, "webauthn") {
		t.Fatalf("passkey controls at an IP issuer:\n%s", body)
	}
	b.get(e.issuer + "/login")
	if got := logs.String(); strings.Count(got, "passkeys are off") != 1 {
		t.Fatalf("not said once:\n%s", got)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
