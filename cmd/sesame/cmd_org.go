package main

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// The org commands: organizations.

type orgJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Domicile     string `json:"domicile"`
	Country      string `json:"country"`
	SIRET        string `json:"siret,omitempty"`
	SIREN        string `json:"siren,omitempty"`
	Status       string `json:"status"`
	RejectReason string `json:"reject_reason,omitempty"`
	CreatedAt    string `json:"created_at"`
	ValidatedAt  string `json:"validated_at,omitempty"`
	ValidatedBy  string `json:"validated_by,omitempty"`
}

func toOrgJSON(o storage.Organization) orgJSON {
	j := orgJSON{ID: o.ID, Name: o.Name, Domicile: o.Domicile, Country: o.Country, SIRET: o.SIRET, SIREN: o.SIREN,
		Status: o.Status, RejectReason: o.RejectReason, CreatedAt: ts(o.CreatedAt), ValidatedBy: o.ValidatedBy}
	if !o.ValidatedAt.IsZero() {
		j.ValidatedAt = ts(o.ValidatedAt)
	}
	return j
}

func orgCreate(fs *cliflag.Set) action {
	name := fs.String("name", "", "NAME", "the organization's name")
	siret := fs.String("siret", "", "SIRET", "a French organization's SIRET (14 digits)")
	cc := fs.String("country", "", "CC", "an organization abroad: its ISO 3166-1 country code, such as DE")
	validated := fs.Bool("validated", "create it already validated")
	return func(ctx context.Context, c *cli, args []string) error {
		// The rules of a new organization are the API's (login.NewOrganization).
		o, err := login.NewOrganization(*name, *siret, *cc)
		if err != nil {
			return flagError(err)
		}
		o.ID = storage.NewID("org")
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		o.CreatedAt = m.Now()
		if *validated {
			o.Status, o.ValidatedAt, o.ValidatedBy = storage.OrgValidated, o.CreatedAt, "cli"
		}
		if err := m.Store.CreateOrganization(ctx, o); errors.Is(err, storage.ErrConflict) {
			return badFlag("siret", "an organization with SIRET %s already exists", o.SIRET)
		} else if err != nil {
			return err
		}
		return c.printCreated(o.ID, toOrgJSON(o))
	}
}

func orgList(fs *cliflag.Set) action {
	status := fs.String("status", "", "STATUS", "only pending, validated, rejected or suspended organizations")
	return func(ctx context.Context, c *cli, args []string) error {
		if *status != "" && !slices.Contains(storage.OrgStatuses, *status) {
			return badFlag("status", "must be one of %s", strings.Join(storage.OrgStatuses, ", "))
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		list, err := m.Store.ListOrganizations(ctx, *status)
		if err != nil {
			return err
		}
		if c.json {
			out := []orgJSON{}
			for _, o := range list {
				out = append(out, toOrgJSON(o))
			}
			return c.printJSON(out)
		}
		var rows [][]string
		for _, o := range list {
			siret := o.SIRET
			if siret == "" {
				siret = "-"
			}
			rows = append(rows, []string{o.ID, o.Name, o.Country, siret, o.Status, ts(o.CreatedAt)})
		}
		return c.table("ID\tNAME\tCOUNTRY\tSIRET\tSTATUS\tCREATED", rows)
	}
}

func orgDecide(withReason bool) func(fs *cliflag.Set) action {
	return func(fs *cliflag.Set) action {
		help := "why it is rejected (told to its members)"
		if !withReason {
			help = "only for org reject"
		}
		reason := fs.String("reason", "", "TEXT", help)
		return func(ctx context.Context, c *cli, args []string) error {
			id := args[0]
			*reason = strings.TrimSpace(*reason)
			if withReason && *reason == "" {
				return badFlag("reason", "is required")
			}
			if !withReason && *reason != "" {
				return badFlag("reason", "only applies to org reject")
			}
			if !login.OneLine(*reason) {
				return badFlag("reason", "must be one line, without control characters")
			}
			m, err := c.open(ctx, false, c.quiet())
			if err != nil {
				return err
			}
			defer m.Close()
			org, err := m.Store.GetOrganization(ctx, id)
			if errors.Is(err, storage.ErrNotFound) {
				return badArg("no organization %q", id)
			} else if err != nil {
				return err
			}
			actor := login.Actor{ID: "cli", Operator: true}
			if withReason {
				err = m.Accounts.RejectOrganization(ctx, actor, id, *reason)
			} else {
				err = m.Accounts.ValidateOrganization(ctx, actor, id)
			}
			switch {
			case errors.Is(err, login.ErrNotPending) && !withReason:
				return badArg("organization %s is already validated", id)
			case errors.Is(err, login.ErrNotPending):
				return badArg("organization %s is %s: only a pending organization can be rejected", id, org.Status)
			}
			return err
		}
	}
}
