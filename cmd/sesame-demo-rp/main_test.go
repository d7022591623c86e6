package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/testbin"
)

// TestDemoAgainstSesame builds and runs the real sesame binary, registers the
// demo with the CLI as the README says, and signs in through the demo.
func TestDemoAgainstSesame(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sesame binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sesame")
	// Built as cmd/sesame's process tests build it (CGO disabled, the
	// shipped binary): one compilation of the dependencies serves both.
	if err := testbin.Build(testbin.Sesame, bin); err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	demoLn, _ := net.Listen("tcp", "127.0.0.1:0")
	demoURL := "http://" + demoLn.Addr().String()
	// The caller's environment without its SESAME_* variables: sesame
	// gets only the configuration this test gives it.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESAME_") {
			env = append(env, kv)
		}
	}
	env = append(env, "SESAME_DATA_DIR="+filepath.Join(dir, "data"), "SESAME_LISTEN="+addr, "SESAME_ISSUER=http://"+addr,
		"SESAME_PASSWORD_ARGON2_MEMORY_KIB=8192", "SESAME_PASSWORD_ARGON2_ITERATIONS=1")
	sesame := func(stdin string, args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sesame %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	sesame("", "client", "add", "--id", "demo", "--secret", "demo-secret-0123456789abcdefghijkl", "--redirect-uri", demoURL+"/callback",
		"--post-logout-redirect-uri", demoURL+"/", "--name", "Demo")
	org := sesame("", "org", "create", "--name", "ACME", "--siret", "73282932000074", "--validated")
	sesame("a-long-enough-passphrase\n", "user", "add", "--email", "alice@acme.example", "--org", org, "--role", "admin", "--password-stdin")

	srv := exec.Command(bin, "serve")
	srv.Env = env
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Signal(os.Interrupt); srv.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sesame did not become ready")
		}
		time.Sleep(50 * time.Millisecond) // polling a starting process, not waiting for time to pass
	}

	h, err := newApp(context.Background(), config{Issuer: "http://" + addr, ClientID: "demo", ClientSecret: "demo-secret-0123456789abcdefghijkl", BaseURL: demoURL})
	if err != nil {
		t.Fatal(err)
	}
	demo := httptest.NewUnstartedServer(h)
	demo.Listener.Close()
	demo.Listener = demoLn
	demo.Start()
	defer demo.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(demoURL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(string(body))
	ar := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(string(body))
	if csrf == nil || ar == nil {
		t.Fatalf("no login form: %s", body)
	}
	resp, err = client.PostForm("http://"+addr+"/login", url.Values{"csrf_token": {csrf[1]}, "authRequestID": {ar[1]},
		"email": {"alice@acme.example"}, "password": {"a-long-enough-passphrase"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	for _, want := range []string{`id="who">alice@acme.example`, `id="org">ACME`, `&#34;org_status&#34;: &#34;validated&#34;`, `&#34;org_siret&#34;: &#34;73282932000074&#34;`, "end_session"} {
		if !strings.Contains(page, want) {
			t.Fatalf("demo page lacks %q:\n%s", want, page)
		}
	}
	// Sign out through the link: back on the demo's home, and Sesame asks again.
	logout := regexp.MustCompile(`<a href="([^"]+)">Sign out</a>`).FindStringSubmatch(page)
	if logout == nil {
		t.Fatal("no sign-out link")
	}
	resp, err = client.Get(strings.ReplaceAll(logout[1], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.String() != demoURL+"/" || !strings.Contains(string(body), "Sign in with Sesame") {
		t.Fatalf("after logout: %s %s", resp.Request.URL, body)
	}
	resp, _ = client.Get(demoURL + "/login")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `name="password"`) {
		t.Fatal("signed in again without the form after logout")
	}
}
