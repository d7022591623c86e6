package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/testclock"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
)

// postgresBases says which top-level tests run newEnv on PostgreSQL: the
// top-level test's name → the base DSN (TestOnPostgres registers itself).
// The backend follows a test by its name, not by a package variable set
// around the call, so a subtest that calls t.Parallel — and so runs after
// its parent's function has returned — still gets its parent's backend.
var postgresBases sync.Map

// usePostgres runs every newEnv under the top-level test t on PostgreSQL
// at base, until t and its subtests are done.
func usePostgres(t *testing.T, base string) {
	top := topLevel(t)
	postgresBases.Store(top, base)
	t.Cleanup(func() { postgresBases.Delete(top) })
}

// postgresBase is the base DSN t runs on, or "" for SQLite.
func postgresBase(t *testing.T) string {
	if base, ok := postgresBases.Load(topLevel(t)); ok {
		return base.(string)
	}
	return ""
}

func topLevel(t *testing.T) string {
	top, _, _ := strings.Cut(t.Name(), "/")
	return top
}

// clock is the time source tests move instead of sleeping.
type clock = testclock.Clock

// testEnv is a running Sesame on a SQLite file in a temporary directory.
type testEnv struct {
	t      *testing.T
	dir    string
	issuer string
	env    []string
	main   *Main
	clock  *clock
}

// cheapArgon keeps tests fast; production parameters are the defaults.
var cheapArgon = []string{"SESAME_PASSWORD_ARGON2_MEMORY_KIB=8192", "SESAME_PASSWORD_ARGON2_ITERATIONS=1"}

func newEnv(t *testing.T, extraEnv ...string) *testEnv {
	t.Helper()
	return newEnvWith(t, nil, extraEnv...)
}

// newEnvWith starts Sesame with a logger of the test's choosing.
func newEnvWith(t *testing.T, logger *slog.Logger, extraEnv ...string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	env := append([]string{"SESAME_DATA_DIR=" + dir, "SESAME_ISSUER=" + issuer, "SESAME_LISTEN=" + ln.Addr().String()}, cheapArgon...)
	env = append(env, extraEnv...)
	if base := postgresBase(t); base != "" {
		env = append(env, "SESAME_STORAGE_DRIVER=postgres", "SESAME_STORAGE_POSTGRES_DSN="+pgtest.Schema(t, base))
	}
	cfg, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	seedDatabase(t, &cfg, dir)
	clk := testclock.New(time.Now())
	m := &Main{Config: cfg, Listener: ln, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		m.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if logger != nil {
		m.Logger = logger
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &testEnv{t: t, dir: dir, issuer: issuer, env: env, main: m, clock: clk}
}

// seedDatabase gives an environment that would make a new SQLite database
// at its default place a migrated one instead (sqlitetest says why). Each
// environment still makes its own secret key, signing keys and data; the
// tests of a first start run the command on empty directories.
func seedDatabase(t *testing.T, cfg *config.Config, dir string) {
	t.Helper()
	if cfg.Storage.Driver != "sqlite" || cfg.DataDir != dir || cfg.SQLitePath() != filepath.Join(dir, "sesame.db") {
		return
	}
	if _, err := os.Stat(cfg.SQLitePath()); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	sqlitetest.Write(t, cfg.SQLitePath())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// cli runs a command against the environment's database.
func (e *testEnv) cli(stdin string, args ...string) (stdout, stderr string, code int) {
	var out, errb strings.Builder
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, e.env)
	return out.String(), errb.String(), code
}

// mustCLI runs a command that must succeed and returns its trimmed stdout.
func (e *testEnv) mustCLI(stdin string, args ...string) string {
	e.t.Helper()
	out, errs, code := e.cli(stdin, args...)
	if code != 0 {
		e.t.Fatalf("sesame %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return strings.TrimSpace(out)
}

// fixture is a client, an organization and a person.
type fixture struct {
	clientID, secret, redirect string
	orgID, userID, email, pw   string
	issuer                     string // the issuer every answer to this client names (RFC 9207)
}

const testPassword = "correct-horse-battery-staple"

func (e *testEnv) fixture(clientID string, extra ...string) fixture {
	e.t.Helper()
	f := fixture{clientID: clientID, secret: "s3cret-" + clientID + "-0123456789abcdefghijklmnopqrstuv", redirect: "http://127.0.0.1:1/" + clientID + "/cb",
		email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	args := append([]string{"client", "add", "--id", clientID, "--secret", f.secret, "--redirect-uri", f.redirect,
		"--post-logout-redirect-uri", "http://127.0.0.1:1/" + clientID + "/bye", "--name", "App " + clientID}, extra...)
	e.mustCLI("", args...)
	return f
}

// person creates an organization and its admin, once per environment.
func (e *testEnv) person(f *fixture) {
	e.t.Helper()
	f.orgID = e.mustCLI("", "org", "create", "--name", "ACME", "--siret", "732 829 320 00074")
	f.userID = e.mustCLI(f.pw+"\n", "user", "add", "--email", f.email, "--org", f.orgID, "--role", "admin", "--role", "user",
		"--name", "Alice Martin", "--password-stdin")
}

// browser is a cookie-keeping HTTP client that stops at redirects leaving Sesame.
type browser struct {
	t      *testing.T
	e      *testEnv
	client *http.Client
	lang   string
	hosts  map[string]bool // Sesame's: redirects elsewhere are not followed
}

// testTransport carries the tests' own requests (testClient, browsers). It
// is not http.DefaultTransport, whose idle connections httptest.Server.Close
// closes: a parallel test's POST that was just handed one of them fails
// ("http: CloseIdleConnections called"; Go retries idempotent requests only).
var (
	testTransport = http.DefaultTransport.(*http.Transport).Clone()
	testClient    = &http.Client{Transport: testTransport}
)

func (e *testEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: e.t, e: e, hosts: map[string]bool{strings.TrimPrefix(e.issuer, "http://"): true}}
	b.client = &http.Client{Jar: jar, Transport: testTransport, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !b.hosts[req.URL.Host] {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfRe  = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	arIDRe  = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)
	emailRe = regexp.MustCompile(`id="email" name="email"[^>]* value="([^"]*)"`)
)

func field(re *regexp.Regexp, body string) string {
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL builds an authorization request.
func (e *testEnv) authorizeURL(f fixture, challenge string, extra url.Values) string {
	q := url.Values{"client_id": {f.clientID}, "redirect_uri": {f.redirect}, "response_type": {"code"},
		"scope": {"openid email profile organization offline_access"}, "state": {"st-" + f.clientID}, "nonce": {"n-" + f.clientID}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	for k, v := range extra {
		q[k] = v
	}
	return e.issuer + "/authorize?" + q.Encode()
}

// rpRedirect checks that resp redirects to the relying party, naming the
// issuer (RFC 9207), and returns its query.
func rpRedirect(t *testing.T, resp *http.Response, f fixture) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a redirect to the relying party, got %d (Location %q)", resp.StatusCode, loc)
	}
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, f.redirect) {
		t.Fatalf("redirected to %q, want %s", loc, f.redirect)
	}
	if f.issuer != "" && u.Query().Get("iss") != f.issuer {
		t.Fatalf("answer without its issuer: %q", loc)
	}
	return u.Query()
}

// submitLogin walks authorize → form → POST and returns the POST's answer.
// It fails the test if the form is not shown.
func (b *browser) submitLogin(f fixture, challenge string, extra url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.get(b.e.authorizeURL(f, challenge, extra))
	if resp.StatusCode != http.StatusOK || field(arIDRe, body) == "" {
		b.t.Fatalf("want the login form, got %d: %.300s", resp.StatusCode, body)
	}
	return b.post(b.e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)},
		"authRequestID": {field(arIDRe, body)}, "email": {f.email}, "password": {f.pw}})
}

// signIn signs in through the form and returns the code.
func (b *browser) signIn(f fixture, challenge string, extra url.Values) string {
	b.t.Helper()
	resp, body := b.submitLogin(f, challenge, extra)
	q := rpRedirect(b.t, resp, f)
	if q.Get("error") != "" || q.Get("code") == "" {
		b.t.Fatalf("no code: %v (%.200s)", q, body)
	}
	if q.Get("state") != "st-"+f.clientID {
		b.t.Fatalf("state %q", q.Get("state"))
	}
	return q.Get("code")
}

// tokenRequest posts to the token endpoint with client_secret_basic.
func (e *testEnv) tokenRequest(f fixture, form url.Values) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if f.secret != "" {
		req.SetBasicAuth(url.QueryEscape(f.clientID), url.QueryEscape(f.secret))
	}
	return doJSON(e.t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = jsonUnmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}
