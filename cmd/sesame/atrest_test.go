package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// outboxRows reads the mail_outbox table as its backend stores it, each
// row's columns joined into one string: what a backup holds.
func outboxRows(t *testing.T, e *testEnv) []string {
	t.Helper()
	driver, dsn := "sqlite", "file:"+e.main.Config.SQLitePath()+"?mode=ro"
	if postgresBase(t) != "" {
		driver = "pgx"
		for _, kv := range e.env {
			if d, ok := strings.CutPrefix(kv, "SESAME_STORAGE_POSTGRES_DSN="); ok {
				dsn = d
			}
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT * FROM mail_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if raw, ok := v.([]byte); ok {
				v = string(raw)
			}
			fmt.Fprintf(&b, "%s=%v\n", cols[i], v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var tokenLinkRe = regexp.MustCompile(`(set|reset)-password\?token=[A-Za-z0-9_-]{16,}`)

// TestOutboxHoldsNoLiveTokenAtRest: the set-password and reset links of
// queued mail are not readable in the outbox table, and once the SMTP
// server accepted a mail its row holds no link at all; `sesame mail list`
// shows none either.
func TestOutboxHoldsNoLiveTokenAtRest(t *testing.T) {
	t.Parallel() // the SMTP recorder keeps its port while down
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery")
	e.smtp.Stop()
	org := e.mustCLI("", "org", "create", "--name", "ACME", "--country", "BE", "--validated")
	e.mustCLI("", "user", "add", "--email", "newcomer@acme.example", "--org", org)
	br := e.browser()
	_, body := br.get(e.issuer + "/forgot")
	if resp, _ := br.post(e.issuer+"/forgot", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}}); resp.StatusCode != 200 {
		t.Fatalf("forgot: %d", resp.StatusCode)
	}
	// Queued (the SMTP server is down): no link in clear.
	rows := outboxRows(t, e.testEnv)
	if len(rows) != 2 {
		t.Fatalf("%d mails queued", len(rows))
	}
	for _, r := range rows {
		if l := tokenLinkRe.FindString(r); l != "" {
			t.Errorf("a live link in clear in the outbox before delivery: %s", l)
		}
	}
	if out := e.mustCLI("", "mail", "list"); tokenLinkRe.MatchString(out) {
		t.Errorf("mail list shows a live link:\n%s", out)
	}

	// Delivered through the real SMTP path.
	e.smtp.Restart(t)
	e.clock.Add(time.Minute) // past any first backoff
	e.main.Mail.Wake()
	// A delivery that failed while the server came back is retried after
	// its backoff, on the test's clock: move it on while waiting.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := e.main.Store.CountUnsentMails(context.Background())
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails not marked sent: %v", n, err)
		}
		e.clock.Add(10 * time.Minute)
		e.main.Mail.Wake()
		time.Sleep(20 * time.Millisecond) // polling the worker's progress, not waiting for time to pass
	}
	tokens := []string{}
	for _, l := range []string{e.mailLink("newcomer@acme.example", 1), resetLink(e, f.email, 1)} {
		u, _ := url.Parse(l)
		tokens = append(tokens, u.Query().Get("token"))
	}
	rows = outboxRows(t, e.testEnv)
	list := e.mustCLI("", "mail", "list", "--json")
	for _, tok := range tokens {
		for _, r := range rows {
			if strings.Contains(r, tok) {
				t.Errorf("a delivered mail's token is still in the outbox:\n%s", r)
			}
		}
		if strings.Contains(list, tok) {
			t.Errorf("mail list shows a token:\n%s", list)
		}
	}
	for _, r := range rows {
		if l := tokenLinkRe.FindString(r); l != "" {
			t.Errorf("a link in the outbox after delivery: %s", l)
		}
	}
	// The links work: they were built for the mail, not broken by sealing.
	if resp, body := br.get(e.mailLink("newcomer@acme.example", 1)); resp.StatusCode != 200 || !strings.Contains(body, "newcomer@acme.example") {
		t.Fatalf("set-password link: %d", resp.StatusCode)
	}
}
