package provider

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// The protocol's extensions wired around the library (issue 18): pushed
// authorization requests, private_key_jwt client authentication, DPoP.
// The guard calls protocolAuth on the endpoints where clients
// authenticate, resolvePushed on /authorize and dpopResource on userinfo,
// before the library reads the request; what they learn goes in the
// request's memo for the library's callbacks (VerifyClient, Authorize,
// the token and claims callbacks of opStorage).

// PathPAR is the pushed authorization request endpoint (RFC 9126).
const PathPAR = "/oauth/par"

// Pushed requests live PushedRequestLifetime; a request_uri is this
// prefix and 256 random bits.
const (
	PushedRequestLifetime = 60 * time.Second
	requestURIPrefix      = "urn:ietf:params:oauth:request_uri:"
	pushedMaxBytes        = 16 << 10
)

// protocolAuth runs on the token, introspection, revocation and PAR
// endpoints, the form parsed: it checks a client assertion (answering a
// refused one as a failed client authentication) and leaves the client
// it authenticates for VerifyClient and AuthorizeClientIDSecret, in place
// of the assertion: a one-request secret only this request's memo knows.
// On the token and introspection endpoints, it checks a DPoP proof when
// one is sent. It reports whether the request goes on.
func (s *server) protocolAuth(w http.ResponseWriter, r *http.Request) bool {
	ctx := r.Context()
	m := memoFrom(ctx)
	if err := r.ParseForm(); err != nil {
		WriteError(w, fail.Wrap(fail.Invalid, "Errors.Request.Invalid", err))
		return false
	}
	assertion, kind := r.PostForm.Get("client_assertion"), r.PostForm.Get("client_assertion_type")
	if assertion != "" || kind != "" {
		if _, _, basic := r.BasicAuth(); basic || r.PostForm.Get("client_secret") != "" {
			// RFC 6749 §2.3: one authentication method per request.
			WriteError(w, fail.E(fail.Invalid, "Errors.Request.Invalid"))
			return false
		}
		c, err := s.store.verifyAssertion(ctx, assertion, r.PostForm.Get("client_id"), s.opts.Issuer+r.URL.Path, s.opts.Issuer)
		if err == nil && kind != assertionType {
			err = refuseAssertion("client_assertion_type %q", kind)
		}
		var refused errAssertion
		switch {
		case errors.As(err, &refused):
			s.opts.Logger.Info("client assertion refused", "reason", refused.reason, "path", r.URL.Path)
			op.WriteError(w, r, s.store.failedClientAuth(ctx), nil)
			return false
		case err != nil:
			WriteError(w, fail.Wrap(fail.Unavailable, "Errors.Unavailable", err))
			return false
		}
		m.assertedClient, m.assertedSecret = c.ID, "asserted:"+storage.NewSecret()
		for _, f := range []url.Values{r.Form, r.PostForm} {
			f.Del("client_assertion")
			f.Del("client_assertion_type")
			f.Set("client_id", c.ID)
			f.Set("client_secret", m.assertedSecret)
		}
	}
	proofs := r.Header.Values("DPoP")
	if len(proofs) == 0 || (r.URL.Path != PathToken && r.URL.Path != PathIntrospect) {
		return true
	}
	token := ""
	if r.URL.Path == PathIntrospect {
		token = r.PostForm.Get("token")
	}
	jkt, err := s.store.dpopProof(ctx, proofs, r.Method, s.opts.Issuer+r.URL.Path, token, errDPoPProof)
	if err != nil {
		s.logRefusal("DPoP proof refused", err)
		WriteError(w, err)
		return false
	}
	m.jkt = jkt
	return true
}

// logRefusal logs a refusal's cause (never sent to the client).
func (s *server) logRefusal(msg string, err error) {
	if fail.Refusal(err) {
		s.opts.Logger.Info(msg, "reason", err.Error())
		return
	}
	s.opts.Logger.Error(msg, "err", err)
}

// dpopResource runs on userinfo: a token sent with the DPoP scheme comes
// with a proof for this request and this token; the token is then handed
// to the library as a bearer token, and SetUserinfoFromToken checks that
// it is bound to the proof's key. It reports whether the request goes on.
func (s *server) dpopResource(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "DPoP") {
		return r, true
	}
	token = strings.TrimSpace(token)
	jkt, err := s.store.dpopProof(r.Context(), r.Header.Values("DPoP"), r.Method, s.opts.Issuer+r.URL.Path, token, errDPoPResource)
	if err != nil {
		s.logRefusal("DPoP proof refused", err)
		w.Header().Set("WWW-Authenticate", dpopChallenge("invalid_dpop_proof"))
		WriteError(w, err)
		return r, false
	}
	m := memoFrom(r.Context())
	m.jkt, m.dpopScheme = jkt, true
	r.Header = r.Header.Clone()
	r.Header.Set("Authorization", "Bearer "+token)
	return r, true
}

// dpopChallenge is the WWW-Authenticate of a refused DPoP request (RFC 9449 §7.1).
func dpopChallenge(errValue string) string {
	algs := make([]string, len(DPoPAlgorithms))
	for i, a := range DPoPAlgorithms {
		algs[i] = string(a)
	}
	c := `DPoP algs="` + strings.Join(algs, " ") + `"`
	if errValue != "" {
		c += `, error="` + errValue + `"`
	}
	return c
}

// boundToProof reports whether an access token bound to jkt ("" for a
// bearer token) may be used with what the request proved.
func boundToProof(ctx context.Context, jkt string) bool {
	if jkt == "" {
		return true
	}
	m := memoFrom(ctx)
	return m != nil && m.jkt != "" && subtle.ConstantTimeCompare([]byte(m.jkt), []byte(jkt)) == 1
}

// VerifyClient authenticates the client of a token or revocation request
// (and of a pushed request): the client an assertion authenticated (see
// protocolAuth), or as the library does, but a private_key_jwt client is
// never let in with a secret, nor without one.
func (s *server) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	m := memoFrom(ctx)
	if m != nil && m.assertedClient != "" && r.Data.ClientID == m.assertedClient &&
		subtle.ConstantTimeCompare([]byte(r.Data.ClientSecret), []byte(m.assertedSecret)) == 1 {
		return s.store.GetClientByClientID(ctx, m.assertedClient)
	}
	if r.Data.ClientAssertion != "" {
		return nil, s.store.failedClientAuth(ctx)
	}
	if c, err := getClient(ctx, s.opts.Store, r.Data.ClientID); err == nil && c.Protocol.AuthMethod == AuthPrivateKeyJWT {
		return nil, s.store.failedClientAuth(ctx)
	}
	return s.LegacyServer.VerifyClient(ctx, r)
}

// asserted reports whether id and secret are what protocolAuth left for
// the client an assertion authenticated in this request.
func asserted(ctx context.Context, id, secret string) bool {
	m := memoFrom(ctx)
	return m != nil && m.assertedClient != "" && id == m.assertedClient &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(m.assertedSecret)) == 1
}

// pushAuthorization is the PAR endpoint (RFC 9126 §2): the client
// authenticates as at the token endpoint, its parameters are checked as
// /authorize would (the redirect URI registered, response_type=code, PKCE
// with S256), and kept for PushedRequestLifetime under a request_uri used
// once.
func (s *server) pushAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cc := &op.ClientCredentials{ClientID: r.PostForm.Get("client_id"), ClientSecret: r.PostForm.Get("client_secret")}
	if id, secret, ok := r.BasicAuth(); ok {
		if cc.ClientSecret != "" {
			WriteError(w, fail.E(fail.Invalid, "Errors.Request.Invalid"))
			return
		}
		var err1, err2 error
		cc.ClientID, err1 = url.QueryUnescape(id)
		cc.ClientSecret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			op.WriteError(w, r, s.store.failedClientAuth(ctx), nil)
			return
		}
	}
	if cc.ClientID == "" {
		op.WriteError(w, r, s.store.failedClientAuth(ctx), nil)
		return
	}
	oc, err := s.VerifyClient(ctx, &op.Request[op.ClientCredentials]{Method: r.Method, URL: r.URL, Header: r.Header, Form: r.Form, Data: cc})
	if err != nil {
		op.WriteError(w, r, err, nil)
		return
	}
	c := oc.(*client).c
	params := url.Values{}
	for name, v := range r.PostForm {
		switch name {
		case "client_secret", "client_assertion", "client_assertion_type":
		default:
			params[name] = v
		}
	}
	params.Set("client_id", c.ID)
	if err := checkPushed(c, params); err != nil {
		s.logRefusal("pushed authorization request refused", err)
		WriteError(w, err)
		return
	}
	encoded := params.Encode()
	if len(encoded) > pushedMaxBytes {
		WriteError(w, fail.E(fail.TooLarge, ""))
		return
	}
	uri := requestURIPrefix + storage.NewSecret()
	now := s.opts.Now()
	err = s.opts.Store.CreatePushedRequest(ctx, storage.PushedRequest{Hash: storage.HashToken(uri), ClientID: c.ID, Params: encoded,
		CreatedAt: now, ExpiresAt: now.Add(PushedRequestLifetime)})
	if err != nil {
		WriteError(w, fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("par: store: %w", err)))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"request_uri": uri, "expires_in": int(PushedRequestLifetime / time.Second)})
}

// checkPushed refuses what /authorize would refuse of a pushed request,
// now that the client can still be told (RFC 9126 §2.3).
func checkPushed(c storage.Client, p url.Values) error {
	refuse := func(format string, args ...any) error {
		return fail.Wrap(errPushed.Code, errPushed.Key, fmt.Errorf(format, args...))
	}
	switch {
	case p.Has("request_uri"):
		return refuse("request_uri inside a pushed request")
	case p.Has("request"):
		return refuse("request objects are not supported")
	case p.Get("response_type") != string(oidc.ResponseTypeCode):
		return refuse("response_type %q", p.Get("response_type"))
	case !RedirectURIRegistered(c, p.Get("redirect_uri")):
		return refuse("redirect_uri not registered")
	case p.Get("code_challenge") == "" && !c.AllowNoPKCE:
		return refuse("code_challenge is required")
	case p.Get("code_challenge") != "" && (p.Get("code_challenge_method") != string(oidc.CodeChallengeMethodS256) || !validChallenge(p.Get("code_challenge"))):
		return refuse("code_challenge must be a S256 challenge")
	}
	for name, v := range p {
		if len(v) != 1 {
			return refuse("parameter %q given %d times", name, len(v))
		}
	}
	return nil
}

// resolvePushed replaces an authorization request that names a
// request_uri with the parameters pushed under it (RFC 9126 §4): only the
// pushed ones count. A request_uri is taken once, by its own client,
// before it expires; any other is refused with the error page (there is
// no redirect URI to trust). It reports whether the request goes on.
func (s *server) resolvePushed(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		s.opts.Fail(w, r, fail.E(fail.Invalid, "Errors.Authorize.Invalid"))
		return false
	}
	uri := r.Form.Get("request_uri")
	if uri == "" {
		return true
	}
	clientID := r.Form.Get("client_id")
	if clientID == "" {
		s.opts.Fail(w, r, errPageClient)
		return false
	}
	p, err := s.opts.Store.TakePushedRequest(r.Context(), clientID, storage.HashToken(uri), s.opts.Now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.opts.Fail(w, r, errRequestURI)
		return false
	case err != nil:
		s.opts.Fail(w, r, fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("authorize: take the pushed request: %w", err)))
		return false
	}
	params, err := url.ParseQuery(p.Params)
	if err != nil {
		s.opts.Fail(w, r, errRequestURI)
		return false
	}
	r.Form, r.PostForm = params, url.Values{}
	r.URL.RawQuery = params.Encode()
	memoFrom(r.Context()).pushed = true
	return true
}

// requirePAR refuses a plain authorization request of a client that must
// push them.
func requirePAR(ctx context.Context, c *client) error {
	if m := memoFrom(ctx); c.c.Protocol.RequirePAR && (m == nil || !m.pushed) {
		return oidc.ErrInvalidRequest().WithDescription("%s", OAuthError(errPARRequired).Description)
	}
	return nil
}

// requireDPoP refuses a token request without a proof from a client that
// must bind its tokens.
func requireDPoP(ctx context.Context, c op.Client) error {
	cl, ok := c.(*client)
	if m := memoFrom(ctx); ok && cl.c.Protocol.RequireDPoP && (m == nil || m.jkt == "") {
		return asOIDC(errDPoPProof, "this client must send a DPoP proof")
	}
	return nil
}

// dpopTyped marks a token response whose tokens are bound to the proof's
// key (token_type DPoP, RFC 9449 §5).
func dpopTyped(ctx context.Context, resp *oidc.AccessTokenResponse) {
	if m := memoFrom(ctx); m != nil && m.jkt != "" && resp != nil {
		resp.TokenType = tokenTypeDPoP
	}
}
