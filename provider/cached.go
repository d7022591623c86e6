package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// cachedDoc is a response served from bytes made once, with an ETag,
// until what it is made of changes: discovery never changes while the
// process runs; the key set changes when the keys do.
type cachedDoc struct {
	mu      sync.RWMutex
	version uint64
	body    []byte
	etag    string
	ok      bool
}

func (c *cachedDoc) get(version uint64) ([]byte, string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.body, c.etag, c.ok && c.version == version
}

func (c *cachedDoc) set(version uint64, body []byte) (string, []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	c.mu.Lock()
	c.version, c.body, c.etag, c.ok = version, body, etag, true
	c.mu.Unlock()
	return etag, body
}

// serveDoc writes a cached JSON document, or 304 to a client that has it.
func serveDoc(w http.ResponseWriter, r *http.Request, body []byte, etag, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body)
}

// serveDiscovery answers /.well-known/openid-configuration from bytes.
func (s *server) serveDiscovery(w http.ResponseWriter, r *http.Request) bool {
	body, etag, ok := s.discovery.get(0)
	if !ok {
		ctx := op.ContextWithIssuer(r.Context(), s.opts.Issuer)
		resp, err := s.Discovery(ctx, &op.Request[struct{}]{Method: r.Method, URL: r.URL, Header: r.Header})
		if err != nil {
			return false // let the library answer
		}
		raw, err := json.Marshal(resp.Data)
		if err != nil {
			return false
		}
		etag, body = s.discovery.set(0, raw)
	}
	serveDoc(w, r, body, etag, "public, max-age=3600")
	return true
}

// serveKeys answers /keys from bytes, made again when the keys change.
func (s *server) serveKeys(w http.ResponseWriter, r *http.Request) bool {
	keys, version, err := s.opts.Keys.keySet(r.Context())
	if err != nil {
		return false // the library answers with the error
	}
	body, etag, ok := s.jwks.get(version)
	if !ok {
		set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(keys))}
		for i, k := range keys {
			set.Keys[i] = jose.JSONWebKey{KeyID: k.ID(), Algorithm: string(k.Algorithm()), Use: k.Use(), Key: k.Key()}
		}
		raw, err := json.Marshal(set)
		if err != nil {
			return false
		}
		etag, body = s.jwks.set(version, raw)
	}
	// Short enough that a rotation reaches relying parties soon, long
	// enough to spare the endpoint.
	serveDoc(w, r, body, etag, "public, max-age=300")
	return true
}
