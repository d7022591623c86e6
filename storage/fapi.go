package storage

import (
	"context"
	"time"
)

// ClientProtocol is what a client chose of the protocol beyond the
// authorization-code flow with a secret: how it authenticates, whether it
// must push its requests (PAR) and bind its tokens (DPoP), the format of
// its access tokens, whether it is a third party, and the
// browser origins it calls from. The zero value is a first-party client
// authenticating with its secret (or none, for a public client), opaque
// access tokens, the code and refresh grants. It is stored as one JSON
// value (clients.protocol) so that an option added later is a field, not a
// migration.
type ClientProtocol struct {
	// AuthMethod is "" (client_secret_basic/post, or none for a public
	// client) or "private_key_jwt".
	AuthMethod string `json:"auth_method,omitempty"`
	// JWKS is the client's public key set (a JWK Set in JSON), or JWKSURI
	// where to fetch it, for private_key_jwt.
	JWKS    string `json:"jwks,omitempty"`
	JWKSURI string `json:"jwks_uri,omitempty"`
	// RequirePAR refuses a plain authorization request (RFC 9126 §5).
	RequirePAR bool `json:"require_par,omitempty"`
	// RequireDPoP refuses a token request without a DPoP proof (RFC 9449).
	RequireDPoP bool `json:"require_dpop,omitempty"`
	// AccessTokenFormat is "" (opaque) or "jwt" (RFC 9068).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// Resource is the audience of its JWT access tokens ("" : its id).
	Resource string `json:"resource,omitempty"`
	// ThirdParty clients ask the person's consent.
	ThirdParty bool `json:"third_party,omitempty"`
	// AllowedOrigins may call the token, userinfo and revocation
	// endpoints from a browser (CORS).
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
}

// AuthPrivateKeyJWT is the AuthMethod of a client that authenticates with
// a signed assertion (RFC 7523): it has keys, never a secret.
const AuthPrivateKeyJWT = "private_key_jwt"

// KeyedAuth says whether the client authenticates with its keys.
func (p ClientProtocol) KeyedAuth() bool { return p.AuthMethod == AuthPrivateKeyJWT }

// PushedRequest is a pushed authorization request (RFC 9126): the
// parameters a client posted, found again by the hash of the request_uri
// it received, once, until it expires.
type PushedRequest struct {
	Hash      string // storage.HashToken of the request_uri
	ClientID  string
	Params    string // the authorization parameters, URL-encoded
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Protocol stores what the protocol's extensions need between requests:
// pushed authorization requests and the identifiers a client may use once
// (a private_key_jwt assertion's jti, a DPoP proof's jti), shared by every
// replica.
type Protocol interface {
	CreatePushedRequest(ctx context.Context, p PushedRequest) error
	// TakePushedRequest returns client's request whose request_uri hashes
	// to hash and deletes it, in one statement: a request_uri works once.
	// ErrNotFound when it is unknown, another client's, already taken, or
	// expired at now (another client's is left alone).
	TakePushedRequest(ctx context.Context, clientID, hash string, now time.Time) (PushedRequest, error)
	// UseOnce records key as used until expiresAt. ErrAlreadyUsed when
	// key was recorded before and has not expired at now.
	UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error
}
