package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/fail"
)

// cliEnv is a data directory with no server: the commands alone.
func cliEnv(t *testing.T) *testEnv {
	dir := filepath.Join(t.TempDir(), "data")
	return &testEnv{t: t, dir: dir, env: append([]string{"SESAME_DATA_DIR=" + dir}, cheapArgon...)}
}

func TestCLIBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	e := cliEnv(t)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"client"}, "client: missing subcommand"},
		{[]string{"client", "explode"}, `unknown command "client explode"`},
		{[]string{"client", "add", "--redirect-uri", "https://rp.example/cb"}, "--id: is required"},
		{[]string{"client", "add", "--id", "a b", "--redirect-uri", "https://rp.example/cb"}, "--id: use 1 to 64 letters"},
		{[]string{"client", "add", "--id", "x"}, "--redirect-uri: is required"},
		{[]string{"client", "add", "--id", "x", "--redirect-uri", "http://rp.example/cb"}, "--redirect-uri: \"http://rp.example/cb\" must use https"},
		{[]string{"client", "add", "--id", "x", "--redirect-uri", "/cb"}, "is not an absolute URI"},
		{[]string{"client", "add", "--id", "x", "--redirect-uri", "https://rp.example/cb#frag"}, "must not have a fragment"},
		{[]string{"client", "add", "--id", "x", "--redirect-uri", "com.example.app:/cb"}, "custom schemes are only for public"},
		{[]string{"client", "add", "--id", "x", "--public", "--secret", "0123456789abcdef", "--redirect-uri", "https://rp.example/cb"}, "--public: cannot be combined with --secret"},
		{[]string{"client", "add", "--id", "x", "--public", "--allow-no-pkce", "--redirect-uri", "https://rp.example/cb"}, "--allow-no-pkce: is only for confidential"},
		{[]string{"client", "add", "--id", "x", "--secret", "short", "--redirect-uri", "https://rp.example/cb"}, "--secret: must be at least 32 characters"},
		{[]string{"client", "add", "--id", "x", "--secret", "0123456789abcdef0123456789abcde", "--redirect-uri", "https://rp.example/cb"}, "--secret: must be at least 32 characters"},
		{[]string{"client", "add", "--id", "x", "--redirect-uri", "https://rp.example/cb", "--id-token-signed-response-alg", "HS256"}, "must be RS256, ES256 or EdDSA"},
		{[]string{"client", "add", "--id", "x", "--redirect-uri", "https://rp.example/cb", "--post-logout-redirect-uri", "ftp://x"}, "--post-logout-redirect-uri"},
		{[]string{"client", "add", "--nope"}, "--nope: unknown flag"},
		{[]string{"client", "add", "--id"}, "--id: needs a value"},
		{[]string{"client", "remove"}, "missing client id"},
		{[]string{"client", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"org", "create"}, "--name: is required"},
		{[]string{"org", "create", "--name", "A", "--siret", "123"}, "--siret: a SIRET is 14 digits"},
		{[]string{"org", "create", "--name", "A", "--siret", "73282932000075"}, "--siret: the SIRET's check digit is wrong"},
		{[]string{"org", "create", "--name", "A", "--siret", "73282932000074", "--country", "DE"}, "--country: a SIRET is French"},
		{[]string{"org", "create", "--name", "A"}, "--country: is required without --siret"},
		{[]string{"org", "create", "--name", "A", "--country", "XX"}, `--country: "XX" is not a current ISO 3166-1 country code`},
		{[]string{"org", "create", "--name", "A", "--country", "FR"}, "--siret: is required for a French organization"},
		// "France" of the obsolete FX code, and the overseas codes, are French: the SIRET path.
		{[]string{"org", "create", "--name", "A", "--country", "FX"}, "--siret: is required for a French organization (FX is France)"},
		{[]string{"org", "create", "--name", "A", "--country", "gp"}, "--siret: is required for a French organization (GP is France)"},
		{[]string{"org", "create", "--name", "A", "--country", "NC"}, "--siret: is required for a French organization (NC is France)"},
		{[]string{"org", "create", "--name", "A", "--country", "DD"}, `--country: "DD" is not a current ISO 3166-1 country code`},
		{[]string{"org", "create", "--name", "A", "--country", "UK"}, `--country: "UK" is not a current ISO 3166-1 country code`},
		{[]string{"org", "create", "--name", "A", "--country", "XK"}, `--country: "XK" is not a current ISO 3166-1 country code`},
		// Text that goes into a mail or a header is one line.
		{[]string{"org", "create", "--name", "ACME\nBcc: x@evil.example", "--country", "DE"}, "--name: must be one line"},
		{[]string{"org", "create", "--name", "ACME\u2028Ltd", "--country", "DE"}, "--name: must be one line"},
		{[]string{"org", "reject", "org_x", "--reason", "no\r\nsorry"}, "--reason: must be one line"},
		{[]string{"user", "add", "--email", "a@b.example", "--org", "o", "--name", "Eve\tAdmin"}, "--name: must be one line"},
		{[]string{"user", "add", "--email", "a@b.example", "--org", "o", "--name", "Eve\u0085"}, "--name: must be one line"},
		{[]string{"org", "list", "--status", "happy"}, "--status: must be one of pending, validated, rejected, suspended"},
		{[]string{"org", "validate"}, "missing organization id"},
		{[]string{"org", "reject", "org_x"}, "--reason: is required"},
		{[]string{"org", "validate", "org_x", "--reason", "x"}, "--reason: only applies to org reject"},
		{[]string{"org", "create", "--validated=maybe", "--name", "A"}, `--validated: invalid value "maybe"`},
		{[]string{"user", "add", "--org", "org_x"}, "--email: is required"},
		{[]string{"user", "add", "--email", "not an email", "--org", "org_x"}, "--email: \"not an email\" is not an email address"},
		{[]string{"user", "add", "--email", "Alice <a@b.example>", "--org", "org_x"}, "is not an email address"},
		{[]string{"user", "add", "--email", "a@b.example"}, "--org: is required"},
		{[]string{"user", "add", "--email", "a@b.example", "--org", "o", "--role", "owner"}, `--role: "owner": must be admin or user`},
		{[]string{"user", "add", "--email", "a@b.example", "--org", "o", "--password-stdin"}, "--password-stdin: no password on standard input"},
		{[]string{"user", "disable"}, "missing user id"},
		{[]string{"keys", "list", "x"}, `unexpected argument "x"`},
		{[]string{"serve", "now"}, `serve: unexpected argument "now"`},
		{[]string{"member", "roles", "org_x"}, "member roles: missing user id"},
		{[]string{"user", "list", "--org"}, "--org: needs a value"},
		{[]string{"mail", "list", "--limit", "ten"}, `--limit: invalid value "ten"`},
		{[]string{"--nope", "client", "list"}, "--nope: unknown flag"},
		{[]string{"loadtest"}, `unknown command "loadtest"`}, // cmd/sesame-load
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errs, code := e.cli("", tc.args...)
			if code != 2 || out != "" || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and one line with %q", code, out, errs, tc.want)
			}
		})
	}
	if _, err := os.Stat(e.dir); !os.IsNotExist(err) {
		t.Fatalf("bad input wrote %s", e.dir)
	}
	// A bad configuration is reported with every problem, exit 1, nothing written.
	e.env = append(e.env, "SESAME_LISTEN=nowhere", "SESAME_LOG_LEVEL=loud")
	_, errs, code := e.cli("", "client", "list")
	if code != 1 || !strings.Contains(errs, "listen: must be host:port") || !strings.Contains(errs, "log.level:") {
		t.Fatalf("bad config: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(e.dir); !os.IsNotExist(err) {
		t.Fatalf("a bad configuration wrote %s", e.dir)
	}
}

func TestCLICommands(t *testing.T) {
	t.Parallel()
	e := cliEnv(t)
	// Clients.
	id := e.mustCLI("", "client", "add", "--id", "marketplace", "--secret", "0123456789abcdef0123456789abcdef", "--redirect-uri", "https://market.example/cb",
		"--redirect-uri", "http://localhost:3000/cb", "--post-logout-redirect-uri", "https://market.example/bye", "--name", "Marketplace")
	if id != "marketplace" {
		t.Fatalf("client add printed %q", id)
	}
	out, errs, code := e.cli("", "client", "add", "--id", "generated", "--redirect-uri", "https://gen.example/cb")
	if code != 0 || strings.TrimSpace(out) != "generated" || !strings.Contains(errs, "client secret (shown once") {
		t.Fatalf("generated secret: %d %q %q", code, out, errs)
	}
	out = e.mustCLI("", "client", "add", "--id", "json-client", "--redirect-uri", "https://j.example/cb", "--json")
	var created clientJSON
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ID != "json-client" || len(created.Secret) < 40 {
		t.Fatalf("--json: %s", out)
	}
	e.mustCLI("", "client", "add", "--id", "app", "--public", "--redirect-uri", "com.example.app:/cb")
	_, errs, code = e.cli("", "client", "add", "--id", "marketplace", "--redirect-uri", "https://market.example/cb")
	if code != 2 || !strings.Contains(errs, `--id: a client "marketplace" already exists`) {
		t.Fatalf("duplicate client: %d %s", code, errs)
	}
	list := e.mustCLI("", "client", "list")
	for _, want := range []string{"marketplace", "Marketplace", "confidential", "app", "public", "https://market.example/cb http://localhost:3000/cb"} {
		if !strings.Contains(list, want) {
			t.Fatalf("client list lacks %q:\n%s", want, list)
		}
	}
	var clients []clientJSON
	json.Unmarshal([]byte(e.mustCLI("", "client", "list", "--json")), &clients)
	if len(clients) != 4 || clients[0].Secret != "" {
		t.Fatalf("client list --json: %+v", clients)
	}
	e.mustCLI("", "client", "remove", "generated")
	if _, errs, code := e.cli("", "client", "remove", "generated"); code != 2 || !strings.Contains(errs, `no client "generated"`) {
		t.Fatalf("remove twice: %d %s", code, errs)
	}

	// Organizations.
	fr := e.mustCLI("", "org", "create", "--name", "ACME", "--siret", "732 829 320 00074")
	de := e.mustCLI("", "org", "create", "--name", "Müller", "--country", "DE", "--validated")
	if _, errs, code := e.cli("", "org", "create", "--name", "Copy", "--siret", "73282932000074"); code != 2 || !strings.Contains(errs, "already exists") {
		t.Fatalf("duplicate SIRET: %d %s", code, errs)
	}
	if got := e.mustCLI("", "org", "list", "--status", "pending"); !strings.Contains(got, fr) || strings.Contains(got, de) || !strings.Contains(got, "73282932000074") {
		t.Fatalf("org list --status pending:\n%s", got)
	}
	var orgs []orgJSON
	json.Unmarshal([]byte(e.mustCLI("", "org", "list", "--json")), &orgs)
	if len(orgs) != 2 || orgs[1].Status != "validated" || orgs[1].Country != "DE" || orgs[0].SIREN != "732829320" {
		t.Fatalf("org list --json: %+v", orgs)
	}
	e.mustCLI("", "org", "validate", fr)
	if _, errs, code := e.cli("", "org", "validate", fr); code != 2 || !strings.Contains(errs, "already validated") {
		t.Fatalf("validate twice: %d %s", code, errs)
	}
	rejected := e.mustCLI("", "org", "create", "--name", "Shady", "--country", "BE")
	e.mustCLI("", "org", "reject", rejected, "--reason", "no such company")
	json.Unmarshal([]byte(e.mustCLI("", "org", "list", "--status", "rejected", "--json")), &orgs)
	if len(orgs) != 1 || orgs[0].RejectReason != "no such company" {
		t.Fatalf("rejected: %+v", orgs)
	}
	if _, errs, code := e.cli("", "org", "validate", "org_missing"); code != 2 || !strings.Contains(errs, `no organization "org_missing"`) {
		t.Fatalf("validate missing: %d %s", code, errs)
	}

	// Users.
	alice := e.mustCLI(testPassword+"\n", "user", "add", "--email", "alice@acme.example", "--org", fr, "--role", "admin", "--password-stdin")
	bob := e.mustCLI("", "user", "add", "--email", "bob@acme.example", "--org", fr, "--name", "Bob")
	e.mustCLI("", "user", "add", "--email", "hans@mueller.example", "--org", de)
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"user", "add", "--email", "ALICE@acme.example", "--org", fr}, "--email: an account with ALICE@acme.example already exists"},
		{"", []string{"user", "add", "--email", "carol@acme.example", "--org", "org_missing"}, `--org: no organization "org_missing"`},
		{"short\n", []string{"user", "add", "--email", "carol@acme.example", "--org", fr, "--password-stdin"}, "the password is refused: too short"},
		{"carol-is-my-name-2026\n", []string{"user", "add", "--email", "carol@acme.example", "--org", fr, "--password-stdin"}, "contains email"},
		{"Password1234\n", []string{"user", "add", "--email", "carol@acme.example", "--org", fr, "--password-stdin"}, "too common"},
	} {
		if _, errs, code := e.cli(tc.stdin, tc.args...); code != 2 || !strings.Contains(errs, tc.want) {
			t.Fatalf("%v: %d %s", tc.args, code, errs)
		}
	}
	var users []userJSON
	json.Unmarshal([]byte(e.mustCLI("", "user", "list", "--org", fr, "--json")), &users)
	if len(users) != 2 || users[0].ID != alice || !users[0].Password || users[0].Roles[0] != "admin" || users[1].ID != bob ||
		users[1].Password || users[1].Roles[0] != "user" || users[1].Name != "Bob" {
		t.Fatalf("user list: %+v", users)
	}
	if all := e.mustCLI("", "user", "list"); strings.Count(all, "\n") != 3 {
		t.Fatalf("user list (all):\n%s", all)
	}
	e.mustCLI("", "user", "disable", bob)
	if got := e.mustCLI("", "user", "list", "--org", fr); !strings.Contains(got, "disabled") {
		t.Fatalf("disabled not shown:\n%s", got)
	}
	if _, errs, code := e.cli("", "user", "disable", "usr_missing"); code != 2 || !strings.Contains(errs, "no user") {
		t.Fatalf("disable missing: %d %s", code, errs)
	}

	// Keys: created on first use of serve; rotate works before that too.
	if got := e.mustCLI("", "keys", "list", "--json"); got != "[]" {
		t.Fatalf("keys before serve: %s", got)
	}
	rotated := strings.Fields(e.mustCLI("", "keys", "rotate"))
	if len(rotated) != 3 {
		t.Fatalf("keys rotate: %v", rotated)
	}
	if got := e.mustCLI("", "keys", "list"); !strings.Contains(got, rotated[0]) || !strings.Contains(got, "RS256") || !strings.Contains(got, "ES256") ||
		!strings.Contains(got, "EdDSA") {
		t.Fatalf("keys list:\n%s", got)
	}
	// Help.
	if out, _, code := e.cli("", "help"); code != 0 || !strings.Contains(out, "usage: sesame") {
		t.Fatalf("help: %d %s", code, out)
	}
}

func TestCLIReadsConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sesame.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+filepath.Join(dir, "d")+"\npassword:\n  argon2:\n    memory_kib: 8192\n    iterations: 1\n"), 0o600)
	var out, errs strings.Builder
	if code := run(context.Background(), []string{"--config", cfg, "org", "create", "--name", "X", "--country", "ES"}, strings.NewReader(""), &out, &errs, nil); code != 0 {
		t.Fatalf("--config: %d %s", code, errs.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"org", "list"}, strings.NewReader(""), &out, &errs, []string{"SESAME_CONFIG=" + cfg}); code != 0 || !strings.Contains(out.String(), "ES") {
		t.Fatalf("SESAME_CONFIG: %d %s", code, out.String())
	}
	for _, p := range []string{filepath.Join(dir, "d", "sesame.db"), filepath.Join(dir, "d", "secret.key")} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", p, err, fi)
		}
	}
}

// TestCLIHelp: `sesame help`, `sesame help COMMAND` and `sesame COMMAND
// --help` all come from the command table; every command and flag says what
// it is for.
func TestCLIHelp(t *testing.T) {
	t.Parallel()
	e := cliEnv(t)
	all, _, code := e.cli("", "help")
	if code != 0 {
		t.Fatalf("help: %d", code)
	}
	for _, cmd := range commands {
		if !strings.Contains(all, "  "+cmd.line()) || !strings.Contains(all, cmd.help) || cmd.help == "" {
			t.Errorf("sesame help lacks %q", cmd.name)
		}
		words := strings.Fields(cmd.name)
		byHelp, _, code1 := e.cli("", append([]string{"help"}, words...)...)
		byFlag, _, code2 := e.cli("", append(words, "--help")...)
		if code1 != 0 || code2 != 0 || byHelp != byFlag || !strings.HasPrefix(byHelp, "usage: sesame "+cmd.line()+"\n") {
			t.Errorf("%s: help %d %q, --help %d %q", cmd.name, code1, byHelp, code2, byFlag)
		}
		fs := cliflag.New()
		cmd.flags(fs)
		for _, f := range fs.Flags() {
			if f.Help == "" || !strings.Contains(byHelp, "--"+f.Name) {
				t.Errorf("%s: --%s is not described", cmd.name, f.Name)
			}
		}
	}
	out, _, _ := e.cli("", "user", "add", "-h")
	for _, want := range []string{"--email EMAIL", "--password-stdin", "--role ROLE", "(repeatable)", "--lang LANG", "--config FILE"} {
		if !strings.Contains(out, want) {
			t.Errorf("user add -h lacks %q:\n%s", want, out)
		}
	}
	if out, _, _ := e.cli("", "mail", "list", "-h"); !strings.Contains(out, "(default 20)") {
		t.Errorf("mail list -h does not show --limit's default:\n%s", out)
	}
	if out, _, code := e.cli("", "help", "user"); code != 0 || !strings.Contains(out, "sesame user add") || !strings.Contains(out, "sesame user reset-2fa USER_ID") {
		t.Errorf("help user: %d\n%s", code, out)
	}
	if out, _, code := e.cli("", "--help"); code != 0 || out != all {
		t.Errorf("--help: %d", code)
	}
	for _, args := range [][]string{{"help", "nope"}, {"help", "user", "nope"}, {"help", "keys", "list", "x"}} {
		if out, errs, code := e.cli("", args...); code != 2 || out != "" || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: %d %q %q", args, code, out, errs)
		}
	}
	if _, err := os.Stat(e.dir); !os.IsNotExist(err) {
		t.Fatalf("help wrote %s", e.dir)
	}
}

// TestExitStatus is the CLI door's table: every code of internal/fail,
// the CLI's own usage errors, and a plain failure.
func TestExitStatus(t *testing.T) {
	t.Parallel()
	tr := func(key string) string {
		if key == "Errors.Members.LastAdmin" {
			return "This person is the last administrator."
		}
		return key
	}
	tests := []struct {
		err    error
		status int
		line   string
	}{
		{nil, 0, ""},
		{badArg("missing command"), 2, "sesame: missing command"},
		{fmt.Errorf("parse: %w", &cliflag.Error{Flag: "name", Problem: "needs a value"}), 2, "sesame: parse: --name: needs a value"},
		{fail.E(fail.Conflict, "Errors.Members.LastAdmin"), 2, "sesame: This person is the last administrator."},
		{fmt.Errorf("set roles: %w", fail.E(fail.Conflict, "Errors.Members.LastAdmin")), 2, "sesame: This person is the last administrator."},
		{fail.E(fail.Invalid, "Errors.Untranslated"), 2, "sesame: Errors.Untranslated"},
		{fail.E(fail.Unauthorized, "K"), 2, "sesame: K"},
		{fail.E(fail.Forbidden, "K"), 2, "sesame: K"},
		{fail.E(fail.NotFound, "K"), 2, "sesame: K"},
		{fail.E(fail.Gone, "K"), 2, "sesame: K"},
		{fail.E(fail.TooLarge, "K"), 2, "sesame: K"},
		{fail.E(fail.TooMany, "K"), 2, "sesame: K"},
		{fail.Wrap(fail.Unavailable, "K", errors.New("dial tcp: refused")), 1, "sesame: K: dial tcp: refused"},
		{fail.Wrap(fail.Internal, "K", errors.New("bug")), 1, "sesame: K: bug"},
		{errors.New("open database: disk full"), 1, "sesame: open database: disk full"},
	}
	for _, tc := range tests {
		status, line := exitStatus(tc.err, tr)
		if status != tc.status || line != tc.line {
			t.Errorf("exitStatus(%v) = %d %q, want %d %q", tc.err, status, line, tc.status, tc.line)
		}
	}
}
