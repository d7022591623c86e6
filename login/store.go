package login

import (
	"context"

	"github.com/sesame-idp/sesame/storage"
)

// Store is what the screens and Accounts ask of storage, declared here
// so that what login touches is read in one place: people and their
// organizations, sessions, second factors, mailed links, the audit trail,
// the throttles; of the protocol's data only the authorization request a
// sign-in answers and its client's name. Writes that go together run in
// Atomic, whose function gets the whole storage.Tx (the transaction stays
// one explicit value). A storage.Storage is one.
type Store interface {
	storage.Organizations
	storage.Users
	storage.Sessions
	storage.ActionTokens
	storage.Audit
	storage.RateLimits
	storage.SecondFactors
	storage.LoginThrottle
	storage.Transactor
	storage.Passkeys       // passkey*.go
	storage.Domains        // company sign-in (companysignin.go)
	storage.SSOConnections // company sign-in
	storage.Consents       // third-party applications (consent.go)

	storage.DeviceAuthorizations // the device page (device.go)

	storage.AuthRequests
	GetClient(ctx context.Context, id string) (storage.Client, error)
	ListClients(ctx context.Context) ([]storage.Client, error) // the console's Applications page
	// ListOrganizationsPage pages the console's organizations (operator.go).
	ListOrganizationsPage(ctx context.Context, q storage.OrgQuery) ([]storage.Organization, error)
	OrganizationSummaries(ctx context.Context, ids []string) (map[string]storage.OrgSummary, error)
	EnqueueMail(ctx context.Context, m storage.Mail) error
}

var _ Store = storage.Storage(nil)

// auditTrail is what writing an audit event reads and writes: the person's
// membership (the event's organization) and the trail. A transaction and
// the Store both are one.
type auditTrail interface {
	storage.Users
	storage.Audit
}
