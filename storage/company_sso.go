package storage

import (
	"context"
	"time"
)

// Domain is an email domain an organization claims. It publishes
// Challenge in a DNS TXT record to prove that it owns it; VerifiedAt is
// set while the proof holds. A domain is verified by one organization at
// most (ErrConflict), however many have claimed it.
type Domain struct {
	OrgID      string
	Name       string // lower case, without the final dot
	Challenge  string
	CreatedAt  time.Time
	VerifiedAt time.Time // zero while unverified
	CheckedAt  time.Time // the last look-up that found the record (verification or re-check)
}

// Verified reports whether the domain is verified.
func (d Domain) Verified() bool { return !d.VerifiedAt.IsZero() }

// SSOConnection is an organization's upstream OpenID Connect provider
// (company sign-in). The client secret is encrypted by the caller.
type SSOConnection struct {
	OrgID           string
	Issuer          string
	ClientID        string
	SecretEncrypted []byte
	Scopes          []string // beyond openid, email
	DefaultRoles    []string // of a member created at first sign-in
	// SufficientACR lists the upstream acr values that count as a second
	// factor (an amr containing "mfa" always does).
	SufficientACR []string
	// Enforce: the organization's domains sign in only through the
	// connection, but BreakGlass (a user id the operator designates).
	Enforce    bool
	BreakGlass string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Domains stores organizations' email domains.
type Domains interface {
	// CreateDomain adds an unverified domain; ErrConflict when the
	// organization has it already.
	CreateDomain(ctx context.Context, d Domain) error
	GetDomain(ctx context.Context, orgID, name string) (Domain, error)
	// ListDomains lists an organization's domains by name.
	ListDomains(ctx context.Context, orgID string) ([]Domain, error)
	// SetDomainVerified marks the domain verified at verifiedAt (zero:
	// unverified) and checked at checkedAt; ErrConflict when another
	// organization has it verified, ErrNotFound when there is no such domain.
	SetDomainVerified(ctx context.Context, orgID, name string, verifiedAt, checkedAt time.Time) error
	// DeleteDomain removes it; ErrNotFound when there is none.
	DeleteDomain(ctx context.Context, orgID, name string) error
	// GetVerifiedDomain finds the domain verified under name and the
	// organization's connection, if it has one (nil), in one read;
	// ErrNotFound when no organization has verified the domain.
	GetVerifiedDomain(ctx context.Context, name string) (Domain, *SSOConnection, error)
	// ListDomainsToRecheck lists up to limit verified domains last checked
	// before before, the oldest check first.
	ListDomainsToRecheck(ctx context.Context, before time.Time, limit int) ([]Domain, error)
}

// SSOConnections stores organizations' upstream providers, one each.
type SSOConnections interface {
	// PutSSOConnection creates or replaces the organization's connection.
	PutSSOConnection(ctx context.Context, c SSOConnection) error
	GetSSOConnection(ctx context.Context, orgID string) (SSOConnection, error)
	// DeleteSSOConnection removes it; ErrNotFound when there is none.
	DeleteSSOConnection(ctx context.Context, orgID string) error
	// AnySSOConnection reports whether any organization has a connection
	// (one indexed probe: the login page asks it, through a cache).
	AnySSOConnection(ctx context.Context) (bool, error)
}
