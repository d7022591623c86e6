package storage

import (
	"context"
	"time"
)

// Consent is a person's answer to a third-party client (ClientProtocol.
// ThirdParty): the scopes they allowed it, remembered so that the next
// request asking no more is not asked again.
type Consent struct {
	UserID   string
	ClientID string
	// Scopes are every scope the person allowed the client so far.
	Scopes    []string
	GrantedAt time.Time // the first time
	UpdatedAt time.Time // the last time the person answered
	// ClientName is the client's name, filled by ListConsents.
	ClientName string
}

// Consents stores the consents people gave third-party clients.
type Consents interface {
	// GetConsent returns userID's consent to clientID; ErrNotFound when
	// there is none.
	GetConsent(ctx context.Context, userID, clientID string) (Consent, error)
	// SaveConsent records c, replacing the person's earlier consent to the
	// client (GrantedAt of the first one is kept). ErrNotFound when the
	// person or the client does not exist.
	SaveConsent(ctx context.Context, c Consent) error
	// ListConsents lists the person's consents with their clients' names,
	// by name.
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	// RevokeConsent deletes userID's consent to clientID and, in the same
	// transaction, what it let the client hold for the person: its access
	// and refresh tokens and its codes not yet exchanged. ErrNotFound when
	// there was no such consent; then nothing is touched.
	RevokeConsent(ctx context.Context, userID, clientID string) error
}
