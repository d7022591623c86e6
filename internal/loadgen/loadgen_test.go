package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

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

	api := APIConns{}
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
