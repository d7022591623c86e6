// Package reqlog gives every HTTP request an id and, when asked, one log
// line: method, path (its query's secrets redacted), status, duration and
// the id. The id comes from the client's X-Request-Id when it is sane (a
// proxy's, a load balancer's), else it is made here; it is echoed in the
// response and carried in the request's context, where Handler adds it to
// every log line written with that context (slog's *Context methods).
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Header carries the request id, both ways.
const Header = "X-Request-Id"

type ctxKey struct{}

// WithID returns ctx carrying the request id.
func WithID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// ID is the request id ctx carries, "" for none.
func ID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Sane reports whether a client's request id may be kept: 1 to 64
// letters, digits, dashes, underscores, dots or colons (a UUID, a hex or
// base64url token) — nothing that could forge a log line or a header.
func Sane(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// NewID makes a request id: 128 random bits, in hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Options are the middleware's.
type Options struct {
	Logger *slog.Logger
	// Log writes one line per request at INFO (log.requests).
	Log bool
	// Now times the request (time.Now when nil).
	Now func() time.Time
}

// Middleware sets the request id (header and context) and logs the
// request when o.Log. Put it outside the panic recoverer, so that a
// recovered panic is logged with its 500.
func Middleware(o Options) func(http.Handler) http.Handler {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(Header)
			if !Sane(id) {
				id = NewID()
			}
			w.Header().Set(Header, id)
			r = r.WithContext(WithID(r.Context(), id))
			if !o.Log || o.Logger == nil {
				next.ServeHTTP(w, r)
				return
			}
			start := now()
			sw := &StatusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			status := sw.Status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") && status == http.StatusOK {
				level = slog.LevelDebug // probes every few seconds would drown the log
			}
			o.Logger.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method),
				slog.String("path", SafePath(r.URL)), slog.Int("status", status), slog.Duration("duration", now().Sub(start)))
		})
	}
}

// harmless are the query parameters whose values are logged as they are:
// none is a credential, a code, a state, a token or a person's address.
var harmless = map[string]bool{
	"lang": true, "done": true, "client_id": true, "response_type": true, "response_mode": true, "scope": true,
	"prompt": true, "ui_locales": true, "max_age": true, "acr_values": true, "code_challenge_method": true,
	"display": true, "status": true, "limit": true, "since": true, "until": true, "type": true, "page": true,
	"next": true, "error": true, "error_description": true,
}

// SafePath is the request's path with its query, every value but the
// harmless ones replaced by "REDACTED" (code, state, token, nonce,
// id_token_hint, login_hint, authRequestID… and whatever a client adds).
func SafePath(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return p + "?REDACTED"
	}
	for k, vs := range q {
		if !harmless[strings.ToLower(k)] {
			for i := range vs {
				vs[i] = "REDACTED"
			}
		}
	}
	return p + "?" + q.Encode()
}

// StatusWriter passes an answer on and notes its status: 0 until the
// handler writes a header or a body. The request log, the management API's
// audit and its idempotency recorder read it.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

func (s *StatusWriter) WriteHeader(code int) {
	if s.Status == 0 {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusWriter) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flush,
// deadlines).
func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Handler adds the request id of a record's context to the record.
type Handler struct{ slog.Handler }

func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{h.Handler.WithAttrs(attrs)}
}
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }
