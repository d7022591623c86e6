package main

import (
	"context"
	"errors"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// The member command: an organization's members.

// memberRoles sets a member's roles: the operator's way to give an
// organization back an admin (the last active admin still cannot be
// demoted).
func memberRoles(fs *cliflag.Set) action {
	var roles []string
	fs.StringsVar(&roles, "role", "ROLE", "admin or user")
	return func(ctx context.Context, c *cli, args []string) error {
		orgID, userID := args[0], args[1]
		if len(roles) == 0 {
			return badFlag("role", "is required (admin, user, or both)")
		}
		if !storage.ValidRoles(storage.NormalizeRoles(roles)) {
			return badFlag("role", "%v: each must be admin or user, once", []string(roles))
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		err = m.Accounts.SetRoles(ctx, login.Actor{ID: "cli", Operator: true}, orgID, userID, storage.NormalizeRoles(roles))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return badArg("no organization %q", orgID)
		case errors.Is(err, login.ErrNotMember):
			return badArg("%s is not a member of %s", userID, orgID)
		case errors.Is(err, login.ErrLastAdmin):
			return badArg("%s is the last active admin of %s: give another member the admin role first", userID, orgID)
		}
		return err
	}
}
