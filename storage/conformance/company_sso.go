package conformance

import (
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testCompanySSO: domains (one verifier per name, re-check order) and
// connections (replace, the verified domain's connection in one read).
func testCompanySSO(t *testing.T, s storage.Storage) {
	a, b := newOrg(""), newOrg("")
	must(t, s.CreateOrganization(ctx(), a))
	must(t, s.CreateOrganization(ctx(), b))
	da := storage.Domain{OrgID: a.ID, Name: "example.fr", Challenge: "va", CreatedAt: base}
	db := storage.Domain{OrgID: b.ID, Name: "example.fr", Challenge: "vb", CreatedAt: base}
	must(t, s.CreateDomain(ctx(), da))
	must(t, s.CreateDomain(ctx(), db)) // claimed by two: verified by one at most
	wantErr(t, s.CreateDomain(ctx(), da), storage.ErrConflict)
	wantErr(t, s.CreateDomain(ctx(), storage.Domain{OrgID: "org_none", Name: "x.fr", Challenge: "v", CreatedAt: base}), storage.ErrNotFound)
	wantErr(t, s.CreateDomain(ctx(), storage.Domain{OrgID: a.ID, Name: "", Challenge: "v", CreatedAt: base}), storage.ErrInvalid)

	_, _, err := s.GetVerifiedDomain(ctx(), "example.fr")
	wantErr(t, err, storage.ErrNotFound)
	must(t, s.SetDomainVerified(ctx(), a.ID, "example.fr", base.Add(time.Minute), base.Add(time.Minute)))
	wantErr(t, s.SetDomainVerified(ctx(), b.ID, "example.fr", base.Add(time.Minute), base), storage.ErrConflict)
	wantErr(t, s.SetDomainVerified(ctx(), a.ID, "nope.fr", base, base), storage.ErrNotFound)

	got, conn, err := s.GetVerifiedDomain(ctx(), "example.fr")
	must(t, err)
	if got.OrgID != a.ID || got.Challenge != "va" || !got.VerifiedAt.Equal(base.Add(time.Minute)) || conn != nil {
		t.Fatalf("GetVerifiedDomain = %+v, %v", got, conn)
	}
	list, err := s.ListDomains(ctx(), b.ID)
	must(t, err)
	if len(list) != 1 || list[0].Verified() || list[0].Challenge != "vb" {
		t.Fatalf("ListDomains(b) = %+v", list)
	}

	c := storage.SSOConnection{OrgID: a.ID, Issuer: "https://idp.example.fr", ClientID: "sesame", SecretEncrypted: []byte{1, 2, 3},
		Scopes: []string{"profile"}, DefaultRoles: []string{storage.RoleUser}, SufficientACR: []string{"phr"}, CreatedAt: base}
	wantErr(t, s.PutSSOConnection(ctx(), storage.SSOConnection{OrgID: a.ID, Issuer: "x", ClientID: "y", SecretEncrypted: []byte{1},
		DefaultRoles: []string{"root"}, CreatedAt: base}), storage.ErrInvalid)
	must(t, s.PutSSOConnection(ctx(), c))
	c.ClientID, c.Enforce, c.BreakGlass, c.UpdatedAt = "sesame2", true, "usr_x", base.Add(time.Hour)
	must(t, s.PutSSOConnection(ctx(), c))
	gc, err := s.GetSSOConnection(ctx(), a.ID)
	must(t, err)
	if gc.ClientID != "sesame2" || !gc.Enforce || gc.BreakGlass != "usr_x" || string(gc.SecretEncrypted) != "\x01\x02\x03" ||
		len(gc.Scopes) != 1 || gc.SufficientACR[0] != "phr" || !gc.CreatedAt.Equal(base) || !gc.UpdatedAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("GetSSOConnection = %+v", gc)
	}
	_, conn, err = s.GetVerifiedDomain(ctx(), "example.fr")
	must(t, err)
	if conn == nil || conn.OrgID != a.ID || conn.ClientID != "sesame2" || !conn.Enforce || string(conn.SecretEncrypted) != "\x01\x02\x03" {
		t.Fatalf("GetVerifiedDomain's connection = %+v", conn)
	}

	// Re-check: the oldest check first; an unverified domain is not listed.
	must(t, s.CreateDomain(ctx(), storage.Domain{OrgID: a.ID, Name: "old.fr", Challenge: "v", CreatedAt: base}))
	must(t, s.SetDomainVerified(ctx(), a.ID, "old.fr", base, base))
	due, err := s.ListDomainsToRecheck(ctx(), base.Add(2*time.Minute), 10)
	must(t, err)
	if len(due) != 2 || due[0].Name != "old.fr" {
		t.Fatalf("ListDomainsToRecheck = %+v", due)
	}
	due, err = s.ListDomainsToRecheck(ctx(), base.Add(30*time.Second), 10)
	must(t, err)
	if len(due) != 1 {
		t.Fatalf("ListDomainsToRecheck(before the second check) = %+v", due)
	}

	// Unverified, the domain is free for the other organization.
	must(t, s.SetDomainVerified(ctx(), a.ID, "example.fr", time.Time{}, base.Add(time.Hour)))
	must(t, s.SetDomainVerified(ctx(), b.ID, "example.fr", base.Add(time.Hour), base.Add(time.Hour)))
	got, conn, err = s.GetVerifiedDomain(ctx(), "example.fr")
	must(t, err)
	if got.OrgID != b.ID || conn != nil {
		t.Fatalf("after the move: %+v %v", got, conn)
	}
	must(t, s.DeleteDomain(ctx(), b.ID, "example.fr"))
	wantErr(t, s.DeleteDomain(ctx(), b.ID, "example.fr"), storage.ErrNotFound)
	must(t, s.DeleteSSOConnection(ctx(), a.ID))
	wantErr(t, s.DeleteSSOConnection(ctx(), a.ID), storage.ErrNotFound)
	_, err = s.GetSSOConnection(ctx(), a.ID)
	wantErr(t, err, storage.ErrNotFound)

	// A session and the request it answers carry the connection.
	u := storage.User{ID: storage.NewID("usr"), Email: "p@old.fr", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, &storage.Membership{UserID: u.ID, OrgID: a.ID, Roles: []string{storage.RoleUser}}))
	sess := storage.Session{ID: storage.NewID("ses"), Hash: storage.NewSecret(), UserID: u.ID, AuthTime: base, AMR: []string{"pwd"},
		CreatedAt: base, LastSeen: base, IdleExpiresAt: base.Add(time.Hour), AbsoluteExpiresAt: base.Add(time.Hour), IDP: a.ID}
	must(t, s.CreateSession(ctx(), sess))
	gs, err := s.GetSessionByID(ctx(), sess.ID)
	must(t, err)
	if gs.IDP != a.ID {
		t.Fatalf("session IDP = %q", gs.IDP)
	}
	ar := newAuthRequest(t, s)
	answered, err := s.AnswerAuthRequest(ctx(), ar.ID, sess, base)
	must(t, err)
	if answered.IDP != a.ID {
		t.Fatalf("answered request IDP = %q", answered.IDP)
	}
}
