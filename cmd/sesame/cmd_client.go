package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// The client commands: relying parties.

// checkRedirectURI is login.CheckRedirectURI answered as the error of
// flagName (a redirect URI, or a URI of the protocol options: jwks-uri,
// resource, allowed-origin).
func checkRedirectURI(flagName, raw string, public bool) error {
	var fe *login.FieldError
	err := login.CheckRedirectURI(strings.ReplaceAll(flagName, "-", "_")+"s", raw, public)
	if errors.As(err, &fe) {
		return badFlag(flagName, "%s", fe.Problem)
	}
	return err
}

// clientFlags names the flag of each field of the client rules (and of a
// new organization's).
var clientFlags = map[string]string{"id": "id", "name": "name", "public": "public", "secret": "secret",
	"allow_no_pkce": "allow-no-pkce", "id_token_signed_response_alg": "id-token-signed-response-alg",
	"grants": "grant", "scopes": "scope", "redirect_uris": "redirect-uri",
	"post_logout_redirect_uris": "post-logout-redirect-uri", "backchannel_logout_uri": "backchannel-logout-uri",
	"siret": "siret", "country": "country", // and org create's
	// the protocol options (login.CheckProtocol)
	"token_endpoint_auth_method": "auth", "jwks": "jwks-file", "jwks_uri": "jwks-uri", "access_token_format": "access-token-format",
	"resource": "resource", "allowed_origins": "allowed-origin"}

// flagError answers a refusal of the shared rules (login.FieldError) as
// its flag's error.
func flagError(err error) error {
	var fe *login.FieldError
	if errors.As(err, &fe) {
		if flag, ok := clientFlags[fe.Field]; ok {
			return badFlag(flag, "%s", fe.Problem)
		}
	}
	return err
}

type clientJSON struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	Public                 bool     `json:"public"`
	Secret                 string   `json:"secret,omitempty"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	AllowNoPKCE            bool     `json:"allow_no_pkce"`
	IDTokenSignedAlg       string   `json:"id_token_signed_response_alg,omitempty"`
	Grants                 []string `json:"grants"`
	Scopes                 []string `json:"scopes,omitempty"`
	CreatedAt              string   `json:"created_at"`
	protocolJSON
}

func toClientJSON(cl storage.Client) clientJSON {
	return clientJSON{ID: cl.ID, Name: cl.Name, Public: cl.Public, RedirectURIs: cl.RedirectURIs,
		PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs, AllowNoPKCE: cl.AllowNoPKCE, IDTokenSignedAlg: cl.IDTokenSignedAlg,
		Grants: cl.GrantTypes(), Scopes: cl.Scopes, CreatedAt: ts(cl.CreatedAt), protocolJSON: toProtocolJSON(cl)}
}

func clientAdd(fs *cliflag.Set) action {
	id := fs.String("id", "", "ID", "the client id: 1 to 64 letters, digits, dots, dashes or underscores")
	secret := fs.String("secret", "", "SECRET", "the client secret, at least 32 characters (default: one is generated and shown once)")
	public := fs.Bool("public", "a public (native or browser) client: no secret, always PKCE")
	name := fs.String("name", "", "NAME", "the name shown to people (default: the id)")
	allowNoPKCE := fs.Bool("allow-no-pkce", "let a confidential client leave PKCE out")
	alg := fs.String("id-token-signed-response-alg", "", "ALG", "sign its ID tokens with RS256, ES256 or EdDSA (default RS256)")
	bcl := fs.String("backchannel-logout-uri", "", "URI", "where to post logout tokens")
	proto := protocolFlags(fs)
	var redirects, postLogout, grants, scopes []string
	fs.StringsVar(&redirects, "redirect-uri", "URI", "an allowed redirect URI (https, http on loopback, a custom scheme for public clients)")
	fs.StringsVar(&postLogout, "post-logout-redirect-uri", "URI", "an allowed post-logout redirect URI")
	fs.StringsVar(&grants, "grant", "GRANT", "a grant: authorization_code (the default, with refresh_token), client_credentials (the management API: no redirect URI) or device_code (RFC 8628, for command-line tools and TVs: no redirect URI; typically with --public)")
	fs.StringsVar(&scopes, "scope", "SCOPE", "a management API scope for client_credentials: "+strings.Join(vocab.APIScopes, ", "))
	return func(ctx context.Context, c *cli, args []string) error {
		cl := storage.Client{ID: *id, Name: *name, Public: *public, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
			AllowNoPKCE: *allowNoPKCE, IDTokenSignedAlg: *alg, BackchannelLogoutURI: *bcl, Grants: grants, Scopes: scopes}
		if err := proto.apply(&cl); err != nil {
			return err
		}
		if err := checkProtocol(cl, *secret); err != nil {
			return err
		}
		if err := flagError(login.CheckClient(cl, *secret)); err != nil {
			return err
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		return registerClient(ctx, c, m, cl, *secret)
	}
}

// registerClient stores a checked client (login.CheckClient) under the
// rules every door shares (Accounts.RegisterClient), with its secret or
// one generated and shown once, and prints it.
func registerClient(ctx context.Context, c *cli, m *Main, cl storage.Client, secret string) error {
	cl, generated, err := m.Accounts.RegisterClient(ctx, login.Actor{ID: "cli", Operator: true}, cl, secret)
	if err != nil {
		return flagError(err)
	}
	out := toClientJSON(cl)
	out.Secret = generated
	if generated != "" && !c.json {
		fmt.Fprintf(c.stderr, "client secret (shown once, store it now): %s\n", generated)
	}
	return c.printCreated(cl.ID, out)
}

func clientList(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		list, err := m.Store.ListClients(ctx)
		if err != nil {
			return err
		}
		if c.json {
			out := []clientJSON{}
			for _, cl := range list {
				out = append(out, toClientJSON(cl))
			}
			return c.printJSON(out)
		}
		var rows [][]string
		for _, cl := range list {
			kind := "confidential"
			if cl.Public {
				kind = "public"
			}
			rows = append(rows, []string{cl.ID, cl.Name, kind, strings.Join(cl.RedirectURIs, " ")})
		}
		return c.table("ID\tNAME\tTYPE\tREDIRECT URIS", rows)
	}
}

func clientRemove(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		id := args[0]
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		if err := m.Accounts.RemoveClient(ctx, login.Actor{ID: "cli", Operator: true}, id, nil); errors.Is(err, login.ErrNoClient) {
			return badArg("no client %q", id)
		} else if err != nil {
			return err
		}
		return nil
	}
}
