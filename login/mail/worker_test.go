package mail_test

import (
	"context"
	"io"
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

type clock = testclock.Clock

func TestDeliveryOverSMTPSurvivesAnOutage(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	srv := mailtest.Start(t)
	clk := testclock.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	smtp := &mail.SMTP{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "Sesame <no-reply@sesame.example>", Timeout: 2 * time.Second}
	w := mail.NewWorker(db, smtp, clk.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))

	link := "https://id.example.com/set-password?token=" + strings.Repeat("abcdefghij", 8)
	enqueue := func(to string) {
		if err := db.EnqueueMail(ctx, storage.Mail{ID: storage.NewID("mail"), Kind: "set_password", To: to,
			Subject: "Choisissez votre mot de passe — Sesame", Text: "Bonjour,\n\n" + link + "\n", HTML: `<p><a href="` + link + `">lien</a></p>`,
			CreatedAt: clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("alice@acme.example")
	if n, err := w.Deliver(ctx); err != nil || n != 1 {
		t.Fatalf("deliver: %d %v", n, err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if got.To != "alice@acme.example" || got.Subject != "Choisissez votre mot de passe — Sesame" || !strings.Contains(got.Text, link) ||
		!strings.Contains(got.HTML, `href="`+link+`"`) || got.From != "no-reply@sesame.example" {
		t.Fatalf("received: %+v", got)
	}
	if links := mail.Links(got.Text); len(links) != 1 || links[0] != link {
		t.Fatalf("links %v", links)
	}

	// The server goes down: the mail stays queued, with backoff.
	srv.Stop()
	enqueue("bob@acme.example")
	if n, err := w.Deliver(ctx); err != nil || n != 0 {
		t.Fatalf("deliver while down: %d %v", n, err)
	}
	list, _ := db.ListMails(ctx, 10)
	for _, m := range list {
		if m.To == "bob@acme.example" && (!m.SentAt.IsZero() || m.LastError == "" || m.Attempts != 1) {
			t.Fatalf("failed mail: %+v", m)
		}
	}
	// Not retried before its backoff…
	srv.Restart(t)
	if n, _ := w.Deliver(ctx); n != 0 {
		t.Fatal("retried before the backoff")
	}
	// …and sent once it passed, exactly once.
	clk.Add(31 * time.Second)
	if n, err := w.Deliver(ctx); err != nil || n != 1 {
		t.Fatalf("deliver after restart: %d %v", n, err)
	}
	srv.WaitFor(t, 2, 5*time.Second)
	if n, _ := w.Deliver(ctx); n != 0 || len(srv.To("bob@acme.example")) != 1 {
		t.Fatal("sent twice")
	}
}

func TestBackoff(t *testing.T) {
	want := map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 30: time.Hour}
	for n, d := range want {
		if got := mail.BackoffForTest(n); got != d {
			t.Errorf("backoff(%d) = %s, want %s", n, got, d)
		}
	}
}
