package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestOpenIDClient runs panva's openid-client v6 (from npm, installed at
// test time with npm ci from testdata/openid-client's lock file) with
// node --test against this Sesame: PAR, private_key_jwt and DPoP, as the
// FAPI 2.0 client it implements uses them. Sesame registers the client
// with `sesame client add --auth private_key_jwt --jwks-file …
// --require-par --require-dpop`; the script asks this test's browser to
// sign the person in (it never sees a password).
func TestOpenIDClient(t *testing.T) {
	if testing.Short() {
		t.Skip("openid-client (node, npm ci) is a process test: skipped under -short")
	}
	node, npm := nodeTools(t)
	t.Parallel()
	e := newEnv(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	private := jose.JSONWebKey{Key: key, KeyID: "node-1", Algorithm: "ES256", Use: "sig"}
	public := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{private.Public()}}
	rawPublic, _ := json.Marshal(public)
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, rawPublic, 0o600); err != nil {
		t.Fatal(err)
	}
	f := fixture{clientID: "node-fapi", redirect: "http://127.0.0.1:1/node-fapi/cb", email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--name", "Node FAPI", "--redirect-uri", f.redirect,
		"--auth", "private_key_jwt", "--jwks-file", jwksFile, "--require-par", "--require-dpop")
	e.person(&f)

	// The browser the script asks to sign the person in: it follows the
	// authorization URL, fills the login form if Sesame shows it, and
	// answers where Sesame sends the browser back to the client.
	browser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := e.browser()
		resp, body := b.get(r.URL.Query().Get("url"))
		if field(arIDRe, body) != "" {
			resp, body = b.post(e.issuer+"/login", map[string][]string{"csrf_token": {field(csrfRe, body)},
				"authRequestID": {field(arIDRe, body)}, "email": {f.email}, "password": {f.pw}})
		}
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, f.redirect) {
			http.Error(w, "not sent back to the client: "+strconv.Itoa(resp.StatusCode)+" "+loc+" "+body, http.StatusBadGateway)
			return
		}
		w.Write([]byte(loc))
	}))
	defer browser.Close()

	rawPrivate, _ := json.Marshal(private)
	// The script's proofs and assertions carry the real time.
	e.runOpenIDClient(node, npm, "fapi.test.mjs", 4, "SESAME_CLIENT_ID="+f.clientID, "SESAME_REDIRECT_URI="+f.redirect,
		"SESAME_CLIENT_JWK="+string(rawPrivate), "SESAME_BROWSER="+browser.URL, "SESAME_EMAIL="+f.email)
}

// runOpenIDClient installs openid-client from testdata/openid-client's
// lock file (npm ci) in a fresh directory and runs one of its scripts with
// node --test against e, with env beside SESAME_ISSUER. It fails the test
// unless the script's tests all pass and there are want of them. The
// server's clock follows the real one meanwhile: the library waits and
// stamps with it.
func (e *testEnv) runOpenIDClient(node, npm, script string, want int, env ...string) {
	t := e.t
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", script} {
		b, err := os.ReadFile(filepath.Join("testdata", "openid-client", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, name := range []string{"npm_config_cache", "npm_config_registry", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"} {
		if v, ok := os.LookupEnv(name); ok {
			base = append(base, name+"="+v)
		}
	}
	install := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	install.Dir, install.Env = dir, base
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	run := exec.Command(node, "--test", "--test-reporter=tap", script)
	run.Dir = dir
	run.Env = append(append(base, "SESAME_ISSUER="+e.issuer), env...)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	stop := e.followRealTime()
	err := run.Run()
	stop()
	t.Logf("node --test %s:\n%s", script, out.String())
	if err != nil {
		t.Fatalf("openid-client's %s failed: %v", script, err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("# pass %d\n", want)) || !strings.Contains(out.String(), "# fail 0") {
		t.Fatalf("want %d passing tests and none failing", want)
	}
}

// nodeTools finds node (20 or later: openid-client v6 needs it) and npm,
// or skips saying what is missing.
func nodeTools(t *testing.T) (node, npm string) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client tests need node 20+ and npm: node is not installed")
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		t.Skip("openid-client tests need node 20+ and npm: npm is not installed")
	}
	v, err := exec.Command(node, "--version").Output()
	major, _ := strconv.Atoi(strings.TrimPrefix(strings.Split(strings.TrimSpace(string(v)), ".")[0], "v"))
	if err != nil || major < 20 {
		t.Skipf("openid-client v6 needs node 20 or later, found %q", strings.TrimSpace(string(v)))
	}
	return node, npm
}

// followRealTime moves the environment's clock to the real time, and keeps
// it there until stop is called: for clients that sign what they send with
// the real time (DPoP proofs, client assertions), which the server checks
// against its clock. It never moves the clock back.
func (e *testEnv) followRealTime() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	ticker := time.NewTicker(50 * time.Millisecond)
	e.clock.Add(max(time.Since(e.clock.Now()), 0))
	go func() {
		defer close(finished)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
				e.clock.Add(max(time.Since(e.clock.Now()), 0))
			}
		}
	}()
	return func() { close(done); <-finished }
}
