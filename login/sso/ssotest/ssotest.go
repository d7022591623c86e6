// Package ssotest is an upstream OpenID provider for tests of company
// sign-in: discovery, an authorization endpoint that approves at once (or
// answers the error it is told to), a token endpoint that checks the
// client, PKCE and single use of its codes and signs an ID token (RS256)
// with the identity the test sets, and its keys. It can be taken down (503
// everywhere) or made to sign a wrong nonce.
package ssotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Identity is what the next ID tokens say.
type Identity struct {
	Subject       string
	Email         string
	EmailVerified any // true, false, "true", or nil for none
	Name          string
	AMR           []string
	ACR           string
}

// Server is the upstream.
type Server struct {
	URL                    string // the issuer
	ClientID, ClientSecret string

	mu        sync.Mutex
	identity  Identity
	down      bool
	authError string
	nonce     string // when set, signed instead of the request's
	discIss   string // when set, the issuer the discovery document names
	tokenIss  string // when set, the iss of the ID tokens
	audience  string // when set, the aud of the ID tokens
	codes     map[string]*grant
	last      url.Values // the last authorization request
	key       *rsa.PrivateKey
	Now       func() time.Time
}

type grant struct {
	nonce, challenge, redirect string
	identity                   Identity
	used                       bool
}

// Start starts an upstream and stops it at the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ClientID: "sesame", ClientSecret: "upstream secret", codes: map[string]*grant{}, key: key, Now: time.Now,
		identity: Identity{Subject: "up-1", Email: "jeanne@acme.example", EmailVerified: true}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetIdentity sets what the next ID tokens say.
func (s *Server) SetIdentity(id Identity) { s.mu.Lock(); s.identity = id; s.mu.Unlock() }

// SetDown makes every endpoint answer 503 (or serve again).
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetAuthError makes the authorization endpoint answer this error ("" to approve).
func (s *Server) SetAuthError(e string) { s.mu.Lock(); s.authError = e; s.mu.Unlock() }

// SetNonce makes the ID tokens carry this nonce instead of the request's.
func (s *Server) SetNonce(n string) { s.mu.Lock(); s.nonce = n; s.mu.Unlock() }

// SetDiscoveredIssuer makes the discovery document name this issuer
// instead of its own URL ("" for its own).
func (s *Server) SetDiscoveredIssuer(iss string) { s.mu.Lock(); s.discIss = iss; s.mu.Unlock() }

// SetTokenIssuer makes the ID tokens carry this iss ("" for its own URL).
func (s *Server) SetTokenIssuer(iss string) { s.mu.Lock(); s.tokenIss = iss; s.mu.Unlock() }

// SetAudience makes the ID tokens carry this aud ("" for the client's id).
func (s *Server) SetAudience(aud string) { s.mu.Lock(); s.audience = aud; s.mu.Unlock() }

// LastAuthorization is the query of the last authorization request.
func (s *Server) LastAuthorization() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down, discIss := s.down, s.discIss
	s.mu.Unlock()
	if discIss == "" {
		discIss = s.URL
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{"issuer": discIss, "authorization_endpoint": s.URL + "/authorize",
			"token_endpoint": s.URL + "/token", "jwks_uri": s.URL + "/keys", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported": []string{"S256"}})
	case "/keys":
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	case "/authorize":
		s.authorize(w, r)
	case "/token":
		s.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.last = q
	authError := s.authError
	s.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") != s.ClientID || q.Get("response_type") != "code" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	if authError != "" {
		back.Set("error", authError)
	} else if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		back.Set("error", "invalid_request")
	} else {
		code := rand.Text()
		s.mu.Lock()
		s.codes[code] = &grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), identity: s.identity}
		s.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != s.ClientID || secret != s.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	s.mu.Lock()
	g := s.codes[r.PostFormValue("code")]
	valid := g != nil && !g.used && g.redirect == r.PostFormValue("redirect_uri")
	if valid {
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		valid = base64.RawURLEncoding.EncodeToString(sum[:]) == g.challenge
		g.used = true
	}
	nonce, iss, aud := s.nonce, s.tokenIss, s.audience
	s.mu.Unlock()
	if iss == "" {
		iss = s.URL
	}
	if aud == "" {
		aud = s.ClientID
	}
	if !valid {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	if nonce == "" {
		nonce = g.nonce
	}
	now := s.Now()
	claims := map[string]any{"iss": iss, "sub": g.identity.Subject, "aud": aud, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce, "email": g.identity.Email}
	if g.identity.EmailVerified != nil {
		claims["email_verified"] = g.identity.EmailVerified
	}
	if g.identity.Name != "" {
		claims["name"] = g.identity.Name
	}
	if len(g.identity.AMR) > 0 {
		claims["amr"] = g.identity.AMR
	}
	if g.identity.ACR != "" {
		claims["acr"] = g.identity.ACR
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.key, KeyID: "k1"}}, nil)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	raw, _ := jws.CompactSerialize()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
