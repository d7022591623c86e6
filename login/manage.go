package login

import (
	"context"
	"errors"
	"strings"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/login/company"
	"github.com/sesame-idp/sesame/storage"
)

// The operator's decisions the console, the command line and the
// management API share beyond validation and rejection: an organization's
// suspension and reactivation, a person's account enabled again, every
// session of a person ended; and the checks of a new organization.

// ErrNotSuspended and ErrNotValidated refuse a decision the
// organization's status does not allow.
var (
	ErrNotValidated = fail.E(fail.Conflict, "Errors.API.Status")
	ErrNotSuspended = fail.E(fail.Conflict, "Errors.API.Status")
	ErrNoOrg        = fail.E(fail.NotFound, "Errors.Request.NotFound")
	ErrNoUser       = fail.E(fail.NotFound, "Errors.API.NotUser")
)

// NewOrganization checks an organization's name and where it is (a SIRET
// for France, else a current ISO 3166-1 country other than France) and
// returns it, pending, without an id.
func NewOrganization(name, siret, country string) (storage.Organization, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return storage.Organization{}, fieldErr("name", "Errors.Org.Input", "is required")
	case len(name) > 200:
		return storage.Organization{}, fieldErr("name", "Errors.Org.Input", "is longer than 200 characters")
	case !OneLine(name):
		return storage.Organization{}, fieldErr("name", "Errors.Org.Input", "must be one line, without control characters")
	}
	o := storage.Organization{Name: name, Status: storage.OrgPending}
	if siret != "" {
		s, err := company.ParseSIRET(siret)
		if err != nil {
			return o, fieldErr("siret", "Errors.Org.Input", "%v", err)
		}
		if country != "" && strings.ToUpper(country) != "FR" {
			return o, fieldErr("country", "Errors.Org.Input", "a SIRET is French: the country is FR")
		}
		o.Domicile, o.Country, o.SIRET, o.SIREN = storage.DomicileFrance, "FR", s, s[:9]
		return o, nil
	}
	if country == "" {
		return o, fieldErr("country", "Errors.Org.Input", "is required without --siret (ISO 3166-1 code such as DE)")
	}
	code, err := AbroadCountry(country)
	if errors.Is(err, ErrCountryFrench) {
		msg := "is required for a French organization"
		if code != "FR" {
			msg += " (" + code + " is France)"
		}
		return o, fieldErr("siret", "Errors.Org.Input", "%s", msg)
	} else if err != nil {
		return o, fieldErr("country", "Errors.Org.Input", "%q is not a current ISO 3166-1 country code", country)
	}
	o.Domicile, o.Country = storage.DomicileAbroad, code
	return o, nil
}

// setStatus moves an organization from one status to another, with its
// audit event; from refuses any other status with refused.
func (a *Accounts) setStatus(ctx context.Context, actor Actor, orgID, from, to string, refused error, action, details string) error {
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		err := tx.UpdateOrganization(ctx, orgID, func(o *storage.Organization) error {
			if o.Status != from {
				return refused
			}
			o.Status = to
			return nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNoOrg
		} else if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, action, "organization", orgID, orgID, details)
	})
}

// SuspendOrganization suspends a validated organization: its admins can
// only read until it is reactivated; its people still sign in.
func (a *Accounts) SuspendOrganization(ctx context.Context, actor Actor, orgID, reason string) error {
	if !OneLine(reason) || len(reason) > 1000 {
		return ErrNotOneLine
	}
	details := ""
	if reason != "" {
		details = "reason=" + reason
	}
	return a.setStatus(ctx, actor, orgID, storage.OrgValidated, storage.OrgSuspended, ErrNotValidated, "org.suspended", details)
}

// ReactivateOrganization gives a suspended organization its powers back.
func (a *Accounts) ReactivateOrganization(ctx context.Context, actor Actor, orgID string) error {
	return a.setStatus(ctx, actor, orgID, storage.OrgSuspended, storage.OrgValidated, ErrNotSuspended, "org.reactivated", "")
}

// EnableUser enables a disabled person again.
func (a *Accounts) EnableUser(ctx context.Context, actor Actor, userID string) error {
	now := a.Now()
	return a.Store.Atomic(ctx, func(tx storage.Tx) error {
		err := tx.UpdateUser(ctx, userID, func(u *storage.User) error { u.Disabled, u.UpdatedAt = false, now; return nil })
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNoUser
		} else if err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "user.enabled", "user", userID, a.orgOf(ctx, tx, userID), "")
	})
}

// EndAllSessions ends every session of a person (the relying parties that
// asked are told, the sessions' tokens revoked), with its audit event.
func (a *Accounts) EndAllSessions(ctx context.Context, actor Actor, userID string) (n int, err error) {
	err = a.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := tx.GetUser(ctx, userID); errors.Is(err, storage.ErrNotFound) {
			return ErrNoUser
		} else if err != nil {
			return err
		}
		if n, err = a.endUserSessions(ctx, tx, userID, ""); err != nil {
			return err
		}
		return a.audit(ctx, tx, actor, "user.sessions_ended", "user", userID, a.orgOf(ctx, tx, userID), "")
	})
	return n, err
}
