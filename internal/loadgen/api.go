package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// Scenarios are what a run measures.
var Scenarios = []string{"signin", "token", "refresh", "userinfo", "jwks", "discovery", "api-orgs"}

// New prepares a run against targets, signing in as users people.
func New(targets []string, users int, scenario string, op OP) *Run {
	return &Run{targets: targets, users: users, scenario: scenario, op: op}
}

// Measure runs conc clients for d or maxReq operations and prints the
// figures to out; with pid, the server's CPU and memory too. The token
// scenario first signs in, untimed, for the codes it exchanges.
func (r *Run) Measure(ctx context.Context, out io.Writer, conc int, d time.Duration, maxReq, pid int) error {
	if r.scenario == "token" {
		n := min(maxReq, 2000)
		fmt.Fprintf(out, "signing in %d times first (not measured) for the codes to exchange\n", n)
		r.prepareCodes(ctx, conc, n)
	}
	return r.run(ctx, out, conc, d, maxReq, pid)
}

// Flow is one whole sign-in of person i: authorize, form, POST, callback
// and the code exchange with PKCE.
func (r *Run) Flow(ctx context.Context, api APIConns, target string, i int) error {
	_, err := r.flow(ctx, api, target, i, false)
	return err
}

// Login posts the sign-in form of page as person i.
func (r *Run) Login(client *http.Client, target string, page []byte, i int) (*http.Response, error) {
	return r.op.login(client, target, page, i)
}

// SetupStore is what Setup writes through.
type SetupStore interface {
	CreateClient(ctx context.Context, c storage.Client) error
	DeleteClient(ctx context.Context, id string) error
	CreateOrganization(ctx context.Context, org storage.Organization) error
	CreateUser(ctx context.Context, u storage.User, m *storage.Membership) error
}

// Setup creates, through storage, the load test's client (its secret hashed
// by hashSecret, its ID tokens signed with alg, the server's default when
// ""), an organization and n people who share one password hash.
func Setup(ctx context.Context, s SetupStore, hashSecret func(secret string) (string, error),
	hashPassword func(ctx context.Context, pw string) (string, error), n int, alg string, now time.Time, out io.Writer) error {
	hash, err := hashSecret(ClientSecret)
	if err != nil {
		return err
	}
	_ = s.DeleteClient(ctx, ClientID) // a new setup sets the algorithm afresh
	err = s.CreateClient(ctx, storage.Client{ID: ClientID, Name: "Load test", SecretHash: hash,
		RedirectURIs: []string{Redirect}, IDTokenSignedAlg: alg, CreatedAt: now})
	if err != nil {
		return err
	}
	org := storage.Organization{ID: "org_loadtest", Name: "Load test", Domicile: storage.DomicileAbroad, Country: "BE",
		Status: storage.OrgValidated, CreatedAt: now}
	if err := s.CreateOrganization(ctx, org); err != nil && !errors.Is(err, storage.ErrConflict) {
		return err
	}
	pw, err := hashPassword(ctx, Password) // one hash for all: setup stays fast
	if err != nil {
		return err
	}
	created := 0
	for i := range n {
		u := storage.User{ID: storage.NewID("usr"), Email: Email(i), PasswordHash: pw, CreatedAt: now, UpdatedAt: now}
		err := s.CreateUser(ctx, u, &storage.Membership{OrgID: org.ID, Roles: []string{storage.RoleUser}})
		if err == nil {
			created++
		} else if !errors.Is(err, storage.ErrConflict) {
			return err
		}
	}
	fmt.Fprintf(out, "setup: client %s, organization %s, %d users created (%d asked)\n", ClientID, org.ID, created, n)
	return nil
}
