package mail_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/testclock"
	"github.com/sesame-idp/sesame/login/mail"
	"github.com/sesame-idp/sesame/login/mail/mailtest"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/storage/sqlite/sqlitetest"
)

// outbox is a backend under test and a raw connection to its tables.
type outbox interface {
	storage.Outbox
	Close() error
}

// rawOutbox returns every column of every outbox row, as a backup holds it.
func rawOutbox(t *testing.T, raw *sql.DB) string {
	t.Helper()
	rows, err := raw.Query(`SELECT * FROM mail_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if s, ok := v.([]byte); ok {
				v = string(s)
			}
			fmt.Fprintf(&b, "%s=%v\n", cols[i], v)
		}
	}
	return b.String()
}

// TestSealedMailLeavesNoTokenAtRest: a mail sealed before it is queued is
// not readable in the table, reaches the SMTP server in clear, and leaves
// its row without a body once sent; on SQLite, and on PostgreSQL when
// SESAME_TEST_POSTGRES_DSN is set.
func TestSealedMailLeavesNoTokenAtRest(t *testing.T) {
	backends := map[string]func(t *testing.T) (outbox, *sql.DB){
		"sqlite": func(t *testing.T) (outbox, *sql.DB) {
			db := sqlitetest.Open(t)
			raw, err := sql.Open("sqlite", "file:"+db.Path()+"?mode=ro")
			if err != nil {
				t.Fatal(err)
			}
			return db, raw
		},
		"postgres": func(t *testing.T) (outbox, *sql.DB) {
			dsn := pgtest.Schema(t, pgtest.BaseDSN(t))
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			return db, raw
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, raw := open(t)
			defer db.Close()
			defer raw.Close()
			sealer, err := mail.NewSealer(bytes.Repeat([]byte{7}, secretbox.KeySize))
			if err != nil {
				t.Fatal(err)
			}
			srv := mailtest.Start(t)
			clk := testclock.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
			w := mail.NewWorker(db, &mail.SMTP{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "no-reply@sesame.example", Timeout: 2 * time.Second},
				clk.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
			w.Sealer = sealer

			token := strings.Repeat("Tok3n_", 8)
			link := "https://id.example.com/reset-password?token=" + token
			m, err := sealer.Seal(storage.Mail{ID: storage.NewID("mail"), Kind: "reset_password", To: "alice@acme.example",
				Subject: "Réinitialisez votre mot de passe", Text: "Bonjour,\n\n" + link + "\n", HTML: `<a href="` + link + `">lien</a>`, CreatedAt: clk.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.EnqueueMail(ctx, m); err != nil {
				t.Fatal(err)
			}
			if before := rawOutbox(t, raw); strings.Contains(before, token) || strings.Contains(before, "reset-password") || !strings.Contains(before, "alice@acme.example") {
				t.Fatalf("queued row:\n%s", before)
			}
			if list, _ := db.ListMails(ctx, 10); len(list) != 1 || !opensWith(list[0], sealer, link) {
				t.Fatalf("the queued mail does not open: %+v", list)
			}
			if n, err := w.Deliver(ctx); err != nil || n != 1 {
				t.Fatalf("deliver: %d %v", n, err)
			}
			got := srv.WaitFor(t, 1, 5*time.Second)[0]
			if !strings.Contains(got.Text, link) || !strings.Contains(got.HTML, `href="`+link+`"`) {
				t.Fatalf("received: %+v", got)
			}
			after := rawOutbox(t, raw)
			if strings.Contains(after, token) || strings.Contains(after, "sealed:") || !strings.Contains(after, "alice@acme.example") {
				t.Fatalf("sent row:\n%s", after)
			}
		})
	}
}

func opensWith(m storage.Mail, s *mail.Sealer, link string) bool {
	if !mail.Sealed(m) {
		return false
	}
	open, err := s.Open(m)
	return err == nil && strings.Contains(open.Text, link) && strings.Contains(open.HTML, link)
}

// TestSealedMailUnderAnotherKeyIsRetried: a body the worker cannot open
// (the secret-encryption key changed) is not sent, and is kept for a retry
// with the reason, never marked sent.
func TestSealedMailUnderAnotherKeyIsRetried(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	old, _ := mail.NewSealer(bytes.Repeat([]byte{7}, secretbox.KeySize))
	current, _ := mail.NewSealer(bytes.Repeat([]byte{8}, secretbox.KeySize))
	clk := testclock.New(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	rec := &recorder{}
	w := mail.NewWorker(db, rec, clk.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.Sealer = current
	m, _ := old.Seal(storage.Mail{ID: storage.NewID("mail"), Kind: "set_password", To: "a@acme.example", Text: "x", CreatedAt: clk.Now()})
	if err := db.EnqueueMail(ctx, m); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Deliver(ctx); err != nil || n != 0 || rec.n != 0 {
		t.Fatalf("deliver: %d %v, %d sent", n, err, rec.n)
	}
	list, _ := db.ListMails(ctx, 1)
	if len(list) != 1 || !list[0].SentAt.IsZero() || !strings.Contains(list[0].LastError, "secret-encryption key") {
		t.Fatalf("mail: %+v", list)
	}
	if _, err := current.Open(list[0]); !errors.Is(err, mail.ErrSealed) {
		t.Fatalf("open: %v", err)
	}
}

type recorder struct{ n int }

func (r *recorder) Send(context.Context, storage.Mail) error { r.n++; return nil }

func TestRedactedLinks(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"see https://id.example.com/set-password?token=abc123 now", "https://id.example.com/set-password?token=REDACTED"},
		{"https://id.example.com/reset-password?token=abc&lang=en", "https://id.example.com/reset-password?token=REDACTED&lang=REDACTED"},
		{"https://id.example.com/forgot", "https://id.example.com/forgot"},
		{"https://u:p@id.example.com/x?t=1#frag", "https://id.example.com/x?t=REDACTED"},
		{"no link", ""},
	} {
		got := strings.Join(mail.RedactedLinks(tc.text), " ")
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.text, got, tc.want)
		}
	}
}
