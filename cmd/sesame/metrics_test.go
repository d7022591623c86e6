package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func scrape(t *testing.T, u string) string {
	t.Helper()
	resp, err := testClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", u, resp.StatusCode)
	}
	return string(b)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "SESAME_METRICS_PUBLIC=true")
	f := e.fixture("marketplace")
	e.person(&f)
	v, c := pkce()
	code := e.browser().signIn(f, c, nil)
	e.tokenRequest(f, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect}, "code_verifier": {v}})
	b := e.browser()
	_, body := b.get(e.issuer + "/login")
	b.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {"wrong"}})
	got := scrape(t, e.issuer+"/metrics")
	for _, want := range []string{
		`sesame_signins_total{result="success"} 1`,
		`sesame_signins_total{result="failure"} 1`,
		`sesame_tokens_issued_total{grant="authorization_code"} 1`,
		`sesame_http_request_duration_seconds_count{code="2xx",route="/login"}`,
		`sesame_password_hash_wait_seconds_count`,
		`sesame_mail_queue_depth 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Apart: on ops_listen, and no longer on the public listener.
	ops := freeAddr(t)
	e2 := newEnv(t, "SESAME_OPS_LISTEN="+ops)
	if !strings.Contains(scrape(t, "http://"+ops+"/metrics"), "go_goroutines") {
		t.Fatal("no metrics on ops_listen")
	}
	if scrape(t, "http://"+ops+"/readyz") != "ok\n" {
		t.Fatal("readyz on ops_listen")
	}
	resp, _ := testClient.Get(e2.issuer + "/metrics")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/metrics on the public listener with ops_listen set: %d", resp.StatusCode)
	}
	// Profiles only when asked, and only on ops_listen.
	for _, tc := range []struct {
		url  string
		want int
	}{
		{"http://" + ops + "/debug/pprof/", 404},
		{e.issuer + "/debug/pprof/", 404},
	} {
		resp, err := testClient.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: %d, want %d", tc.url, resp.StatusCode, tc.want)
		}
	}
	ops3 := freeAddr(t)
	e3 := newEnv(t, "SESAME_OPS_LISTEN="+ops3, "SESAME_OPS_PPROF=true")
	if !strings.Contains(scrape(t, "http://"+ops3+"/debug/pprof/"), "goroutine") {
		t.Fatal("no profiles on ops_listen with ops_pprof")
	}
	resp, _ = testClient.Get(e3.issuer + "/debug/pprof/")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("profiles on the public listener: %d", resp.StatusCode)
	}
}

// TestMetricsNotOnPublicListenerByDefault: the metrics (request routes,
// sign-in counts, queue depths) are for the operator, so the public listener
// serves them only when the configuration says so (metrics_public).
func TestMetricsNotOnPublicListenerByDefault(t *testing.T) {
	t.Parallel()
	status := func(u string) int {
		t.Helper()
		resp, err := testClient.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	e := newEnv(t)
	if got := status(e.issuer + "/metrics"); got != http.StatusNotFound {
		t.Fatalf("/metrics on the public listener with the defaults: %d, want 404", got)
	}
	// Asked for: on the public listener, and still on ops_listen when set.
	ops := freeAddr(t)
	e2 := newEnv(t, "SESAME_METRICS_PUBLIC=true", "SESAME_OPS_LISTEN="+ops)
	if !strings.Contains(scrape(t, e2.issuer+"/metrics"), "go_goroutines") {
		t.Fatal("no metrics on the public listener with metrics_public")
	}
	if !strings.Contains(scrape(t, "http://"+ops+"/metrics"), "go_goroutines") {
		t.Fatal("no metrics on ops_listen with metrics_public")
	}
}
