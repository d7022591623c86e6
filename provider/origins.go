package provider

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Per-client allowed origins (CORS). A browser application registered
// with --allowed-origin may read the answers of the token, userinfo and
// revocation endpoints from those origins only; discovery and the keys
// stay open to every origin (anyOrigin), and introspection, which is for
// servers, to none. CORS only decides which pages may read an answer: a
// request from any page is handled as before (a form may post to the
// token endpoint without asking), so the check is on the answer: the
// Access-Control-Allow-Origin the library's CORS layer would add for any
// origin is kept only for an origin of the request's client (the one that
// authenticated, or that the access token was issued to). A preflight
// has no client yet: it is answered for an origin some client registered.

// originsRefresh is how long the union of registered origins is kept for
// preflights (a client added on another replica is seen after it).
const originsRefresh = 30 * time.Second

type originSet struct {
	mu      sync.Mutex
	at      time.Time
	origins map[string]bool
}

// registered reports whether some client registered origin.
func (s *server) originRegistered(ctx context.Context, origin string) bool {
	o := &s.origins
	o.mu.Lock()
	defer o.mu.Unlock()
	now := s.opts.Now()
	if o.origins == nil || now.Sub(o.at) >= originsRefresh || now.Before(o.at) {
		list, err := s.opts.Store.ListClients(ctx)
		if err != nil {
			return false
		}
		o.origins, o.at = map[string]bool{}, now
		for _, c := range list {
			for _, origin := range c.Protocol.AllowedOrigins {
				o.origins[origin] = true
			}
		}
	}
	return o.origins[origin]
}

// NormalizeOrigin is an origin as a browser sends it (scheme://host[:port],
// lower case, no path), for `sesame client add --allowed-origin`; ok is
// false for anything that is not one.
func NormalizeOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" ||
		strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return "", false
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// corsPreflight answers a preflight of the token, userinfo, revocation or
// introspection endpoint, and reports whether the request was one.
func (s *server) corsPreflight(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if r.Method != http.MethodOptions || origin == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if r.URL.Path != PathIntrospect && s.originRegistered(r.Context(), origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		methods := "POST"
		if r.URL.Path == PathUserinfo {
			methods = "GET, POST"
		}
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Accept, Accept-Language, Authorization, Content-Type, DPoP")
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// originGate keeps the CORS headers of an answer only for an origin of the
// request's client, which allowed tells once the answer is written.
type originGate struct {
	http.ResponseWriter
	origin  string
	allowed func() bool
	written bool
}

func (g *originGate) WriteHeader(status int) {
	if !g.written {
		g.written = true
		h := g.Header()
		for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
			h.Del(name)
		}
		if !slices.Contains(h.Values("Vary"), "Origin") {
			h.Add("Vary", "Origin")
		}
		if g.allowed() {
			h.Set("Access-Control-Allow-Origin", g.origin)
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, DPoP-Nonce, Retry-After")
		}
	}
	g.ResponseWriter.WriteHeader(status)
}

func (g *originGate) Write(b []byte) (int, error) {
	if !g.written {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

// gateOrigin wraps w for a request that names an Origin: the answer is
// readable from it only if the request's client registered it.
func (s *server) gateOrigin(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return w
	}
	return &originGate{ResponseWriter: w, origin: origin, allowed: func() bool {
		if r.URL.Path == PathIntrospect {
			return false
		}
		ctx := r.Context()
		m := memoFrom(ctx)
		id := ""
		switch {
		case m == nil:
			return false
		case r.URL.Path == PathUserinfo:
			id = m.tokenClient
		case m.assertedClient != "":
			id = m.assertedClient
		default:
			if user, _, ok := r.BasicAuth(); ok {
				id, _ = url.QueryUnescape(user)
			} else {
				id = r.PostForm.Get("client_id")
			}
		}
		if id == "" {
			return false
		}
		c, err := getClient(ctx, s.opts.Store, id)
		return err == nil && slices.Contains(c.Protocol.AllowedOrigins, origin)
	}}
}

// corsOnly drops the CORS headers the library's layer adds (it echoes any
// Origin) from an answer no page of another origin should read (the
// authorization endpoint and its callback: navigations, not API calls),
// or, with star, answers "*" (discovery and the keys, public, when the
// library serves them).
type corsOnly struct {
	http.ResponseWriter
	star    bool
	written bool
}

func (c *corsOnly) WriteHeader(status int) {
	if !c.written {
		c.written = true
		h := c.Header()
		for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
			"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
			h.Del(name)
		}
		if c.star {
			h.Set("Access-Control-Allow-Origin", "*")
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *corsOnly) Write(b []byte) (int, error) {
	if !c.written {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (c *corsOnly) Unwrap() http.ResponseWriter { return c.ResponseWriter }
