package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/sso"
	"github.com/sesame-idp/sesame/storage"
)

// The org domain and org sso commands: company sign-in, for the operator.
// The rules are login.CompanySignIn's, shared with the admins' screens;
// every change is audited with the actor "cli".

var cliOperator = login.Actor{ID: "cli", Operator: true}

type domainJSON struct {
	OrgID      string `json:"org_id"`
	Domain     string `json:"domain"`
	Verified   bool   `json:"verified"`
	RecordName string `json:"record_name"`
	RecordType string `json:"record_type"`
	Value      string `json:"value"`
	Record     string `json:"record"`
	CreatedAt  string `json:"created_at"`
	VerifiedAt string `json:"verified_at,omitempty"`
	CheckedAt  string `json:"checked_at,omitempty"`
}

func toDomainJSON(d storage.Domain) domainJSON {
	j := domainJSON{OrgID: d.OrgID, Domain: d.Name, Verified: d.Verified(), RecordName: domains.RecordName(d.Name),
		RecordType: "TXT", Value: d.Challenge, Record: domains.Record(d.Name, d.Challenge), CreatedAt: ts(d.CreatedAt)}
	if d.Verified() {
		j.VerifiedAt = ts(d.VerifiedAt)
	}
	if !d.CheckedAt.IsZero() {
		j.CheckedAt = ts(d.CheckedAt)
	}
	return j
}

// orgArg opens the store and checks that the organization exists.
func orgArg(ctx context.Context, c *cli, id string) (*Main, error) {
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return nil, err
	}
	if _, err := m.Store.GetOrganization(ctx, id); errors.Is(err, storage.ErrNotFound) {
		m.Close()
		return nil, badArg("no organization %q", id)
	} else if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// checkDomainArg refuses a malformed or public domain before anything opens.
func checkDomainArg(s string) error {
	d, err := domains.Normalize(s)
	if err != nil {
		return badArg("%q is not a domain name", s)
	}
	if domains.Public(d) {
		return badArg("%s is a public mail domain: no organization can claim it", d)
	}
	return nil
}

func orgDomainAdd(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		if err := checkDomainArg(args[1]); err != nil {
			return err
		}
		m, err := orgArg(ctx, c, args[0])
		if err != nil {
			return err
		}
		defer m.Close()
		d, err := m.Companies.AddDomain(ctx, cliOperator, args[0], args[1])
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(toDomainJSON(d))
		}
		_, err = fmt.Fprintln(c.stdout, domains.Record(d.Name, d.Challenge))
		return err
	}
}

func orgDomainVerify(fs *cliflag.Set) action {
	force := fs.Bool("force", "mark it verified without looking the record up (the operator's decision, audited)")
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := orgArg(ctx, c, args[0])
		if err != nil {
			return err
		}
		defer m.Close()
		d, err := m.Companies.VerifyDomain(ctx, cliOperator, args[0], args[1], *force)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(toDomainJSON(d))
		}
		_, err = fmt.Fprintf(c.stdout, "%s verified\n", d.Name)
		return err
	}
}

func orgDomainList(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := orgArg(ctx, c, args[0])
		if err != nil {
			return err
		}
		defer m.Close()
		list, err := m.Companies.ListDomains(ctx, args[0])
		if err != nil {
			return err
		}
		if c.json {
			out := []domainJSON{}
			for _, d := range list {
				out = append(out, toDomainJSON(d))
			}
			return c.printJSON(out)
		}
		var rows [][]string
		for _, d := range list {
			state := "unverified"
			if d.Verified() {
				state = "verified"
			}
			rows = append(rows, []string{d.Name, state, domains.Record(d.Name, d.Challenge)})
		}
		return c.table("DOMAIN\tSTATE\tRECORD", rows)
	}
}

func orgDomainRemove(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := orgArg(ctx, c, args[0])
		if err != nil {
			return err
		}
		defer m.Close()
		return m.Companies.RemoveDomain(ctx, cliOperator, args[0], args[1])
	}
}

type ssoJSON struct {
	OrgID         string   `json:"org_id"`
	Issuer        string   `json:"issuer"`
	ClientID      string   `json:"client_id"`
	Scopes        []string `json:"scopes"`
	DefaultRoles  []string `json:"default_roles"`
	SufficientACR []string `json:"sufficient_acr"`
	Enforce       bool     `json:"enforce"`
	BreakGlass    string   `json:"break_glass,omitempty"`
	Callback      string   `json:"callback"`
	UpdatedAt     string   `json:"updated_at"`
}

func orgSSOSet(fs *cliflag.Set) action {
	issuer := fs.String("issuer", "", "URL", "the upstream provider's issuer (https, or http on a loopback host)")
	clientID := fs.String("client-id", "", "ID", "Sesame's client id at the upstream")
	secretStdin := fs.Bool("client-secret-stdin", "read the client secret from the first line of standard input (required)")
	scopes := fs.Strings("scope", "S", "a scope to ask beyond openid and email (repeat)")
	roles := fs.Strings("default-role", "ROLE", "admin or user: the roles of a member created at first sign-in (default user)")
	acrs := fs.Strings("sufficient-acr", "ACR", "an upstream acr value that counts as a second factor (repeat)")
	enforce := fs.Bool("enforce", "the organization's domains sign in only through the connection")
	breakGlass := fs.String("break-glass", "", "USER_ID", "a member who may still sign in with a password under --enforce")
	return func(ctx context.Context, c *cli, args []string) error {
		if *issuer == "" {
			return badFlag("issuer", "is required")
		}
		if err := sso.CheckIssuer(strings.TrimSuffix(*issuer, "/"), isLoopback); err != nil {
			return badFlag("issuer", "must be an https URL, or http on a loopback host")
		}
		if strings.TrimSpace(*clientID) == "" {
			return badFlag("client-id", "is required")
		}
		if !*secretStdin {
			return badFlag("client-secret-stdin", "is required: pass the client secret on standard input")
		}
		for _, r := range *roles {
			if r != storage.RoleAdmin && r != storage.RoleUser {
				return badFlag("default-role", "must be admin or user")
			}
		}
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return badFlag("client-secret-stdin", "cannot read the secret: %v", err)
		}
		secret := strings.TrimRight(line, "\r\n")
		if secret == "" {
			return badFlag("client-secret-stdin", "standard input is empty")
		}
		m, err := orgArg(ctx, c, args[0])
		if err != nil {
			return err
		}
		defer m.Close()
		in := login.ConnectionInput{Issuer: *issuer, ClientID: *clientID, ClientSecret: secret, Scopes: *scopes,
			DefaultRoles: storage.NormalizeRoles(*roles), SufficientACR: *acrs, Enforce: *enforce, BreakGlass: *breakGlass}
		conn, err := m.Companies.SetConnection(ctx, cliOperator, args[0], in)
		if errors.Is(err, login.ErrSSODiscovery) {
			return badFlag("issuer", "%s did not answer its discovery (%s/.well-known/openid-configuration)", *issuer,
				strings.TrimSuffix(*issuer, "/"))
		} else if errors.Is(err, login.ErrSSOBreakGlass) {
			return badFlag("break-glass", "%q is not a member of organization %s", *breakGlass, args[0])
		} else if err != nil {
			return err
		}
		return c.printSSO(m, conn)
	}
}

func isLoopback(host string) bool { return config.IsLoopbackHost(host) }

func (c *cli) printSSO(m *Main, conn storage.SSOConnection) error {
	callback := strings.TrimSuffix(m.Config.Issuer, "/") + login.PathSSOCallback
	if c.json {
		return c.printJSON(ssoJSON{OrgID: conn.OrgID, Issuer: conn.Issuer, ClientID: conn.ClientID, Scopes: nonNil(conn.Scopes),
			DefaultRoles: nonNil(conn.DefaultRoles), SufficientACR: nonNil(conn.SufficientACR), Enforce: conn.Enforce,
			BreakGlass: conn.BreakGlass, Callback: callback, UpdatedAt: ts(conn.UpdatedAt)})
	}
	return c.table("KEY\tVALUE", [][]string{
		{"issuer", conn.Issuer}, {"client_id", conn.ClientID}, {"client_secret", "(encrypted at rest, never shown)"},
		{"scopes", strings.Join(append([]string{"openid", "email"}, conn.Scopes...), " ")},
		{"default_roles", strings.Join(conn.DefaultRoles, " ")}, {"sufficient_acr", orDash(strings.Join(conn.SufficientACR, " "))},
		{"enforce", fmt.Sprint(conn.Enforce)}, {"break_glass", orDash(conn.BreakGlass)}, {"callback", callback},
	})
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func orgSSOShow(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := orgArg(ctx, c, args[0])
		if err != nil {
			return err
		}
		defer m.Close()
		conn, err := m.Companies.Connection(ctx, args[0])
		if err != nil {
			return err
		}
		return c.printSSO(m, conn)
	}
}

func orgSSORemove(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := orgArg(ctx, c, args[0])
		if err != nil {
			return err
		}
		defer m.Close()
		return m.Companies.RemoveConnection(ctx, cliOperator, args[0])
	}
}
