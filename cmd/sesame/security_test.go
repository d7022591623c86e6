package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-idp/sesame/login/totp"
)

var (
	totpKeyRe  = regexp.MustCompile(`id="totp-key" data-value="([A-Z2-7]+)"`)
	recoveryRe = regexp.MustCompile(`<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>`)
	resetRe    = regexp.MustCompile(`https?://\S+/reset-password\?token=[A-Za-z0-9_-]+`)
)

// enableTOTP turns the second factor on from the security settings, as a
// person would: reads the key on the page, computes the code.
func (e *orgEnv) enableTOTP(br *browser) (secret string, codes []string) {
	e.t.Helper()
	resp, body := br.get(e.issuer + "/account/security/totp")
	if resp.StatusCode != 200 || !strings.Contains(body, `src="data:image/png;base64,`) {
		e.t.Fatalf("setup page: %d %.300s", resp.StatusCode, body)
	}
	secret = strings.ReplaceAll(field(totpKeyRe, body), " ", "")
	code, _ := totp.Code(secret, e.clock.Now())
	resp, body = br.postForm(e.issuer+"/account/security/totp", body, url.Values{"code": {code}})
	for _, m := range recoveryRe.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	if resp.StatusCode != 200 || len(codes) != 10 {
		e.t.Fatalf("confirm: %d, %d codes", resp.StatusCode, len(codes))
	}
	return secret, codes
}

// member creates a validated organization and a person with a password.
func (e *orgEnv) member(email, pw string, roles ...string) fixture {
	e.t.Helper()
	org := e.mustCLI("", "org", "create", "--name", "ACME "+email, "--country", "BE", "--validated")
	args := []string{"user", "add", "--email", email, "--org", org, "--password-stdin"}
	for _, r := range roles {
		args = append(args, "--role", r)
	}
	f := fixture{email: email, pw: pw}
	f.userID = e.mustCLI(pw+"\n", args...)
	f.orgID = org
	return f
}

// signInForm posts the login form of an authorization request and returns where it landed.
func (e *orgEnv) signInForm(br *browser, f fixture, extra url.Values) (*http.Response, string, string) {
	e.t.Helper()
	v, c := pkce()
	_, body := br.get(e.authorizeURL(e.marketRP, c, extra))
	resp, body := br.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "authRequestID": {field(arIDRe, body)},
		"email": {f.email}, "password": {f.pw}})
	return resp, body, v
}

func TestSecondFactorSignIn(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	br := e.browser()
	br.signInPlain(f)
	secret, codes := e.enableTOTP(br)

	// A new browser, in the next time step (the enrolment spent this one):
	// password, then the code page.
	e.clock.Add(totp.Period)
	b2 := e.browser()
	resp, body, verifier := e.signInForm(b2, f, nil)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/login/code" || !strings.Contains(body, `autocomplete="one-time-code"`) {
		t.Fatalf("no code step: %d %s", resp.StatusCode, resp.Request.URL)
	}
	csrf := field(csrfRe, body)
	// A wrong code is refused.
	resp, body = b2.post(e.issuer+"/login/code", url.Values{"csrf_token": {csrf}, "code": {"000000"}})
	if resp.StatusCode != 401 || !strings.Contains(body, "pas valide") {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	code, _ := totp.Code(secret, e.clock.Now())
	resp, _ = b2.post(e.issuer+"/login/code", url.Values{"csrf_token": {csrf}, "code": {code}})
	q := rpRedirect(t, resp, e.marketRP)
	// The right code clears the failure the wrong one counted.
	if fails, _ := e.main.Store.GetLoginFailures(context.Background(), "email:"+hashEmail(f.email)); fails.Failures != 0 {
		t.Fatalf("failures after the right code: %+v", fails)
	}
	tokens := exchange(t, e.relyingParty(e.marketRP, "n-marketplace"), q.Get("code"), verifier)
	if !slices.Equal(tokens.IDTokenClaims.AuthenticationMethodsReferences, []string{"pwd", "otp", "mfa"}) ||
		tokens.IDTokenClaims.AuthenticationContextClassReference != "urn:sesame:loa:2" {
		t.Fatalf("amr %v acr %s", tokens.IDTokenClaims.AuthenticationMethodsReferences, tokens.IDTokenClaims.AuthenticationContextClassReference)
	}

	// The same code again (same step) in a third browser: a replay, refused.
	b3 := e.browser()
	_, body, _ = e.signInForm(b3, f, nil)
	resp, _ = b3.post(e.issuer+"/login/code", url.Values{"csrf_token": {field(csrfRe, body)}, "code": {code}})
	if resp.StatusCode != 401 {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}
	// A recovery code works, once.
	resp, _ = b3.post(e.issuer+"/login/code", url.Values{"csrf_token": {field(csrfRe, body)}, "code": {strings.ToUpper(codes[0])}})
	rpRedirect(t, resp, e.marketRP)
	b4 := e.browser()
	_, body, _ = e.signInForm(b4, f, nil)
	if resp, _ := b4.post(e.issuer+"/login/code", url.Values{"csrf_token": {field(csrfRe, body)}, "code": {codes[0]}}); resp.StatusCode != 401 {
		t.Fatalf("reused recovery code: %d", resp.StatusCode)
	}
	// Without the password step, the code page sends back to sign-in.
	if resp, _ := e.browser().get(e.issuer + "/login/code"); resp.Request.URL.Path != "/login" {
		t.Fatalf("code page without a password: %s", resp.Request.URL)
	}

	// Disable: password and a code are both needed.
	_, body = br.get(e.issuer + "/account/security")
	resp, _ = br.post(e.issuer+"/account/security/totp/disable", url.Values{"csrf_token": {field(csrfRe, body)},
		"current_password": {f.pw}, "code": {"123456"}})
	if resp.StatusCode != 401 {
		t.Fatalf("disable with a wrong code: %d", resp.StatusCode)
	}
	e.clock.Add(totp.Period)
	next, _ := totp.Code(secret, e.clock.Now())
	resp, _ = br.post(e.issuer+"/account/security/totp/disable", url.Values{"csrf_token": {field(csrfRe, body)},
		"current_password": {f.pw}, "code": {next}})
	if !landed(resp, "/account/security", "totp-off") {
		t.Fatalf("disable: %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, _, _ = e.signInForm(e.browser(), f, nil)
	rpRedirect(t, resp, e.marketRP) // no second step any more
}

func TestStepUpAndForcedEnrolment(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	br := e.browser()
	br.signInPlain(f)
	secret, _ := e.enableTOTP(br)
	// The browser's session predates nothing: it was a password-only sign-in.
	// A relying party asking for the second factor by acr_values gets it.
	v, c := pkce()
	resp, body := br.get(e.authorizeURL(e.marketRP, c, url.Values{"acr_values": {"urn:sesame:loa:2"}}))
	if resp.StatusCode != 200 || field(arIDRe, body) == "" {
		t.Fatalf("step-up: want the form, got %d %s", resp.StatusCode, resp.Request.URL)
	}
	resp, body = br.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "authRequestID": {field(arIDRe, body)},
		"email": {f.email}, "password": {f.pw}})
	e.clock.Add(totp.Period) // the enrolment spent the current step
	code, _ := totp.Code(secret, e.clock.Now())
	resp, _ = br.post(e.issuer+"/login/code", url.Values{"csrf_token": {field(csrfRe, body)}, "code": {code}})
	q := rpRedirect(t, resp, e.marketRP)
	if tok := exchange(t, e.relyingParty(e.marketRP, "n-marketplace"), q.Get("code"), v); tok.IDTokenClaims.AuthenticationContextClassReference != "urn:sesame:loa:2" {
		t.Fatalf("acr %s", tok.IDTokenClaims.AuthenticationContextClassReference)
	}

	// The admin requires the second factor: a member without one enrols at the next sign-in.
	bob := fixture{email: "bob@acme.example", pw: "tall-ship-passphrase-26"}
	bob.userID = e.mustCLI(bob.pw+"\n", "user", "add", "--email", bob.email, "--org", f.orgID, "--password-stdin")
	_, body = br.get(e.issuer + "/organization/members")
	resp, _ = br.post(e.issuer+"/organization/members/require-2fa", url.Values{"csrf_token": {field(csrfRe, body)}, "require": {"1"}})
	if !landed(resp, "/organization/policy", "require-2fa") {
		t.Fatalf("require: %d", resp.StatusCode)
	}
	bb := e.browser()
	resp, body, bv := e.signInForm(bb, bob, nil)
	if resp.Request.URL.Path != "/login/enrol" || !strings.Contains(body, "exige la double authentification") {
		t.Fatalf("no forced enrolment: %s", resp.Request.URL)
	}
	bsecret := strings.ReplaceAll(field(totpKeyRe, body), " ", "")
	bcode, _ := totp.Code(bsecret, e.clock.Now())
	resp, body = bb.postForm(e.issuer+"/login/enrol", body, url.Values{"code": {bcode}})
	if len(recoveryRe.FindAllString(body, -1)) != 10 {
		t.Fatalf("recovery codes not shown: %d", resp.StatusCode)
	}
	next := regexp.MustCompile(`class="button" href="([^"]+)"`).FindStringSubmatch(body)[1]
	resp, _ = bb.get(e.issuer + strings.ReplaceAll(next, "&amp;", "&"))
	bq := rpRedirect(t, resp, e.marketRP)
	if tok := exchange(t, e.relyingParty(e.marketRP, "n-marketplace"), bq.Get("code"), bv); !slices.Contains(tok.IDTokenClaims.AuthenticationMethodsReferences, "mfa") {
		t.Fatalf("enrolled sign-in amr %v", tok.IDTokenClaims.AuthenticationMethodsReferences)
	}
	// Required: bob cannot turn it off.
	_, body = bb.get(e.issuer + "/account/security")
	if !strings.Contains(body, "ne peut pas être désactivée") {
		t.Fatal("the disable form is offered despite the requirement")
	}
	// The admin resets bob's second factor; so does the CLI.
	_, body = br.get(e.issuer + "/organization/members")
	resp, _ = br.post(e.issuer+"/organization/members/"+bob.userID+"/reset-2fa", url.Values{"csrf_token": {field(csrfRe, body)}})
	if !landed(resp, "/organization/members", "2fa-reset") {
		t.Fatalf("admin reset: %d", resp.StatusCode)
	}
	if _, err := e.main.Store.GetTOTP(context.Background(), bob.userID); err == nil {
		t.Fatal("bob's secret survived the reset")
	}
	e.mustCLI("", "user", "reset-2fa", f.userID)
	if _, err := e.main.Store.GetTOTP(context.Background(), f.userID); err == nil {
		t.Fatal("alice's secret survived sesame user reset-2fa")
	}
}

func TestGuessingIsThrottled(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t, "SESAME_ACCOUNTS_SIGNIN_PER_IP=1000")
	f := e.member("alice@acme.example", "correct-horse-battery")
	br := e.browser()
	_, body := br.get(e.issuer + "/login")
	csrf := field(csrfRe, body)
	try := func(email, pw string) (int, string) {
		resp, body := br.post(e.issuer+"/login", url.Values{"csrf_token": {csrf}, "email": {email}, "password": {pw}})
		return resp.StatusCode, body
	}
	// The progression: locked after 4 failures for 1 min, after 8 for 2 min… at most 10 min.
	for _, email := range []string{f.email, "nobody@acme.example"} {
		for i := 1; i <= 4; i++ {
			if code, _ := try(email, "wrong-guess"); code != 401 {
				t.Fatalf("%s failure %d: %d", email, i, code)
			}
		}
		// Locked, known or not, with the same message; even the right password waits.
		code, body := try(email, f.pw)
		if code != 429 || !strings.Contains(body, "Trop de tentatives pour ce compte") {
			t.Fatalf("%s after 4 failures: %d", email, code)
		}
	}
	events, _ := e.main.Store.ListEvents(context.Background(), auditFilter(f.orgID))
	if !slices.ContainsFunc(events, func(ev storageEvent) bool {
		return ev.Action == "signin.locked" && ev.TargetID == f.userID && ev.IP != ""
	}) {
		t.Fatal("the lock is not in the audit trail")
	}
	e.clock.Add(61 * time.Second)
	for i := 5; i <= 8; i++ {
		try(f.email, "wrong-guess")
	}
	e.clock.Add(61 * time.Second)
	if code, _ := try(f.email, f.pw); code != 429 {
		t.Fatalf("after 8 failures, 61 s later: %d (want the 2-minute lock)", code)
	}
	e.clock.Add(60 * time.Second)
	if code, _ := try(f.email, f.pw); code != 200 {
		t.Fatalf("after the lock: %d", code)
	}
	// The sign-in clears the failures and the lock.
	if fails, _ := e.main.Store.GetLoginFailures(context.Background(), "email:"+hashEmail(f.email)); fails.Failures != 0 || !fails.LockedUntil.IsZero() {
		t.Fatalf("failures after a sign-in: %+v", fails)
	}
	// The lock never exceeds 10 minutes.
	for i := 1; i <= 60; i++ {
		try("mallory@acme.example", "x")
		if i%4 == 0 {
			e.clock.Add(10*time.Minute + time.Second)
		}
	}
	fails, _ := e.main.Store.GetLoginFailures(context.Background(), "email:"+hashEmail("mallory@acme.example"))
	if d := fails.LockedUntil.Sub(e.clock.Now().Add(-10*time.Minute - time.Second)); d > 10*time.Minute {
		t.Fatalf("lock of %s", d)
	}

	// Per IP: a 429 with Retry-After past the hourly budget.
	e2 := newOrgEnv(t, "SESAME_ACCOUNTS_SIGNIN_PER_IP=3")
	b2 := e2.browser()
	_, body = b2.get(e2.issuer + "/login")
	for i := 1; i <= 4; i++ {
		resp, _ := b2.post(e2.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {"a@b.example"}, "password": {"x"}})
		if i == 4 && (resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "") {
			t.Fatalf("per-IP limit: %d", resp.StatusCode)
		}
	}
}

func TestForgotAndResetPassword(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	// The reset budget counts in fixed hourly windows and the clock starts at
	// the real time: start at a window's beginning so that every request
	// below falls in one window whatever the hour the test runs.
	now := e.clock.Now()
	e.clock.Add(now.Truncate(time.Hour).Add(time.Hour).Sub(now))
	f := e.member("alice@acme.example", "correct-horse-battery")
	other := e.browser()
	other.signInPlain(f) // a session the reset must end
	br := e.browser()
	_, body := br.get(e.issuer + "/forgot")
	csrf := field(csrfRe, body)
	pages := map[string]string{}
	for _, email := range []string{f.email, "nobody@acme.example"} {
		resp, body := br.post(e.issuer+"/forgot", url.Values{"csrf_token": {csrf}, "email": {email}})
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", email, resp.StatusCode)
		}
		pages[email] = strings.ReplaceAll(body, email, "EMAIL")
	}
	if pages[f.email] != pages["nobody@acme.example"] {
		t.Fatal("known and unknown addresses get different answers")
	}
	link := resetLink(e, f.email, 1)
	if len(e.smtp.To("nobody@acme.example")) != 0 {
		t.Fatal("mail sent to an unknown address")
	}
	// 5 minutes + 1 second: expired.
	e.clock.Add(5*time.Minute + time.Second)
	if resp, body := br.get(link); resp.StatusCode != 410 || !strings.Contains(body, "expiré") {
		t.Fatalf("expired reset link: %d", resp.StatusCode)
	}
	br.post(e.issuer+"/forgot", url.Values{"csrf_token": {csrf}, "email": {f.email}})
	link = resetLink(e, f.email, 2)
	// A reset link is not a set-password link: there it would set the
	// password without ending the sessions or notifying. Refused, and
	// left unused.
	u0, _ := url.Parse(link)
	if resp, _ := br.get(e.issuer + "/set-password?token=" + url.QueryEscape(u0.Query().Get("token"))); resp.StatusCode != 410 {
		t.Fatalf("reset link at /set-password: %d", resp.StatusCode)
	}
	if resp, _ := br.post(e.issuer+"/set-password", url.Values{"csrf_token": {csrf}, "token": {u0.Query().Get("token")},
		"password": {"an-attacker-passphrase"}, "password_confirm": {"an-attacker-passphrase"}}); resp.StatusCode != 410 {
		t.Fatalf("reset link posted to /set-password: %d", resp.StatusCode)
	}
	resp, body := br.get(link)
	if resp.StatusCode != 200 {
		t.Fatalf("reset link: %d", resp.StatusCode)
	}
	u, _ := url.Parse(link)
	resp, body = br.post(e.issuer+"/reset-password", url.Values{"csrf_token": {field(csrfRe, body)}, "token": {u.Query().Get("token")},
		"password": {"a-brand-new-passphrase"}, "password_confirm": {"a-brand-new-passphrase"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "toutes vos sessions sont fermées") {
		t.Fatalf("reset: %d %.300s", resp.StatusCode, body)
	}
	// Used: refused. Every session ended. A notification mailed. The new password works.
	if resp, body := br.get(link); resp.StatusCode != 410 || !strings.Contains(body, "déjà servi") {
		t.Fatalf("reused reset link: %d", resp.StatusCode)
	}
	if resp, _ := other.get(e.issuer + "/"); resp.Request.URL.Path != "/login" {
		t.Fatal("the other session survived the reset")
	}
	e.waitSubject(t, f.email, "a changé")
	f.pw = "a-brand-new-passphrase"
	e.browser().signInPlain(f)
	// Throttled per address: past the hourly budget nothing more is mailed, the answer is the same.
	before := resetMails(e, f.email)
	for range 6 {
		resp, _ := br.post(e.issuer+"/forgot", url.Values{"csrf_token": {csrf}, "email": {f.email}})
		if resp.StatusCode != 200 {
			t.Fatalf("forgot: %d", resp.StatusCode)
		}
	}
	// Generous: under the whole suite's load, with the race detector, on
	// PostgreSQL, a delivery once took longer than 5 s (1 run in 8).
	deadline := time.Now().Add(15 * time.Second)
	for resetMails(e, f.email) < before+3 && time.Now().Before(deadline) {
		select {
		case <-e.smtp.Arrived():
		case <-time.After(time.Until(deadline)):
		}
	}
	if got := resetMails(e, f.email) - before; got != 3 {
		outbox, _, _ := e.cli("", "mail", "list")
		t.Fatalf("%d reset mails within the hour after 2, want 3 more (5 per hour); the outbox:\n%s", got, outbox)
	}
}

// resetMails counts the distinct reset mails addr received: other mails (the
// password-changed notice) and a redelivery of one message (same Message-ID,
// at-least-once delivery) are not new reset mails.
func resetMails(e *orgEnv, addr string) int {
	seen := map[string]bool{}
	for _, m := range e.smtp.To(addr) {
		if resetRe.MatchString(m.Text) {
			seen[m.MessageID] = true
		}
	}
	return len(seen)
}

func resetLink(e *orgEnv, addr string, n int) string {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var links []string
		for _, m := range e.smtp.To(addr) {
			if l := resetRe.FindString(m.Text); l != "" {
				links = append(links, l)
			}
		}
		if len(links) >= n {
			return links[n-1]
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no reset mail %d for %s", n, addr)
		}
		e.smtp.WaitFor(e.t, len(e.smtp.Messages())+1, time.Until(deadline))
	}
}

func TestChangePasswordAndSessions(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery")
	br, other := e.browser(), e.browser()
	br.signInPlain(f)
	other.signInPlain(f)
	_, body := br.get(e.issuer + "/account/security")
	if strings.Contains(body, `id="current_password"`) {
		t.Fatal("a fresh sign-in is asked for the current password")
	}
	if strings.Count(body, "/end\"") != 2 || !strings.Contains(body, "cette session") {
		t.Fatalf("sessions list: %.1000s", body)
	}
	// Past 5 minutes, the current password is needed.
	e.clock.Add(5*time.Minute + time.Second)
	_, body = br.get(e.issuer + "/account/security")
	if !strings.Contains(body, `id="current_password"`) {
		t.Fatal("an old sign-in is not asked for the current password")
	}
	change := func(current, pw, confirm string) (*http.Response, string) {
		return br.post(e.issuer+"/account/security/password", url.Values{"csrf_token": {field(csrfRe, body)},
			"current_password": {current}, "password": {pw}, "password_confirm": {confirm}})
	}
	if resp, b := change("wrong", "new-passphrase-2026", "new-passphrase-2026"); resp.StatusCode != 401 || !strings.Contains(b, "incorrect") {
		t.Fatalf("wrong current password: %d", resp.StatusCode)
	}
	if resp, _ := change(f.pw, "new-passphrase-2026", "other-passphrase-2026"); resp.StatusCode != 400 {
		t.Fatalf("mismatch: %d", resp.StatusCode)
	}
	if resp, _ := change(f.pw, "short", "short"); resp.StatusCode != 400 {
		t.Fatalf("policy: %d", resp.StatusCode)
	}
	resp, _ := change(f.pw, "new-passphrase-2026", "new-passphrase-2026")
	if !landed(resp, "/account/security", "password") {
		t.Fatalf("change: %d %s", resp.StatusCode, resp.Request.URL)
	}
	if resp, _ := other.get(e.issuer + "/"); resp.Request.URL.Path != "/login" {
		t.Fatal("the other session survived the change")
	}
	e.waitSubject(t, f.email, "a changé")
	// Sessions: sign out another one, then all others.
	third := e.browser()
	f.pw = "new-passphrase-2026"
	third.signInPlain(f)
	_, body = br.get(e.issuer + "/account/security")
	sessions, _ := e.main.Store.ListUserSessions(context.Background(), f.userID, e.clock.Now())
	var thirdID string
	for _, s := range sessions {
		if !strings.Contains(body, s.ID+"/end") {
			t.Fatalf("session %s not listed", s.ID)
		}
		if s.LastSeen.Equal(e.clock.Now()) {
			thirdID = s.ID
		}
	}
	resp, _ = br.post(e.issuer+"/account/security/sessions/"+thirdID+"/end", url.Values{"csrf_token": {field(csrfRe, body)}})
	if !landed(resp, "/account/security", "session") {
		t.Fatalf("end session: %d", resp.StatusCode)
	}
	if resp, _ := third.get(e.issuer + "/"); resp.Request.URL.Path != "/login" {
		t.Fatal("the ended session still works")
	}
	// Another person's session cannot be ended from here.
	mallory := e.member("mallory@evil.example", "wolf-in-sheeps-clothing")
	mb := e.browser()
	mb.signInPlain(mallory)
	_, mbody := mb.get(e.issuer + "/account/security")
	mine, _ := e.main.Store.ListUserSessions(context.Background(), f.userID, e.clock.Now())
	if resp, _ := mb.post(e.issuer+"/account/security/sessions/"+mine[0].ID+"/end", url.Values{"csrf_token": {field(csrfRe, mbody)}}); resp.StatusCode != 404 {
		t.Fatalf("ending another person's session: %d", resp.StatusCode)
	}
}

// bclReceiver is a relying party's back-channel logout endpoint.
type bclReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	tokens []string
	got    chan struct{}
}

func newBCLReceiver(t *testing.T) *bclReceiver {
	b := &bclReceiver{got: make(chan struct{}, 100)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		b.mu.Lock()
		b.tokens = append(b.tokens, r.PostForm.Get("logout_token"))
		b.mu.Unlock()
		b.got <- struct{}{}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bclReceiver) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		got := append([]string(nil), b.tokens...)
		b.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-b.got:
		case <-deadline:
			t.Fatalf("waited for %d logout tokens, got %d", n, len(got))
		}
	}
}

type logoutTokenClaims struct {
	Issuer   string                    `json:"iss"`
	Subject  string                    `json:"sub"`
	Audience jwt.Audience              `json:"aud"`
	SID      string                    `json:"sid"`
	JTI      string                    `json:"jti"`
	IssuedAt int64                     `json:"iat"`
	Nonce    *string                   `json:"nonce"`
	Events   map[string]map[string]any `json:"events"`
}

// verifyLogoutToken checks a logout token with go-jose against the JWKS, as
// OpenID Connect Back-Channel Logout 1.0 §2.6 says.
func verifyLogoutToken(t *testing.T, e *testEnv, raw, clientID string) logoutTokenClaims {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := tok.Headers[0].ExtraHeaders["typ"].(string); typ != "logout+jwt" {
		t.Fatalf("typ %q", typ)
	}
	resp, err := testClient.Get(e.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %s not in the JWKS", tok.Headers[0].KeyID)
	}
	var c logoutTokenClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if c.Issuer != e.issuer || !c.Audience.Contains(clientID) || c.SID == "" || c.JTI == "" || c.Nonce != nil ||
		c.Events["http://schemas.openid.net/event/backchannel-logout"] == nil {
		t.Fatalf("logout token claims: %+v", c)
	}
	return c
}

func TestBackchannelLogout(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	rcv := newBCLReceiver(t)
	app := e.fixture("crm", "--backchannel-logout-uri", rcv.srv.URL+"/bcl")
	f := e.member("alice@acme.example", "correct-horse-battery")
	app.email, app.pw = f.email, f.pw
	signIn := func() (*browser, *oidc.Tokens[*oidc.IDTokenClaims]) {
		br := e.browser()
		v, c := pkce()
		code := br.signIn(app, c, nil)
		return br, exchange(t, e.relyingParty(app, "n-crm"), code, v)
	}
	// Discovery advertises it.
	resp, _ := testClient.Get(e.issuer + "/.well-known/openid-configuration")
	var disc map[string]any
	json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["backchannel_logout_supported"] != true || disc["backchannel_logout_session_supported"] != true {
		t.Fatalf("discovery: %v %v", disc["backchannel_logout_supported"], disc["backchannel_logout_session_supported"])
	}

	// 1. RP-initiated logout at another application ends the session: the CRM is told.
	br, tok := signIn()
	br.get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {tok.IDToken}}.Encode())
	c := verifyLogoutToken(t, e.testEnv, rcv.wait(t, 1)[0], "crm")
	if c.Subject != f.userID || c.SID != tok.IDTokenClaims.Claims["sid"] {
		t.Fatalf("logout token for %s/%s, want %s/%v", c.Subject, c.SID, f.userID, tok.IDTokenClaims.Claims["sid"])
	}
	// 2. A password reset ends every session.
	signIn()
	signIn()
	rb := e.browser()
	_, body := rb.get(e.issuer + "/forgot")
	rb.post(e.issuer+"/forgot", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}})
	link := resetLink(e, f.email, 1)
	_, body = rb.get(link)
	u, _ := url.Parse(link)
	rb.post(e.issuer+"/reset-password", url.Values{"csrf_token": {field(csrfRe, body)}, "token": {u.Query().Get("token")},
		"password": {"a-brand-new-passphrase"}, "password_confirm": {"a-brand-new-passphrase"}})
	tokens := rcv.wait(t, 3)
	sids := map[string]bool{}
	for _, raw := range tokens[1:] {
		sids[verifyLogoutToken(t, e.testEnv, raw, "crm").SID] = true
	}
	if len(sids) != 2 {
		t.Fatalf("reset notified %d sessions, want 2", len(sids))
	}
	app.pw = "a-brand-new-passphrase"
	// 3. An admin disables the person (CLI).
	signIn()
	e.mustCLI("", "user", "disable", f.userID)
	verifyLogoutToken(t, e.testEnv, rcv.wait(t, 4)[3], "crm")
	// 4. Expiry: the session times out, the collector ends it and tells the CRM.
	e.mustCLI("", "user", "list") // (the person is disabled; create another)
	g := e.member("gina@acme.example", "gardens-of-stone-26")
	app.email, app.pw = g.email, g.pw
	signIn()
	e.clock.Add(25 * time.Hour)
	e.main.endExpiredSessions(context.Background())
	c = verifyLogoutToken(t, e.testEnv, rcv.wait(t, 5)[4], "crm")
	if c.Subject != g.userID {
		t.Fatalf("expiry notified %s", c.Subject)
	}
}

func hashEmail(email string) string { return storageHash(strings.ToLower(email)) }
