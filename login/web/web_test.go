package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// TestStatus is the page door's table: every code of internal/fail, with
// and without a key, wrapped, storage's sentinels and a plain error.
func TestStatus(t *testing.T) {
	tests := []struct {
		err    error
		status int
		key    string
	}{
		{nil, 200, ""},
		{fail.E(fail.Forbidden, "Errors.Request.CSRF"), 403, "Errors.Request.CSRF"},
		{fmt.Errorf("wrapped: %w", fail.E(fail.Invalid, "X")), 400, "X"},
		{fail.E(fail.Invalid, ""), 400, "Errors.Request.Invalid"},
		{fail.E(fail.Unauthorized, "Errors.Code.Invalid"), 401, "Errors.Code.Invalid"},
		{fail.E(fail.Unauthorized, ""), 401, "Errors.Request.Forbidden"},
		{fail.E(fail.Forbidden, ""), 403, "Errors.Request.Forbidden"},
		{fail.E(fail.NotFound, "Errors.Members.NotFound"), 404, "Errors.Members.NotFound"},
		{fail.E(fail.NotFound, ""), 404, "Errors.Request.NotFound"},
		{fail.E(fail.Conflict, "Errors.Members.LastAdmin"), 409, "Errors.Members.LastAdmin"},
		{fail.E(fail.Gone, "Errors.Link.Used"), 410, "Errors.Link.Used"},
		{fail.E(fail.TooLarge, ""), 413, "Errors.Request.TooLarge"},
		{fail.E(fail.TooMany, "Errors.Login.Locked"), 429, "Errors.Login.Locked"},
		{fail.E(fail.TooMany, ""), 429, "Errors.Request.TooMany"},
		{fail.E(fail.Unavailable, "Errors.Signup.CloudDown"), 503, "Errors.Signup.CloudDown"},
		{fail.E(fail.Unavailable, ""), 503, "Errors.Unavailable"},
		{fail.Wrap(fail.Internal, "Errors.Secret", errors.New("bug")), 503, "Errors.Unavailable"},
		{fail.E("no such code", "K"), 503, "K"},
		{storage.ErrNotFound, 404, "Errors.Request.NotFound"},
		{fmt.Errorf("user: %w", storage.ErrConflict), 400, "Errors.Request.Invalid"},
		{fmt.Errorf("user: %w", storage.ErrInvalid), 400, "Errors.Request.Invalid"},
		{errors.New("database is locked"), 503, "Errors.Unavailable"},
	}
	for _, tc := range tests {
		status, key := Status(tc.err)
		if status != tc.status || key != tc.key {
			t.Errorf("Status(%v) = %d %q, want %d %q", tc.err, status, key, tc.status, tc.key)
		}
	}
	for _, c := range fail.Codes {
		if _, ok := pageOf[c]; !ok {
			t.Errorf("code %q has no page", c)
		}
	}
}

func TestFormsAndHeaders(t *testing.T) {
	var got []string
	h := SecurityHeaders(true)(Forms(func(w http.ResponseWriter, r *http.Request, err error) {
		status, key := Status(err)
		got = append(got, key)
		w.WriteHeader(status)
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })))
	tests := []struct {
		body   string
		status int
	}{
		{"a=b", 204},
		{"a=" + strings.Repeat("x", MaxBodyBytes), 413},
		{"a=%ff", 400},
		{"%ff=b", 400},
		{"a=%00", 400},
		{"a=%zz", 400},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%.20q: got %d, want %d", tc.body, w.Code, tc.status)
		}
		if w.Header().Get("Strict-Transport-Security") == "" || w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("headers missing: %v", w.Header())
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	if ClientIP(r) != "192.0.2.7" {
		t.Error(ClientIP(r))
	}
}

func TestRealIP(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrefixes("10.0.0.0/8, nonsense"); err == nil {
		t.Fatal("nonsense accepted")
	}
	var got string
	h := RealIP(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) }))
	tests := []struct{ peer, xff, want string }{
		{"127.0.0.1:1234", "203.0.113.9", "203.0.113.9"},               // through the proxy
		{"127.0.0.1:1234", "198.51.100.1, 203.0.113.9", "203.0.113.9"}, // a forged first hop is ignored
		{"127.0.0.1:1234", "203.0.113.9, 10.1.2.3", "203.0.113.9"},     // two trusted proxies
		{"192.0.2.50:1234", "203.0.113.9", "192.0.2.50"},               // not a trusted peer: header ignored
		{"127.0.0.1:1234", "", "127.0.0.1"},                            // no header
		{"127.0.0.1:1234", "garbage", "127.0.0.1"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("peer %s, XFF %q: got %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}

// The per-IP budgets count an IPv4 address, or an IPv6 network: one /64
// (by default) is one holder, whatever address in it they use.
func TestBudgetKey(t *testing.T) {
	for _, tc := range []struct {
		remote string
		prefix int // 0: no BudgetKeys middleware
		want   string
	}{
		{"192.0.2.7:1234", 0, "192.0.2.7"},
		{"[::ffff:192.0.2.7]:1234", 0, "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", 0, "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", 0, "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:3:4:5:6]:443", 48, "2001:db8:1::/48"},
		{"[2001:db8:1:2:3:4:5:6]:443", 128, "2001:db8:1:2:3:4:5:6/128"},
		{"[fe80::1%eth0]:443", 0, "fe80::/64"},
		{"192.0.2.7:1234", 56, "192.0.2.7"},
		{"not an address", 0, "not an address"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		var got string
		h := http.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = BudgetKey(r) }))
		if tc.prefix != 0 {
			h = BudgetKeys(tc.prefix)(h)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("BudgetKey(%s, /%d) = %q, want %q", tc.remote, tc.prefix, got, tc.want)
		}
	}
}
