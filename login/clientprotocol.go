package login

import (
	"slices"

	"github.com/sesame-idp/sesame/storage"
)

// The rules of a client's protocol options (issue 18: private_key_jwt and
// its keys, PAR, DPoP, JWT access tokens, browser origins), shared by the
// command line, the management API and the console's Applications page:
// CheckClient applies them, so every registration and update does. Each
// door parses its own input first (a key file, a JWK set in JSON, an
// origin: provider.ParseClientJWKS and provider.NormalizeOrigin); the
// refusals name the fields as the API does (token_endpoint_auth_method,
// jwks, jwks_uri, access_token_format, resource, allowed_origins), and
// the command line maps them to its flags.

// Client authentication methods a client may be registered with ("" is
// client_secret_basic/post, or none for a public client).
var ClientAuthMethods = []string{"", storage.AuthPrivateKeyJWT}

// AccessTokenFormats are the formats of a client's access tokens ("" is
// opaque).
var AccessTokenFormats = []string{"", "jwt"}

// CheckProtocol refuses protocol options that make no sense together;
// secret is one the operator chose ("" when one is generated).
func CheckProtocol(c storage.Client, secret string) error {
	p := c.Protocol
	keyed := p.KeyedAuth()
	switch {
	case !slices.Contains(ClientAuthMethods, p.AuthMethod):
		return fieldErr("token_endpoint_auth_method", "Errors.Clients.Auth", "must be client_secret_basic or private_key_jwt")
	case !slices.Contains(AccessTokenFormats, p.AccessTokenFormat):
		return fieldErr("access_token_format", "Errors.Clients.TokenFormat", "must be opaque or jwt")
	case keyed && c.Public:
		return fieldErr("token_endpoint_auth_method", "Errors.Clients.Auth", "private_key_jwt is for confidential clients, not public ones")
	case keyed && secret != "":
		return fieldErr("secret", "Errors.Clients.Auth", "a private_key_jwt client has no secret")
	case keyed && (p.JWKS == "") == (p.JWKSURI == ""):
		return fieldErr("token_endpoint_auth_method", "Errors.Clients.Keys", "private_key_jwt needs exactly one key set: jwks (--jwks-file) or jwks_uri (--jwks-uri)")
	case !keyed && p.JWKS != "":
		return fieldErr("jwks", "Errors.Clients.Keys", "keys are for private_key_jwt clients")
	case !keyed && p.JWKSURI != "":
		return fieldErr("jwks_uri", "Errors.Clients.Keys", "keys are for private_key_jwt clients")
	case p.Resource != "" && p.AccessTokenFormat != "jwt":
		return fieldErr("resource", "Errors.Clients.TokenFormat", "is the audience of JWT access tokens: set the access token format to jwt")
	case len(p.AllowedOrigins) > 20:
		return fieldErr("allowed_origins", "Errors.Clients.Origin", "at most 20")
	case len(p.JWKS) > 32<<10:
		return fieldErr("jwks", "Errors.Clients.Keys", "at most 32 KiB")
	}
	if p.JWKSURI != "" {
		if err := CheckRedirectURI("jwks_uri", p.JWKSURI, false); err != nil {
			return err
		}
	}
	if p.Resource != "" {
		if err := CheckRedirectURI("resource", p.Resource, false); err != nil {
			return err
		}
	}
	for _, o := range p.AllowedOrigins {
		if err := CheckRedirectURI("allowed_origins", o, false); err != nil {
			return err
		}
	}
	return nil
}
