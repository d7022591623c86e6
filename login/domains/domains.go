package domains

import (
	"bufio"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base32"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"

	"github.com/sesame-idp/sesame/internal/fail"
)

// Refusals, each with its sentence.
var (
	ErrInvalid    = fail.E(fail.Invalid, "Errors.Domains.Invalid")
	ErrPublic     = fail.E(fail.Invalid, "Errors.Domains.Public")
	ErrTimeout    = fail.E(fail.Conflict, "Errors.Domains.Timeout")
	ErrServFail   = fail.E(fail.Conflict, "Errors.Domains.ServFail")
	ErrNoSuchName = fail.E(fail.Conflict, "Errors.Domains.NXDomain")
	ErrNoRecord   = fail.E(fail.Conflict, "Errors.Domains.NoRecord")
	ErrResolver   = fail.E(fail.Conflict, "Errors.Domains.Resolver")
)

// RecordPrefix is the label the challenge record is published under.
const RecordPrefix = "_sesame-challenge."

// RecordName is where the challenge of domain is published.
func RecordName(domain string) string { return RecordPrefix + domain }

// Record is the record to publish, as one zone-file line.
func Record(domain, challenge string) string {
	return RecordName(domain) + ` TXT "` + challenge + `"`
}

// Normalize returns the domain's normal form, or ErrInvalid: lower case,
// in ASCII (IDNA), without a final dot, at least two labels, no IP address.
func Normalize(s string) (string, error) {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if s == "" || len(s) > 253 {
		return "", ErrInvalid
	}
	a, err := idna.Lookup.ToASCII(s)
	if err != nil || a == "" || len(a) > 253 || net.ParseIP(a) != nil {
		return "", ErrInvalid
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 {
		return "", ErrInvalid
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", ErrInvalid
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", ErrInvalid
			}
		}
	}
	if labels[len(labels)-1][0] >= '0' && labels[len(labels)-1][0] <= '9' {
		return "", ErrInvalid // a numeric top-level label is no domain
	}
	return a, nil
}

//go:embed public_mail.txt
var publicList string

var public = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(publicList))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// Public reports whether domain (normalized) is a public mail domain.
func Public(domain string) bool { return public[domain] }

// Of returns the normalized domain of an email address, or "".
func Of(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return ""
	}
	d, err := Normalize(email[at+1:])
	if err != nil {
		return ""
	}
	return d
}

// NewChallenge returns a random value to publish: 160 bits, base32.
func NewChallenge() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return "sesame-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Resolver looks TXT records up at one DNS server.
type Resolver struct {
	// Addr is the server, host:port; "" reads the first nameserver of
	// /etc/resolv.conf.
	Addr string
	// Timeout bounds one look-up (5 s when zero).
	Timeout time.Duration
}

// server returns the address to ask.
func (r *Resolver) server() (string, error) {
	if r.Addr != "" {
		return r.Addr, nil
	}
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(cfg.Servers) == 0 {
		if err == nil {
			err = errors.New("no nameserver")
		}
		return "", fail.Wrap(ErrResolver.Code, ErrResolver.Key, err)
	}
	return net.JoinHostPort(cfg.Servers[0], cfg.Port), nil
}

// TXT returns the TXT values at name, each one's strings joined.
func (r *Resolver) TXT(ctx context.Context, name string) ([]string, error) {
	addr, err := r.server()
	if err != nil {
		return nil, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	q.RecursionDesired = true
	q.SetEdns0(4096, false)
	c := &dns.Client{Net: "udp", Timeout: timeout}
	in, _, err := c.ExchangeContext(ctx, q, addr)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, q, addr)
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return nil, fail.Wrap(ErrTimeout.Code, ErrTimeout.Key, err)
		}
		return nil, fail.Wrap(ErrResolver.Code, ErrResolver.Key, err)
	}
	switch in.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, ErrNoSuchName
	case dns.RcodeServerFailure:
		return nil, ErrServFail
	default:
		return nil, fail.Wrap(ErrResolver.Code, ErrResolver.Key, errors.New(dns.RcodeToString[in.Rcode]))
	}
	var out []string
	for _, rr := range in.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out, nil
}

// Check looks the challenge record of domain up: nil when one of its TXT
// values is challenge; ErrNoRecord when none is (or the name has no TXT),
// ErrNoSuchName, ErrTimeout, ErrServFail or ErrResolver otherwise.
func (r *Resolver) Check(ctx context.Context, domain, challenge string) error {
	values, err := r.TXT(ctx, RecordName(domain))
	if err != nil {
		return err
	}
	for _, v := range values {
		if v == challenge {
			return nil
		}
	}
	return ErrNoRecord
}

// Checker is what verifies a domain (a Resolver; tests may fake it).
type Checker interface {
	Check(ctx context.Context, domain, challenge string) error
}

var _ Checker = (*Resolver)(nil)
