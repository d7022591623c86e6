package storage

import (
	"context"
	"slices"
	"time"
)

// Management is what the management API needs beyond the other aggregates:
// organizations page by page, clients changed in place, and the first
// answer to each Idempotency-Key.
type Management interface {
	// ListOrganizationsPage lists organizations oldest first (created_at,
	// then id) matching q, after q's cursor, at most q.Limit.
	ListOrganizationsPage(ctx context.Context, q OrgQuery) ([]Organization, error)
	// OrganizationSummaries says, for each of ids that has members, how
	// many it has and the address of its first admin (the oldest account):
	// a page of the console's list in two queries, not two per row. An id
	// with no members, or none known, is absent.
	OrganizationSummaries(ctx context.Context, ids []string) (map[string]OrgSummary, error)
	// UpdateClient reads, changes and writes one client atomically; update
	// returning an error leaves it untouched. ErrNotFound when there is none.
	UpdateClient(ctx context.Context, id string, update func(*Client) error) error
	// BeginIdempotent records r as running, and returns true; when its
	// client used its key already (and it has not expired at r.CreatedAt),
	// it records nothing and returns what is stored, and false.
	BeginIdempotent(ctx context.Context, r IdempotentRequest) (IdempotentRequest, bool, error)
	// FinishIdempotent stores the first answer of a request begun.
	FinishIdempotent(ctx context.Context, clientID, key string, status int, body []byte) error
	// DropIdempotent forgets a key (its request failed on the server's
	// side: a retry runs it again).
	DropIdempotent(ctx context.Context, clientID, key string) error
}

// OrgQuery selects organizations; zero fields select everything.
type OrgQuery struct {
	Status    string
	NotStatus string // every status but this one
	SIRET     string
	// Q finds the word in the name or legal name, in any case.
	Q string
	// After is the cursor: the organizations after this one's
	// (created_at, id).
	AfterCreated time.Time
	AfterID      string
	Limit        int
}

// OrgSummary is what the console's list shows of an organization's members.
type OrgSummary struct {
	Members int
	Founder string // the first admin's address, or "" when it has none
}

// IdempotentRequest is a POST of the management API with its
// Idempotency-Key: the hash of its method, path and body, and, once it has
// run, its answer (status and body, sealed by the caller).
type IdempotentRequest struct {
	ClientID    string
	Key         string
	RequestHash string
	Status      int // 0 while it runs
	Body        []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// The grants a client may have.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// GrantTypes are the client's grants: authorization code with refresh
// tokens when none were registered (every client before grants existed).
func (c Client) GrantTypes() []string {
	if len(c.Grants) == 0 {
		return []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	return c.Grants
}

// HasGrant says whether the client may use grant.
func (c Client) HasGrant(grant string) bool { return slices.Contains(c.GrantTypes(), grant) }
