package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/mail"
	"strings"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/storage"
)

// The user commands: people.

type userJSON struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	Name     string   `json:"name,omitempty"`
	OrgID    string   `json:"org_id,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Disabled bool     `json:"disabled"`
	Password bool     `json:"password_set"`
	Operator bool     `json:"operator,omitempty"`
	Created  string   `json:"created_at"`
}

// newPerson is what `user add` was told, then checked.
type newPerson struct {
	email, org, name, lang *string
	pwStdin, operator      *bool
	roles                  []string

	address, password string
}

func userAdd(fs *cliflag.Set) action {
	p := &newPerson{}
	p.email = fs.String("email", "", "EMAIL", "the person's email address")
	p.org = fs.String("org", "", "ORG_ID", "the organization they belong to")
	p.name = fs.String("name", "", "NAME", "their name")
	p.pwStdin = fs.Bool("password-stdin", "read their password from the first line of standard input (default: they get a set-password mail)")
	p.operator = fs.Bool("operator", "an operator of this Sesame, in no organization (needs --password-stdin)")
	p.lang = fs.String("lang", "fr", "LANG", "the language of their mail: fr or en")
	fs.StringsVar(&p.roles, "role", "ROLE", "admin or user (default user)")
	return func(ctx context.Context, c *cli, _ []string) error {
		if err := p.check(); err != nil {
			return err
		}
		if err := p.readPassword(c.stdin); err != nil {
			return err
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		if err := p.checkWith(ctx, m); err != nil {
			return err
		}
		if p.password == "" && !*p.operator {
			return p.invite(ctx, c, m)
		}
		return p.create(ctx, c, m)
	}
}

// check refuses bad flags before anything is opened.
func (p *newPerson) check() error {
	addr, err := mail.ParseAddress(*p.email)
	switch {
	case *p.email == "":
		return badFlag("email", "is required")
	case err != nil || addr.Address != strings.TrimSpace(*p.email) || !strings.Contains(addr.Address, "."):
		return badFlag("email", "%q is not an email address", *p.email)
	case *p.org == "" && !*p.operator:
		return badFlag("org", "is required (or --operator)")
	case *p.operator && (*p.org != "" || len(p.roles) > 0):
		return badFlag("operator", "an operator belongs to no organization: drop --org and --role")
	case *p.lang != "fr" && *p.lang != "en":
		return badFlag("lang", "must be fr or en")
	case !login.OneLine(*p.name):
		return badFlag("name", "must be one line, without control characters")
	}
	p.address = addr.Address
	if len(p.roles) == 0 && !*p.operator {
		p.roles = []string{storage.RoleUser}
	}
	for _, r := range p.roles {
		if r != storage.RoleAdmin && r != storage.RoleUser {
			return badFlag("role", "%q: must be admin or user", r)
		}
	}
	p.roles = storage.NormalizeRoles(p.roles)
	return nil
}

// readPassword reads the first line of stdin, with --password-stdin.
func (p *newPerson) readPassword(stdin io.Reader) error {
	if !*p.pwStdin {
		if *p.operator {
			return badFlag("password-stdin", "an operator needs a password: pass it on standard input")
		}
		return nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return badFlag("password-stdin", "cannot read the password: %v", err)
	}
	p.password = strings.TrimRight(line, "\r\n")
	if p.password == "" {
		return badFlag("password-stdin", "no password on standard input")
	}
	return nil
}

// checkWith checks what needs the configuration and the database.
func (p *newPerson) checkWith(ctx context.Context, m *Main) error {
	if p.password != "" {
		if problem := (password.Policy{MinLength: m.Config.Password.MinLength}).Check(p.password, p.address); problem != "" {
			return badFlag("password-stdin", "the password is refused: %s", strings.ReplaceAll(problem, "_", " "))
		}
	}
	if *p.operator {
		return nil
	}
	if _, err := m.Store.GetOrganization(ctx, *p.org); errors.Is(err, storage.ErrNotFound) {
		return badFlag("org", "no organization %q", *p.org)
	} else if err != nil {
		return err
	}
	return nil
}

// invite adds a member without a password: they get the set-password mail,
// as when an admin invites them.
func (p *newPerson) invite(ctx context.Context, c *cli, m *Main) error {
	u, err := m.Accounts.Invite(ctx, login.Actor{ID: "cli", Operator: true}, *p.org, p.address, *p.name, *p.lang, p.roles)
	if errors.Is(err, login.ErrEmailTaken) {
		return badFlag("email", "an account with %s already exists", p.address)
	} else if err != nil {
		return err
	}
	return c.printCreated(u.ID, userJSON{ID: u.ID, Email: u.Email, Name: u.Name, OrgID: *p.org, Roles: p.roles, Created: ts(u.CreatedAt)})
}

// create adds a member with their password, or an operator.
func (p *newPerson) create(ctx context.Context, c *cli, m *Main) error {
	now := m.Now()
	u := storage.User{ID: storage.NewID("usr"), Email: p.address, Name: strings.TrimSpace(*p.name), Locale: *p.lang, CreatedAt: now, UpdatedAt: now,
		IsOperator: *p.operator}
	var err error
	if u.PasswordHash, err = m.Hasher.Hash(ctx, p.password); err != nil {
		return err
	}
	u.PasswordSetAt = now
	var mem *storage.Membership
	if !*p.operator {
		mem = &storage.Membership{OrgID: *p.org, Roles: p.roles}
	}
	if err := m.Accounts.AddAccount(ctx, login.Actor{ID: "cli", Operator: true}, u, mem); errors.Is(err, login.ErrEmailTaken) {
		return badFlag("email", "an account with %s already exists", p.address)
	} else if err != nil {
		return err
	}
	out := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Password: true, Operator: *p.operator, Created: ts(now)}
	if mem != nil {
		out.OrgID, out.Roles = mem.OrgID, mem.Roles
	}
	return c.printCreated(u.ID, out)
}

func userList(fs *cliflag.Set) action {
	org := fs.String("org", "", "ORG_ID", "only the members of this organization")
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		list, err := m.Store.ListUsers(ctx, *org)
		if err != nil {
			return err
		}
		out := []userJSON{}
		var rows [][]string
		for _, u := range list {
			j := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Disabled: u.Disabled, Password: login.HasPassword(u), Created: ts(u.CreatedAt)}
			if mem, err := m.Store.GetMembership(ctx, u.ID); err == nil {
				j.OrgID, j.Roles = mem.OrgID, mem.Roles
			}
			out = append(out, j)
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			rows = append(rows, []string{u.ID, u.Email, j.OrgID, strings.Join(j.Roles, ","), state})
		}
		if c.json {
			return c.printJSON(out)
		}
		return c.table("ID\tEMAIL\tORGANIZATION\tROLES\tSTATE", rows)
	}
}

func userDisable(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		id := args[0]
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		// A disabled person is signed out everywhere (relying parties that asked
		// are told) and their tokens stop working.
		if err := m.Accounts.DisableUser(ctx, login.Actor{ID: "cli", Operator: true}, id); errors.Is(err, storage.ErrNotFound) {
			return badArg("no user %q", id)
		} else if err != nil {
			return err
		}
		_, _ = m.Backchannel.Deliver(ctx)
		return nil
	}
}

func userReset2FA(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		id := args[0]
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		if err := m.Accounts.ResetSecondFactor(ctx, login.Actor{ID: "cli", Operator: true}, "", id); errors.Is(err, storage.ErrNotFound) {
			return badArg("no user %q", id)
		} else if err != nil {
			return err
		}
		return nil
	}
}
