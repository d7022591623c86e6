package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (e *testEnv) clientAuthAt(path, clientID, secret, xff string) (int, map[string]any, http.Header) {
	e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_unknown"}}
	if path == "/oauth/introspect" {
		form = url.Values{"token": {"unknown"}}
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return doJSON(e.t, req)
}

func TestClientAuthFailuresHaveAPerIPBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "SESAME_RATELIMIT_CLIENT_AUTH_PER_IP=3")
	f := e.fixture("marketplace")
	for i := 1; i <= 3; i++ {
		path := []string{"/oauth/token", "/oauth/introspect"}[i%2]
		if status, body, _ := e.clientAuthAt(path, f.clientID, "wrong-"+f.secret, ""); status != 401 || body["error"] != "invalid_client" {
			t.Fatalf("failure %d at %s: %d %v", i, path, status, body)
		}
	}
	for _, path := range []string{"/oauth/token", "/oauth/introspect", "/oauth/revoke"} {
		status, body, h := e.clientAuthAt(path, f.clientID, f.secret, "")
		if status != 429 || h.Get("Retry-After") == "" || body["error"] == nil || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("%s past the budget: %d %v %v", path, status, body, h)
		}
	}
	e.clock.Add(time.Hour + time.Second)
	if status, body, _ := e.clientAuthAt("/oauth/introspect", f.clientID, f.secret, ""); status != 200 || body["active"] != false {
		t.Fatalf("the next window: %d %v", status, body)
	}
}

func TestUnknownClientAndWrongSecretLookTheSame(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	for _, path := range []string{"/oauth/token", "/oauth/introspect"} {
		s1, b1, _ := e.clientAuthAt(path, f.clientID, "wrong-"+f.secret, "")
		s2, b2, _ := e.clientAuthAt(path, "no-such-client", f.secret, "")
		if s1 != 401 || s1 != s2 || b1["error"] != b2["error"] || b1["error_description"] != b2["error_description"] {
			t.Fatalf("%s: wrong secret %d %v, unknown client %d %v", path, s1, b1, s2, b2)
		}
	}
}

func TestClientSecretsUseAKeyedHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, errs, code := e.cli("", "client", "add", "--id", "gen", "--redirect-uri", "https://gen.example/cb")
	secret := strings.TrimSpace(errs[strings.LastIndex(errs, ":")+1:])
	if code != 0 || len(secret) < 43 {
		t.Fatalf("client add: %d %q", code, errs)
	}
	legacy := e.fixture("legacy")
	argon, err := e.main.Hasher.Hash(ctx, legacy.secret)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.main.Store.GetClient(ctx, "legacy")
	e.mustCLI("", "client", "remove", "legacy")
	c.SecretHash = argon
	if err := e.main.Store.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, secret string }{{"gen", secret}, {"legacy", legacy.secret}, {"legacy", legacy.secret}} {
		if status, body, _ := e.clientAuthAt("/oauth/introspect", tc.id, tc.secret, ""); status != 200 {
			t.Fatalf("%s: %d %v", tc.id, status, body)
		}
		stored, _ := e.main.Store.GetClient(ctx, tc.id)
		if strings.HasPrefix(stored.SecretHash, "$argon2id$") {
			t.Fatalf("%s: the secret is stored as argon2id after a success: %.20s…", tc.id, stored.SecretHash)
		}
	}
	if status, _, _ := e.clientAuthAt("/oauth/introspect", "legacy", "wrong-"+legacy.secret, ""); status != 401 {
		t.Fatalf("wrong secret after the rehash: %d", status)
	}
}

func TestClientAddRefusesAShortOperatorSecret(t *testing.T) {
	t.Parallel()
	e := cliEnv(t)
	_, errs, code := e.cli("", "client", "add", "--id", "x", "--secret", strings.Repeat("s", 31), "--redirect-uri", "https://rp.example/cb")
	if code != 2 || !strings.Contains(errs, "--secret: must be at least 32 characters") {
		t.Fatalf("31 characters: exit %d: %s", code, errs)
	}
	e.mustCLI("", "client", "add", "--id", "x", "--secret", strings.Repeat("s", 32), "--redirect-uri", "https://rp.example/cb")
}
