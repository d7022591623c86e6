package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/testclock"
	"github.com/sesame-idp/sesame/login/mail"
	"github.com/sesame-idp/sesame/login/mail/mailtest"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
)

// TestWithoutSMTPMailStaysQueued: without an SMTP server a mail is logged
// once, with its links, and stays queued — never "sent" — until a server
// is configured, which then delivers it. (Failed before: the log
// transport's "send" marked it sent and erased it.)
func TestWithoutSMTPMailStaysQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqlitetest.Open(t)
	clk := testclock.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	w := mail.NewWorker(db, mail.Log{Logger: logger}, clk.Now, logger)
	link := "https://id.example.com/set-password?token=" + strings.Repeat("k", 43)
	if err := db.EnqueueMail(ctx, storage.Mail{ID: storage.NewID("mail"), Kind: "set_password", To: "a@acme.example",
		Subject: "Choisissez", Text: "Bonjour,\n" + link + "\n", HTML: "<p>x</p>", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	queued := func(attempts int) {
		t.Helper()
		list, err := db.ListMails(ctx, 10)
		if err != nil || len(list) != 1 || !list[0].SentAt.IsZero() || list[0].LastError != "" || list[0].Attempts != attempts ||
			!strings.Contains(list[0].Text, link) {
			t.Fatalf("the mail is not queued as it was: %+v %v", list, err)
		}
	}
	for range 3 {
		if n, err := w.Deliver(ctx); err != nil || n != 0 {
			t.Fatalf("deliver without SMTP: %d %v", n, err)
		}
	}
	queued(1)
	if c := strings.Count(logs.String(), "mail queued"); c != 1 || !strings.Contains(logs.String(), link) || strings.Contains(logs.String(), "sent") {
		t.Fatalf("logged %d times, want once with its link:\n%s", c, logs.String())
	}
	clk.Add(61 * time.Minute)
	if n, err := w.Deliver(ctx); err != nil || n != 0 {
		t.Fatalf("deliver an hour later: %d %v", n, err)
	}
	queued(2)
	if c := strings.Count(logs.String(), "mail queued"); c != 1 {
		t.Fatalf("logged again an hour later (%d)", c)
	}
	// An SMTP server configured: the held mail goes out, once.
	srv := mailtest.Start(t)
	smtp := mail.NewWorker(db, &mail.SMTP{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "s@example.test", Timeout: 2 * time.Second},
		clk.Now, logger)
	clk.Add(61 * time.Minute)
	if n, err := smtp.Deliver(ctx); err != nil || n != 1 {
		t.Fatalf("deliver once SMTP is configured: %d %v", n, err)
	}
	if got := srv.WaitFor(t, 1, 5*time.Second); !strings.Contains(got[0].Text, link) {
		t.Fatalf("delivered %+v", got[0])
	}
}
