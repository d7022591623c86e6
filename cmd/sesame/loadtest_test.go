package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoadtestCommand(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"loadtest", "--target", "http://192.0.2.1:8080"}, "loopback only"},
		{[]string{"loadtest", "--target", "ftp://127.0.0.1"}, "is not an http(s) URL"},
		{[]string{"loadtest", "--scenario", "dance"}, "--scenario: must be"},
		{[]string{"loadtest", "-c", "0"}, "--c: must be from 1 to 1024"},
		{[]string{"loadtest", "-d", "1h"}, "--d: must be more than 0 and at most 10m"},
		{[]string{"loadtest", "--id-token-alg", "HS256", "--setup"}, "--id-token-alg: must be RS256, ES256 or EdDSA"},
		{[]string{"loadtest", "--id-token-alg", "ES256"}, "only with --setup"},
		{[]string{"loadtest", "--op", "keycloak"}, "--op: must be sesame or zitadel-example"},
		{[]string{"loadtest", "--op", "zitadel-example", "--setup"}, "--setup: only for --op sesame"},
	} {
		if _, errs, code := e.cli("", tc.args...); code != 2 || !strings.Contains(errs, tc.want) {
			t.Fatalf("%v: %d %s", tc.args, code, errs)
		}
	}
	// A short, bounded run of each scenario against the test server.
	out, errs, code := e.cli("", "loadtest", "--setup", "--users", "3", "--target", e.issuer, "-c", "2", "-d", "2s", "--max-requests", "4")
	if code != 0 || !strings.Contains(out, "3 users created") || !strings.Contains(out, "operations 4, errors 0") ||
		!strings.Contains(out, "code exchange within the sign-ins: p50") {
		t.Fatalf("signin: %d\n%s%s", code, out, errs)
	}
	for _, s := range []string{"token", "refresh", "userinfo", "jwks", "discovery"} {
		out, errs, code := e.cli("", "loadtest", "--users", "3", "--target", e.issuer, "--scenario", s, "-c", "2", "-d", "2s", "--max-requests", "6")
		if code != 0 || !strings.Contains(out, "errors 0") || !strings.Contains(out, "p99") || !strings.Contains(out, "load generator: CPU") {
			t.Fatalf("%s: %d\n%s%s", s, code, out, errs)
		}
	}
}

// TestAPIConns: the generator's own connections are kept alive between
// requests, dialled again after the server closes one, and give up at once
// when the run's context ends.
func TestAPIConns(t *testing.T) {
	var conns atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/close":
			w.Header().Set("Connection", "close")
		case "/hang":
			<-release
		}
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	defer close(release)

	api := apiConns{}
	for _, tc := range []struct {
		path      string
		wantConns int32 // connections opened so far, after the request
	}{
		{"/a", 1},
		{"/b", 1},     // kept alive
		{"/close", 1}, // answered, then closed by the server
		{"/c", 2},     // dialled again
		{"/d", 2},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		status, body, err := api.do(context.Background(), req)
		if err != nil || status != 200 || string(body) != "GET "+tc.path {
			t.Fatalf("%s: %d %q %v", tc.path, status, body, err)
		}
		if got := conns.Load(); got != tc.wantConns {
			t.Fatalf("%s: %d connections opened, want %d", tc.path, got, tc.wantConns)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/hang", nil)
	done := make(chan error, 1)
	go func() { _, _, err := api.do(ctx, req); done <- err }()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a request whose context ended succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a request whose context ended did not return")
	}
	if len(api) != 0 {
		t.Fatal("the failed connection was kept")
	}
}
