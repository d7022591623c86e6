package login

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/login/sso/ssotest"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/postgres/pgtest"
)

// openPostgres is the harness's database on the test PostgreSQL server,
// in a schema of the test's own (skipped without one, failed under CI).
func openPostgres(t *testing.T) storage.Storage {
	db, err := postgres.Open(context.Background(), pgtest.Schema(t, pgtest.BaseDSN(t)), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestCompanySignInFirstTimeRace: two first sign-ins of one new address
// (and of one invited address) reach the callback at the same moment, in
// two browsers: both sign in, and there is one account and one membership.
// Before the fix the second was refused with Errors.SSO.OtherOrg.
func TestCompanySignInFirstTimeRace(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(*testing.T) storage.Storage{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sx := newSSOHarnessOn(t, open)
			sx.Connect(nil)
			ctx := context.Background()
			invited := "invited@" + acme
			if _, err := sx.H.Accounts.Invite(ctx, Actor{ID: sx.Admin.ID}, sx.Org.ID, invited, "", "fr", []string{storage.RoleUser}); err != nil {
				t.Fatal(err)
			}
			const rounds, together = 3, 3
			var emails []string
			for i := range rounds {
				emails = append(emails, fmt.Sprintf("new%d@%s", i, acme))
			}
			emails = append(emails, invited)
			for _, email := range emails {
				// Each browser goes upstream first; then all come back at once.
				sx.Up.SetIdentity(ssotest.Identity{Subject: "s-" + email, Email: email, EmailVerified: true})
				var browsers []*browser
				var callbacks []string
				for range together {
					b := sx.Browser()
					browsers = append(browsers, b)
					callbacks = append(callbacks, b.Upstream(b.Post(PathLogin, url.Values{"email": {email}}), sx.Up.URL))
				}
				statuses := make([]string, together)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, b := range browsers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						req, _ := http.NewRequest(http.MethodGet, b.abs(callbacks[i]), nil)
						req.Header.Set("Accept-Language", "en")
						res, err := b.c.Do(req)
						if err != nil {
							statuses[i] = err.Error()
							return
						}
						res.Body.Close()
						statuses[i] = fmt.Sprint(res.StatusCode, " ", res.Header.Get("Location"))
					}()
				}
				close(start)
				wg.Wait()
				for i, s := range statuses {
					if s != "303 "+PathHome {
						t.Errorf("%s: callback %d answered %q, want a sign-in", email, i, s)
					}
				}
				p, err := sx.Store.GetPersonByEmail(ctx, email)
				if err != nil || p.Membership == nil || p.Membership.OrgID != sx.Org.ID {
					t.Fatalf("%s: %+v %v", email, p, err)
				}
			}
			users, err := sx.Store.ListUsers(ctx, sx.Org.ID)
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, u := range users {
				count[storage.NormalizeEmail(u.Email)]++
			}
			for _, email := range emails {
				if count[email] != 1 {
					t.Errorf("%s: %d accounts in the organization, want 1", email, count[email])
				}
			}
			if len(users) != len(emails)+1 {
				t.Errorf("%d members, want %d and the admin", len(users), len(emails))
			}
			created := 0
			for _, e := range sx.Events() {
				if strings.HasPrefix(e, "member.created") {
					created++
				}
			}
			if created != rounds {
				t.Errorf("%d member.created events, want %d", created, rounds)
			}
		})
	}
}

// countingStore counts the probes of whether any connection exists.
type countingStore struct {
	storage.Storage
	mu     sync.Mutex
	probes int
}

func (c *countingStore) AnySSOConnection(ctx context.Context) (bool, error) {
	c.mu.Lock()
	c.probes++
	c.mu.Unlock()
	return c.Storage.AnySSOConnection(ctx)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probes
}

// TestCompanyButtonOnlyWithAConnection: the login page offers "Continue
// with your company's sign-in" only when some organization has a
// connection; whether one does is read at most once a minute per process
// (a change made through this process is seen at once).
func TestCompanyButtonOnlyWithAConnection(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	counted := &countingStore{Storage: sx.C.Store}
	sx.C.Store = counted
	b := sx.Browser()
	offered := func(want bool, probes int) {
		t.Helper()
		for range 3 {
			p := b.Get(PathLogin).Shows(http.StatusOK, "")
			if got := p.Says("SSO.Continue"); got != want {
				t.Fatalf("company button shown %v, want %v", got, want)
			}
		}
		if got := counted.count(); got != probes {
			t.Fatalf("%d probes, want %d", got, probes)
		}
	}
	offered(false, 1) // three page views, one probe
	sx.Connect(nil)
	offered(true, 2) // the connection made here is seen at once
	if err := sx.C.RemoveConnection(context.Background(), cliActor, sx.Org.ID); err != nil {
		t.Fatal(err)
	}
	offered(false, 3)
	// Another replica connects the organization: seen within offerTTL.
	if err := sx.Store.PutSSOConnection(context.Background(), storage.SSOConnection{OrgID: sx.Org.ID, Issuer: sx.Up.URL,
		ClientID: "sesame", SecretEncrypted: []byte{1}, DefaultRoles: []string{storage.RoleUser}, CreatedAt: sx.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	offered(false, 3)
	sx.Clock.Add(offerTTL)
	offered(true, 4)
	// Without a connection for the address the button says so, as before.
	b.Post(PathLogin, url.Values{"email": {"x@elsewhere.example"}, "method": {"company"}}).Shows(http.StatusBadRequest, "Errors.SSO.NoRoute")
}
