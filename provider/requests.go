package provider

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// authRequest adapts storage.AuthRequest to op.AuthRequest.
type authRequest struct{ r storage.AuthRequest }

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string { return a.r.ID }
func (a *authRequest) GetACR() string {
	passkey := slices.Contains(a.r.AMR, vocab.AMRHWK) || slices.Contains(a.r.AMR, vocab.AMRSWK)
	if passkey && slices.Contains(a.r.ACRValues, vocab.ACRPasskey) {
		return vocab.ACRPasskey
	}
	if slices.Contains(a.r.AMR, vocab.AMRMFA) {
		return vocab.ACRMFA
	}
	return vocab.ACRPassword
}
func (a *authRequest) GetAMR() []string       { return a.r.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a *authRequest) GetClientID() string    { return a.r.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.r.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.r.ResponseMode) }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.r.UserID }
func (a *authRequest) Done() bool                         { return a.r.Done && a.r.Error == "" }

// sessionID and grantID travel with a request into the tokens it yields.
func (a *authRequest) sessionID() string { return a.r.SessionID }
func (a *authRequest) grantID() string   { return a.r.ID }

// idp is the company provider that authenticated the session, if any.
func (a *authRequest) idp() string { return a.r.IDP }

// refreshRequest adapts a stored refresh token to op.RefreshTokenRequest.
type refreshRequest struct {
	t      storage.RefreshToken
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string            { return r.t.Audience }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.t.UserID }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }
func (r *refreshRequest) sessionID() string                { return r.t.SessionID }
func (r *refreshRequest) grantID() string                  { return r.t.GrantID }

// idp is the company provider that authenticated the grant's session, if any.
func (r *refreshRequest) idp() string { return r.t.IDP }

// grantRequest is what both adapters share for token bookkeeping.
type grantRequest interface {
	op.TokenRequest
	GetAMR() []string
	GetAuthTime() time.Time
	GetClientID() string
	sessionID() string
	grantID() string
}
