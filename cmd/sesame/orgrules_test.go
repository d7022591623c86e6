package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// The regression tests of issue 13's organization rules (defects 6 to 9).

// orgAdmin creates an organization (pending unless validated) and its
// admin with a password, signed in in a new browser.
func (e *orgEnv) orgAdmin(name, email string, validated bool) (fixture, *browser) {
	e.t.Helper()
	args := []string{"org", "create", "--name", name, "--country", "BE"}
	if validated {
		args = append(args, "--validated")
	}
	f := fixture{email: email, pw: "keys-to-the-castle-26"}
	f.orgID = e.mustCLI("", args...)
	f.userID = e.mustCLI(f.pw+"\n", "user", "add", "--email", email, "--org", f.orgID, "--role", "admin", "--role", "user", "--password-stdin")
	br := e.browser()
	br.signInPlain(f)
	return f, br
}

// userID finds the member of orgID with this address (invited or not).
func (e *orgEnv) userID(email, orgID string) string {
	e.t.Helper()
	users, _ := e.main.Store.ListUsers(context.Background(), orgID)
	for _, u := range users {
		if u.Email == email {
			return u.ID
		}
	}
	e.t.Fatalf("no %s in %s", email, orgID)
	return ""
}

// Defect 6: a pending organization invited without limit, and a rejected
// one kept full admin powers.
func TestOrganizationsEarnTheirPowers(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	_, admin := e.orgAdmin("Pending Co", "founder@pending.example", false)
	for i := 1; i <= 4; i++ { // the founder and four: five members
		if resp := e.inviteMember(admin, "member"+string(rune('0'+i))+"@pending.example", false); !landed(resp, "/organization/members", "invited") {
			t.Fatalf("invitation %d of a pending organization: %d", i, resp.StatusCode)
		}
	}
	if resp := e.inviteMember(admin, "member5@pending.example", false); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a sixth member of a pending organization: %d, want 403", resp.StatusCode)
	}
	// Rejected: its admins read, and change nothing.
	rejected, radmin := e.orgAdmin("Rejected Co", "founder@rejected.example", false)
	e.inviteMember(radmin, "first@rejected.example", false)
	e.mustCLI("", "org", "reject", rejected.orgID, "--reason", "unknown company")
	if resp := e.inviteMember(radmin, "second@rejected.example", false); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a rejected organization invites: %d, want 403", resp.StatusCode)
	}
	first := e.userID("first@rejected.example", rejected.orgID)
	_, body := radmin.get(e.issuer + "/organization/members")
	for _, action := range []string{"/resend", "/remove"} {
		resp, _ := radmin.post(e.issuer+"/organization/members/"+first+action, url.Values{"csrf_token": {field(csrfRe, body)}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a rejected organization's admin %s: %d, want 403", action, resp.StatusCode)
		}
	}
	resp, _ := radmin.post(e.issuer+"/organization/members/require-2fa", url.Values{"csrf_token": {field(csrfRe, body)}, "require": {"1"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a rejected organization's admin changes its policy: %d", resp.StatusCode)
	}
	if resp, _ := radmin.get(e.issuer + "/organization/members"); resp.StatusCode != 200 {
		t.Fatalf("a rejected organization's admin cannot read: %d", resp.StatusCode)
	}
}

// Defect 6: invitations per hour, however many members are allowed.
func TestPendingInvitationsPerHour(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t, "SESAME_ACCOUNTS_PENDING_MEMBERS=100", "SESAME_ACCOUNTS_PENDING_INVITES_PER_HOUR=3")
	_, admin := e.orgAdmin("Pending Co", "founder@pending.example", false)
	for i := 1; i <= 3; i++ {
		if resp := e.inviteMember(admin, "m"+string(rune('0'+i))+"@pending.example", false); !landed(resp, "/organization/members", "invited") {
			t.Fatalf("invitation %d: %d", i, resp.StatusCode)
		}
	}
	if resp := e.inviteMember(admin, "m4@pending.example", false); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a fourth invitation in the hour: %d, want 429", resp.StatusCode)
	}
	e.clock.Add(61 * 60e9)
	if resp := e.inviteMember(admin, "m4@pending.example", false); !landed(resp, "/organization/members", "invited") {
		t.Fatalf("an hour later: %d", resp.StatusCode)
	}
}

// Defect 6: an invitation reserved the address (another organization got a
// conflict no one could undo) and the answer told whether the address had
// an account anywhere.
func TestInvitationsReserveNothing(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	_, a := e.orgAdmin("Alpha", "admin@alpha.example", true)
	_, b := e.orgAdmin("Beta", "admin@beta.example", true)
	// An address with an account (Beta's admin) is invited like any other.
	if resp := e.inviteMember(a, "admin@beta.example", false); !landed(resp, "/organization/members", "invited") {
		t.Fatalf("inviting an address that has an account elsewhere: %d (the answer tells)", resp.StatusCode)
	}
	// Two organizations invite the same new address; the first link used wins.
	for _, br := range []*browser{a, b} {
		if resp := e.inviteMember(br, "carol@example.org", false); !landed(resp, "/organization/members", "invited") {
			t.Fatalf("a second organization invites the same address: %d", resp.StatusCode)
		}
	}
	alphaLink, betaLink := e.mailLink("carol@example.org", 1), e.mailLink("carol@example.org", 2)
	carol := e.browser()
	if resp, _ := e.setPassword(carol, betaLink, "winter-harbour-lights-26"); resp.StatusCode != 200 || !carol.signedIn() {
		t.Fatalf("accepting Beta's invitation: %d", resp.StatusCode)
	}
	if resp, _ := e.setPassword(e.browser(), alphaLink, "another-passphrase-26"); resp.StatusCode != http.StatusGone {
		t.Fatalf("Alpha's invitation after Beta's was accepted: %d, want 410", resp.StatusCode)
	}
	u, err := e.main.Store.GetUserByEmail(context.Background(), "carol@example.org")
	m, _ := e.main.Store.GetMembership(context.Background(), u.ID)
	if err != nil || m.OrgID == "" {
		t.Fatalf("carol: %v %+v", err, m)
	}
	// The invitation of the address that has an account is refused to it,
	// and its account is untouched.
	if resp, body := e.setPassword(e.browser(), e.mailLink("admin@beta.example", 1), "attempt-to-take-over-26"); resp.StatusCode != http.StatusConflict {
		t.Fatalf("accepting an invitation for an address with an account: %d %.200s", resp.StatusCode, body)
	}
	beta, _ := e.main.Store.GetUserByEmail(context.Background(), "admin@beta.example")
	if err := e.main.Hasher.Verify(context.Background(), beta.PasswordHash, "keys-to-the-castle-26"); err != nil {
		t.Fatal("the account's password changed")
	}
}

// Defect 7: the founder could step down while only invited, never
// activated admins remained; the operator can set roles.
func TestLastActiveAdminStays(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f, admin := e.orgAdmin("ACME", "founder@acme.example", true)
	e.inviteMember(admin, "invited-admin@acme.example", true)
	invitedID := e.userID("invited-admin@acme.example", f.orgID)
	_, body := admin.get(e.issuer + "/organization/members")
	csrf := field(csrfRe, body)
	resp, body := admin.post(e.issuer+"/organization/members/"+f.userID+"/roles", url.Values{"csrf_token": {csrf}, "role_user": {"1"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("the last active admin steps down beside an invited admin: %d, want 409", resp.StatusCode)
	}
	resp, _ = admin.post(e.issuer+"/organization/members/"+f.userID+"/remove", url.Values{"csrf_token": {csrf}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("the last active admin removes themself: %d, want 409", resp.StatusCode)
	}
	// The operator sets roles from the command line.
	bob := fixture{email: "bob@acme.example", pw: "tall-ship-passphrase-26"}
	bob.userID = e.mustCLI(bob.pw+"\n", "user", "add", "--email", bob.email, "--org", f.orgID, "--password-stdin")
	e.mustCLI("", "member", "roles", f.orgID, bob.userID, "--role", "admin", "--role", "user")
	if m, _ := e.main.Store.GetMembership(context.Background(), bob.userID); !strings.Contains(strings.Join(m.Roles, ","), "admin") {
		t.Fatalf("sesame member roles: %v", m.Roles)
	}
	if _, stderr, code := e.cli("", "member", "roles", f.orgID, invitedID, "--role", "teleport"); code != 2 || !strings.Contains(stderr, "--role") {
		t.Fatalf("bad role: exit %d %q", code, stderr)
	}
	// Now the founder may step down.
	admin.post(e.issuer+"/organization/members/"+f.userID+"/roles", url.Values{"csrf_token": {csrf}, "role_user": {"1"}})
	if m, _ := e.main.Store.GetMembership(context.Background(), f.userID); strings.Contains(strings.Join(m.Roles, ","), "admin") {
		t.Fatalf("stepping down beside another active admin was refused: %v", m.Roles)
	}
	if _, stderr, code := e.cli("", "member", "roles", f.orgID, bob.userID, "--role", "user"); code != 2 || !strings.Contains(stderr, "last active admin") {
		t.Fatalf("the operator demotes the last active admin: exit %d %q", code, stderr)
	}
	// And from the console.
	op := e.browser()
	op.signInPlain(e.operator)
	resp, body = op.get(e.issuer + "/admin/organizations/" + f.orgID)
	if resp.StatusCode != 200 || !strings.Contains(body, "invited-admin@acme.example") {
		t.Fatalf("the console's organization page: %d", resp.StatusCode)
	}
	resp, _ = op.post(e.issuer+"/admin/organizations/"+f.orgID+"/members/"+f.userID+"/roles",
		url.Values{"csrf_token": {field(csrfRe, body)}, "role_admin": {"1"}, "role_user": {"1"}})
	if resp.StatusCode != 200 || resp.Request.URL.Query().Get("done") != "roles" {
		t.Fatalf("the console sets roles: %d %s", resp.StatusCode, resp.Request.URL)
	}
	if m, _ := e.main.Store.GetMembership(context.Background(), f.userID); !strings.Contains(strings.Join(m.Roles, ","), "admin") {
		t.Fatalf("the console's roles: %v", m.Roles)
	}
	resp, _ = op.post(e.issuer+"/admin/organizations/"+f.orgID+"/members/"+f.userID+"/roles", url.Values{"csrf_token": {field(csrfRe, body)}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the console with no role: %d", resp.StatusCode)
	}
	// Another organization's member, or no such organization, through this
	// organization's page: not found, nothing changed.
	other, _ := e.orgAdmin("Other Co", "admin@other.example", true)
	for _, path := range []string{f.orgID + "/members/" + other.userID, "org_missing/members/" + f.userID} {
		resp, _ = op.post(e.issuer+"/admin/organizations/"+path+"/roles", url.Values{"csrf_token": {field(csrfRe, body)}, "role_user": {"1"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("roles through %s: %d, want 404", path, resp.StatusCode)
		}
	}
	if m, _ := e.main.Store.GetMembership(context.Background(), other.userID); !strings.Contains(strings.Join(m.Roles, ","), "admin") {
		t.Fatalf("another organization's admin lost the role: %v", m.Roles)
	}
}

// Defect 8: two admins stepping down at the same moment could leave the
// organization with none (PostgreSQL). Run on both backends.
func TestConcurrentStepDownsKeepAnAdmin(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f, _ := e.orgAdmin("ACME", "first@acme.example", true)
	second := e.mustCLI("other-passphrase-26\n", "user", "add", "--email", "second@acme.example", "--org", f.orgID,
		"--role", "admin", "--role", "user", "--password-stdin")
	ctx := context.Background()
	for round := 0; round < 15; round++ {
		for _, id := range []string{f.userID, second} {
			if err := e.main.Accounts.SetRoles(ctx, login.Actor{ID: "cli", Operator: true}, f.orgID, id, []string{"admin", "user"}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, id := range []string{f.userID, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = e.main.Accounts.SetRoles(ctx, login.Actor{ID: id}, f.orgID, id, []string{"user"})
			}()
		}
		wg.Wait()
		members, _ := e.main.Store.ListMemberships(ctx, f.orgID)
		admins := 0
		for _, m := range members {
			if strings.Contains(strings.Join(m.Roles, ","), storage.RoleAdmin) {
				admins++
			}
		}
		if admins == 0 {
			t.Fatalf("round %d: two concurrent step-downs left no admin", round)
		}
	}
}

// Defect 9: removing a member sent no back-channel logout (disabling did).
func TestRemovedMemberIsLoggedOutEverywhere(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	rcv := newBCLReceiver(t)
	app := e.fixture("crm", "--backchannel-logout-uri", rcv.srv.URL+"/bcl")
	f, admin := e.orgAdmin("ACME", "admin@acme.example", true)
	bob := fixture{email: "bob@acme.example", pw: "tall-ship-passphrase-26"}
	bob.userID = e.mustCLI(bob.pw+"\n", "user", "add", "--email", bob.email, "--org", f.orgID, "--password-stdin")
	app.email, app.pw = bob.email, bob.pw
	v, c := pkce()
	tok := exchange(t, e.relyingParty(app, "n-crm"), e.browser().signIn(app, c, nil), v)
	_, body := admin.get(e.issuer + "/organization/members")
	resp, _ := admin.post(e.issuer+"/organization/members/"+bob.userID+"/remove", url.Values{"csrf_token": {field(csrfRe, body)}})
	if !landed(resp, "/organization/members", "removed") {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	got := verifyLogoutToken(t, e.testEnv, rcv.wait(t, 1)[0], "crm")
	if got.Subject != bob.userID || got.SID != tok.IDTokenClaims.Claims["sid"] {
		t.Fatalf("logout token for %s/%s", got.Subject, got.SID)
	}
}

// Review finding: `sesame user add --password-stdin` for an address that
// had an invitation left it behind, never to be accepted; an account takes
// the address and voids its invitations, audited.
func TestAccountFromTheCommandLineVoidsInvitations(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f, admin := e.orgAdmin("ACME", "admin@acme.example", true)
	e.inviteMember(admin, "dora@acme.example", false)
	link := e.mailLink("dora@acme.example", 1)
	id := e.mustCLI("silver-lake-passphrase-26\n", "user", "add", "--email", "dora@acme.example", "--org", f.orgID, "--password-stdin")
	users, _ := e.main.Store.ListUsers(context.Background(), f.orgID)
	n := 0
	for _, u := range users {
		if u.Email == "dora@acme.example" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d people for dora@acme.example after user add, want 1", n)
	}
	if resp, _ := e.setPassword(e.browser(), link, "another-passphrase-26"); resp.StatusCode != http.StatusGone {
		t.Fatalf("the invitation after the account: %d, want 410", resp.StatusCode)
	}
	events, _ := e.main.Store.ListEvents(context.Background(), storage.AuditFilter{OrgID: f.orgID})
	created := false
	for _, ev := range events {
		created = created || (ev.Action == "user.created" && ev.TargetID == id)
	}
	if !created {
		t.Fatal("user add is not audited")
	}
}
