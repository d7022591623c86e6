package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// MaxBodyBytes bounds every request body: forms are small.
const MaxBodyBytes = 64 << 10

// CSP is the pages' Content-Security-Policy: nothing but the stylesheets,
// images and script files of this origin (sesame.js, the Copy buttons;
// passkey.js, which fetches a passkey ceremony's options), no inline script
// or style, no framing. A page that needs an inline script (the form_post
// answer) allows that one script by its nonce as well.
func CSP(scriptNonce string) string {
	script := " script-src 'self';"
	if scriptNonce != "" {
		script = " script-src 'self' 'nonce-" + scriptNonce + "';"
	}
	return "default-src 'none'; style-src 'self'; img-src 'self' data:;" + script + " connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// SecurityHeaders sets the headers every answer carries. The CSP allows no
// inline script or style, no framing, and only this origin's stylesheet and
// images. form-action is left out on purpose: browsers apply it to the
// redirects that follow a form, and a sign-in ends with a redirect to the
// relying party.
func SecurityHeaders(https bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", CSP(""))
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
			if h.Get("Cache-Control") == "" {
				h.Set("Cache-Control", "no-store")
			}
			if https {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ErrorWriter answers a request that failed before its handler ran; err is
// a *fail.Error (TooLarge or Invalid), which the writer answers through its
// door (a page, or an OAuth/JSON error).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Forms bounds the body and parses the form of every request up front, so
// that an oversized body gets 413 and invalid UTF-8 gets 400 before any
// handler, the OpenID library's included, sees it.
func Forms(answer ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					answer(w, r, fail.Wrap(fail.TooLarge, "Errors.Request.TooLarge", err))
					return
				}
				answer(w, r, fail.Wrap(fail.Invalid, "Errors.Request.Invalid", err))
				return
			}
			for k, vs := range r.Form {
				if !utf8.ValidString(k) {
					answer(w, r, errNotUTF8)
					return
				}
				for _, v := range vs {
					if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
						answer(w, r, errNotUTF8)
						return
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

var errNotUTF8 = fail.E(fail.Invalid, "Errors.Request.Invalid")

// Status is the page door of internal/fail: it maps any error to the HTTP
// status of its page and the message key of the sentence people read. It
// is the one place where a failure's code becomes a page's status; the
// cause stays in the log. Storage's sentinel errors are classified here
// too (storage knows nothing of fail).
func Status(err error) (int, string) {
	if err == nil {
		return http.StatusOK, ""
	}
	e := Classify(err)
	m, ok := pageOf[e.Code]
	if !ok || e.Code == fail.Internal || e.Code == fail.Unavailable {
		// The database or another dependency failed: a retryable 503,
		// not a 500, and nothing of the cause in the page.
		m = pageOf[fail.Unavailable]
	}
	if e.Key != "" && e.Code != fail.Internal {
		return m.status, e.Key
	}
	return m.status, m.key
}

// pageOf is each code's status and the sentence shown when the error names
// none.
var pageOf = map[fail.Code]struct {
	status int
	key    string
}{
	fail.Invalid:      {http.StatusBadRequest, "Errors.Request.Invalid"},
	fail.Unauthorized: {http.StatusUnauthorized, "Errors.Request.Forbidden"},
	fail.Forbidden:    {http.StatusForbidden, "Errors.Request.Forbidden"},
	fail.NotFound:     {http.StatusNotFound, "Errors.Request.NotFound"},
	fail.Conflict:     {http.StatusConflict, "Errors.Request.Invalid"},
	fail.Gone:         {http.StatusGone, "Errors.Request.NotFound"},
	fail.Stale:        {http.StatusConflict, "Errors.Request.Invalid"},
	fail.Reused:       {http.StatusConflict, "Errors.Request.Invalid"},
	fail.TooLarge:     {http.StatusRequestEntityTooLarge, "Errors.Request.TooLarge"},
	fail.Method:       {http.StatusMethodNotAllowed, "Errors.Request.Method"},
	fail.TooMany:      {http.StatusTooManyRequests, "Errors.Request.TooMany"},
	fail.Unavailable:  {http.StatusServiceUnavailable, "Errors.Unavailable"},
	fail.Internal:     {http.StatusServiceUnavailable, "Errors.Unavailable"},
}

// Classify returns err as a *fail.Error: itself when it is one, storage's
// not-found as NotFound, its invalid and conflict as Invalid (the request
// did not fit), anything else as Internal with err as the cause.
func Classify(err error) *fail.Error {
	if e, ok := fail.As(err); ok && e.Code != "" {
		return e
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fail.Wrap(fail.NotFound, "Errors.Request.NotFound", err)
	case errors.Is(err, storage.ErrInvalid), errors.Is(err, storage.ErrConflict):
		return fail.Wrap(fail.Invalid, "Errors.Request.Invalid", err)
	}
	return fail.Wrap(fail.Internal, "", err)
}

// ClientIP is the peer address of the request, without its port.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// DefaultIPv6Prefix is how many leading bits of an IPv6 address a per-IP
// budget counts by default: a /64 is what one subscriber gets, and any
// address in it is theirs to use.
const DefaultIPv6Prefix = 64

type ipv6PrefixKey struct{}

// BudgetKeys makes BudgetKey count IPv6 addresses by their first bits
// (32 to 128; the configuration checks).
func BudgetKeys(ipv6Prefix int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ipv6PrefixKey{}, ipv6Prefix)))
		})
	}
}

// BudgetKey is what a per-IP budget counts the request for: the IPv4
// address, or the IPv6 network of the configured prefix (see BudgetKeys;
// /64 without it), since one holder of a /64 has all its addresses and
// counting each apart gave them unlimited budgets. Every per-IP budget uses
// it; audit and log lines keep the full address (ClientIP).
func BudgetKey(r *http.Request) string {
	bits, ok := r.Context().Value(ipv6PrefixKey{}).(int)
	if !ok {
		bits = DefaultIPv6Prefix
	}
	return budgetKey(ClientIP(r), bits)
}

func budgetKey(ip string, ipv6Prefix int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(ipv6Prefix)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// Deadline bounds the time a request may spend, its storage calls
// included: a database that does not answer costs a 503, never a hang.
func Deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// RealIP makes r.RemoteAddr the client's address when the request comes
// through a trusted reverse proxy: the rightmost X-Forwarded-For entry
// that is not itself a trusted proxy. From anyone else the header is
// ignored, so that it cannot be forged to dodge the per-IP limits.
func RealIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			peer, err := netip.ParseAddrPort(r.RemoteAddr)
			if err == nil && len(trusted) > 0 && isTrusted(peer.Addr()) {
				hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
					if err != nil {
						break
					}
					if !isTrusted(a) || i == 0 {
						r.RemoteAddr = netip.AddrPortFrom(a, 0).String()
						break
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ParsePrefixes reads a comma-separated list of addresses and CIDR prefixes.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
