package main

import (
	"context"
	"errors"
	"strings"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// The operator's view of a person's passkeys: `sesame user passkeys list`
// and `sesame user passkeys remove`.

type passkeyJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Synced     bool     `json:"synced"`
	Transports []string `json:"transports,omitempty"`
	Created    string   `json:"created"`
	LastUsed   string   `json:"last_used,omitempty"`
}

func userPasskeysList(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		if _, err := m.Store.GetUser(ctx, args[0]); errors.Is(err, storage.ErrNotFound) {
			return badArg("no user %q", args[0])
		} else if err != nil {
			return err
		}
		list, err := m.Store.ListPasskeys(ctx, args[0])
		if err != nil {
			return err
		}
		out := []passkeyJSON{}
		var rows [][]string
		for _, p := range list {
			j := passkeyJSON{ID: p.ID, Name: p.Name, Synced: p.BackupEligible, Transports: p.Transports, Created: ts(p.CreatedAt)}
			kind := "device-bound"
			if p.BackupEligible {
				kind = "synced"
			}
			last := "never"
			if !p.LastUsedAt.IsZero() {
				j.LastUsed, last = ts(p.LastUsedAt), ts(p.LastUsedAt)
			}
			out = append(out, j)
			rows = append(rows, []string{p.ID, p.Name, kind, strings.Join(p.Transports, ","), j.Created, last})
		}
		if c.json {
			return c.printJSON(out)
		}
		return c.table("ID\tNAME\tKIND\tTRANSPORTS\tADDED\tLAST USED", rows)
	}
}

func userPasskeysRemove(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		err = m.Accounts.RemovePasskey(ctx, login.Actor{ID: "cli", Operator: true}, args[0], args[1])
		if errors.Is(err, storage.ErrNotFound) {
			return badArg("no passkey %q for user %q", args[1], args[0])
		}
		if err == nil {
			_, _ = m.Mail.Deliver(ctx)
		}
		return err
	}
}
