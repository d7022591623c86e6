package main

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/reqlog"
)

// TestRequestLog: one INFO line per request — method, path with its
// query's secrets redacted, status, duration, request id —; the id is a
// sane incoming X-Request-Id or a new one, echoed in the response and on
// every line of that request; log.requests: false leaves the ids, drops
// the lines.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := newEnvWith(t, slog.New(reqlog.Handler{Handler: slog.NewTextHandler(logs, nil)}))
	get := func(path, id string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		resp, err := testTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get("/login?lang=en", "edge-proxy-4f2a:1")
	if got := resp.Header.Get("X-Request-Id"); got != "edge-proxy-4f2a:1" {
		t.Fatalf("X-Request-Id echoed %q", got)
	}
	line := regexp.MustCompile(`(?m)^.*msg=request method=GET path="?/login\?lang=en"? status=200 duration=\S+ request_id=edge-proxy-4f2a:1$`)
	if !line.MatchString(logs.String()) {
		t.Fatalf("no request line:\n%s", logs.String())
	}
	for _, bad := range []string{"<script>", strings.Repeat("a", 65), "a b", "x\tforged", "é"} {
		resp := get("/healthz", bad)
		if id := resp.Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
			t.Errorf("incoming id %q: answered with %q, want a new one", bad, id)
		}
	}
	// Secrets in the query are not logged; the refusal's own line has the
	// request's id.
	resp = get("/authorize?client_id=demo&state=SECRET-STATE&nonce=SECRET-NONCE&code_challenge=SECRET-CC&login_hint=alice%40acme.example&scope=openid", "")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(logs.String(), "client_id=demo") || !strings.Contains(logs.String(), "state=REDACTED") {
		t.Fatalf("authorize: %d\n%s", resp.StatusCode, logs.String())
	}
	resp = get("/login?authRequestID=SECRET-AR", "")
	id := resp.Header.Get("X-Request-Id")
	for _, secret := range []string{"SECRET-STATE", "SECRET-NONCE", "SECRET-CC", "alice", "SECRET-AR"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("%s reached the log", secret)
		}
	}
	var authorize []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "request_id="+id) {
			authorize = append(authorize, l)
		}
	}
	if len(authorize) != 2 || !strings.Contains(authorize[0], `msg="request refused"`) ||
		!strings.Contains(authorize[1], "authRequestID=REDACTED") || !strings.Contains(authorize[1], "status=400") {
		t.Fatalf("the refused request's lines (want its refusal and its request line, one id):\n%s", strings.Join(authorize, "\n"))
	}

	quiet := &syncBuffer{}
	q := newEnvWith(t, slog.New(reqlog.Handler{Handler: slog.NewTextHandler(quiet, nil)}), "SESAME_LOG_REQUESTS=false")
	r2, err := testClient.Get(q.issuer + "/login")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.Header.Get("X-Request-Id") == "" || strings.Contains(quiet.String(), "msg=request ") {
		t.Fatalf("log.requests=false: id %q, log:\n%s", r2.Header.Get("X-Request-Id"), quiet.String())
	}
}
