package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/storage"
)

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "SESAME_SESSIONS_IDLE_TIMEOUT=1h", "SESAME_SESSIONS_ABSOLUTE_LIFETIME=3h")
	f := e.fixture("marketplace")
	e.person(&f)
	br := e.browser()
	_, c := pkce()
	br.signIn(f, c, nil)
	sso := func() bool {
		_, c := pkce()
		resp, _ := br.get(e.authorizeURL(f, c, nil))
		return resp.StatusCode == 302 && strings.Contains(resp.Header.Get("Location"), "code=")
	}
	steps := []struct {
		advance time.Duration
		want    bool
	}{
		{59 * time.Minute, true}, // activity within the idle timeout keeps the session
		{59 * time.Minute, true}, // and pushes the idle expiry
		{59 * time.Minute, true}, // 2h57m after sign-in: still inside the absolute lifetime
		{4 * time.Minute, false}, // 3h01m: the absolute lifetime ended it
	}
	for i, s := range steps {
		e.clock.Add(s.advance)
		if got := sso(); got != s.want {
			t.Fatalf("step %d (+%s): single sign-on %v, want %v", i, s.advance, got, s.want)
		}
	}
	// A fresh session that sits idle past the timeout ends too.
	br2 := e.browser()
	_, c = pkce()
	br2.signIn(f, c, nil)
	e.clock.Add(time.Hour + time.Second)
	_, c = pkce()
	resp, body := br2.get(e.authorizeURL(f, c, nil))
	if resp.StatusCode != 200 || field(arIDRe, body) == "" {
		t.Fatalf("idle session still signs in: %d", resp.StatusCode)
	}
}

func TestClientSecretPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	v, c := pkce()
	code := e.browser().signIn(f, c, nil)
	noBasic := fixture{clientID: f.clientID}
	status, body, _ := e.tokenRequest(noBasic, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect},
		"code_verifier": {v}, "client_id": {f.clientID}, "client_secret": {f.secret}})
	if status != 200 || body["id_token"] == nil {
		t.Fatalf("client_secret_post: %d %v", status, body)
	}
}

func TestPasswordRehashedAtSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	// Store a hash made with other parameters, as after a configuration change.
	old := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, 1)
	hash, _ := old.Hash(context.Background(), f.pw)
	ctx := context.Background()
	if err := e.main.Store.UpdateUser(ctx, f.userID, func(u *storage.User) error { u.PasswordHash = hash; return nil }); err != nil {
		t.Fatal(err)
	}
	_, c := pkce()
	e.browser().signIn(f, c, nil)
	u, _ := e.main.Store.GetUser(ctx, f.userID)
	if u.PasswordHash == hash || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Fatalf("hash not upgraded: %s", u.PasswordHash)
	}
	if u.LastSignInAt.IsZero() {
		t.Fatalf("sign-in not recorded: %+v", u)
	}
}
