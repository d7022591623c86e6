package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/config"
)

func TestIPv6BudgetsCountThePrefix(t *testing.T) {
	t.Parallel()
	if _, err := config.Load("", []string{"SESAME_RATELIMIT_IPV6_PREFIX=16"}); err == nil || !strings.Contains(err.Error(), "ratelimit.ipv6_prefix") {
		t.Fatalf("a /16 prefix: %v", err)
	}
	e := newEnv(t, "SESAME_TRUSTED_PROXIES=127.0.0.1", "SESAME_ACCOUNTS_SIGNIN_PER_IP=2", "SESAME_RATELIMIT_CLIENT_AUTH_PER_IP=2")
	f := e.fixture("marketplace")
	br := e.browser()
	_, body := br.get(e.issuer + "/login")
	signIn := func(from string) int {
		// An address of its own each time, so that no account is locked.
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/login", strings.NewReader(url.Values{"csrf_token": {field(csrfRe, body)},
			"email": {from + "@b.example"}, "password": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		resp, _ := br.do(req)
		return resp.StatusCode
	}
	for i, tc := range []struct {
		from string
		want int
	}{
		{"2001:db8:1:2::1", 401}, {"2001:db8:1:2::2", 401}, {"2001:db8:1:2:ffff::3", 429}, // one /64
		{"2001:db8:1:3::1", 401}, // the next /64
		{"192.0.2.1", 401}, {"192.0.2.2", 401},
	} {
		if got := signIn(tc.from); got != tc.want {
			t.Fatalf("sign-in %d from %s: %d, want %d", i, tc.from, got, tc.want)
		}
	}
	for i, from := range []string{"2001:db8:9:9::1", "2001:db8:9:9::2", "2001:db8:9:9::3"} {
		status, _, _ := e.clientAuthAt("/oauth/token", f.clientID, "wrong-"+f.secret, from)
		if want := []int{401, 401, 429}[i]; status != want {
			t.Fatalf("client authentication %d from %s: %d, want %d", i, from, status, want)
		}
	}
}
