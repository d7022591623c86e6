// Package mailtest runs an in-process SMTP server (github.com/emersion/go-smtp)
// that records what it receives, for tests that send real mail over SMTP
// and follow its links. It can go down and come back on the same port, to
// test a mail server that goes down: while down it keeps its port and
// answers every connection with 421 (RFC 5321 §3.1, "service not
// available") then closes it, so no other test can take the port in
// between and tests that use it can run in parallel.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one received mail, decoded.
type Message struct {
	From, To, Subject string
	MessageID         string
	Text, HTML        string
	Raw               []byte
}

// Server is the recording SMTP server.
type Server struct {
	Addr string
	Host string
	Port int

	mu       sync.Mutex
	messages []Message
	srv      *smtp.Server
	down     atomic.Bool
	arrived  chan struct{}
}

// downListener hands the SMTP server only the connections that arrive
// while the server is up; the others get 421 and are closed.
type downListener struct {
	net.Listener
	s *Server
}

func (l downListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.s.down.Load() {
			return c, err
		}
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write([]byte("421 localhost Service not available, closing transmission channel\r\n"))
		_ = c.Close()
	}
}

// Start listens on 127.0.0.1 with a free port.
func Start(t *testing.T) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 1000)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.serve(downListener{ln, s})
	t.Cleanup(s.close)
	return s
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(ln)
}

// Stop takes the server down: every connection is answered 421 and
// closed until Restart. The port stays the server's.
func (s *Server) Stop() { s.down.Store(true) }

// Restart brings the server back up on its port.
func (s *Server) Restart(t *testing.T) {
	t.Helper()
	s.down.Store(false)
}

// close ends the server and frees its port, at the test's end.
func (s *Server) close() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Messages returns what arrived so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitFor waits until n messages arrived or the timeout passes, and
// returns them. It waits on arrivals, not on the clock.
func (s *Server) WaitFor(t *testing.T, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("waited for %d mails, got %d", n, len(s.Messages()))
		}
	}
}

// Arrived receives once per message received (a message may already have
// been counted by the time it is read: check Messages or To after it).
func (s *Server) Arrived() <-chan struct{} { return s.arrived }

// To returns the messages received by addr.
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if strings.EqualFold(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s        *Server
	from, to string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = to; return nil }
func (x *session) Reset()                                      {}
func (x *session) Logout() error                               { return nil }

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := Parse(raw)
	if err != nil {
		return err
	}
	m.From, m.To = x.from, x.to
	x.s.mu.Lock()
	x.s.messages = append(x.s.messages, m)
	x.s.mu.Unlock()
	x.s.arrived <- struct{}{}
	return nil
}

// Parse decodes a message: its subject and its text and html parts.
func Parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, err
	}
	out := Message{Subject: subject, Raw: raw, MessageID: msg.Header.Get("Message-Id")}
	err = walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &out)
	return out, err
}

func walk(contentType, encoding string, body io.Reader, out *Message) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, out); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		out.Text = string(b)
	case "text/html":
		out.HTML = string(b)
	}
	return nil
}
