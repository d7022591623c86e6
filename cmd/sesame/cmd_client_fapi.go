package main

import (
	"encoding/json"
	"os"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
)

// The client options of the protocol's extensions (issue 18): how the
// client authenticates (private_key_jwt and its keys), PAR and DPoP
// required, the access token format.

type clientProtocolFlags struct {
	auth, jwksFile, jwksURI, tokenFormat, resource *string
	requirePAR, requireDPoP                        *bool
	thirdParty                                     *bool
	origins                                        []string
}

func protocolFlags(fs *cliflag.Set) *clientProtocolFlags {
	f := &clientProtocolFlags{
		auth:        fs.String("auth", "", "METHOD", "how a confidential client authenticates: client_secret_basic (default) or private_key_jwt"),
		jwksFile:    fs.String("jwks-file", "", "FILE", "private_key_jwt: a file holding the client's public keys (a JWK set)"),
		jwksURI:     fs.String("jwks-uri", "", "URL", "private_key_jwt: where the client publishes its public keys"),
		requirePAR:  fs.Bool("require-par", "refuse its authorization requests unless pushed first (PAR, RFC 9126)"),
		requireDPoP: fs.Bool("require-dpop", "issue it tokens only bound to a DPoP key (RFC 9449)"),
		tokenFormat: fs.String("access-token-format", "", "FORMAT", "opaque (default) or jwt (RFC 9068, for APIs that check tokens themselves)"),
		resource:    fs.String("resource", "", "URI", "the audience of its JWT access tokens (default: the client id)"),
		thirdParty:  fs.Bool("third-party", "an application of another company: people are asked their consent before it gets anything"),
	}
	fs.StringsVar(&f.origins, "allowed-origin", "URL", "a browser origin (https://app.example) that may call the token, userinfo and revocation endpoints (CORS)")
	return f
}

// apply puts the options in cl.Protocol, reading the key file; a refusal
// names its flag.
func (f *clientProtocolFlags) apply(cl *storage.Client) error {
	p := &cl.Protocol
	switch *f.auth {
	case "", "client_secret_basic", "client_secret_post":
	case provider.AuthPrivateKeyJWT:
		p.AuthMethod = provider.AuthPrivateKeyJWT
	default:
		return badFlag("auth", "must be client_secret_basic or private_key_jwt")
	}
	if *f.jwksFile != "" {
		raw, err := os.ReadFile(*f.jwksFile)
		if err != nil {
			return badFlag("jwks-file", "cannot read %s", *f.jwksFile)
		}
		set, err := provider.ParseClientJWKS(raw)
		if err != nil {
			return badFlag("jwks-file", "%v", err)
		}
		compact, _ := json.Marshal(set)
		p.JWKS = string(compact)
	}
	p.JWKSURI = *f.jwksURI
	p.RequirePAR, p.RequireDPoP = *f.requirePAR, *f.requireDPoP
	switch *f.tokenFormat {
	case "", "opaque":
	case "jwt":
		p.AccessTokenFormat = "jwt"
	default:
		return badFlag("access-token-format", "must be opaque or jwt")
	}
	p.Resource = *f.resource
	if *f.thirdParty && !cl.HasGrant(storage.GrantAuthorizationCode) {
		return badFlag("third-party", "consent is asked of people signing in: the client needs the authorization_code grant")
	}
	p.ThirdParty = *f.thirdParty
	for _, raw := range f.origins {
		origin, ok := provider.NormalizeOrigin(raw)
		if !ok {
			return badFlag("allowed-origin", "%q is not an origin (scheme://host[:port], no path)", raw)
		}
		if err := checkRedirectURI("allowed-origin", origin, false); err != nil {
			return err
		}
		p.AllowedOrigins = append(p.AllowedOrigins, origin)
	}
	return nil
}

// checkProtocol refuses option combinations that make no sense: the
// rules every door shares (login.CheckProtocol), answered as flags.
func checkProtocol(cl storage.Client, secret string) error {
	return flagError(login.CheckProtocol(cl, secret))
}

// protocolJSON is what `client add/list --json` show of the options, in
// the names of OAuth dynamic client registration (RFC 7591, RFC 9126,
// RFC 9449).
type protocolJSON struct {
	AuthMethod        string   `json:"token_endpoint_auth_method"`
	JWKSURI           string   `json:"jwks_uri,omitempty"`
	HasJWKS           bool     `json:"jwks_registered,omitempty"`
	RequirePAR        bool     `json:"require_pushed_authorization_requests"`
	RequireDPoP       bool     `json:"dpop_bound_access_tokens"`
	AccessTokenFormat string   `json:"access_token_format"`
	Resource          string   `json:"resource,omitempty"`
	AllowedOrigins    []string `json:"allowed_origins,omitempty"`
	ThirdParty        bool     `json:"third_party"`
}

func toProtocolJSON(cl storage.Client) protocolJSON {
	p := cl.Protocol
	out := protocolJSON{AuthMethod: "client_secret_basic", JWKSURI: p.JWKSURI, HasJWKS: p.JWKS != "", RequirePAR: p.RequirePAR,
		RequireDPoP: p.RequireDPoP, AccessTokenFormat: "opaque", Resource: p.Resource,
		AllowedOrigins: p.AllowedOrigins, ThirdParty: p.ThirdParty}
	switch {
	case p.AuthMethod != "":
		out.AuthMethod = p.AuthMethod
	case cl.Public:
		out.AuthMethod = "none"
	}
	if p.AccessTokenFormat != "" {
		out.AccessTokenFormat = p.AccessTokenFormat
	}
	return out
}
