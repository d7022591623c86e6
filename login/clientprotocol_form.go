package login

import (
	"net/http"
	"strings"

	"github.com/sesame-idp/sesame/storage"
)

// The protocol options on the console's Applications form (issue 18), the
// command line's and the API's: how the client authenticates
// (private_key_jwt and its keys, pasted or by URL), PAR and DPoP
// required, the access token format and its audience, browser origins.
// The form reads them; the rules are CheckProtocol's (through
// RegisterClient), the key set's and origins' parsing the provider's
// (Accounts.ParseClientKeys, Accounts.NormalizeOrigin).

// protocolForm is the form's options, kept after a refusal.
type protocolForm struct {
	Auth, JWKS, JWKSURI, Format, Resource, Origins string
	PAR, DPoP                                      bool
}

// open says whether the options' part of the form starts unfolded (some
// option set).
func (f protocolForm) Open() bool {
	return f.Auth != "" || f.JWKS != "" || f.JWKSURI != "" || f.Format != "" || f.Resource != "" || f.Origins != "" || f.PAR || f.DPoP
}

func readProtocolForm(r *http.Request) protocolForm {
	cut := func(name string, n int) string {
		v := strings.TrimSpace(r.PostFormValue(name))
		if len(v) > n {
			v = v[:n]
		}
		return v
	}
	f := protocolForm{Auth: cut("auth_method", 40), JWKS: cut("jwks", 40<<10), JWKSURI: cut("jwks_uri", 2000),
		Format: cut("access_token_format", 20), Resource: cut("resource", 2000), Origins: cut("allowed_origins", 8000),
		PAR: r.PostFormValue("require_par") != "", DPoP: r.PostFormValue("require_dpop") != ""}
	if f.Auth == "client_secret_basic" {
		f.Auth = ""
	}
	if f.Format == "opaque" {
		f.Format = ""
	}
	return f
}

// applyProtocolForm parses the form's options into p; a refusal names its
// field as the API does.
func (a *Accounts) applyProtocolForm(f protocolForm, p *storage.ClientProtocol) error {
	p.AuthMethod, p.JWKSURI, p.AccessTokenFormat, p.Resource = f.Auth, f.JWKSURI, f.Format, f.Resource
	p.RequirePAR, p.RequireDPoP = f.PAR, f.DPoP
	if f.JWKS != "" {
		if a.ParseClientKeys == nil {
			return fieldErr("jwks", "Errors.Clients.Keys", "keys cannot be read here")
		}
		compact, err := a.ParseClientKeys([]byte(f.JWKS))
		if err != nil {
			return fieldErr("jwks", "Errors.Clients.Keys", "%v", err)
		}
		p.JWKS = compact
	}
	for _, raw := range lines(f.Origins) {
		o, ok := "", false
		if a.NormalizeOrigin != nil {
			o, ok = a.NormalizeOrigin(raw)
		}
		if !ok {
			return fieldErr("allowed_origins", "Errors.Clients.Origin", "%q is not an origin (scheme://host[:port], no path)", raw)
		}
		p.AllowedOrigins = append(p.AllowedOrigins, o)
	}
	return nil
}
