package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// Lifetimes of what the provider issues.
type Lifetimes struct {
	AuthRequest  time.Duration // from /authorize to the end of the login screens
	Code         time.Duration // from the redirect to the code exchange
	AccessToken  time.Duration
	IDToken      time.Duration
	RefreshToken time.Duration // sliding: each rotation starts it again
}

// SecretVerifier checks a client secret against its stored hash.
type SecretVerifier interface {
	Verify(ctx context.Context, encoded, secret string) error
}

// opStorage implements op.Storage over the provider's Store.
type opStorage struct {
	store     Store
	jwks      *clientKeys
	sealer    *tokenCrypto // the access tokens' format (jwtat.go)
	keys      *KeyManager
	secrets   SecretVerifier // legacy argon2id client secret hashes
	now       func() time.Time
	lifetimes Lifetimes
	logger    *slog.Logger

	clientSecrets clientSecrets
	budget        *clientBudget
	userCodeKey   []byte // device.go
}

var _ op.Storage = (*opStorage)(nil)

type ctxKey int

const algKey ctxKey = 0

// withAlg makes SigningKey answer with the client's preferred algorithm.
func withAlg(ctx context.Context, c op.Client) context.Context {
	if cl, ok := c.(*client); ok && cl.c.IDTokenSignedAlg != "" {
		return context.WithValue(ctx, algKey, jose.SignatureAlgorithm(cl.c.IDTokenSignedAlg))
	}
	return ctx
}

// --- clients ---

// clientAuthFailed is invalid_client. Where a client authenticates (token,
// introspection, revocation) it is answered 401 with a Basic challenge
// (RFC 6749 §5.2; the guard adds the header); the library would say 400.
func clientAuthFailed(ctx context.Context, description string) error {
	err := oidc.ErrInvalidClient().WithDescription("%s", description)
	if m := memoFrom(ctx); m != nil && m.clientAuth {
		return op.NewStatusError(err, oauthOf[fail.Unauthorized].Status)
	}
	return err
}

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := getClient(ctx, s.store, id)
	if errors.Is(err, storage.ErrNotFound) {
		if m := memoFrom(ctx); m != nil && m.clientAuth {
			// A client authenticating: an unknown id is answered as a
			// wrong secret is, after the same work (the secret is
			// compared with a dummy), so that ids cannot be probed.
			s.clientSecrets.verify("", "")
			return nil, s.failedClientAuth(ctx)
		}
		return nil, clientAuthFailed(ctx, "unknown client")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return &client{c: c, idTokenLifetime: s.lifetimes.IDToken}, nil
}

// AuthorizeClientIDSecret checks a client's secret (see checkSecret). An
// unknown client is checked against nothing, in the time a wrong secret
// takes, and answered the same.
func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	if asserted(ctx, id, secret) {
		return nil // a private_key_jwt assertion authenticated it (protocolAuth)
	}
	c, err := getClient(ctx, s.store, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		c = storage.Client{ID: id}
	case err != nil:
		return serverError(err)
	}
	if !s.checkSecret(ctx, c, secret) {
		return s.failedClientAuth(ctx)
	}
	return nil
}

// --- authorization requests and codes ---

func (s *opStorage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintUserID string) (op.AuthRequest, error) {
	now := s.now()
	var locales []string
	for _, t := range req.UILocales {
		locales = append(locales, t.String())
	}
	r := storage.AuthRequest{
		ID: storage.NewID("ar"), ClientID: req.ClientID, RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce,
		Scopes: req.Scopes, ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode),
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod), Prompt: req.Prompt,
		MaxAge: req.MaxAge, LoginHint: req.LoginHint, UILocales: locales, ACRValues: req.ACRValues, HintUserID: hintUserID,
		CreatedAt: now, ExpiresAt: now.Add(s.lifetimes.AuthRequest),
	}
	if err := s.store.CreateAuthRequest(ctx, r); err != nil {
		return nil, err
	}
	return &authRequest{r}, nil
}

func (s *opStorage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.store.GetAuthRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	if !s.now().Before(r.ExpiresAt) {
		return nil, storage.ErrNotFound
	}
	return &authRequest{r}, nil
}

// AuthRequestByCode is not the path Sesame's code exchange takes (see
// Server.CodeExchange), but it is part of the interface: it answers only
// for a live, unused code.
func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.store.GetAuthRequestByCode(ctx, storage.HashToken(code))
	if err != nil {
		return nil, err
	}
	if !r.ConsumedAt.IsZero() || !s.now().Before(r.CodeExpiry) {
		return nil, storage.ErrNotFound
	}
	return &authRequest{r}, nil
}

func (s *opStorage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.saveCode(ctx, s.store, id, code)
}

// saveCode stores the hash of a request's code with tx: a transaction's
// storage.Tx, or the Store outside one.
func (s *opStorage) saveCode(ctx context.Context, tx storage.AuthRequests, id, code string) error {
	err := tx.SetCode(ctx, id, storage.HashToken(code), s.now().Add(s.lifetimes.Code))
	if errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidRequest().WithDescription("authorization request is not ready for a code")
	}
	return err
}

// DeleteAuthRequest keeps the request: after its code is exchanged it is how
// a replayed code is recognised. Garbage collection removes it.
func (s *opStorage) DeleteAuthRequest(context.Context, string) error { return nil }

// --- tokens ---

func (s *opStorage) newTokens(ctx context.Context, req op.TokenRequest, withRefresh bool) (storage.AccessToken, *storage.RefreshToken, error) {
	g, ok := req.(grantRequest)
	if !ok {
		return storage.AccessToken{}, nil, fmt.Errorf("provider: unsupported token request %T", req)
	}
	now := s.now()
	a := storage.AccessToken{ID: storage.NewID("at"), GrantID: g.grantID(), ClientID: g.GetClientID(), UserID: g.GetSubject(),
		SessionID: g.sessionID(), Scopes: g.GetScopes(), Audience: g.GetAudience(), AuthTime: g.GetAuthTime(), AMR: g.GetAMR(),
		CreatedAt: now, ExpiresAt: now.Add(s.lifetimes.AccessToken)}
	if m := memoFrom(ctx); m != nil {
		a.JKT = m.jkt // bound to the key of the request's DPoP proof
	}
	if !withRefresh {
		return a, nil, nil
	}
	r := &storage.RefreshToken{ID: storage.NewID("rt"), GrantID: a.GrantID, ClientID: a.ClientID, UserID: a.UserID,
		SessionID: a.SessionID, Scopes: a.Scopes, Audience: a.Audience, AuthTime: a.AuthTime, AMR: a.AMR,
		CreatedAt: now, ExpiresAt: now.Add(s.lifetimes.RefreshToken)}
	// For a rotation, the family keeps the scopes it was granted even when
	// this request narrowed them.
	if rr, ok := req.(*refreshRequest); ok {
		r.Scopes = rr.t.Scopes
		r.JKT = rr.t.JKT
	}
	// The company provider that authenticated the session stays with the
	// family, so that every refreshed ID token says so (claim idp).
	if p, ok := req.(interface{ idp() string }); ok {
		r.IDP = p.idp()
	}
	// So does the level its first ID token stated, for the refreshed ones.
	switch g := req.(type) {
	case *refreshRequest:
		r.ACR = g.t.ACR
	case interface{ GetACR() string }: // a code exchange, a device grant
		r.ACR = g.GetACR()
	}
	// A public client's refresh token is bound to its DPoP key (RFC 9449
	// §5): it has no other proof of being the client.
	if c, err := getClient(ctx, s.store, a.ClientID); err == nil && c.Public && a.JKT != "" {
		r.JKT = a.JKT
	}
	return a, r, nil
}

func (s *opStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, _, err := s.newTokens(ctx, req, false)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.storeTokens(ctx, req, a, nil); err != nil {
		return "", time.Time{}, err
	}
	if err := s.jwtAccessToken(ctx, a); err != nil {
		return "", time.Time{}, err
	}
	return a.ID, a.ExpiresAt, nil
}

// The code of a code exchange was consumed meanwhile, or is gone.
var (
	errCodeUsed = errors.New("provider: authorization code already used")
	errCodeGone = errors.New("provider: authorization code gone")
)

// storeTokens stores new tokens. Tokens for an authorization request are a
// code exchange's (Sesame answers only response_type=code): its code is
// consumed in the same transaction, so that it yields tokens once, and
// stays unused if they could not be stored.
func (s *opStorage) storeTokens(ctx context.Context, req op.TokenRequest, a storage.AccessToken, r *storage.RefreshToken) error {
	if d, ok := req.(*deviceRequest); ok {
		return s.storeDeviceTokens(ctx, d, a, r)
	}
	ar, ok := req.(*authRequest)
	if !ok {
		return s.store.CreateTokens(ctx, a, r)
	}
	err := s.store.Atomic(ctx, func(tx storage.Tx) error {
		if err := tx.ConsumeCode(ctx, ar.r.ID, s.now()); err != nil {
			return err
		}
		return tx.CreateTokens(ctx, a, r)
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyUsed):
		return errCodeUsed
	case errors.Is(err, storage.ErrNotFound):
		return errCodeGone
	}
	return err
}

func (s *opStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	a, r, err := s.newTokens(ctx, req, true)
	if err != nil {
		return "", "", time.Time{}, err
	}
	secret := "rt_" + storage.NewSecret()
	r.Hash = storage.HashToken(secret)
	if current == "" {
		err = s.storeTokens(ctx, req, a, r)
	} else {
		err = s.store.RotateRefreshToken(ctx, storage.HashToken(current), s.now(), a, *r)
	}
	switch {
	case errors.Is(err, errCodeUsed), errors.Is(err, errCodeGone):
		return "", "", time.Time{}, err
	case errors.Is(err, storage.ErrAlreadyUsed):
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used: every token of this grant is revoked")
	case errors.Is(err, storage.ErrNotFound):
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token revoked")
	case err != nil:
		return "", "", time.Time{}, err
	}
	if err := s.jwtAccessToken(ctx, a); err != nil {
		return "", "", time.Time{}, err
	}
	return a.ID, secret, a.ExpiresAt, nil
}

func (s *opStorage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := getRefreshToken(ctx, s.store, storage.HashToken(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown refresh token")
	} else if err != nil {
		return nil, serverError(err)
	}
	if !t.UsedAt.IsZero() {
		// Reuse of a rotated token: someone holds a copy. Revoke the family.
		if err := s.store.RevokeGrant(ctx, t.GrantID); err != nil {
			return nil, err
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token already used: every token of this grant is revoked")
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token expired")
	}
	if !boundToProof(ctx, t.JKT) {
		return nil, asOIDC(errDPoPProof, "the refresh token is bound to a DPoP key this request did not prove")
	}
	if err := s.userActive(ctx, t.UserID); err != nil {
		return nil, err
	}
	return &refreshRequest{t: t, scopes: t.Scopes}, nil
}

// serverError marks a storage failure as the server's: the client gets a
// 503 (see unavailable) and retries, instead of a refusal it would believe.
func serverError(err error) error {
	return oidc.ErrServerError().WithDescription("the service is temporarily unavailable").WithParent(err)
}

// userActive refuses tokens to a person who was disabled or removed.
func (s *opStorage) userActive(ctx context.Context, userID string) error {
	p, err := getPerson(ctx, s.store, userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && p.User.Disabled) {
		return oidc.ErrInvalidGrant().WithDescription("the account is disabled")
	}
	if err != nil {
		return serverError(err)
	}
	return nil
}

// TerminateSession is unused: Server.EndSession ends the browser session.
func (s *opStorage) TerminateSession(context.Context, string, string) error { return nil }

// refreshMarker tells RevokeToken that GetRefreshTokenInfo found a refresh token.
const refreshMarker = "refresh:"

func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	hash := storage.HashToken(token)
	t, err := s.store.GetRefreshToken(ctx, hash)
	if err != nil || t.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.UserID, refreshMarker + hash, nil
}

func (s *opStorage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if hash, ok := strings.CutPrefix(tokenOrID, refreshMarker); ok {
		if err := s.store.RevokeRefreshToken(ctx, hash); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	if userID == "" {
		return nil // not a token of ours: RFC 7009 answers 200 all the same
	}
	a, err := s.store.GetAccessToken(ctx, tokenOrID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if a.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
	}
	if err := s.store.RevokeAccessToken(ctx, a.ID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// --- keys ---

func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg, _ := ctx.Value(algKey).(jose.SignatureAlgorithm)
	if alg == "" {
		alg = Algorithms[0]
	}
	return s.keys.SigningKey(ctx, alg)
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return Algorithms, nil
}

func (s *opStorage) KeySet(ctx context.Context) ([]op.Key, error) { return s.keys.KeySet(ctx) }

// --- claims ---

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest does the work.
func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.fillUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	if g, ok := req.(grantRequest); ok && g.sessionID() != "" {
		info.AppendClaims("sid", g.sessionID())
	}
	if a, ok := req.(interface{ idp() string }); ok && a.idp() != "" {
		info.AppendClaims("idp", a.idp()) // a company's provider authenticated the session
	}
	// The library reads an acr only from an authorization request: a
	// refreshed ID token states the one its grant's first stated.
	if r, ok := req.(*refreshRequest); ok && r.t.ACR != "" {
		info.AppendClaims("acr", r.t.ACR)
	}
	return nil
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	a, err := s.liveAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if m := memoFrom(ctx); m != nil {
		m.tokenClient = a.ClientID
	}
	if !boundToProof(ctx, a.JKT) || (a.JKT != "" && !memoFrom(ctx).dpopScheme) {
		return oidc.ErrInvalidRequest().WithDescription("the access token is bound to a DPoP key this request did not prove")
	}
	return s.fillUserinfo(ctx, info, a.UserID, a.Scopes)
}

func (s *opStorage) liveAccessToken(ctx context.Context, tokenID, subject string) (storage.AccessToken, error) {
	a, err := s.store.GetAccessToken(ctx, tokenID)
	if err != nil || a.UserID != subject || !s.now().Before(a.ExpiresAt) || isClientGrant(a) {
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return a, err
		}
		return a, oidc.ErrInvalidRequest().WithDescription("access token invalid or expired")
	}
	return a, nil
}

func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	if a, err := s.store.GetAccessToken(ctx, tokenID); err == nil && isClientGrant(a) {
		return s.introspectClientToken(ctx, resp, a, subject, clientID)
	}
	a, err := s.liveAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if a.ClientID != clientID {
		return oidc.ErrInvalidRequest().WithDescription("token of another client")
	}
	if !boundToProof(ctx, a.JKT) {
		return oidc.ErrInvalidRequest().WithDescription("the access token is bound to a DPoP key this request did not prove")
	}
	if err := s.userActive(ctx, a.UserID); err != nil {
		return err
	}
	info := new(oidc.UserInfo)
	if err := s.fillUserinfo(ctx, info, a.UserID, a.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = a.Scopes
	resp.ClientID = a.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(a.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(a.CreatedAt)
	resp.Subject = a.UserID
	resp.Audience = a.Audience
	resp.Issuer = op.IssuerFromContext(ctx)
	resp.JWTID = a.ID
	if a.JKT != "" {
		resp.TokenType = tokenTypeDPoP
		resp.Claims = map[string]any{"cnf": map[string]string{"jkt": a.JKT}}
	}
	return nil
}

func (s *opStorage) fillUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	p, err := getPerson(ctx, s.store, userID)
	if err != nil {
		return err
	}
	u := p.User
	info.Subject = u.ID
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeEmail:
			info.Email = u.Email
			// Accounts are created for an address and activated from a
			// link mailed to it, or vouched for by the operator.
			info.EmailVerified = true
		case oidc.ScopeProfile:
			info.Name = u.Name
			if u.Locale != "" {
				info.Locale = oidc.NewLocale(language.Make(u.Locale))
			}
			info.UpdatedAt = oidc.FromTime(u.UpdatedAt)
		case ScopeOrganization:
			orgClaims(info, p)
		}
	}
	return nil
}

// orgClaims adds org_id, org_name, org_roles, org_status and, for French
// organizations, org_siret. A person without an organization (an operator)
// gets none.
func orgClaims(info *oidc.UserInfo, p storage.Person) {
	m, org := p.Membership, p.Organization
	if m == nil || org == nil {
		return
	}
	info.AppendClaims("org_id", org.ID)
	info.AppendClaims("org_name", org.Name)
	info.AppendClaims("org_roles", m.Roles)
	info.AppendClaims("org_status", org.Status)
	if org.SIRET != "" {
		info.AppendClaims("org_siret", org.SIRET)
	}
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("JWT client authentication is not supported")
}

func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

func (s *opStorage) Health(ctx context.Context) error { return s.store.Ping(ctx) }

// introspectClientToken answers for a client_credentials token, to the
// client it was issued to: no person, the client as subject.
func (s *opStorage) introspectClientToken(ctx context.Context, resp *oidc.IntrospectionResponse, a storage.AccessToken, subject, clientID string) error {
	if a.UserID != subject || a.ClientID != clientID || !s.now().Before(a.ExpiresAt) {
		return oidc.ErrInvalidRequest().WithDescription("access token invalid or expired")
	}
	resp.Scope = a.Scopes
	resp.ClientID = a.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(a.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(a.CreatedAt)
	resp.Subject = a.ClientID
	resp.Audience = a.Audience
	resp.Issuer = op.IssuerFromContext(ctx)
	resp.JWTID = a.ID
	return nil
}
