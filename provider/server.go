package provider

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// Paths the provider serves.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/authorize"
	PathCallback   = vocab.PathCallback // where the screens send a finished request (vocab.CallbackURL)
	PathToken      = "/oauth/token"
	PathIntrospect = "/oauth/introspect"
	PathUserinfo   = "/userinfo"
	PathRevoke     = "/oauth/revoke"
	PathEndSession = "/end_session"
	PathKeys       = "/keys"
)

// Paths lists every path the provider's handler answers.
var Paths = []string{PathDiscovery, PathAuthorize, PathCallback, PathToken, PathIntrospect, PathUserinfo, PathRevoke, PathEndSession, PathKeys,
	PathPAR, PathDeviceAuthorization}

// The refusals a person reads on the error page (Screens.Fail): the
// relying party's request cannot be answered, so nothing goes back to it.
var (
	errPageRequestUnknown = fail.E(fail.Invalid, "Errors.AuthRequest.Unknown")
	errPageClient         = fail.E(fail.Invalid, "Errors.Authorize.Client")
	errPageRedirectURI    = fail.E(fail.Invalid, "Errors.Authorize.RedirectURI")
	errPageInvalid        = fail.E(fail.Invalid, "Errors.Request.Invalid")
)

// Screens is what the provider needs from the login screens, which own the
// pages a person sees and the browser session cookie. cmd/sesame passes the
// login handler (login.Handler implements it); the provider's one way back
// into the screens is Provider.Answer.
type Screens interface {
	// Fail answers err with the error page a person reads: the status and
	// message its fail code and key call for (web.Status), its cause logged.
	Fail(w http.ResponseWriter, r *http.Request, err error)
	// FormPost renders the page that posts an answer's params to a relying
	// party's redirect URI (response_mode=form_post), in the request's
	// locales; the library's own page submits itself by an inline script,
	// which the pages' policy forbids.
	FormPost(w http.ResponseWriter, r *http.Request, action string, params url.Values, uiLocales []string)
	// ConfirmLogout asks the person whether to sign out, for an
	// end_session request without a valid id_token_hint: a page whose form
	// posts params, with the CSRF token, back to action. LogoutConfirmed
	// checks that token.
	ConfirmLogout(w http.ResponseWriter, r *http.Request, action string, params url.Values, uiLocales []string)
	LogoutConfirmed(r *http.Request) bool
	// CurrentSessionID is the id of the browser's live session, or "".
	CurrentSessionID(r *http.Request) string
	// EndBrowserSession ends the browser's session (and revokes the tokens
	// issued in it); it adds the Set-Cookie that clears the cookie to out.
	EndBrowserSession(ctx context.Context, in http.Header, out http.Header) error
}

// Store is what the provider asks of storage: clients, authorization
// requests and their codes, tokens, the person a token is for, the
// client-authentication budget (RateLimits), and the transaction in which
// a code is issued or tokens are rotated (Atomic, whose function gets the
// whole storage.Tx: the transaction stays one explicit value). Ping answers
// the health check. It neither collects garbage nor closes the store: the
// store's owner does.
type Store interface {
	storage.Clients
	storage.AuthRequests
	storage.Tokens
	storage.RateLimits
	storage.Protocol
	storage.DeviceAuthorizations
	persons
	sessions
	storage.Transactor
	storage.Pinger
}

// persons is the one read of people the provider makes: the person a token
// is for, with their membership and organization.
type persons interface {
	GetPerson(ctx context.Context, id string) (storage.Person, error)
}

// sessions is the one read of browser sessions the provider makes: whose
// session an end_session request ends (the login screens own the rest).
type sessions interface {
	GetSessionByID(ctx context.Context, id string) (storage.Session, error)
}

// Options configure New.
type Options struct {
	Issuer string
	Store  Store
	Keys   *KeyManager
	// HTTPClient fetches clients' jwks_uri (default: 5 s timeout).
	HTTPClient *http.Client
	Secrets    SecretVerifier
	MasterKey  []byte // the secret-encryption key; token encryption derives from it
	Lifetimes  Lifetimes
	Now        func() time.Time
	// Screens are the login screens' pages and browser session (embedded:
	// s.opts.Fail is Screens.Fail). Required.
	Screens
	Logger *slog.Logger
	// TokensIssued, when set, counts successful token responses by grant.
	TokensIssued func(grant string)
	// ClientAuthPerHour bounds the failed client authentications per
	// address and hour (0: no bound); BudgetKey says which address a
	// request counts for (by default its peer address).
	ClientAuthPerHour int
	BudgetKey         func(*http.Request) string
	// PasskeysOff says the screens cannot ask for a passkey (an issuer
	// WebAuthn cannot serve): discovery then does not offer loa:3.
	PasskeysOff bool
}

// Provider is the HTTP face of the OpenID Provider.
type Provider struct {
	http.Handler
	server *server
}

// New builds the provider.
func New(o Options) (*Provider, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	tokenKey, err := secretbox.Derive(o.MasterKey, "access-tokens")
	if err != nil {
		return nil, err
	}
	if o.BudgetKey == nil {
		o.BudgetKey = remoteHost
	}
	if o.Screens == nil {
		return nil, errors.New("provider: Options.Screens is required")
	}
	secrets, err := newClientSecrets(o.MasterKey)
	if err != nil {
		return nil, err
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	st := &opStorage{jwks: &clientKeys{http: o.HTTPClient, now: o.Now, cache: map[string]fetchedKeys{}}, store: o.Store, keys: o.Keys, secrets: o.Secrets, now: o.Now, lifetimes: o.Lifetimes, logger: o.Logger,
		clientSecrets: secrets, budget: &clientBudget{store: o.Store, perHour: o.ClientAuthPerHour, now: o.Now, logger: o.Logger,
			blocked: map[string]time.Time{}}}
	config := &op.Config{
		CryptoKey:                         tokenKey,
		CryptoKeyId:                       "1",
		DefaultLogoutRedirectURI:          vocab.PathLoggedOut,
		CodeMethodS256:                    true,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
		AuthMethodPost:                    true,
		GrantTypeRefreshToken:             true,
		SupportedUILocales:                []language.Tag{language.French, language.English},
		SupportedScopes:                   SupportedScopes,
		DeviceAuthorization:               deviceConfig(),
		SupportedClaims: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "sid", "idp",
			"email", "email_verified", "name", "locale", "updated_at", "org_id", "org_name", "org_roles", "org_status", "org_siret"},
	}
	sealer, err := newTokenCrypto(tokenKey, config.CryptoKeyId)
	if err != nil {
		return nil, err
	}
	st.sealer = sealer
	if st.userCodeKey, err = UserCodeKey(o.MasterKey); err != nil {
		return nil, err
	}
	// An id_token_hint is one of our own ID tokens: every algorithm Sesame
	// signs with must verify (the library accepts RS256, ES256 and PS256
	// unless told, so an EdDSA client's logout failed).
	hintAlgs := make([]string, len(Algorithms))
	for i, alg := range Algorithms {
		hintAlgs[i] = string(alg)
	}
	opts := []op.Option{op.WithCrypto(sealer),
		op.WithIDTokenHintVerifierOpts(op.WithSupportedIDTokenHintSigningAlgorithms(hintAlgs...))}
	if u, err := url.Parse(o.Issuer); err == nil && u.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	endpoints := op.Endpoints{
		Authorization: op.NewEndpoint(PathAuthorize),
		Token:         op.NewEndpoint(PathToken),
		Introspection: op.NewEndpoint(PathIntrospect),
		Userinfo:      op.NewEndpoint(PathUserinfo),
		Revocation:    op.NewEndpoint(PathRevoke),
		EndSession:    op.NewEndpoint(PathEndSession),
		JwksURI:       op.NewEndpoint(PathKeys),
		// device.go
		DeviceAuthorization: op.NewEndpoint(PathDeviceAuthorization),
	}
	opts = append(opts, op.WithCustomEndpoints(endpoints.Authorization, endpoints.Token, endpoints.Userinfo, endpoints.Revocation,
		endpoints.EndSession, endpoints.JwksURI), op.WithCustomIntrospectionEndpoint(endpoints.Introspection),
		op.WithCustomDeviceAuthorizationEndpoint(endpoints.DeviceAuthorization))
	p, err := op.NewProvider(config, st, op.StaticIssuer(o.Issuer), opts...)
	if err != nil {
		return nil, err
	}
	s := &server{LegacyServer: op.NewLegacyServer(p, endpoints), provider: p, store: st, opts: o,
		grants: make(chan struct{}, runtime.GOMAXPROCS(0))}
	// CORS lets browser applications (public clients) call the token,
	// userinfo and key endpoints; never with credentials, since none of
	// these endpoints reads a cookie.
	h := op.RegisterLegacyServer(s, s.callback, op.WithServerCORSOptions(&cors.Options{
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
		AllowCredentials: false,
	}))
	return &Provider{Handler: s.guard(h), server: s}, nil
}

// server overrides the library's LegacyServer where Sesame is stricter.
type server struct {
	*op.LegacyServer
	provider  *op.Provider
	store     *opStorage
	opts      Options
	discovery cachedDoc
	jwks      cachedDoc
	origins   originSet // the origins clients registered, for preflights
	// grants admits token requests in arrival order (see admit).
	grants chan struct{}
}

// guard runs before the library: it renders an error page for a request
// that names an unknown client or an unregistered redirect_uri (never a
// redirect), and adds the headers the RFCs ask for.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = &unavailable{ResponseWriter: w}
		switch r.URL.Path {
		case PathDiscovery, PathKeys:
			if anyOrigin(w, r) {
				return
			}
			read := r.Method == http.MethodGet || r.Method == http.MethodHead
			if read && r.URL.Path == PathDiscovery && s.serveDiscovery(w, r) {
				return
			}
			if read && r.URL.Path == PathKeys && s.serveKeys(w, r) {
				return
			}
			// The library answers (another method, or the keys could not
			// be read): its CORS layer would echo the Origin.
			w = &corsOnly{ResponseWriter: w, star: true}
		case PathAuthorize:
			r = r.WithContext(withMemo(r.Context(), false))
			if !s.resolvePushed(w, r) {
				return
			}
			if !s.checkAuthorizeTarget(w, r) {
				return
			}
			w = &issuerStamp{ResponseWriter: &corsOnly{ResponseWriter: w}, s: s, r: r}
		case PathCallback:
			w = &corsOnly{ResponseWriter: w}
		case PathToken, PathIntrospect, PathRevoke, PathPAR, PathDeviceAuthorization:
			if s.corsPreflight(w, r) {
				return
			}
			// These endpoints take POST only (RFC 6749 §3.2, RFC 7662 §2.1,
			// RFC 7009 §2.1); another method is refused before it counts
			// against a budget or reads anything (a GET changes nothing).
			// A CORS preflight goes on to the library's CORS layer.
			if r.Method != http.MethodPost && r.Method != http.MethodOptions {
				w.Header().Set("Allow", "POST")
				WriteError(w, fail.E(fail.Method, ""))
				return
			}
			// An address past its budget of failed client authentications
			// is refused first: before a slot, a read or a hash.
			key := s.opts.BudgetKey(r)
			if s.store.budget.refuseSpent(w, r, key) {
				return
			}
			if r.URL.Path == PathToken {
				if !s.admit(w, r) {
					return
				}
				defer func() { <-s.grants }()
			}
			r = r.WithContext(withMemo(r.Context(), true))
			memoFrom(r.Context()).budgetKey = key
			w = s.gateOrigin(w, r)
			if r.URL.Path == PathToken {
				s.prefetchGrant(r)
			}
			w = &clientChallenge{ResponseWriter: w, realm: s.opts.Issuer, budget: s.store.budget, key: key}
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			if !s.protocolAuth(w, r) {
				return
			}
			if r.URL.Path == PathPAR {
				s.pushAuthorization(w, r)
				return
			}
		case PathEndSession:
			s.endSession(w, r.WithContext(withMemo(op.ContextWithIssuer(r.Context(), s.opts.Issuer), false)))
			return
		case PathUserinfo:
			if s.corsPreflight(w, r) {
				return
			}
			r = r.WithContext(withMemo(r.Context(), false))
			w = s.gateOrigin(w, r)
			w.Header().Set("Cache-Control", "no-store")
			var ok bool
			if r, ok = s.dpopResource(w, r); !ok {
				return
			}
			w = &bearerChallenge{ResponseWriter: w}
		}
		next.ServeHTTP(w, r)
	})
}

// prefetchGrant reads what a code exchange or a refresh needs (the code's
// request or the refresh token, the client, the person) in one query, where
// the library and CodeExchange would make three, and leaves it in the
// request's memo. It only reads: when nothing is found or the read fails,
// the memo stays empty and the ordinary reads give the answer. The form was
// parsed by the Forms middleware; without it, nothing is done.
func (s *server) prefetchGrant(r *http.Request) {
	ctx, form := r.Context(), r.PostForm
	var c storage.Client
	var p storage.Person
	switch form.Get("grant_type") {
	case "refresh_token":
		if form.Get("refresh_token") == "" {
			return
		}
		g, err := s.opts.Store.GetRefreshGrant(ctx, storage.HashToken(form.Get("refresh_token")))
		if err != nil {
			return
		}
		keep(ctx, refreshOf, g.Token.Hash, g.Token)
		c, p = g.Client, g.Person
	case "authorization_code":
		if form.Get("code") == "" {
			return
		}
		g, err := s.opts.Store.GetCodeGrant(ctx, storage.HashToken(form.Get("code")))
		if err != nil {
			return
		}
		keep(ctx, codesOf, g.Request.CodeHash, g.Request)
		c, p = g.Client, g.Person
	default:
		return
	}
	keep(ctx, clientsOf, c.ID, c)
	keep(ctx, personsOf, p.User.ID, p)
}

// admit waits for one of the token endpoint's slots. A token request is
// almost all CPU (the ID token's signature); left to the Go scheduler, many
// at once share the cores unevenly and the unlucky ones wait several times
// the median. Waiting for a slot in arrival order (channel senders are
// woken first in, first out) serves them in turn: the same throughput, a
// shorter tail. One slot per processor: with SQLite's writes on their own
// goroutine, twice as many let the code exchange's p99 reach 43–61 ms,
// one per processor 40–44 ms, at the same rate. A request whose client
// gives up while it waits gets a 503.
func (s *server) admit(w http.ResponseWriter, r *http.Request) bool {
	select {
	case s.grants <- struct{}{}:
		return true
	case <-r.Context().Done():
		w.Header().Set("Retry-After", "1")
		WriteError(w, errBusy)
		return false
	}
}

// anyOrigin lets any web page read discovery and the key set, which are
// public and read no cookie, so that a browser application can start from
// discovery: Access-Control-Allow-Origin "*", never with credentials. They
// are served from bytes before the library's CORS layer, hence here. It
// answers a preflight itself, and reports whether it did.
func anyOrigin(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Accept, Accept-Language, Cache-Control, If-None-Match")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (s *server) checkAuthorizeTarget(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		s.opts.Fail(w, r, fail.E(fail.Invalid, "Errors.Authorize.Invalid"))
		return false
	}
	clientID, redirectURI := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
	c, err := getClient(r.Context(), s.opts.Store, clientID)
	if errors.Is(err, storage.ErrNotFound) || clientID == "" {
		s.opts.Fail(w, r, errPageClient)
		return false
	}
	if err != nil {
		s.opts.Fail(w, r, fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("authorize: load client: %w", err)))
		return false
	}
	if !RedirectURIRegistered(c, redirectURI) {
		s.opts.Fail(w, r, errPageRedirectURI)
		return false
	}
	return true
}

// errBusy is a token request whose client gave up waiting for a slot.
var errBusy = fail.E(fail.Unavailable, "Errors.Unavailable")

// unavailable answers the library's 500 (a storage failure: the database is
// unreachable) as the OAuth door answers an Internal error: a 503 with
// Retry-After, so that clients retry instead of giving up.
type unavailable struct{ http.ResponseWriter }

func (u *unavailable) WriteHeader(status int) {
	if status == http.StatusInternalServerError {
		status = oauthOf[fail.Internal].Status
		u.Header().Set("Retry-After", "5")
	}
	u.ResponseWriter.WriteHeader(status)
}

// clientChallenge adds WWW-Authenticate to a 401 of the endpoints where
// clients authenticate (RFC 6749 §5.2).
// On a 429 (the failure that overran the budget of failed client
// authentications), it adds Retry-After.
type clientChallenge struct {
	http.ResponseWriter
	realm  string
	budget *clientBudget
	key    string
}

func (c *clientChallenge) WriteHeader(status int) {
	switch status {
	case http.StatusUnauthorized:
		c.Header().Set("WWW-Authenticate", `Basic realm="`+c.realm+`"`)
	case http.StatusTooManyRequests:
		wait, _ := c.budget.wait(c.key)
		c.Header().Set("Retry-After", retryAfter(wait))
	}
	c.ResponseWriter.WriteHeader(status)
}

// issuerStamp adds iss (RFC 9207) to the error responses /authorize itself
// redirects to a client (the library's refusals of a request, and ours),
// and answers a form_post request's refusal with the form_post page, as
// answer does; the redirect to Sesame's login screen carries no error and
// is left alone.
type issuerStamp struct {
	http.ResponseWriter
	s        *server
	r        *http.Request
	replaced bool // the redirect's body is not sent: the page was
}

func (w *issuerStamp) WriteHeader(status int) {
	if status == http.StatusFound || status == http.StatusSeeOther {
		if u, err := url.Parse(w.Header().Get("Location")); err == nil && u.IsAbs() {
			frag, _ := url.ParseQuery(u.Fragment)
			if u.Query().Has("error") || frag.Has("error") {
				if w.r.Form.Get("response_mode") == string(oidc.ResponseModeFormPost) {
					w.formPost(u.Query())
					return
				}
				w.Header().Set("Location", w.s.withIssuer(u.String()))
			}
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

// formPost posts the refusal's params to the redirect URI, which the
// library checked was registered before it redirected anything there.
func (w *issuerStamp) formPost(q url.Values) {
	params := url.Values{}
	for _, name := range []string{"error", "error_description"} {
		if v := q.Get(name); v != "" {
			params.Set(name, v)
		}
	}
	w.s.withState(params, q.Get("state"))
	w.Header().Del("Location")
	w.replaced = true
	w.s.opts.FormPost(w.ResponseWriter, w.r, w.r.Form.Get("redirect_uri"), params, strings.Fields(w.r.Form.Get("ui_locales")))
}

func (w *issuerStamp) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// bearerChallenge adds WWW-Authenticate to a 401 (RFC 6750 §3).
type bearerChallenge struct{ http.ResponseWriter }

func (b *bearerChallenge) WriteHeader(status int) {
	if status == http.StatusUnauthorized {
		b.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="the access token is invalid or expired"`)
		b.Header().Add("WWW-Authenticate", dpopChallenge("invalid_token"))
	}
	b.ResponseWriter.WriteHeader(status)
}

// Authorize enforces PKCE (S256 only) before the request is stored. The
// redirect_uri is already known to be registered, so errors go back to it.
func (s *server) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	c := r.Client.(*client)
	if err := requirePAR(ctx, c); err != nil {
		return nil, err
	}
	switch {
	case r.Data.CodeChallenge == "" && !c.c.AllowNoPKCE:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is required (PKCE with S256)")
	case r.Data.CodeChallenge != "" && r.Data.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case r.Data.CodeChallenge != "" && !validChallenge(r.Data.CodeChallenge):
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge must be a base64url SHA-256")
	}
	return s.LegacyServer.Authorize(ctx, r)
}

func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// callback answers the browser the login screens send back: with a code, or
// with the error they recorded. Only the browser that authenticated gets it.
func (s *server) callback(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	ar, err := s.opts.Store.GetAuthRequest(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		s.opts.Fail(w, r, errPageRequestUnknown)
		return
	}
	if err != nil {
		s.opts.Fail(w, r, fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("callback: load request: %w", err)))
		return
	}
	// A code goes only to the browser whose session answered the request.
	if ar.Error == "" && ar.Done && ar.CodeHash == "" && !sameSession(ar.SessionID, s.opts.Screens.CurrentSessionID(r)) {
		s.opts.Fail(w, r, fail.E(fail.Forbidden, "Errors.AuthRequest.Unknown"))
		return
	}
	s.prepare(r.Context(), s.opts.Store, ar)(w, r)
}

// prepare makes the answer to ar — a new code, or its error — and returns
// what sends the browser back to the relying party with it. The code is
// stored with tx: the transaction that records the sign-in, when the login
// screens answer (Answer), so the returned function is called once that
// transaction has committed; the Store itself for the callback.
func (s *server) prepare(ctx context.Context, tx storage.AuthRequests, ar storage.AuthRequest) http.HandlerFunc {
	adapted := &authRequest{ar}
	formPost := ar.ResponseMode == string(oidc.ResponseModeFormPost)
	switch {
	case !s.opts.Now().Before(ar.ExpiresAt):
		return s.errorPage(errPageRequestUnknown)
	case ar.Error != "" && formPost:
		params := s.withState(url.Values{"error": {string(oauthError(ar.Error).ErrorType)}}, ar.State)
		return s.withIssuerCtx(func(w http.ResponseWriter, r *http.Request) {
			s.opts.FormPost(w, r, ar.RedirectURI, params, ar.UILocales)
		})
	case ar.Error != "":
		return s.withIssuerCtx(func(w http.ResponseWriter, r *http.Request) {
			redirect, err := op.TryErrorRedirect(r.Context(), adapted, oauthError(ar.Error), s.provider.Encoder(), nil)
			if err != nil {
				s.opts.Fail(w, r, errPageRequestUnknown)
				return
			}
			http.Redirect(w, r, s.withIssuer(redirect.URL), http.StatusFound)
		})
	case !ar.Done || ar.CodeHash != "":
		// Not authenticated yet, or a code was already issued (a reload).
		return s.errorPage(errPageRequestUnknown)
	default:
		return s.prepareCode(ctx, tx, adapted, formPost)
	}
}

// errorPage is a prepared answer that shows the error page.
func (s *server) errorPage(err error) http.HandlerFunc {
	return s.withIssuerCtx(func(w http.ResponseWriter, r *http.Request) { s.opts.Fail(w, r, err) })
}

// withIssuerCtx runs h with the issuer in the request's context, as the
// library's own handlers have it.
func (s *server) withIssuerCtx(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r.WithContext(op.ContextWithIssuer(r.Context(), s.opts.Issuer)))
	}
}

// withIssuer adds iss to an authorization response's redirect (RFC 9207:
// a client talking to several providers can tell which one answered), in
// the part that carries the response: the query, or the fragment.
func (s *server) withIssuer(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return redirect
	}
	if frag, err := url.ParseQuery(u.Fragment); err == nil && u.Fragment != "" && (frag.Has("error") || frag.Has("code")) {
		frag.Set("iss", s.opts.Issuer)
		u.Fragment = frag.Encode()
		return u.String()
	}
	q := u.Query()
	q.Set("iss", s.opts.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// prepareCode makes and stores the request's code, and returns what sends
// it to the client: the form_post page, or a redirect that names the issuer.
func (s *server) prepareCode(ctx context.Context, tx storage.AuthRequests, ar *authRequest, formPost bool) http.HandlerFunc {
	resp, err := s.makeCode(ctx, tx, ar)
	var refused *oidc.Error
	switch {
	case errors.As(err, &refused):
		return s.errorPage(errPageRequestUnknown)
	case err != nil:
		return s.errorPage(fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("answer: make a code: %w", err)))
	}
	if formPost {
		params := s.withState(url.Values{"code": {resp.Code}}, resp.State)
		return s.withIssuerCtx(func(w http.ResponseWriter, r *http.Request) {
			s.opts.FormPost(w, r, ar.r.RedirectURI, params, ar.r.UILocales)
		})
	}
	callback, err := op.AuthResponseURL(ar.r.RedirectURI, ar.GetResponseType(), ar.GetResponseMode(), resp, s.provider.Encoder())
	if err != nil {
		return s.errorPage(fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("answer: build the redirect: %w", err)))
	}
	to := s.withIssuer(callback)
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
}

// withState adds the request's state, when it has one, and the issuer
// (RFC 9207) to an answer's params.
func (s *server) withState(params url.Values, state string) url.Values {
	if state != "" {
		params.Set("state", state)
	}
	params.Set("iss", s.opts.Issuer)
	return params
}

// makeCode makes the request's code as the library's
// BuildAuthResponseCodeResponsePayload does, but stores it with tx: the
// library's SaveAuthCode receives only a context, and the transaction is a
// value, never carried by one.
func (s *server) makeCode(ctx context.Context, tx storage.AuthRequests, ar *authRequest) (*op.CodeResponseType, error) {
	code, err := op.BuildAuthRequestCode(ar, s.provider.Crypto())
	if err != nil {
		return nil, err
	}
	if err := s.store.saveCode(ctx, tx, ar.GetID(), code); err != nil {
		return nil, err
	}
	return &op.CodeResponseType{Code: code, State: ar.GetState()}, nil
}

// Answer prepares the answer to a request the login screens have just
// answered or refused, for their response to the browser's last form or
// link: the code or the error, to the relying party, without the round trip
// through vocab.CallbackURL. ar is the request as the screens stored it; the
// browser is the one whose session answered it, since it is the one being
// answered. The code is stored with tx, the transaction that records the
// sign-in; the returned function writes the response, once that
// transaction has committed.
func (p *Provider) Answer(ctx context.Context, tx storage.AuthRequests, ar storage.AuthRequest) http.HandlerFunc {
	return p.server.prepare(ctx, tx, ar)
}

func sameSession(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func oauthError(code string) *oidc.Error {
	switch code {
	case "login_required":
		return oidc.ErrLoginRequired()
	case "interaction_required":
		return oidc.ErrInteractionRequired()
	case "unmet_authentication_requirements":
		// OpenID Connect Core errata / EAP ACR values: the session exists but
		// not at the level asked for, and prompt=none forbids reaching it.
		return &oidc.Error{ErrorType: "unmet_authentication_requirements",
			Description: "the authentication level asked for needs the second factor"}
	case "consent_required":
		// prompt=none, and a third-party client the person has not
		// allowed (or not for these scopes): OpenID Connect Core 3.1.2.6.
		return &oidc.Error{ErrorType: "consent_required", Description: "the person has not allowed this application"}
	default:
		return oidc.ErrAccessDenied()
	}
}

// CodeExchange checks the code in the order that leaks nothing: the client
// is already authenticated; then the code, its client, its redirect_uri
// and its PKCE verifier; then it is consumed exactly once.
func (s *server) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	if err := requireDPoP(ctx, r.Client); err != nil {
		return nil, err
	}
	ar, err := getAuthRequestByCode(ctx, s.opts.Store, storage.HashToken(r.Data.Code))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid authorization code")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if !ar.ConsumedAt.IsZero() {
		s.replayedCode(ctx, ar)
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code already used")
	}
	switch {
	case !s.opts.Now().Before(ar.CodeExpiry):
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code expired")
	case r.Client.GetID() != ar.ClientID:
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code issued to another client")
	case r.Data.RedirectURI != ar.RedirectURI:
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri does not match the authorization request")
	}
	if err := checkVerifier(ar.CodeChallenge, r.Data.CodeVerifier); err != nil {
		return nil, err
	}
	if err := s.store.userActive(ctx, ar.UserID); err != nil {
		return nil, err
	}
	// The code is consumed in the transaction that stores its tokens (see
	// storeTokens): exactly once, and not at all if they are not stored.
	resp, err := op.CreateTokenResponse(withAlg(ctx, r.Client), &authRequest{ar}, r.Client, s.provider, true, r.Data.Code, "")
	switch {
	case errors.Is(err, errCodeUsed):
		s.replayedCode(ctx, ar)
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code already used")
	case errors.Is(err, errCodeGone):
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid authorization code")
	case err != nil:
		return nil, err
	}
	s.issued("authorization_code")
	dpopTyped(ctx, resp)
	return op.NewResponse(resp), nil
}

// replayedCode revokes what the code yielded (RFC 6749 §4.1.2).
func (s *server) replayedCode(ctx context.Context, ar storage.AuthRequest) {
	if err := s.opts.Store.RevokeGrant(ctx, ar.ID); err != nil {
		s.opts.Logger.ErrorContext(ctx, "revoke tokens of a replayed code", "err", err)
	}
	s.opts.Logger.WarnContext(ctx, "authorization code replayed: tokens revoked", "client_id", ar.ClientID, "grant", ar.ID)
}

// checkVerifier applies PKCE (RFC 7636 §4.6) and refuses a downgrade: a
// verifier for a code issued without a challenge is an attack, too.
func checkVerifier(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return oidc.ErrInvalidGrant().WithDescription("code_verifier sent for a request without code_challenge")
	case verifier == "":
		return oidc.ErrInvalidGrant().WithDescription("code_verifier is required")
	case len(verifier) < 43 || len(verifier) > 128:
		return oidc.ErrInvalidGrant().WithDescription("code_verifier must be 43 to 128 characters")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier does not match the code_challenge")
	}
	return nil
}

// RefreshToken signs the new ID token with the client's algorithm.
func (s *server) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	if err := requireDPoP(ctx, r.Client); err != nil {
		return nil, err
	}
	resp, err := s.LegacyServer.RefreshToken(withAlg(ctx, r.Client), r)
	if err == nil {
		s.issued("refresh_token")
		if t, ok := resp.Data.(*oidc.AccessTokenResponse); ok {
			dpopTyped(ctx, t)
		}
	}
	return resp, err
}

func (s *server) issued(grant string) {
	if s.opts.TokensIssued != nil {
		s.opts.TokensIssued(grant)
	}
}

// Introspect answers for refresh tokens too (RFC 7662 §2.1), and only to
// the client the token was issued to.
func (s *server) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	resp, err := s.LegacyServer.Introspect(ctx, r)
	if err != nil {
		return nil, err
	}
	if ir, ok := resp.Data.(*oidc.IntrospectionResponse); ok && !ir.Active {
		if t, err := s.opts.Store.GetRefreshToken(ctx, storage.HashToken(r.Data.Token)); err == nil &&
			t.UsedAt.IsZero() && s.opts.Now().Before(t.ExpiresAt) && t.ClientID == r.Data.ClientCredentials.ClientID {
			out := &oidc.IntrospectionResponse{Active: true, Scope: t.Scopes, ClientID: t.ClientID, TokenType: "refresh_token",
				Expiration: oidc.FromTime(t.ExpiresAt), IssuedAt: oidc.FromTime(t.CreatedAt), Subject: t.UserID,
				Audience: t.Audience, Issuer: op.IssuerFromContext(ctx)}
			return op.NewResponse(out), nil
		}
	}
	return resp, nil
}

// UserInfo answers a token that is not (or no longer) a live access token
// of ours — revoked, expired, an ID token used as a bearer, its person gone
// — with 401 invalid_token (RFC 6750 §3.1), where the library says 403
// access_denied; the guard adds the Bearer challenge. A storage failure
// stays the server's (503).
func (s *server) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	resp, err := s.LegacyServer.UserInfo(ctx, r)
	if err == nil {
		return resp, nil
	}
	var oe *oidc.Error
	if (errors.As(err, &oe) && oe.ErrorType != oidc.ServerError) || errors.Is(err, storage.ErrNotFound) {
		return nil, op.NewStatusError(&oidc.Error{ErrorType: "invalid_token",
			Description: "the access token is invalid or expired"}, http.StatusUnauthorized)
	}
	if oe == nil {
		return nil, serverError(err)
	}
	return nil, oe // without the library's 403: a 500, made a 503 by unavailable
}

// endSession answers RP-initiated logout itself (the guard sends every
// end_session request here, the library's handler never runs), so that a
// refusal is an error page for the person, never JSON. It checks the
// id_token_hint (one of our ID tokens; an expired one will do), the client
// (named by client_id or the hint's azp) and its post_logout_redirect_uri
// (registered exactly). Without a valid hint the request could come from
// any page, so a browser with a session is asked first (ConfirmLogout),
// and only the confirmation's POST, with its CSRF token, ends it. Then
// it ends the browser session, which revokes its tokens, and redirects.
func (s *server) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.opts.Fail(w, r, errPageInvalid)
		return
	}
	f := r.Form
	clientID, uri, state := f.Get("client_id"), f.Get("post_logout_redirect_uri"), f.Get("state")
	hinted, hintSubject := false, ""
	if hint := f.Get("id_token_hint"); hint != "" {
		claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, hint, s.provider.IDTokenHintVerifier(ctx))
		if err == nil || errors.As(err, &op.IDTokenHintExpiredError{}) {
			if clientID != "" && clientID != claims.GetAuthorizedParty() {
				s.opts.Fail(w, r, errPageInvalid)
				return
			}
			clientID, hinted, hintSubject = claims.GetAuthorizedParty(), true, claims.GetSubject()
		}
	}
	redirect := vocab.PathLoggedOut
	switch {
	case clientID != "":
		c, err := getClient(ctx, s.opts.Store, clientID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			s.opts.Fail(w, r, errPageClient)
			return
		case err != nil:
			s.opts.Fail(w, r, fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("end_session: load client: %w", err)))
			return
		case uri != "" && !slices.Contains(c.PostLogoutRedirectURIs, uri):
			s.opts.Fail(w, r, errPageRedirectURI)
			return
		case uri != "":
			redirect = withQuery(uri, "state", state)
		}
	case uri != "":
		// Nothing to check it against: it is not followed.
		s.opts.Fail(w, r, errPageRedirectURI)
		return
	}
	// A hint shows the request comes from an application this person
	// signed in to only when it names the session's person: anyone holds
	// an ID token of their own to put in a link.
	if sid := s.opts.Screens.CurrentSessionID(r); sid != "" && !(hinted && s.sessionOf(ctx, sid, hintSubject)) {
		if r.Method != http.MethodPost || r.PostForm.Get("confirm") == "" {
			params := url.Values{"confirm": {"1"}}
			for _, name := range []string{"client_id", "post_logout_redirect_uri", "state", "ui_locales"} {
				if v := f.Get(name); v != "" {
					params.Set(name, v)
				}
			}
			s.opts.ConfirmLogout(w, r, PathEndSession, params, strings.Fields(f.Get("ui_locales")))
			return
		}
		if !s.opts.LogoutConfirmed(r) {
			s.opts.Fail(w, r, fail.E(fail.Forbidden, "Errors.Request.CSRF"))
			return
		}
	}
	if err := s.opts.Screens.EndBrowserSession(ctx, r.Header, w.Header()); err != nil {
		s.opts.Fail(w, r, fail.Wrap(fail.Unavailable, "Errors.Unavailable", fmt.Errorf("end_session: end the session: %w", err)))
		return
	}
	http.Redirect(w, r, redirect, http.StatusFound)
}

// sessionOf reports whether the session sid is subject's.
func (s *server) sessionOf(ctx context.Context, sid, subject string) bool {
	sess, err := s.opts.Store.GetSessionByID(ctx, sid)
	return err == nil && subject != "" && sess.UserID == subject
}

// withQuery adds name=value to uri's query, when value is not empty.
func withQuery(uri, name, value string) string {
	u, err := url.Parse(uri)
	if err != nil || value == "" {
		return uri
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Discovery advertises what Sesame does, not all the library could.
func (s *server) Discovery(ctx context.Context, r *op.Request[struct{}]) (*op.Response, error) {
	resp, err := s.LegacyServer.Discovery(ctx, r)
	if err != nil {
		return nil, err
	}
	if d, ok := resp.Data.(*oidc.DiscoveryConfiguration); ok {
		d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
		d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery), string(oidc.ResponseModeFormPost)}
		d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials,
			oidc.GrantTypeDeviceCode}
		d.DeviceAuthorizationEndpoint = s.opts.Issuer + PathDeviceAuthorization
		d.ACRValuesSupported = []string{vocab.ACRPassword, vocab.ACRMFA}
		if !s.opts.PasskeysOff {
			d.ACRValuesSupported = append(d.ACRValuesSupported, vocab.ACRPasskey)
		}
		algs := make([]string, len(AssertionAlgorithms))
		for i, a := range AssertionAlgorithms {
			algs[i] = string(a)
		}
		dpopAlgs := make([]string, len(DPoPAlgorithms))
		for i, a := range DPoPAlgorithms {
			dpopAlgs[i] = string(a)
		}
		d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT}
		d.TokenEndpointAuthSigningAlgValuesSupported = algs
		d.RevocationEndpointAuthSigningAlgValuesSupported = algs
		d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT}
		d.IntrospectionEndpointAuthSigningAlgValuesSupported = algs
		d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodNone, oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT}
		d.RequestParameterSupported = false
		d.RequestURIParameterSupported = true
		d.ClaimsParameterSupported = false
		resp.Data = discoveryDoc{DiscoveryConfiguration: d, IssParameterSupported: true,
			PAREndpoint: s.opts.Issuer + PathPAR, DPoPAlgs: dpopAlgs}
	}
	return resp, nil
}

// discoveryDoc adds what the library's discovery type has no field for.
type discoveryDoc struct {
	*oidc.DiscoveryConfiguration
	// Every authorization response carries iss (RFC 9207).
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// RFC 9126 §5: PAR is offered; clients registered with --require-par
	// must use it (require_pushed_authorization_requests is per client).
	PAREndpoint string   `json:"pushed_authorization_request_endpoint"`
	RequirePAR  bool     `json:"require_pushed_authorization_requests"`
	DPoPAlgs    []string `json:"dpop_signing_alg_values_supported"`
}

// Ready reports whether the provider can sign: the database answers and
// every algorithm has a key.
func (p *Provider) Ready(ctx context.Context) error {
	if err := p.server.opts.Store.Ping(ctx); err != nil {
		return err
	}
	return p.server.opts.Keys.Ready(ctx)
}
