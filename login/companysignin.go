package login

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/sso"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// CompanySignIn carries out the rules of company sign-in that the screens
// and the command line share: an organization's domains (add, verify,
// remove, the periodic re-check) and its upstream connection (set, show,
// remove). Each change commits with its audit event.
type CompanySignIn struct {
	Store    storage.Storage
	Accounts *Accounts // audit and mail
	// Resolver checks a domain's challenge record.
	Resolver domains.Checker
	// Box encrypts the connections' client secrets at rest.
	Box *secretbox.Box
	// Upstream discovers issuers (a connection is saved only once its
	// issuer answers).
	Upstream *sso.Client
	// Loopback says whether a host is this machine's (http issuers are
	// accepted only there).
	Loopback func(host string) bool
	Now      func() time.Time
	// Recheck is how often a verified domain's record is looked up again
	// (24 h when zero).
	Recheck time.Duration
	// offer remembers whether any connection exists (ssooffer.go).
	offer *offerCache // offers()
}

// Refusals of company sign-in.
var (
	ErrDomainTaken      = fail.E(fail.Conflict, "Errors.Domains.Taken")
	ErrDomainExists     = fail.E(fail.Conflict, "Errors.Domains.Exists")
	ErrDomainUnknown    = fail.E(fail.NotFound, "Errors.Domains.Unknown")
	ErrTooManyDomains   = fail.E(fail.Conflict, "Errors.Domains.TooMany")
	ErrSSONotValidated  = fail.E(fail.Conflict, "Errors.SSO.NotValidated")
	ErrSSONoDomain      = fail.E(fail.Conflict, "Errors.SSO.NoDomain")
	ErrSSONone          = fail.E(fail.NotFound, "Errors.SSO.None")
	ErrSSOClient        = fail.E(fail.Invalid, "Errors.SSO.Client")
	ErrSSOBreakGlass    = fail.E(fail.Invalid, "Errors.SSO.BreakGlass")
	ErrSSOSecretMissing = fail.E(fail.Invalid, "Errors.SSO.SecretMissing")
	ErrSSODiscovery     = fail.E(fail.Conflict, "Errors.SSO.Discovery")
)

// maxDomains bounds an organization's domains.
const maxDomains = 50

func (c *CompanySignIn) recheckEvery() time.Duration {
	if c.Recheck > 0 {
		return c.Recheck
	}
	return 24 * time.Hour
}

// writable is the organization, when actor may change its company
// sign-in: the operator always; its admins unless it is rejected or
// suspended (read only).
func (c *CompanySignIn) writable(ctx context.Context, tx storage.Tx, actor Actor, orgID string) (storage.Organization, error) {
	return c.Accounts.mayChange(ctx, tx, actor, orgID, changeMembers)
}

// AddDomain claims a domain for the organization, unverified, with a new
// challenge value, and returns it.
func (c *CompanySignIn) AddDomain(ctx context.Context, actor Actor, orgID, name string) (storage.Domain, error) {
	name, err := domains.Normalize(name)
	if err != nil {
		return storage.Domain{}, err
	}
	if domains.Public(name) {
		return storage.Domain{}, domains.ErrPublic
	}
	d := storage.Domain{OrgID: orgID, Name: name, Challenge: domains.NewChallenge(), CreatedAt: c.Now()}
	err = c.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := c.writable(ctx, tx, actor, orgID); err != nil {
			return err
		}
		if v, _, err := tx.GetVerifiedDomain(ctx, name); err == nil && v.OrgID != orgID {
			return ErrDomainTaken
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		list, err := tx.ListDomains(ctx, orgID)
		if err != nil {
			return err
		}
		if len(list) >= maxDomains {
			return ErrTooManyDomains
		}
		if err := tx.CreateDomain(ctx, d); errors.Is(err, storage.ErrConflict) {
			return ErrDomainExists
		} else if err != nil {
			return err
		}
		return c.Accounts.audit(ctx, tx, actor, "domain.added", "domain", name, orgID, "")
	})
	return d, err
}

// ListDomains lists the organization's domains.
func (c *CompanySignIn) ListDomains(ctx context.Context, orgID string) ([]storage.Domain, error) {
	if _, err := c.Store.GetOrganization(ctx, orgID); err != nil {
		return nil, err
	}
	return c.Store.ListDomains(ctx, orgID)
}

// VerifyDomain looks the domain's challenge record up and marks the domain
// verified. force (the operator only) marks it verified without looking.
func (c *CompanySignIn) VerifyDomain(ctx context.Context, actor Actor, orgID, name string, force bool) (storage.Domain, error) {
	if n, err := domains.Normalize(name); err == nil {
		name = n
	}
	if force && !actor.Operator {
		return storage.Domain{}, errForbidden
	}
	d, err := c.Store.GetDomain(ctx, orgID, name)
	if errors.Is(err, storage.ErrNotFound) {
		return d, ErrDomainUnknown
	} else if err != nil {
		return d, err
	}
	if !force {
		// The look-up runs outside any transaction: a slow resolver holds
		// no database lock.
		if err := c.Resolver.Check(ctx, name, d.Challenge); err != nil {
			return d, err
		}
	}
	now := c.Now()
	err = c.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := c.writable(ctx, tx, actor, orgID); err != nil {
			return err
		}
		at := now
		if d.Verified() {
			at = d.VerifiedAt
		}
		if err := tx.SetDomainVerified(ctx, orgID, name, at, now); errors.Is(err, storage.ErrConflict) {
			return ErrDomainTaken
		} else if errors.Is(err, storage.ErrNotFound) {
			return ErrDomainUnknown
		} else if err != nil {
			return err
		}
		d.VerifiedAt, d.CheckedAt = at, now
		details := "dns"
		if force {
			details = "forced by the operator"
		}
		return c.Accounts.audit(ctx, tx, actor, "domain.verified", "domain", name, orgID, details)
	})
	return d, err
}

// RemoveDomain removes the organization's claim on a domain.
func (c *CompanySignIn) RemoveDomain(ctx context.Context, actor Actor, orgID, name string) error {
	if n, err := domains.Normalize(name); err == nil {
		name = n
	}
	return c.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := c.writable(ctx, tx, actor, orgID); err != nil {
			return err
		}
		if err := tx.DeleteDomain(ctx, orgID, name); errors.Is(err, storage.ErrNotFound) {
			return ErrDomainUnknown
		} else if err != nil {
			return err
		}
		return c.Accounts.audit(ctx, tx, actor, "domain.removed", "domain", name, orgID, "")
	})
}

// RecheckDue looks up again the verified domains last checked more than
// Recheck ago (up to limit of them): a record still there is noted; a
// record gone (no such name, or no value) unverifies the domain, audited,
// and its organization's admins are mailed; a resolver in trouble
// (timeout, SERVFAIL) changes nothing until the next pass. It returns how
// many domains it unverified.
func (c *CompanySignIn) RecheckDue(ctx context.Context, limit int) (int, error) {
	now := c.Now()
	due, err := c.Store.ListDomainsToRecheck(ctx, now.Add(-c.recheckEvery()), limit)
	if err != nil {
		return 0, err
	}
	lost := 0
	for _, d := range due {
		err := c.Resolver.Check(ctx, d.Name, d.Challenge)
		switch {
		case err == nil:
			if err := c.Store.SetDomainVerified(ctx, d.OrgID, d.Name, d.VerifiedAt, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return lost, err
			}
		case errors.Is(err, domains.ErrNoRecord), errors.Is(err, domains.ErrNoSuchName):
			err := c.Store.Atomic(ctx, func(tx storage.Tx) error {
				if err := tx.SetDomainVerified(ctx, d.OrgID, d.Name, time.Time{}, now); err != nil {
					return err
				}
				actor := Actor{ID: "sesame"}
				if err := c.Accounts.audit(ctx, tx, actor, "domain.unverified", "domain", d.Name, d.OrgID, "the record is gone"); err != nil {
					return err
				}
				org, err := tx.GetOrganization(ctx, d.OrgID)
				if err != nil {
					return err
				}
				return c.Accounts.mailOrganization(ctx, tx, d.OrgID, true, "domain_unverified", "Mail.DomainUnverified.Subject",
					orgMail{OrgName: org.Name, Reason: d.Name, Link: c.Accounts.Issuer + PathDomains})
			})
			if errors.Is(err, storage.ErrNotFound) {
				continue // removed meanwhile
			}
			if err != nil {
				return lost, err
			}
			lost++
			c.Accounts.wake()
		default:
			// The resolver's trouble, not the domain's: try again next pass.
		}
	}
	return lost, nil
}

// ConnectionInput is what an admin or the operator sets.
type ConnectionInput struct {
	Issuer, ClientID string
	// ClientSecret: "" keeps the stored one (a form that leaves it blank).
	ClientSecret  string
	Scopes        []string
	DefaultRoles  []string
	SufficientACR []string
	Enforce       bool
	// BreakGlass, only the operator sets it: a member who may still sign
	// in with a password under Enforce. KeepBreakGlass keeps the stored one.
	BreakGlass     string
	KeepBreakGlass bool
}

// SetConnection saves the organization's upstream connection: only a
// validated organization with a verified domain, and only an issuer that
// answers its discovery.
func (c *CompanySignIn) SetConnection(ctx context.Context, actor Actor, orgID string, in ConnectionInput) (storage.SSOConnection, error) {
	defer c.offers().forget()
	in.Issuer = strings.TrimSuffix(strings.TrimSpace(in.Issuer), "/")
	in.ClientID = strings.TrimSpace(in.ClientID)
	if err := sso.CheckIssuer(in.Issuer, c.Loopback); err != nil {
		return storage.SSOConnection{}, err
	}
	if in.ClientID == "" || len(in.ClientID) > 200 || !OneLine(in.ClientID) || len(in.ClientSecret) > 1000 || !OneLine(in.ClientSecret) {
		return storage.SSOConnection{}, ErrSSOClient
	}
	if len(in.DefaultRoles) == 0 {
		in.DefaultRoles = []string{storage.RoleUser}
	}
	if !storage.ValidRoles(in.DefaultRoles) {
		return storage.SSOConnection{}, ErrInvalidRoles
	}
	for _, s := range append(slices.Clone(in.Scopes), in.SufficientACR...) {
		if s == "" || len(s) > 200 || strings.ContainsAny(s, " \t\r\n\"") {
			return storage.SSOConnection{}, ErrSSOClient
		}
	}
	if in.BreakGlass != "" && !actor.Operator {
		return storage.SSOConnection{}, errForbidden
	}
	if err := c.ready(ctx, orgID); err != nil {
		return storage.SSOConnection{}, err
	}
	// The issuer must answer before anything is saved (outside the transaction).
	if _, err := c.Upstream.Discover(ctx, in.Issuer); errors.Is(err, sso.ErrPrivateIssuer) {
		return storage.SSOConnection{}, err // says why, and what the operator may allow
	} else if err != nil {
		return storage.SSOConnection{}, fail.Wrap(ErrSSODiscovery.Code, ErrSSODiscovery.Key, err)
	}
	now := c.Now()
	var saved storage.SSOConnection
	err := c.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := c.writable(ctx, tx, actor, orgID); err != nil {
			return err
		}
		old, err := tx.GetSSOConnection(ctx, orgID)
		had := err == nil
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		saved = storage.SSOConnection{OrgID: orgID, Issuer: in.Issuer, ClientID: in.ClientID, Scopes: in.Scopes,
			DefaultRoles: storage.NormalizeRoles(in.DefaultRoles), SufficientACR: in.SufficientACR, Enforce: in.Enforce,
			BreakGlass: in.BreakGlass, CreatedAt: now, UpdatedAt: now}
		if had {
			saved.CreatedAt = old.CreatedAt
			if in.KeepBreakGlass {
				saved.BreakGlass = old.BreakGlass
			}
		}
		if saved.BreakGlass != "" {
			m, err := tx.GetMembership(ctx, saved.BreakGlass)
			if err != nil || m.OrgID != orgID {
				return ErrSSOBreakGlass
			}
		}
		switch {
		case in.ClientSecret != "":
			if saved.SecretEncrypted, err = c.Box.Seal([]byte(in.ClientSecret)); err != nil {
				return err
			}
		case had && old.ClientID == in.ClientID && old.Issuer == in.Issuer:
			saved.SecretEncrypted = old.SecretEncrypted
		default:
			return ErrSSOSecretMissing
		}
		if err := tx.PutSSOConnection(ctx, saved); err != nil {
			return err
		}
		details := "issuer=" + in.Issuer + " client=" + in.ClientID
		if in.Enforce {
			details += " enforce"
		}
		return c.Accounts.audit(ctx, tx, actor, "sso.set", "organization", orgID, orgID, details)
	})
	return saved, err
}

// ready refuses a connection until the organization is validated and has
// a verified domain.
func (c *CompanySignIn) ready(ctx context.Context, orgID string) error {
	org, err := c.Store.GetOrganization(ctx, orgID)
	if err != nil {
		return err
	}
	if org.Status != storage.OrgValidated {
		return ErrSSONotValidated
	}
	list, err := c.Store.ListDomains(ctx, orgID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, storage.Domain.Verified) {
		return ErrSSONoDomain
	}
	return nil
}

// Connection returns the organization's connection (ErrSSONone).
func (c *CompanySignIn) Connection(ctx context.Context, orgID string) (storage.SSOConnection, error) {
	conn, err := c.Store.GetSSOConnection(ctx, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return conn, ErrSSONone
	}
	return conn, err
}

// RemoveConnection removes the organization's connection.
func (c *CompanySignIn) RemoveConnection(ctx context.Context, actor Actor, orgID string) error {
	defer c.offers().forget()
	return c.Store.Atomic(ctx, func(tx storage.Tx) error {
		if _, err := c.writable(ctx, tx, actor, orgID); err != nil {
			return err
		}
		if err := tx.DeleteSSOConnection(ctx, orgID); errors.Is(err, storage.ErrNotFound) {
			return ErrSSONone
		} else if err != nil {
			return err
		}
		return c.Accounts.audit(ctx, tx, actor, "sso.removed", "organization", orgID, orgID, "")
	})
}

// upstream is the sso package's view of a stored connection, its secret
// opened.
func (c *CompanySignIn) upstream(conn storage.SSOConnection, callback string) (sso.Connection, error) {
	secret, err := c.Box.Open(conn.SecretEncrypted)
	if err != nil {
		return sso.Connection{}, err
	}
	return sso.Connection{Issuer: conn.Issuer, ClientID: conn.ClientID, ClientSecret: string(secret), Scopes: conn.Scopes,
		RedirectURL: callback}, nil
}
