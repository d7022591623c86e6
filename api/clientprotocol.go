package api

import (
	"encoding/json"

	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
)

// A client's protocol options (issue 18) in the API, named as in OAuth
// dynamic client registration (RFC 7591, RFC 9126, RFC 9449) like the
// command line's --json. The input is parsed here as the command line
// parses its flags (provider.ParseClientJWKS, provider.NormalizeOrigin);
// the rules are login.CheckProtocol's, applied by login.CheckClient on
// every registration and update.

// protocolIn is the protocol options of a create or an update body: nil
// leaves an option as it is.
type protocolIn struct {
	Auth, Format        *string
	JWKS                *map[string]any
	JWKSURI, Resource   *string
	PAR, DPoP, ThirdPty *bool
	Origins             *[]string
}

func protocolOfCreate(b *ClientCreate) protocolIn {
	return protocolIn{Auth: (*string)(b.TokenEndpointAuthMethod), Format: (*string)(b.AccessTokenFormat), JWKS: b.Jwks,
		JWKSURI: b.JwksUri, Resource: b.Resource, PAR: b.RequirePushedAuthorizationRequests, DPoP: b.DpopBoundAccessTokens,
		ThirdPty: b.ThirdParty, Origins: b.AllowedOrigins}
}

func protocolOfUpdate(b *ClientUpdate) protocolIn {
	return protocolIn{Auth: (*string)(b.TokenEndpointAuthMethod), Format: (*string)(b.AccessTokenFormat), JWKS: b.Jwks,
		JWKSURI: b.JwksUri, Resource: b.Resource, PAR: b.RequirePushedAuthorizationRequests, DPoP: b.DpopBoundAccessTokens,
		ThirdPty: b.ThirdParty, Origins: b.AllowedOrigins}
}

// parse reads what needs reading (the key set, the origins), before the
// transaction; a refusal names its field.
func (in protocolIn) parse() (jwks string, origins []string, err error) {
	if in.JWKS != nil {
		raw, _ := json.Marshal(*in.JWKS)
		set, err := provider.ParseClientJWKS(raw)
		if err != nil {
			return "", nil, &login.FieldError{Field: "jwks", Problem: err.Error(), Err: errKeys}
		}
		compact, _ := json.Marshal(set)
		jwks = string(compact)
	}
	if in.Origins != nil {
		origins = []string{}
		for _, raw := range *in.Origins {
			o, ok := provider.NormalizeOrigin(raw)
			if !ok {
				return "", nil, &login.FieldError{Field: "allowed_origins", Problem: "\"" + raw + "\" is not an origin (scheme://host[:port], no path)", Err: errOrigin}
			}
			origins = append(origins, o)
		}
	}
	return jwks, origins, nil
}

// apply sets the options given on p (jwks and origins parsed).
func (in protocolIn) apply(p *storage.ClientProtocol, jwks string, origins []string) {
	if in.Auth != nil {
		p.AuthMethod = *in.Auth
		if p.AuthMethod == "client_secret_basic" {
			p.AuthMethod = ""
		}
		if !p.KeyedAuth() && in.JWKS == nil && in.JWKSURI == nil {
			p.JWKS, p.JWKSURI = "", "" // back to a secret: the keys go
		}
	}
	// One key set replaces the other; both in one request are refused
	// by the rules (exactly one).
	if in.JWKS != nil {
		p.JWKS = jwks
		if in.JWKSURI == nil {
			p.JWKSURI = ""
		}
	}
	if in.JWKSURI != nil {
		p.JWKSURI = *in.JWKSURI
		if in.JWKS == nil && p.JWKSURI != "" {
			p.JWKS = ""
		}
	}
	if in.Format != nil {
		p.AccessTokenFormat = *in.Format
		if p.AccessTokenFormat == "opaque" {
			p.AccessTokenFormat = ""
		}
	}
	if in.Resource != nil {
		p.Resource = *in.Resource
	}
	if in.PAR != nil {
		p.RequirePAR = *in.PAR
	}
	if in.DPoP != nil {
		p.RequireDPoP = *in.DPoP
	}
	if in.ThirdPty != nil {
		p.ThirdParty = *in.ThirdPty
	}
	if in.Origins != nil {
		p.AllowedOrigins = origins
	}
}

// toProtocol fills the representation's protocol options.
func toProtocol(out *Client, c storage.Client) {
	p := c.Protocol
	out.TokenEndpointAuthMethod = "client_secret_basic"
	switch {
	case p.AuthMethod != "":
		out.TokenEndpointAuthMethod = ClientTokenEndpointAuthMethod(p.AuthMethod)
	case c.Public:
		out.TokenEndpointAuthMethod = "none"
	}
	if p.JWKS != "" {
		var set map[string]any
		if json.Unmarshal([]byte(p.JWKS), &set) == nil {
			out.Jwks = &set
		}
	}
	out.JwksUri, out.Resource = opt(p.JWKSURI), opt(p.Resource)
	out.RequirePushedAuthorizationRequests, out.DpopBoundAccessTokens, out.ThirdParty = p.RequirePAR, p.RequireDPoP, p.ThirdParty
	out.AccessTokenFormat = "opaque"
	if p.AccessTokenFormat != "" {
		out.AccessTokenFormat = ClientAccessTokenFormat(p.AccessTokenFormat)
	}
	out.AllowedOrigins = nonNil(p.AllowedOrigins)
}
