package login

import (
	"context"
	"fmt"
	"html"
	"io"
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
	t.Cleanup(func() { _ = db.Close() })
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
	// Removed through a copy writing elsewhere, as the API's If-Match
	// guard makes one: the copy shares what the page remembers.
	if err := sx.C.WithStore(sx.C.Store).RemoveConnection(context.Background(), cliActor, sx.Org.ID); err != nil {
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

// TestOperatorConsoleCompanySignIn: the operator's page of an organization
// shows its domains and its connection (never the secret), in French and
// English; the operator marks a domain verified by hand (CSRF-checked,
// audited as forced); refusals: without CSRF, not an operator, unknown
// domain, another organization's domain, a domain verified elsewhere.
func TestOperatorConsoleCompanySignIn(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(func(in *ConnectionInput) {
		in.Enforce, in.BreakGlass, in.Scopes = true, sx.Admin.ID, []string{"profile"}
	})
	ctx := context.Background()
	for _, d := range []string{"pending.example", "taken.example"} {
		if _, err := sx.C.AddDomain(ctx, cliActor, sx.Org.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	other := sx.harness.Org("Other", storage.OrgValidated)
	if _, err := sx.C.AddDomain(ctx, cliActor, other.ID, "taken.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := sx.C.VerifyDomain(ctx, cliActor, other.ID, "taken.example", true); err != nil {
		t.Fatal(err)
	}
	op := sx.User("operator@sesame.example", nil)
	o := sx.Browser()
	o.SignIn(op.Email, "")
	page := PathOperator + "/" + sx.Org.ID
	p := o.Get(page).Shows(http.StatusOK, "SSOConsole.Title")
	for _, want := range []string{acme, "pending.example", sx.Up.URL, sx.Up.ClientID, "profile", sx.Admin.Email,
		"refused: only company sign-in is accepted", "not verified", `action="/admin/organizations/` + sx.Org.ID + `/domains/verify"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(p.Body, sx.Up.ClientSecret) {
		t.Fatal("the page shows the client secret")
	}
	// In French.
	req, _ := http.NewRequest(http.MethodGet, o.abs(page), nil)
	req.Header.Set("Accept-Language", "fr")
	res, err := o.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var fr strings.Builder
	_, _ = io.Copy(&fr, res.Body)
	res.Body.Close()
	for _, want := range []string{"Connexion d'entreprise", "Marquer comme vérifié", "non vérifié", "interdit : seule la connexion"} {
		if !strings.Contains(html.UnescapeString(fr.String()), want) {
			t.Errorf("the French page does not say %q", want)
		}
	}

	verified := func(org, name string) bool {
		d, err := sx.Store.GetDomain(ctx, org, name)
		return err == nil && d.Verified()
	}
	verify := page + "/domains/verify"
	o.PostRaw(verify, url.Values{"domain": {"pending.example"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	admin := sx.Browser() // an organization's admin, not the operator
	admin.SignIn(sx.User("admin@other.example", &other, storage.RoleAdmin).Email, "")
	if p := admin.Post(verify, url.Values{"domain": {"pending.example"}}); p.Status != http.StatusForbidden {
		t.Fatalf("an organization admin: %d", p.Status)
	}
	if verified(sx.Org.ID, "pending.example") {
		t.Fatal("verified by a refused request")
	}
	o.Post(verify, url.Values{"domain": {"unknown.example"}}).Shows(http.StatusNotFound, "Errors.Domains.Unknown")
	o.Post(verify, url.Values{"domain": {strings.Repeat("a", 5000) + ".example"}}).Shows(http.StatusNotFound, "Errors.Domains.Unknown")
	o.Post(verify, url.Values{"domain": {""}}).Shows(http.StatusNotFound, "Errors.Domains.Unknown")
	o.Post(PathOperator+"/"+other.ID+"/domains/verify", url.Values{"domain": {"pending.example"}}).
		Shows(http.StatusNotFound, "Errors.Domains.Unknown")
	o.Post(PathOperator+"/org_unknown/domains/verify", url.Values{"domain": {"pending.example"}}).Shows(http.StatusNotFound, "")
	o.Post(verify, url.Values{"domain": {"taken.example"}}).Shows(http.StatusConflict, "Errors.Domains.Taken")
	if verified(sx.Org.ID, "taken.example") || verified(sx.Org.ID, "pending.example") {
		t.Fatal("verified by a refused request")
	}
	o.Post(verify, url.Values{"domain": {"Pending.Example."}}).Redirects(page)
	if !verified(sx.Org.ID, "pending.example") {
		t.Fatal("not verified")
	}
	o.Get(page+"?done=domain-verified").Shows(http.StatusOK, "SSOConsole.Notice.Verified")
	es, err := sx.Store.ListEvents(ctx, storage.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		if e.Action == "domain.verified" && e.TargetID == "pending.example" {
			found = e.ActorID == op.ID && strings.Contains(e.Details, "forced by the operator")
			break
		}
	}
	if !found {
		t.Fatal("no audit of the operator's verification")
	}
}
