package provider

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// Scopes Sesame knows. "organization" adds the org_* claims.
const ScopeOrganization = "organization"

// SupportedScopes are advertised in discovery.
var SupportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, ScopeOrganization}

// client adapts storage.Client to op.Client.
type client struct {
	c               storage.Client
	idTokenLifetime time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType is native for a public client, web for the others. The
// library refuses a custom-scheme redirect URI (com.example.app:/cb) to a
// web client, and registration allows one only to public clients (RFC 8252
// §7.1). Redirect URIs were vetted at registration and are matched exactly
// before the library sees them (checkAuthorizeTarget), so the port-blind
// loopback match the library allows native clients is never reached.
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Protocol.AuthMethod == AuthPrivateKeyJWT {
		return oidc.AuthMethodPrivateKeyJWT
	}
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes are the client's registered grants; the authorization code
// brings refresh tokens with it.
func (c *client) GrantTypes() []oidc.GrantType {
	var out []oidc.GrantType
	for _, g := range c.c.GrantTypes() {
		out = append(out, deviceGrant(g))
	}
	if (c.c.HasGrant(storage.GrantAuthorizationCode) || c.c.HasGrant(storage.GrantDeviceCode)) && !c.c.HasGrant(storage.GrantRefreshToken) {
		out = append(out, oidc.GrantTypeRefreshToken)
	}
	return out
}
func (c *client) LoginURL(id string) string {
	return vocab.LoginURL(id)
}
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return c.idTokenLifetime }

// DevMode lets http loopback redirect URIs through the library's scheme
// policy: registration allows http only for loopback hosts, and the exact
// match is checked first.
func (c *client) DevMode() bool { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool { return slices.Contains(SupportedScopes, scope) }

// IDTokenUserinfoClaimsAssertion puts email, name and the organization in
// the ID token itself, as relying parties of the marketplace expect.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// RedirectURIRegistered is the exact match Sesame applies.
func RedirectURIRegistered(c storage.Client, uri string) bool {
	return uri != "" && slices.Contains(c.RedirectURIs, uri)
}
