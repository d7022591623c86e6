package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/login/mail/mailtest"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlite"
)

// crashConfig writes the configuration of a crash-test process.
func crashConfig(t *testing.T, dir string, smtp *mailtest.Server) string {
	var accounts strings.Builder
	for i := range 40 {
		fmt.Fprintf(&accounts, "    - email: founder%02d@cloud.example\n      password_hash: %q\n", i, config.DemoCloudPasswordHash)
	}
	cfg := fmt.Sprintf(`data_dir: %s
accounts:
  signin_per_ip: 100000
password:
  argon2: {memory_kib: 8192, iterations: 1, parallelism: 1}
signup:
  rate_limit: 100000
  static_accounts:
%smail:
  poll_interval: 100ms
  lease: 1s
  smtp: {host: 127.0.0.1, port: %d, tls: none}
`, dir, accounts.String(), smtp.Port)
	p := filepath.Join(dir, "sesame.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCrashSafety kills `sesame serve` with SIGKILL under a bounded load of
// sign-ins, sign-ups and invitations, restarts it, and checks that every
// acknowledged write is there, the database is intact, and every queued
// mail reaches the SMTP server, once per message.
func TestCrashSafety(t *testing.T) {
	bin := buildBinary(t)
	smtp := mailtest.Start(t)
	dir := t.TempDir()
	cfgPath := crashConfig(t, dir, smtp)
	addr := freeAddr(t)
	env := []string{"SESAME_CONFIG=" + cfgPath, "SESAME_LISTEN=" + addr, "SESAME_ISSUER=http://" + addr}
	e := &testEnv{t: t, issuer: "http://" + addr, env: env, dir: dir}
	org := e.mustCLI("", "org", "create", "--name", "ACME", "--country", "BE", "--validated")
	admin := fixture{email: "admin@acme.example", pw: "keys-to-the-castle-26"}
	admin.userID = e.mustCLI(admin.pw+"\n", "user", "add", "--email", admin.email, "--org", org, "--role", "admin", "--password-stdin")
	proc := startProcess(t, bin, env)

	var mu sync.Mutex
	var invited, founded, sessions []string
	ack := func(list *[]string, v string) { mu.Lock(); *list = append(*list, v); mu.Unlock() }
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	worker := func(kind string, w int) {
		defer wg.Done()
		for i := 0; ctx.Err() == nil && i < 200; i++ {
			b := e.browser()
			b.client.Timeout = 3 * time.Second
			switch kind {
			case "invite":
				if !tryPlainSignIn(b, admin) {
					continue
				}
				page, err := b.client.Get(e.issuer + "/organization/members")
				if err != nil {
					continue
				}
				body := readBody(page)
				email := fmt.Sprintf("invite-%d-%d@acme.example", w, i)
				resp, err := b.client.PostForm(e.issuer+"/organization/members/invite", url.Values{"csrf_token": {field(csrfRe, body)},
					"email": {email}, "role_user": {"1"}})
				if err == nil && resp.StatusCode == 200 && resp.Request.URL.Query().Get("done") == "invited" {
					ack(&invited, email)
				}
				if resp != nil {
					resp.Body.Close()
				}
			case "signup":
				founder := fmt.Sprintf("founder%02d@cloud.example", w*10+i)
				if w*10+i >= 40 || i >= 10 {
					return
				}
				resp, err := b.client.Get(e.issuer + "/signup")
				if err != nil {
					continue
				}
				body := readBody(resp)
				resp, err = b.client.PostForm(e.issuer+"/signup", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {founder}, "password": {demoCloudPassword}})
				if err != nil {
					continue
				}
				body = readBody(resp)
				name := "Org " + founder
				resp, err = b.client.PostForm(e.issuer+"/signup/company", url.Values{"csrf_token": {field(csrfRe, body)}, "draft": {field(draftRe, body)},
					"domicile": {"abroad"}, "name": {name}, "country": {"DE"}, "action": {"create"}})
				if err == nil && strings.Contains(readBody(resp), "est créée") {
					ack(&founded, name)
				}
			case "signin":
				if tryPlainSignIn(b, admin) {
					u, _ := url.Parse(e.issuer)
					for _, c := range b.client.Jar.Cookies(u) {
						if c.Name == "sesame_session" {
							ack(&sessions, storage.HashToken(c.Value))
						}
					}
				}
			}
		}
	}
	for w := range 2 {
		wg.Add(3)
		go worker("invite", w)
		go worker("signup", w)
		go worker("signin", w)
	}
	// Kill once writes are flowing: not a timing assertion, a point in the load.
	for {
		mu.Lock()
		n := len(invited) + len(founded) + len(sessions)
		mu.Unlock()
		if n >= 12 || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	proc.Wait()
	mu.Lock()
	t.Logf("acknowledged before the kill: %d invitations, %d sign-ups, %d sign-ins", len(invited), len(founded), len(sessions))
	mu.Unlock()

	// Restart on the same database.
	addr2 := freeAddr(t)
	startProcess(t, bin, []string{"SESAME_CONFIG=" + cfgPath, "SESAME_LISTEN=" + addr2, "SESAME_ISSUER=http://" + addr2})
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if res, err := db.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q %v", res, err)
	}
	for _, email := range invited {
		if _, err := findPerson(db, email); err != nil {
			t.Errorf("acknowledged invitation of %s lost", email)
		}
	}
	orgs, _ := db.ListOrganizations(context.Background(), "")
	for _, name := range founded {
		found := false
		for _, o := range orgs {
			found = found || o.Name == name
		}
		if !found {
			t.Errorf("acknowledged sign-up %q lost", name)
		}
	}
	for _, h := range sessions {
		if _, err := db.GetSession(context.Background(), h, time.Now()); err != nil {
			t.Errorf("acknowledged session lost")
		}
	}
	// Every queued mail reaches the SMTP server (after the lease of what the
	// killed process had taken), and no message twice.
	deadline := time.Now().Add(30 * time.Second)
	var mails []storage.Mail
	for {
		mails, _ = db.ListMails(context.Background(), 10000)
		pending := 0
		for _, m := range mails {
			if m.SentAt.IsZero() {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails still queued after the restart", pending)
		}
		time.Sleep(100 * time.Millisecond) // polling the worker, not waiting for time to pass
	}
	received := map[string]int{}
	for _, m := range smtp.Messages() {
		received[m.MessageID]++
	}
	raw := 0
	for _, m := range mails {
		id := "<" + m.ID + "@sesame>"
		if received[id] == 0 {
			t.Errorf("mail %s to %s never reached the SMTP server", m.ID, m.To)
		}
		raw += received[id]
	}
	queuedTo := map[string]bool{}
	for _, m := range mails {
		queuedTo[m.To] = true
	}
	for _, email := range invited {
		if !queuedTo[email] {
			t.Errorf("the invitation of %s has no mail", email)
		}
	}
	t.Logf("%d mails queued, %d deliveries, %d distinct messages", len(mails), raw, len(received))
	if raw > len(mails) {
		// Possible only if the kill fell between the server's acceptance and
		// its recording: the same Message-ID, which receivers deduplicate.
		t.Logf("%d redelivered with the same Message-ID", raw-len(mails))
	}
	if len(received) != len(mails) {
		t.Fatalf("%d distinct messages for %d mails", len(received), len(mails))
	}
}

func tryPlainSignIn(b *browser, f fixture) bool {
	resp, err := b.client.Get(b.e.issuer + "/login")
	if err != nil {
		return false
	}
	body := readBody(resp)
	resp, err = b.client.PostForm(b.e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {f.pw}})
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200 && resp.Request.URL.Path == "/"
}

func readBody(resp *http.Response) string {
	defer resp.Body.Close()
	b := new(strings.Builder)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// TestGracefulShutdown sends SIGTERM while sign-ins are being processed
// (hashing real argon2id passwords): they finish, and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	bin := buildBinary(t)
	addr, ops := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	env := []string{"SESAME_DATA_DIR=" + dir, "SESAME_LISTEN=" + addr, "SESAME_ISSUER=http://" + addr, "SESAME_ACCOUNTS_SIGNIN_PER_IP=100000",
		"SESAME_OPS_LISTEN=" + ops,
		"SESAME_PASSWORD_ARGON2_ITERATIONS=8"} // slow hashes: the requests stay in flight
	proc := startProcess(t, bin, env)

	var wg sync.WaitGroup
	statuses := make(chan string, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := (&testEnv{t: t, issuer: "http://" + addr}).browser()
			resp, err := b.client.Get("http://" + addr + "/login")
			if err != nil {
				statuses <- err.Error()
				return
			}
			body := readBody(resp)
			resp, err = b.client.PostForm("http://"+addr+"/login", url.Values{"csrf_token": {field(csrfRe, body)},
				"email": {fmt.Sprintf("nobody%d@acme.example", i)}, "password": {"wrong-password"}})
			if err != nil {
				statuses <- err.Error()
				return
			}
			readBody(resp)
			statuses <- resp.Status
		}()
	}
	// Wait until the fourth hash has begun: every request is inside the
	// server, and the last ones are still hashing.
	for !strings.Contains(scrapeQuiet("http://"+ops+"/metrics"), "sesame_password_hash_wait_seconds_count 4") {
		time.Sleep(5 * time.Millisecond) // polling the server's progress
	}
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- proc.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	wg.Wait()
	close(statuses)
	answered := 0
	for s := range statuses {
		if s == "401 Unauthorized" {
			answered++
		} else {
			t.Errorf("a sign-in in flight got %q", s)
		}
	}
	if answered != 4 {
		t.Fatalf("%d of 4 sign-ins in flight answered", answered)
	}
}

func scrapeQuiet(u string) string {
	resp, err := testClient.Get(u)
	if err != nil {
		return ""
	}
	return readBody(resp)
}
