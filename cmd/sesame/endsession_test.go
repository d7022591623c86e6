package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

func TestBareEndSessionAsksFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	br := e.browser()
	verifier, challenge := pkce()
	tokens := exchange(t, e.relyingParty(f, "n-marketplace"), br.signIn(f, challenge, nil), verifier)
	alive := func() bool {
		_, c := pkce()
		resp, _ := br.get(e.authorizeURL(f, c, nil))
		return resp.StatusCode == http.StatusFound && rpRedirect(t, resp, f).Get("code") != ""
	}
	for _, tc := range []struct{ lang, want string }{{"", "Voulez-vous vous déconnecter"}, {"en", "Do you want to sign out"}} {
		br.lang = tc.lang
		resp, body := br.get(e.issuer + "/end_session")
		if resp.StatusCode != 200 || !strings.Contains(body, tc.want) || field(csrfRe, body) == "" || !strings.Contains(body, `method="post"`) {
			t.Fatalf("bare end_session (%q): %d %.300s", tc.lang, resp.StatusCode, body)
		}
		if !alive() {
			t.Fatal("a bare GET end_session ended the session")
		}
	}
	br.lang = ""
	_, page := br.get(e.issuer + "/end_session?" + url.Values{"client_id": {f.clientID},
		"post_logout_redirect_uri": {"http://127.0.0.1:1/marketplace/bye"}, "state": {"s1"}}.Encode())
	form := url.Values{"confirm": {"1"}, "client_id": {f.clientID}, "post_logout_redirect_uri": {"http://127.0.0.1:1/marketplace/bye"}, "state": {"s1"}}
	if resp, _ := br.post(e.issuer+"/end_session", form); resp.StatusCode != http.StatusForbidden || !alive() {
		t.Fatalf("a POST without the CSRF token: %d", resp.StatusCode)
	}
	form.Set("csrf_token", field(csrfRe, page))
	resp, _ := br.post(e.issuer+"/end_session", form)
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || loc != "http://127.0.0.1:1/marketplace/bye?state=s1" {
		t.Fatalf("confirmed logout: %d %q", resp.StatusCode, loc)
	}
	if alive() {
		t.Fatal("the session survived a confirmed logout")
	}
	if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", f.userID, e.relyingParty(f, "")); err == nil {
		t.Fatal("the application's token survived the confirmed logout")
	}
}

func TestEndSessionRefusalIsAnHTMLPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	br := e.browser()
	verifier, challenge := pkce()
	tokens := exchange(t, e.relyingParty(f, "n-marketplace"), br.signIn(f, challenge, nil), verifier)
	for name, q := range map[string]url.Values{
		"unregistered uri":           {"client_id": {f.clientID}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"unregistered uri with hint": {"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"unknown client":             {"client_id": {"nobody"}, "post_logout_redirect_uri": {"https://evil.example/"}},
	} {
		resp, body := br.get(e.issuer + "/end_session?" + q.Encode())
		if resp.StatusCode != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || json.Valid([]byte(body)) ||
			resp.Header.Get("Location") != "" {
			t.Fatalf("%s: %d %q %.200s", name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

// A valid id_token_hint shows the logout comes from an application the
// person signed in to only when it names that person: an attacker's own ID
// token, put in a link on any page, must not end someone else's session
// without asking.
func TestForeignIDTokenHintAsksFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	// The attacker: another person, their own ID token.
	mallory := fixture{clientID: f.clientID, secret: f.secret, redirect: f.redirect, issuer: f.issuer,
		email: "mallory@evil.example", pw: "purple-horse-battery-staple"}
	mallory.userID = e.mustCLI(mallory.pw+"\n", "user", "add", "--email", mallory.email, "--org", f.orgID, "--password-stdin")
	mb := e.browser()
	v, c := pkce()
	hint := exchange(t, e.relyingParty(mallory, "n-marketplace"), mb.signIn(mallory, c, nil), v).IDToken

	victim := e.browser()
	_, c = pkce()
	victim.signIn(f, c, nil)
	resp, body := victim.get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {hint}}.Encode())
	if resp.StatusCode != http.StatusOK || field(csrfRe, body) == "" {
		t.Errorf("end_session with another person's id_token_hint: %d %q, want the confirmation page", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, c = pkce()
	if resp, _ := victim.get(e.authorizeURL(f, c, nil)); resp.StatusCode != http.StatusFound {
		t.Fatalf("the victim's session was ended by a link carrying the attacker's ID token (authorize: %d)", resp.StatusCode)
	}
}
