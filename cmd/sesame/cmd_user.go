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

func userAdd(fs *cliflag.Set) action {
	email := fs.String("email", "", "EMAIL", "the person's email address")
	org := fs.String("org", "", "ORG_ID", "the organization they belong to")
	name := fs.String("name", "", "NAME", "their name")
	pwStdin := fs.Bool("password-stdin", "read their password from the first line of standard input (default: they get a set-password mail)")
	operator := fs.Bool("operator", "an operator of this Sesame, in no organization (needs --password-stdin)")
	lang := fs.String("lang", "fr", "LANG", "the language of their mail: fr or en")
	var roles []string
	fs.StringsVar(&roles, "role", "ROLE", "admin or user (default user)")
	return func(ctx context.Context, c *cli, args []string) error {
		addr, err := mail.ParseAddress(*email)
		switch {
		case *email == "":
			return badFlag("email", "is required")
		case err != nil || addr.Address != strings.TrimSpace(*email) || !strings.Contains(addr.Address, "."):
			return badFlag("email", "%q is not an email address", *email)
		case *org == "" && !*operator:
			return badFlag("org", "is required (or --operator)")
		case *operator && (*org != "" || len(roles) > 0):
			return badFlag("operator", "an operator belongs to no organization: drop --org and --role")
		case *lang != "fr" && *lang != "en":
			return badFlag("lang", "must be fr or en")
		case !login.OneLine(*name):
			return badFlag("name", "must be one line, without control characters")
		}
		if len(roles) == 0 && !*operator {
			roles = []string{storage.RoleUser}
		}
		for _, r := range roles {
			if r != storage.RoleAdmin && r != storage.RoleUser {
				return badFlag("role", "%q: must be admin or user", r)
			}
		}
		var pw string
		if *pwStdin {
			line, err := bufio.NewReader(c.stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return badFlag("password-stdin", "cannot read the password: %v", err)
			}
			pw = strings.TrimRight(line, "\r\n")
			if pw == "" {
				return badFlag("password-stdin", "no password on standard input")
			}
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		if pw != "" {
			if problem := (password.Policy{MinLength: m.Config.Password.MinLength}).Check(pw, addr.Address); problem != "" {
				return badFlag("password-stdin", "the password is refused: %s", strings.ReplaceAll(problem, "_", " "))
			}
		}
		if !*operator {
			if _, err := m.Store.GetOrganization(ctx, *org); errors.Is(err, storage.ErrNotFound) {
				return badFlag("org", "no organization %q", *org)
			} else if err != nil {
				return err
			}
		}
		if pw == "" && !*operator {
			// No password: the person gets the set-password mail, as when an admin invites them.
			u, err := m.Accounts.Invite(ctx, login.Actor{ID: "cli", Operator: true}, *org, addr.Address, *name, *lang, storage.NormalizeRoles(roles))
			if errors.Is(err, login.ErrEmailTaken) {
				return badFlag("email", "an account with %s already exists", addr.Address)
			} else if err != nil {
				return err
			}
			return c.printCreated(u.ID, userJSON{ID: u.ID, Email: u.Email, Name: u.Name, OrgID: *org, Roles: storage.NormalizeRoles(roles), Created: ts(u.CreatedAt)})
		}
		now := m.Now()
		u := storage.User{ID: storage.NewID("usr"), Email: addr.Address, Name: strings.TrimSpace(*name), Locale: *lang, CreatedAt: now, UpdatedAt: now,
			IsOperator: *operator}
		if pw != "" {
			if u.PasswordHash, err = m.Hasher.Hash(ctx, pw); err != nil {
				return err
			}
			u.PasswordSetAt = now
		}
		var mem *storage.Membership
		if !*operator {
			mem = &storage.Membership{OrgID: *org, Roles: storage.NormalizeRoles(roles)}
		}
		if *operator && pw == "" {
			return badFlag("password-stdin", "an operator needs a password: pass it on standard input")
		}
		if err := m.Store.CreateUser(ctx, u, mem); errors.Is(err, storage.ErrConflict) {
			return badFlag("email", "an account with %s already exists", addr.Address)
		} else if err != nil {
			return err
		}
		out := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Password: pw != "", Operator: *operator, Created: ts(now)}
		if mem != nil {
			out.OrgID, out.Roles = mem.OrgID, mem.Roles
		}
		return c.printCreated(u.ID, out)
	}
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
			j := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Disabled: u.Disabled, Password: u.PasswordHash != "", Created: ts(u.CreatedAt)}
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
