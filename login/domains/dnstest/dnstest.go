// Package dnstest is a real DNS server for tests (miekg/dns on
// 127.0.0.1, UDP and TCP, a port of the system's choosing): it serves TXT
// records the test sets, answers SERVFAIL for the names it is told to,
// and never answers for others (a timeout).
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server serves what the test set.
type Server struct {
	Addr string // host:port, UDP and TCP

	mu       sync.Mutex
	txt      map[string][]string
	servfail map[string]bool
	silent   map[string]bool
	queries  int
}

// Start starts a server and stops it at the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{txt: map[string][]string{}, servfail: map[string]bool{}, silent: map[string]bool{}}
	// UDP on a port of the system's choosing, then TCP on the same port
	// (which may be taken: then another port).
	var pc net.PacketConn
	var ln net.Listener
	for i := 0; ; i++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if i == 20 {
			t.Fatal(err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: ln, Handler: s}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return s
}

func key(name string) string { return strings.ToLower(dns.Fqdn(name)) }

// SetTXT sets the TXT values of name (none: the name exists without TXT).
func (s *Server) SetTXT(name string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txt[key(name)] = values
}

// Remove makes name unknown (NXDOMAIN).
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.txt, key(name))
}

// ServFail makes the server answer SERVFAIL for name.
func (s *Server) ServFail(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servfail[key(name)] = true
}

// ServFailOff answers for name again.
func (s *Server) ServFailOff(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.servfail, key(name))
}

// Silent makes the server never answer for name.
func (s *Server) Silent(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent[key(name)] = true
}

// Queries counts the questions received.
func (s *Server) Queries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// ServeDNS answers one question.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	s.queries++
	values, known := s.txt[name]
	servfail, silent := s.servfail[name], s.silent[name]
	s.mu.Unlock()
	if silent {
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	switch {
	case servfail:
		m.Rcode = dns.RcodeServerFailure
	case !known:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeTXT:
		for _, v := range values {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
				Txt: []string{v}})
		}
	}
	_ = w.WriteMsg(m)
}
