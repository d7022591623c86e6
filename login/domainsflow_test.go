package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/sso"
	"github.com/sesame-idp/sesame/storage"
)

// TestDomainsScreen: an admin adds and verifies a domain on the screen;
// every refusal is the list again with one clear message, never a 5xx.
func TestDomainsScreen(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	b := sx.Browser()
	b.SignIn("admin@"+acme, "")
	b.Get(PathDomains).Shows(http.StatusOK, "Domains.None")
	b.Post(PathDomains+"/add", url.Values{"domain": {"ACME.example."}}).Redirects(PathDomains)
	list, _ := sx.Store.ListDomains(context.Background(), sx.Org.ID)
	if len(list) != 1 || list[0].Name != acme || list[0].Verified() {
		t.Fatalf("domains: %+v", list)
	}
	page := b.Get(PathDomains+"?done=added").Shows(http.StatusOK, "Domains.Notice.Added")
	record := domains.Record(acme, list[0].Challenge)
	if !strings.Contains(page.Body, strings.ReplaceAll(record, `"`, "&#34;")) {
		t.Fatalf("the page does not show %s: %s", record, excerpt(page.Body))
	}
	verify := url.Values{"domain": {acme}}
	// Not published yet: NXDOMAIN.
	b.Post(PathDomains+"/verify", verify).Shows(http.StatusConflict, "Errors.Domains.NXDomain")
	sx.DNS.SetTXT(domains.RecordName(acme), "something else")
	b.Post(PathDomains+"/verify", verify).Shows(http.StatusConflict, "Errors.Domains.NoRecord")
	sx.DNS.SetTXT(domains.RecordName(acme), list[0].Challenge)
	b.Post(PathDomains+"/verify", verify).Redirects(PathDomains)
	b.Get(PathDomains+"?done=verified").Shows(http.StatusOK, "Domains.Notice.Verified")

	// The DNS server in trouble.
	b.Post(PathDomains+"/add", url.Values{"domain": {"slow.example"}}).Redirects(PathDomains)
	sx.DNS.Silent(domains.RecordName("slow.example"))
	b.Post(PathDomains+"/verify", url.Values{"domain": {"slow.example"}}).Shows(http.StatusConflict, "Errors.Domains.Timeout")
	b.Post(PathDomains+"/add", url.Values{"domain": {"broken.example"}}).Redirects(PathDomains)
	sx.DNS.ServFail(domains.RecordName("broken.example"))
	b.Post(PathDomains+"/verify", url.Values{"domain": {"broken.example"}}).Shows(http.StatusConflict, "Errors.Domains.ServFail")

	// Bad input.
	for _, tt := range []struct {
		domain string
		status int
		key    string
	}{
		{"gmail.com", http.StatusBadRequest, "Errors.Domains.Public"},
		{"Outlook.com", http.StatusBadRequest, "Errors.Domains.Public"},
		{"not a domain", http.StatusBadRequest, "Errors.Domains.Invalid"},
		{"localhost", http.StatusBadRequest, "Errors.Domains.Invalid"},
		{strings.Repeat("a", 5000) + ".fr", http.StatusBadRequest, "Errors.Domains.Invalid"},
		{acme, http.StatusConflict, "Errors.Domains.Exists"},
	} {
		b.Post(PathDomains+"/add", url.Values{"domain": {tt.domain}}).Shows(tt.status, tt.key)
	}
	b.Post(PathDomains+"/verify", url.Values{"domain": {"unknown.example"}}).Shows(http.StatusNotFound, "Errors.Domains.Unknown")
	b.PostRaw(PathDomains+"/add", url.Values{"domain": {"csrf.example"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")

	// Verified here, the domain is refused to another organization.
	other := sx.harness.Org("Other", storage.OrgValidated)
	sx.User("admin@other.example", &other, storage.RoleAdmin)
	ob := sx.Browser()
	ob.SignIn("admin@other.example", "")
	ob.Post(PathDomains+"/add", url.Values{"domain": {acme}}).Shows(http.StatusConflict, "Errors.Domains.Taken")

	// A member who is not an admin, and a stranger, are refused.
	sx.User("user@"+acme, &sx.Org, storage.RoleUser)
	ub := sx.Browser()
	ub.SignIn("user@"+acme, "")
	ub.Get(PathDomains).Shows(http.StatusForbidden, "")
	ub.Post(PathDomains+"/add", url.Values{"domain": {"x.example"}}).Shows(http.StatusForbidden, "")
	sx.Browser().Get(PathDomains).Redirects(PathLogin)

	b.Post(PathDomains+"/remove", url.Values{"domain": {"slow.example"}}).Redirects(PathDomains)
	events := sx.Events()
	for _, e := range []string{"domain.added", "domain.verified", "domain.removed"} {
		if !slices.Contains(events, e) {
			t.Errorf("no %s in %v", e, events)
		}
	}
}

// TestDomainTakenAtVerify: two organizations claim one domain; the first
// to verify holds it, the second is refused (and may take it only once it
// is released).
func TestDomainTakenAtVerify(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	ctx := context.Background()
	other := sx.harness.Org("Other", storage.OrgValidated)
	a, err := sx.C.AddDomain(ctx, cliActor, sx.Org.ID, acme)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sx.C.AddDomain(ctx, cliActor, other.ID, acme)
	if err != nil {
		t.Fatal(err)
	}
	sx.DNS.SetTXT(domains.RecordName(acme), a.Challenge, b.Challenge)
	if _, err := sx.C.VerifyDomain(ctx, cliActor, sx.Org.ID, acme, false); err != nil {
		t.Fatal(err)
	}
	if _, err := sx.C.VerifyDomain(ctx, cliActor, other.ID, acme, false); !errors.Is(err, ErrDomainTaken) {
		t.Fatalf("second verify: %v", err)
	}
	// An admin may not force; the operator may.
	if _, err := sx.C.VerifyDomain(ctx, Actor{ID: sx.Admin.ID}, sx.Org.ID, acme, true); !errors.Is(err, errForbidden) {
		t.Fatalf("admin force: %v", err)
	}
	if err := sx.C.RemoveDomain(ctx, cliActor, sx.Org.ID, acme); err != nil {
		t.Fatal(err)
	}
	if _, err := sx.C.VerifyDomain(ctx, cliActor, other.ID, acme, true); err != nil {
		t.Fatalf("forced verify once released: %v", err)
	}
	es, _ := sx.Store.ListEvents(ctx, storage.AuditFilter{OrgID: other.ID})
	if !slices.ContainsFunc(es, func(e storage.AuditEvent) bool {
		return e.Action == "domain.verified" && e.Details == "forced by the operator"
	}) {
		t.Fatalf("events: %+v", es)
	}
}

// TestRecheck: a verified domain whose record is gone becomes unverified
// at the next re-check (moved clock), audited, its admins mailed; a
// resolver in trouble changes nothing.
func TestRecheck(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	sx.Connect(nil)
	ctx := context.Background()
	if n, err := sx.C.RecheckDue(ctx, 10); err != nil || n != 0 {
		t.Fatalf("not due yet: %d %v", n, err)
	}
	sx.Clock.Add(25 * time.Hour)
	if n, err := sx.C.RecheckDue(ctx, 10); err != nil || n != 0 {
		t.Fatalf("record still there: %d %v", n, err)
	}
	d, _ := sx.Store.GetDomain(ctx, sx.Org.ID, acme)
	if !d.CheckedAt.Equal(sx.Clock.Now()) {
		t.Fatalf("checked at %v", d.CheckedAt)
	}
	sx.Clock.Add(25 * time.Hour)
	sx.DNS.ServFail(domains.RecordName(acme))
	if n, err := sx.C.RecheckDue(ctx, 10); err != nil || n != 0 {
		t.Fatalf("SERVFAIL: %d %v", n, err)
	}
	if d, _ := sx.Store.GetDomain(ctx, sx.Org.ID, acme); !d.Verified() {
		t.Fatal("a SERVFAIL unverified the domain")
	}
	sx.DNS.Remove(domains.RecordName(acme))
	sx.DNS.ServFailOff(domains.RecordName(acme))
	if n, err := sx.C.RecheckDue(ctx, 10); err != nil || n != 1 {
		t.Fatalf("record gone: %d %v", n, err)
	}
	if d, _ := sx.Store.GetDomain(ctx, sx.Org.ID, acme); d.Verified() {
		t.Fatal("still verified")
	}
	if !slices.Contains(sx.Events(), "domain.unverified") {
		t.Fatalf("events: %v", sx.Events())
	}
	ms := sx.Mails("admin@" + acme)
	if len(ms) != 1 || !strings.Contains(ms[0].Text, acme) {
		t.Fatalf("mails: %+v", ms)
	}
	// Unverified, the domain routes no one.
	p := sx.Browser().Post(PathLogin, url.Values{"email": {"x@" + acme}, "password": {"whatever"}})
	p.Shows(http.StatusUnauthorized, "Errors.Login.Invalid")
}

// TestSetConnectionRefusals: a connection only for a validated
// organization with a verified domain, and an issuer that answers.
func TestSetConnectionRefusals(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	ctx := context.Background()
	in := ConnectionInput{Issuer: sx.Up.URL, ClientID: "sesame", ClientSecret: "s"}
	if _, err := sx.C.SetConnection(ctx, cliActor, sx.Org.ID, in); !errors.Is(err, ErrSSONoDomain) {
		t.Fatalf("no domain: %v", err)
	}
	pending := sx.harness.Org("Pending", storage.OrgPending)
	if _, err := sx.C.SetConnection(ctx, cliActor, pending.ID, in); !errors.Is(err, ErrSSONotValidated) {
		t.Fatalf("pending: %v", err)
	}
	sx.Connect(nil)
	for _, tt := range []struct {
		name string
		edit func(*ConnectionInput)
		want error
	}{
		{"http issuer off loopback", func(c *ConnectionInput) { c.Issuer = "http://idp.example" }, sso.ErrIssuer},
		{"issuer with a query", func(c *ConnectionInput) { c.Issuer = sx.Up.URL + "?x=1" }, sso.ErrIssuer},
		{"not a URL", func(c *ConnectionInput) { c.Issuer = "::" }, sso.ErrIssuer},
		{"no client id", func(c *ConnectionInput) { c.ClientID = "" }, ErrSSOClient},
		{"a scope with a space", func(c *ConnectionInput) { c.Scopes = []string{"a b"} }, ErrSSOClient},
		{"bad roles", func(c *ConnectionInput) { c.DefaultRoles = []string{"root"} }, ErrInvalidRoles},
		{"issuer down", func(c *ConnectionInput) { c.Issuer = "http://127.0.0.1:1" }, ErrSSODiscovery},
		{"break-glass of another organization", func(c *ConnectionInput) { c.BreakGlass = "usr_nobody" }, ErrSSOBreakGlass},
		{"no secret for a new client", func(c *ConnectionInput) { c.ClientID, c.ClientSecret = "other", "" }, ErrSSOSecretMissing},
	} {
		c := in
		tt.edit(&c)
		if _, err := sx.C.SetConnection(ctx, cliActor, sx.Org.ID, c); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// An admin may not designate the break-glass account.
	c := in
	c.BreakGlass = sx.Admin.ID
	if _, err := sx.C.SetConnection(ctx, Actor{ID: sx.Admin.ID}, sx.Org.ID, c); !errors.Is(err, errForbidden) {
		t.Fatalf("admin break-glass: %v", err)
	}
	// The secret is encrypted at rest.
	conn, err := sx.Store.GetSSOConnection(ctx, sx.Org.ID)
	if err != nil || strings.Contains(string(conn.SecretEncrypted), sx.Up.ClientSecret) {
		t.Fatalf("secret at rest: %v", err)
	}
}

// TestCompanySSOScreen: the admin saves the connection on the screen; the
// secret is kept when left blank.
func TestCompanySSOScreen(t *testing.T) {
	t.Parallel()
	sx := newSSOHarness(t)
	b := sx.Browser()
	b.SignIn("admin@"+acme, "")
	b.Get(PathCompanySSO).Shows(http.StatusOK, "Errors.SSO.NoDomain")
	ctx := context.Background()
	d, _ := sx.C.AddDomain(ctx, cliActor, sx.Org.ID, acme)
	sx.DNS.SetTXT(domains.RecordName(acme), d.Challenge)
	if _, err := sx.C.VerifyDomain(ctx, cliActor, sx.Org.ID, acme, false); err != nil {
		t.Fatal(err)
	}
	p := b.Get(PathCompanySSO).Shows(http.StatusOK, "SSO.Callback")
	if !strings.Contains(p.Body, sx.URL+PathSSOCallback) {
		t.Fatal("no callback URL on the page")
	}
	form := url.Values{"issuer": {sx.Up.URL}, "client_id": {sx.Up.ClientID}, "client_secret": {sx.Up.ClientSecret},
		"role_user": {"1"}, "scopes": {"profile"}}
	b.Post(PathCompanySSO, form).Redirects(PathCompanySSO)
	form.Del("client_secret")
	form.Set("enforce", "1")
	b.Post(PathCompanySSO, form).Redirects(PathCompanySSO)
	conn, err := sx.Store.GetSSOConnection(ctx, sx.Org.ID)
	if err != nil || !conn.Enforce || len(conn.Scopes) != 1 {
		t.Fatalf("%+v %v", conn, err)
	}
	if secret, _ := sx.C.Box.Open(conn.SecretEncrypted); string(secret) != sx.Up.ClientSecret {
		t.Fatal("the secret was not kept")
	}
	bad := url.Values{"issuer": {"http://idp.example"}, "client_id": {"x"}, "role_user": {"1"}}
	b.Post(PathCompanySSO, bad).Shows(http.StatusBadRequest, "Errors.SSO.Issuer")
	b.Post(PathCompanySSO, url.Values{"issuer": {"http://127.0.0.1:1"}, "client_id": {"x"}, "client_secret": {"y"}, "role_user": {"1"}}).
		Shows(http.StatusConflict, "Errors.SSO.Discovery")
	b.Post(PathCompanySSO+"/remove", nil).Redirects(PathCompanySSO)
	if _, err := sx.Store.GetSSOConnection(ctx, sx.Org.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("not removed")
	}
}
