package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/login/mail/mailtest"
)

var resetLinkRe = regexp.MustCompile(`https?://\S+/reset-password\?token=[A-Za-z0-9_-]+`)

// Nothing secret reaches the log, at debug level (attacker review): a
// journey through the password form (a wrong guess, then the right
// password), the code exchange, a refresh, userinfo, introspection, a
// wrong client secret, a reset requested and used, and a logout; then the
// log is searched for every secret the journey handled.
func TestNoSecretsInTheDebugLog(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	smtp := mailtest.Start(t)
	e := newEnvWith(t, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		"SESAME_MAIL_SMTP_HOST="+smtp.Host, "SESAME_MAIL_SMTP_PORT="+strconv.Itoa(smtp.Port), "SESAME_MAIL_SMTP_TLS=none",
		"SESAME_MAIL_POLL_INTERVAL=100ms", "SESAME_LOG_LEVEL=debug")
	f := e.fixture("rp")
	e.person(&f)
	secrets := map[string]string{"password": f.pw, "client secret": f.secret}

	b := e.browser()
	wrong := f
	wrong.pw = "a-wrong-guess-of-the-password"
	secrets["wrong guess"] = wrong.pw
	verifier, challenge := pkce()
	b.submitLogin(wrong, challenge, nil)
	code := b.signIn(f, challenge, nil)
	secrets["code"], secrets["verifier"] = code, verifier
	for _, c := range b.client.Jar.Cookies(mustParse(e.issuer)) {
		secrets["cookie "+c.Name] = c.Value
	}
	status, tok, _ := e.tokenRequest(f, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.redirect}, "code_verifier": {verifier}})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	access, refresh, idToken := tok["access_token"].(string), tok["refresh_token"].(string), tok["id_token"].(string)
	secrets["access token"], secrets["refresh token"], secrets["id token"] = access, refresh, idToken
	status, tok, _ = e.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, tok)
	}
	secrets["refreshed access token"], secrets["refreshed refresh token"] = tok["access_token"].(string), tok["refresh_token"].(string)
	// The old refresh token again (reuse), a wrong client secret, userinfo, introspection.
	e.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	bad := f
	bad.secret = "not-the-secret-not-the-secret-not-the-secret"
	secrets["wrong client secret"] = bad.secret
	e.tokenRequest(bad, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"whatever"}})
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+secrets["refreshed access token"])
	doJSON(t, req)
	req, _ = http.NewRequest(http.MethodPost, e.issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {access}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.clientID, f.secret)
	doJSON(t, req)
	// A reset, requested and used.
	_, body := b.get(e.issuer + "/forgot")
	b.post(e.issuer+"/forgot", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}})
	var link string
	deadline := time.Now().Add(10 * time.Second)
	for link == "" {
		for _, m := range smtp.To(f.email) {
			if l := resetLinkRe.FindString(m.Text); l != "" {
				link = l
			}
		}
		if link == "" {
			if time.Now().After(deadline) {
				t.Fatal("no reset mail")
			}
			time.Sleep(20 * time.Millisecond) // polling the mail worker's progress
		}
	}
	token := mustParse(link).Query().Get("token")
	secrets["reset token"] = token
	newPW := "a-brand-new-passphrase-2026"
	secrets["new password"] = newPW
	_, body = b.get(link)
	if resp, _ := b.post(e.issuer+"/reset-password", url.Values{"csrf_token": {field(csrfRe, body)}, "token": {token},
		"password": {newPW}, "password_confirm": {newPW}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	b.get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:1/rp/bye"}}.Encode())

	log := logs.String()
	t.Logf("%d bytes of log, %d lines", len(log), strings.Count(log, "\n"))
	if !strings.Contains(log, "level=DEBUG") && !strings.Contains(log, "sign-in failed") {
		t.Fatalf("the log is empty or not at debug level:\n%.2000s", log)
	}
	for name, s := range secrets {
		if len(s) < 6 {
			continue
		}
		if strings.Contains(log, s) || strings.Contains(log, url.QueryEscape(s)) {
			i := strings.Index(log, s)
			if i < 0 {
				i = strings.Index(log, url.QueryEscape(s))
			}
			t.Errorf("the %s reached the log: …%s…", name, log[max(0, i-200):min(len(log), i+len(s)+50)])
		}
	}
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
