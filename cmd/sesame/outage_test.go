package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// pgServer is a PostgreSQL server of the test's own, which it can stop and start.
type pgServer struct {
	t        *testing.T
	dir, bin string
	port     int
	dsn      string
}

func startPGServer(t *testing.T) *pgServer {
	t.Helper()
	if testing.Short() {
		t.Skip("a multi-process test (its own PostgreSQL server): -short leaves it out")
	}
	pgtest.BaseDSN(t) // the same conditions as the other PostgreSQL tests
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the outage test runs PostgreSQL as the postgres user: it needs root")
		}
		t.Skip("needs root to run PostgreSQL as the postgres user")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server installed")
	}
	addr := freeAddr(t)
	var port int
	fmt.Sscanf(addr[strings.LastIndexByte(addr, ':')+1:], "%d", &port)
	s := &pgServer{t: t, dir: fmt.Sprintf("/tmp/sesame-outage-%d", port), bin: bins[len(bins)-1], port: port}
	out, err := exec.Command("bash", "../../.ci/postgres.sh", s.dir, fmt.Sprint(port)).Output()
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	s.dsn = strings.TrimSpace(string(out))
	t.Cleanup(func() { s.stop(); os.RemoveAll(s.dir) })
	return s
}

func (s *pgServer) pgctl(args string) {
	s.t.Helper()
	cmd := exec.Command("su", "postgres", "-c", s.bin+"/pg_ctl -D "+s.dir+"/data "+args)
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(args, "stop") {
		s.t.Fatalf("pg_ctl %s: %v\n%s", args, err, out)
	}
}

func (s *pgServer) stop() { s.pgctl("-m fast -w stop") }
func (s *pgServer) start() {
	s.pgctl(fmt.Sprintf("-l %s/log -o '-c listen_addresses=127.0.0.1 -p %d -k %s' -w start", s.dir, s.port, s.dir))
}

// TestDatabaseOutage stops PostgreSQL under a running Sesame: readiness
// fails, requests get 503 in bounded time (no 500, no hang), and service
// resumes by itself when the database is back.
func TestDatabaseOutage(t *testing.T) {
	pg := startPGServer(t)
	e := newEnv(t, "SESAME_STORAGE_DRIVER=postgres", "SESAME_STORAGE_POSTGRES_DSN="+pg.dsn)
	f := e.fixture("marketplace")
	e.person(&f)
	_, c := pkce()
	e.browser().signIn(f, c, nil)

	pg.stop()
	client := &http.Client{Transport: testTransport, Timeout: 20 * time.Second} // a hang fails the test
	check := func(method, path string, form url.Values, want int) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			req, _ := http.NewRequest(method, e.issuer+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(f.clientID, f.secret)
			resp, err = client.Do(req)
		} else {
			resp, err = client.Get(e.issuer + path)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s while the database is down: %d, want %d", method, path, resp.StatusCode, want)
		}
	}
	check(http.MethodGet, "/readyz", nil, 503)
	check(http.MethodGet, "/healthz", nil, 200)
	_, challenge := pkce()
	check(http.MethodGet, strings.TrimPrefix(e.authorizeURL(f, challenge, nil), e.issuer), nil, 503)
	check(http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, 503)
	check(http.MethodGet, "/login", nil, 200) // the page itself needs no database
	b := e.browser()
	_, body := b.get(e.issuer + "/login")
	resp, _ := b.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {f.pw}})
	if resp.StatusCode != 503 {
		t.Fatalf("sign-in while the database is down: %d", resp.StatusCode)
	}

	pg.start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(e.issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("Sesame did not recover when the database came back")
		}
		time.Sleep(100 * time.Millisecond) // polling recovery, not waiting for time to pass
	}
	_, c = pkce()
	e.browser().signIn(f, c, nil)
}
