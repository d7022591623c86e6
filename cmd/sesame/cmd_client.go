package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
)

// The client commands: relying parties.

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkRedirectURI applies the registration policy: absolute, no fragment,
// https, or http on a loopback host, or a custom scheme for public (native)
// clients.
func checkRedirectURI(flagName, raw string, public bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return badFlag(flagName, "%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return badFlag(flagName, "%q must not have a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return badFlag(flagName, "%q has no host", raw)
		}
	case "http":
		if !config.IsLoopbackHost(u.Hostname()) {
			return badFlag(flagName, "%q must use https (http is only for localhost)", raw)
		}
	default:
		if !public {
			return badFlag(flagName, "%q: custom schemes are only for public (native) clients", raw)
		}
	}
	return nil
}

// checkClient refuses a client the registration policy does not allow.
func checkClient(cl storage.Client, secret string) error {
	switch {
	case cl.ID == "":
		return badFlag("id", "is required")
	case !clientIDPattern.MatchString(cl.ID):
		return badFlag("id", "use 1 to 64 letters, digits, dots, dashes or underscores")
	case cl.Public && secret != "":
		return badFlag("public", "cannot be combined with --secret")
	case cl.Public && cl.AllowNoPKCE:
		return badFlag("allow-no-pkce", "is only for confidential clients (public clients always use PKCE)")
	case secret != "" && len(secret) < provider.MinClientSecretLength:
		// It is verified with a fast keyed hash, as the generated ones
		// (256 random bits) are: it must not be guessable.
		return badFlag("secret", "must be at least %d characters (or leave it out: one is generated)", provider.MinClientSecretLength)
	case len(cl.RedirectURIs) == 0:
		return badFlag("redirect-uri", "is required")
	case cl.IDTokenSignedAlg != "" && !slices.Contains(provider.Algorithms, jose.SignatureAlgorithm(cl.IDTokenSignedAlg)):
		return badFlag("id-token-signed-response-alg", "must be RS256, ES256 or EdDSA")
	}
	for _, u := range cl.RedirectURIs {
		if err := checkRedirectURI("redirect-uri", u, cl.Public); err != nil {
			return err
		}
	}
	for _, u := range cl.PostLogoutRedirectURIs {
		if err := checkRedirectURI("post-logout-redirect-uri", u, cl.Public); err != nil {
			return err
		}
	}
	if cl.BackchannelLogoutURI != "" {
		if err := checkRedirectURI("backchannel-logout-uri", cl.BackchannelLogoutURI, false); err != nil {
			return err
		}
	}
	return checkProtocol(cl, secret)
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
	CreatedAt              string   `json:"created_at"`
	protocolJSON
}

func toClientJSON(cl storage.Client) clientJSON {
	return clientJSON{ID: cl.ID, Name: cl.Name, Public: cl.Public, RedirectURIs: cl.RedirectURIs,
		PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs, AllowNoPKCE: cl.AllowNoPKCE, IDTokenSignedAlg: cl.IDTokenSignedAlg,
		CreatedAt: ts(cl.CreatedAt), protocolJSON: toProtocolJSON(cl)}
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
	var redirects, postLogout []string
	fs.StringsVar(&redirects, "redirect-uri", "URI", "an allowed redirect URI (https, http on loopback, a custom scheme for public clients)")
	fs.StringsVar(&postLogout, "post-logout-redirect-uri", "URI", "an allowed post-logout redirect URI")
	return func(ctx context.Context, c *cli, args []string) error {
		cl := storage.Client{ID: *id, Name: *name, Public: *public, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
			AllowNoPKCE: *allowNoPKCE, IDTokenSignedAlg: *alg, BackchannelLogoutURI: *bcl}
		if err := proto.apply(&cl); err != nil {
			return err
		}
		if err := checkClient(cl, *secret); err != nil {
			return err
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		generated := ""
		keyed := cl.Protocol.AuthMethod == provider.AuthPrivateKeyJWT
		if !*public && !keyed && *secret == "" {
			generated = storage.NewSecret()
			*secret = generated
		}
		cl.CreatedAt = m.Now()
		if cl.Name == "" {
			cl.Name = cl.ID
		}
		if !*public && !keyed {
			if cl.SecretHash, err = provider.HashClientSecret(m.MasterKey, *secret); err != nil {
				return err
			}
		}
		if err := m.Store.CreateClient(ctx, cl); errors.Is(err, storage.ErrConflict) {
			return badFlag("id", "a client %q already exists", *id)
		} else if err != nil {
			return err
		}
		cliAudit(ctx, m, "client.created", "client", cl.ID, "redirect_uris="+strings.Join(cl.RedirectURIs, " "))
		out := toClientJSON(cl)
		out.Secret = generated
		if generated != "" && !c.json {
			fmt.Fprintf(c.stderr, "client secret (shown once, store it now): %s\n", generated)
		}
		return c.printCreated(cl.ID, out)
	}
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
		if err := m.Store.DeleteClient(ctx, id); errors.Is(err, storage.ErrNotFound) {
			return badArg("no client %q", id)
		} else if err != nil {
			return err
		}
		cliAudit(ctx, m, "client.removed", "client", id, "")
		return nil
	}
}
