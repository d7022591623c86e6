package provider

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// The client_credentials grant (RFC 6749 §4.4), for the management API.
// opStorage implements op.ClientCredentialsStorage, which is how the
// library learns the grant is supported. A client gets it only when it was
// registered with it, and only the scopes it was registered with (all of
// them when it asks for none). The token is Sesame's usual opaque access
// token (the library's bearer token: its id and subject sealed), stored by
// id, so that revocation and introspection work on it as on the others;
// its subject is the client, its grant id starts with "cc_" and it
// carries no session. Such a token is never a person's: userinfo refuses
// it, introspection answers it without person claims.

var _ op.ClientCredentialsStorage = (*opStorage)(nil)

// ccGrantPrefix marks the grant id of a client_credentials token.
const ccGrantPrefix = "cc_"

func isClientGrant(a storage.AccessToken) bool { return strings.HasPrefix(a.GrantID, ccGrantPrefix) }

// ClientCredentials authenticates the client as at the token endpoint's
// other grants (the same keyed hash, the same budget of failures) and
// checks it has the grant.
func (s *opStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := getClient(ctx, s.store, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		c = storage.Client{ID: id}
	case err != nil:
		return nil, serverError(err)
	}
	if !s.checkSecret(ctx, c, secret) {
		return nil, s.failedClientAuth(ctx)
	}
	if !c.HasGrant(storage.GrantClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client_credentials grant is not registered for this client")
	}
	return &client{c: c, idTokenLifetime: s.lifetimes.IDToken}, nil
}

// ClientCredentialsTokenRequest grants the scopes asked for when the
// client was registered with each of them; none asked for is all of them.
func (s *opStorage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, err := getClient(ctx, s.store, clientID)
	if err != nil {
		return nil, serverError(err)
	}
	if len(scopes) == 0 {
		scopes = c.Scopes
	}
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not registered for this client", sc)
		}
	}
	return &clientCredentialsRequest{clientID: clientID, scopes: slices.Clone(scopes), grant: storage.NewID("cc")}, nil
}

// clientCredentialsRequest is a client_credentials token request.
type clientCredentialsRequest struct {
	clientID, grant string
	scopes          []string
}

var _ grantRequest = (*clientCredentialsRequest)(nil)

func (r *clientCredentialsRequest) GetSubject() string     { return r.clientID }
func (r *clientCredentialsRequest) GetAudience() []string  { return []string{r.clientID} }
func (r *clientCredentialsRequest) GetScopes() []string    { return r.scopes }
func (r *clientCredentialsRequest) GetAMR() []string       { return nil }
func (r *clientCredentialsRequest) GetAuthTime() time.Time { return time.Time{} }
func (r *clientCredentialsRequest) GetClientID() string    { return r.clientID }
func (r *clientCredentialsRequest) sessionID() string      { return "" }
func (r *clientCredentialsRequest) grantID() string        { return r.grant }

// ClientCredentialsExchange counts the tokens it issues.
func (s *server) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	resp, err := s.LegacyServer.ClientCredentialsExchange(ctx, r)
	if err == nil {
		s.issued("client_credentials")
	}
	return resp, err
}

// ClientGrant is what a live client_credentials access token grants.
type ClientGrant struct {
	ClientID  string
	TokenID   string
	Scopes    []string // those of the token the client still has
	ExpiresAt time.Time
}

// The refusals of ClientToken: the API answers both 401 with a Bearer
// challenge.
var (
	ErrTokenInvalid = fail.E(fail.Unauthorized, "Errors.API.TokenInvalid")
	ErrTokenMissing = fail.E(fail.Unauthorized, "Errors.API.TokenMissing")
)

// ClientToken checks a bearer token presented to the management API: one
// of our access tokens, live (not expired, not revoked), issued by the
// client_credentials grant to a client that still exists. Its scopes are
// those the client still has of the token's (a scope taken from the client
// is taken from its tokens at once). A storage failure is Internal.
func (p *Provider) ClientToken(ctx context.Context, token string) (ClientGrant, error) {
	if token == "" {
		return ClientGrant{}, ErrTokenMissing
	}
	if len(token) > 4096 {
		return ClientGrant{}, ErrTokenInvalid
	}
	plain, err := p.server.provider.Crypto().Decrypt(token)
	if err != nil {
		return ClientGrant{}, ErrTokenInvalid
	}
	id, subject, ok := strings.Cut(plain, ":")
	if !ok {
		return ClientGrant{}, ErrTokenInvalid
	}
	st := p.server.opts.Store
	a, err := st.GetAccessToken(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ClientGrant{}, ErrTokenInvalid
	case err != nil:
		return ClientGrant{}, err
	case !isClientGrant(a) || a.UserID != subject || a.ClientID != subject || !p.server.opts.Now().Before(a.ExpiresAt):
		return ClientGrant{}, ErrTokenInvalid
	}
	c, err := st.GetClient(ctx, a.ClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ClientGrant{}, ErrTokenInvalid
	case err != nil:
		return ClientGrant{}, err
	case !c.HasGrant(storage.GrantClientCredentials):
		return ClientGrant{}, ErrTokenInvalid
	}
	var scopes []string
	for _, sc := range a.Scopes {
		if slices.Contains(c.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	return ClientGrant{ClientID: c.ID, TokenID: a.ID, Scopes: scopes, ExpiresAt: a.ExpiresAt}, nil
}
