package main

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/testbin"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// buildBinary builds the sesame command, once per package run (TestMain
// removes it): the process tests share it.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("a multi-process test: -short leaves it out")
	}
	binary.once.Do(func() {
		binary.path = filepath.Join(binary.dir, "sesame")
		// The static binary the image and the unit ship (deploy/), one
		// build for every process test; the demo's test builds the same
		// (testbin says why they take turns).
		binary.err = testbin.Build(testbin.Sesame, binary.path)
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// childEnv is the environment of a process a test starts: the caller's,
// without any SESAME_* variable (a developer's SESAME_DATA_DIR would point
// every child at one database), then env.
func childEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESAME_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// startProcess runs `sesame serve` and waits until it is ready.
func startProcess(t *testing.T, bin string, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = childEnv(env)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	addr := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "SESAME_LISTEN="); ok {
			addr = v
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := testClient.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			raw, _ := os.ReadFile(logf.Name())
			t.Fatalf("replica on %s not ready:\n%s", addr, raw)
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, not waiting for time to pass
	}
}

// TestTwoReplicasShareEverything runs two `sesame serve` processes on one
// PostgreSQL database: sessions, codes, tokens and throttles cross over.
func TestTwoReplicasShareEverything(t *testing.T) {
	dsn := pgtest.Schema(t, pgtest.BaseDSN(t))
	bin := buildBinary(t)
	key := make([]byte, 32)
	rand.Read(key)
	addrA, addrB := freeAddr(t), freeAddr(t)
	issuer := "http://" + addrA // behind a load balancer both answer for one issuer
	common := append([]string{"SESAME_STORAGE_DRIVER=postgres", "SESAME_STORAGE_POSTGRES_DSN=" + dsn, "SESAME_ISSUER=" + issuer,
		"SESAME_SECRETS_KEY=" + base64.StdEncoding.EncodeToString(key), "SESAME_KEYS_CACHE_REFRESH=1s"}, cheapArgon...)
	envA := append([]string{"SESAME_LISTEN=" + addrA, "SESAME_DATA_DIR=" + t.TempDir()}, common...)
	envB := append([]string{"SESAME_LISTEN=" + addrB, "SESAME_DATA_DIR=" + t.TempDir()}, common...)
	startProcess(t, bin, envA)
	startProcess(t, bin, envB)

	// The CLI, pointed at the same database, registers the fixtures.
	e := &testEnv{t: t, issuer: issuer, env: envA}
	f := e.fixture("marketplace")
	e.person(&f)
	other := e.fixture("billing")
	other.email, other.pw = f.email, f.pw

	br := e.browser()
	br.hosts[addrB] = true
	hostA, hostB := "http://"+addrA, "http://"+addrB
	// 1. Sign in on A.
	v1, c1 := pkce()
	code1 := br.signIn(f, c1, nil)
	// 2. Authorize on B: single sign-on, the session lives in the database.
	v2, c2 := pkce()
	resp, _ := br.get(strings.Replace(e.authorizeURL(other, c2, nil), hostA, hostB, 1))
	q := rpRedirect(t, resp, other)
	if q.Get("code") == "" {
		t.Fatalf("no single sign-on on B: %v", q)
	}
	// 3. Exchange B's code on A, A's code on B.
	e.issuer = hostA
	status, tokB, _ := e.tokenRequest(other, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {other.redirect}, "code_verifier": {v2}})
	if status != 200 {
		t.Fatalf("exchange on A: %d %v", status, tokB)
	}
	e.issuer = hostB
	status, tokA, _ := e.tokenRequest(f, url.Values{"grant_type": {"authorization_code"}, "code": {code1}, "redirect_uri": {f.redirect}, "code_verifier": {v1}})
	if status != 200 {
		t.Fatalf("exchange on B: %d %v", status, tokA)
	}
	// 4. Refresh on B what A issued; the rotated token is refused on A.
	status, refreshed, _ := e.tokenRequest(other, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokB["refresh_token"].(string)}})
	if status != 200 {
		t.Fatalf("refresh on B: %d %v", status, refreshed)
	}
	e.issuer = hostA
	if status, _, _ := e.tokenRequest(other, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokB["refresh_token"].(string)}}); status != 400 {
		t.Fatalf("reuse on A: %d", status)
	}
	// 5. Log out on B: A no longer knows the session.
	br.get(hostB + "/end_session?" + url.Values{"id_token_hint": {tokA["id_token"].(string)}}.Encode())
	_, c3 := pkce()
	resp, body := br.get(e.authorizeURL(f, c3, nil))
	if resp.StatusCode != 200 || field(arIDRe, body) == "" {
		t.Fatalf("A still signs in after a logout on B: %d", resp.StatusCode)
	}
	// 6. Failed sign-ins count across both replicas: 2 on A and 2 on B lock the account.
	for i, host := range []string{hostA, hostB, hostA, hostB} {
		b := e.browser()
		_, body := b.get(host + "/login")
		resp, _ := b.post(host+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {"wrong"}})
		if resp.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	for _, host := range []string{hostA, hostB} {
		b := e.browser()
		_, body := b.get(host + "/login")
		if resp, _ := b.post(host+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {f.pw}}); resp.StatusCode != 429 {
			t.Fatalf("%s after 4 failures across replicas: %d", host, resp.StatusCode)
		}
	}
	// 7. A key rotation made through the CLI is served by both replicas within keys.cache_refresh.
	created := strings.Fields(e.mustCLI("", "keys", "rotate"))
	for _, host := range []string{hostA, hostB} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := testClient.Get(host + "/keys")
			var body []byte
			if err == nil {
				body = make([]byte, 1<<16)
				n, _ := resp.Body.Read(body)
				body = body[:n]
				resp.Body.Close()
			}
			if strings.Contains(string(body), created[0]) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not serve the rotated key", host)
			}
			time.Sleep(100 * time.Millisecond) // the documented delay is keys.cache_refresh (1 s here)
		}
	}
}
