package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const initPassphrase = "first-operator-passphrase-26"

// TestInitWithFlags: `sesame init` for scripts makes the operator and the
// application in one go, prints their ids (the secret once, on stderr),
// and refuses a second run.
func TestInitWithFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out, errs, code := e.cli(initPassphrase+"\n", "init", "--operator-email", "op@example.com", "--password-stdin",
		"--client-id", "my-app", "--redirect-uri", "https://app.example.com/callback", "--lang", "en")
	lines := strings.Fields(out)
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "usr_") || lines[1] != "my-app" || !strings.Contains(errs, "client secret (shown once") {
		t.Fatalf("init: %d %q %q", code, out, errs)
	}
	ctx := context.Background()
	u, err := e.main.Store.GetUser(ctx, lines[0])
	if err != nil || !u.IsOperator || u.Email != "op@example.com" || u.ChosenLang != "en" {
		t.Fatalf("operator %+v %v", u, err)
	}
	if cl, err := e.main.Store.GetClient(ctx, "my-app"); err != nil || cl.Public || len(cl.RedirectURIs) != 1 || cl.SecretHash == "" {
		t.Fatalf("client %+v %v", cl, err)
	}
	if _, errs, code := e.cli(initPassphrase+"\n", "init", "--operator-email", "op2@example.com", "--password-stdin",
		"--client-id", "other", "--redirect-uri", "https://app.example.com/callback"); code != 2 || !strings.Contains(errs, "has an operator already") {
		t.Fatalf("a second init: %d %q", code, errs)
	}
}

// TestInitAsks: without flags, init asks on stderr and reads the answers
// from standard input (here piped; on a terminal the password is not
// echoed).
func TestInitAsks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	answers := strings.Join([]string{"op@example.com", initPassphrase, initPassphrase, "my-app", "http://localhost:9090/callback", "My App"}, "\n") + "\n"
	out, errs, code := e.cli(answers, "init")
	if code != 0 || len(strings.Fields(out)) != 2 {
		t.Fatalf("init: %d %q %q", code, out, errs)
	}
	for _, q := range []string{"email address", "password", "again", "client id", "redirect URI", "name shown"} {
		if !strings.Contains(errs, q) {
			t.Errorf("init did not ask for the %s: %q", q, errs)
		}
	}
	if cl, err := e.main.Store.GetClient(context.Background(), "my-app"); err != nil || cl.Name != "My App" {
		t.Fatalf("client %+v %v", cl, err)
	}
}

// TestInitRefusesBadInput: each refusal exits 2 with one line, and
// creates nothing.
func TestInitRefusesBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	flags := func(extra ...string) []string {
		return append([]string{"init", "--operator-email", "op@example.com", "--password-stdin", "--client-id", "app",
			"--redirect-uri", "https://app.example.com/cb"}, extra...)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"passwords differ", "op@example.com\n" + initPassphrase + "\nsomething-else-entirely\n", []string{"init"}, "differ"},
		{"no answers", "", []string{"init"}, "--operator-email: is required"},
		{"not an email", "", []string{"init", "--operator-email", "nope"}, "not an email address"},
		{"weak password", "short\n", flags(), "the password is refused"},
		{"empty password", "\n", flags(), "no password"},
		{"http redirect", initPassphrase + "\n", append(flags()[:6], "--redirect-uri", "http://evil.example/cb"), "https"},
		{"bad client id", initPassphrase + "\n", []string{"init", "--operator-email", "op@example.com", "--password-stdin", "--client-id", "a b",
			"--redirect-uri", "https://app.example.com/cb"}, "--client-id:"},
		{"no redirect", initPassphrase + "\n\n", []string{"init", "--operator-email", "op@example.com", "--password-stdin", "--client-id", "app"}, "--redirect-uri: is required"},
	} {
		out, errs, code := e.cli(tc.stdin, tc.args...)
		if code != 2 || out != "" || !strings.Contains(errs, tc.want) || !strings.HasSuffix(errs, "\n") {
			t.Errorf("%s: %d %q %q, want exit 2 saying %q", tc.name, code, out, errs, tc.want)
		}
	}
	// An existing client id: refused before the operator is made.
	e.mustCLI("", "client", "add", "--id", "taken", "--public", "--redirect-uri", "https://app.example.com/cb")
	if _, errs, code := e.cli(initPassphrase+"\n", "init", "--operator-email", "op@example.com", "--password-stdin", "--client-id", "taken",
		"--redirect-uri", "https://app.example.com/cb"); code != 2 || !strings.Contains(errs, "already exists") {
		t.Errorf("taken client id: %d %q", code, errs)
	}
	users, _ := e.main.Store.ListUsers(context.Background(), "")
	if len(users) != 0 {
		t.Fatalf("refused inits created %d people", len(users))
	}
}

// TestNextStepsCommands: the next steps name the configuration the server
// was started with, quoted for a shell.
func TestNextStepsCommands(t *testing.T) {
	t.Parallel()
	s := nextSteps("/etc/sesame/sesame.yaml")
	for _, want := range []string{"sesame --config /etc/sesame/sesame.yaml init", "user add --operator", "client add --id"} {
		if !strings.Contains(s, want) {
			t.Errorf("next steps lack %q:\n%s", want, s)
		}
	}
	if s := nextSteps("/tmp/my dir/it's.yaml"); !strings.Contains(s, `--config '/tmp/my dir/it'\''s.yaml' init`) {
		t.Errorf("unquoted path:\n%s", s)
	}
}

// TestFirstStartAndInitProcesses: the binary's first start on an empty
// database prints the next steps, once; `sesame init` run as a process
// with its answers piped in does them; the next start prints nothing; and
// `sesame healthcheck` (same configuration) says ready, then not once the
// server is gone.
func TestFirstStartAndInitProcesses(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := append([]string{"SESAME_DATA_DIR=" + dir, "SESAME_LISTEN=" + addr, "SESAME_ISSUER=http://" + addr}, cheapArgon...)
	start := func() (*exec.Cmd, string) {
		t.Helper()
		logPath := filepath.Join(t.TempDir(), "serve.log")
		cmd := exec.Command(bin, "serve")
		cmd.Env = childEnv(env)
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() })
		waitReady(t, bin, env, logPath)
		return cmd, logPath
	}
	stop := func(cmd *exec.Cmd) {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	proc, logPath := start()
	first, _ := os.ReadFile(logPath)
	if strings.Count(string(first), "Sesame has no operator and no application yet") != 1 || !strings.Contains(string(first), "user add --operator") {
		t.Fatalf("the first start does not print the next steps once:\n%s", first)
	}
	init := exec.Command(bin, "init")
	init.Env = childEnv(env)
	init.Stdin = strings.NewReader(strings.Join([]string{"op@example.com", initPassphrase, initPassphrase, "my-app",
		"https://app.example.com/callback", ""}, "\n") + "\n")
	out, err := init.Output()
	if err != nil || len(strings.Fields(string(out))) != 2 {
		t.Fatalf("init: %v %q", err, out)
	}
	stop(proc)
	if out, err := healthcheckProcess(bin, env); err == nil {
		t.Fatalf("healthcheck with the server stopped: %q", out)
	}
	_, logPath = start()
	if again, _ := os.ReadFile(logPath); strings.Contains(string(again), "no operator and no application") {
		t.Fatalf("the next steps are printed after init:\n%s", again)
	}
}

func healthcheckProcess(bin string, env []string) (string, error) {
	cmd := exec.Command(bin, "healthcheck", "--timeout", "2s")
	cmd.Env = childEnv(env)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitReady runs `sesame healthcheck` until it says ready.
func waitReady(t *testing.T, bin string, env []string, logPath string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := healthcheckProcess(bin, env)
		if err == nil && strings.TrimSpace(out) == "ready" {
			return
		}
		if time.Now().After(deadline) {
			raw, _ := os.ReadFile(logPath)
			t.Fatalf("not ready (%v %q):\n%s", err, out, raw)
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, not waiting for time to pass
	}
}
