package mail

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/sesame-idp/sesame/storage"
)

// Transport delivers one mail; an error means it was not accepted.
type Transport interface {
	Send(ctx context.Context, m storage.Mail) error
}

// TLS modes of the SMTP transport.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// SMTP sends through an SMTP server.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // none, starttls or tls
	Username string
	Password string
	From     string
	Timeout  time.Duration // default 15 s
}

// Send hands the mail to the server: text and html alternatives.
func (s *SMTP) Send(ctx context.Context, m storage.Mail) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("mail.from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(m.Subject)
	// The outbox id as Message-ID: a mail sent again after a crash (between
	// the server's acceptance and its recording) is recognised as the same
	// message by the receiving servers.
	msg.SetMessageIDWithValue(m.ID + "@sesame")
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(timeout)}
	switch s.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSLPort(false), gomail.WithPort(s.Port))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSMandatory), gomail.WithPort(s.Port))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	client, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, msg)
}

// Log is the transport without an SMTP server: the worker keeps the mail
// queued in the outbox (hold.go) and Send writes who is to get what, with
// the links, to the log.
type Log struct{ Logger *slog.Logger }

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Links returns the links of a text body.
func Links(text string) []string { return linkPattern.FindAllString(text, -1) }

// Send logs the mail at INFO; it delivers nothing.
func (l Log) Send(ctx context.Context, m storage.Mail) error {
	l.Logger.InfoContext(ctx, "mail queued: no SMTP server is configured (mail.smtp.host); it stays in the outbox "+
		"until one is (`sesame mail list` shows it)", "to", m.To, "subject", m.Subject, "links", Links(m.Text))
	return nil
}
