package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// RunTests runs the suite. newStorage returns an empty, migrated backend;
// the suite closes it.
func RunTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		run  func(t *testing.T, s storage.Storage)
	}{
		{"Organizations", testOrganizations},
		{"Users", testUsers},
		{"Clients", testClients},
		{"AuthRequests", testAuthRequests},
		{"CodeConsumedOnce", testCodeConsumedOnce},
		{"Tokens", testTokens},
		{"Grants", testGrants},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshRotationRace", testRefreshRotationRace},
		{"Sessions", testSessions},
		{"SigningKeys", testSigningKeys},
		{"GarbageCollect", testGarbageCollect},
		{"Atomic", testAtomic},
		{"Memberships", testMemberships},
		{"ActionTokens", testActionTokens},
		{"Outbox", testOutbox},
		{"AuditAndRateLimits", testAuditAndRateLimits},
		{"AuditFilters", testAuditFilters},
		{"SecondFactors", testSecondFactors},
		{"LoginThrottle", testLoginThrottle},
		{"LogoutNotices", testLogoutNotices},
		{"Protocol", testProtocol},
		{"DeviceAuthorizations", testDeviceAuthorizations},
		{"Passkeys", testPasskeys},
		{"PasskeyLimitConcurrent", testPasskeyLimitConcurrent},
		{"CompanySSO", testCompanySSO},
		{"Management", testManagement},
		{"OrganizationSummaries", testOrganizationSummaries}, // after Management, which counts every organization
		{"ChosenLang", testChosenLang},
		{"RefreshProvenance", testRefreshProvenance},
		{"AnySSOConnection", testAnySSOConnection},
		{"Consents", testConsents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStorage(t)
			t.Cleanup(func() { s.Close() })
			tc.run(t, s)
		})
	}
}

// base is a fixed instant: times round-trip through the backend exactly.
var base = time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)

func ctx() context.Context { return context.Background() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func newOrg(siret string) storage.Organization {
	o := storage.Organization{ID: storage.NewID("org"), Name: "ACME", Domicile: storage.DomicileAbroad, Country: "DE",
		Status: storage.OrgPending, CreatedAt: base}
	if siret != "" {
		o.Domicile, o.Country, o.SIRET, o.SIREN = storage.DomicileFrance, "FR", siret, siret[:9]
	}
	return o
}

func testOrganizations(t *testing.T, s storage.Storage) {
	fr := newOrg("73282932000074")
	fr.LegalName, fr.Address = "ACME SAS", "1 rue de la Paix, 75002 Paris"
	must(t, s.CreateOrganization(ctx(), fr))
	abroad := newOrg("")
	abroad.CreatedAt = base.Add(time.Second)
	must(t, s.CreateOrganization(ctx(), abroad))

	got, err := s.GetOrganization(ctx(), fr.ID)
	must(t, err)
	if got != fr {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, fr)
	}

	dup := newOrg("73282932000074")
	wantErr(t, s.CreateOrganization(ctx(), dup), storage.ErrConflict)
	// Two organizations without SIRET do not conflict.
	must(t, s.CreateOrganization(ctx(), storage.Organization{ID: storage.NewID("org"), Name: "B", Domicile: storage.DomicileAbroad,
		Country: "BE", Status: storage.OrgValidated, CreatedAt: base.Add(2 * time.Second)}))

	bad := newOrg("")
	bad.Status = "unknown"
	wantErr(t, s.CreateOrganization(ctx(), bad), storage.ErrInvalid)

	_, err = s.GetOrganization(ctx(), "org_missing")
	wantErr(t, err, storage.ErrNotFound)

	pending, err := s.ListOrganizations(ctx(), storage.OrgPending)
	must(t, err)
	if len(pending) != 2 || pending[0].ID != fr.ID || pending[1].ID != abroad.ID {
		t.Fatalf("pending list: %+v", pending)
	}
	all, err := s.ListOrganizations(ctx(), "")
	must(t, err)
	if len(all) != 3 {
		t.Fatalf("all: %d organizations, want 3", len(all))
	}

	must(t, s.UpdateOrganization(ctx(), fr.ID, func(o *storage.Organization) error {
		o.Status, o.ValidatedAt, o.ValidatedBy = storage.OrgValidated, base.Add(time.Hour), "operator"
		return nil
	}))
	got, _ = s.GetOrganization(ctx(), fr.ID)
	if got.Status != storage.OrgValidated || !got.ValidatedAt.Equal(base.Add(time.Hour)) || got.ValidatedBy != "operator" {
		t.Fatalf("after update: %+v", got)
	}
	// A failing update writes nothing.
	boom := errors.New("boom")
	err = s.UpdateOrganization(ctx(), fr.ID, func(o *storage.Organization) error { o.Name = "changed"; return boom })
	wantErr(t, err, boom)
	got, _ = s.GetOrganization(ctx(), fr.ID)
	if got.Name != "ACME" {
		t.Fatal("failed update was written")
	}
	wantErr(t, s.UpdateOrganization(ctx(), "org_missing", func(*storage.Organization) error { return nil }), storage.ErrNotFound)
	// Changing a SIRET to one already used conflicts.
	wantErr(t, s.UpdateOrganization(ctx(), abroad.ID, func(o *storage.Organization) error {
		o.Domicile, o.Country, o.SIRET = storage.DomicileFrance, "FR", fr.SIRET
		return nil
	}), storage.ErrConflict)
}

func testUsers(t *testing.T, s storage.Storage) {
	org := newOrg("")
	must(t, s.CreateOrganization(ctx(), org))
	u := storage.User{ID: storage.NewID("usr"), Email: "Alice@Example.com", Name: "Alice", Locale: "fr",
		PasswordHash: "$argon2id$…", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateUser(ctx(), u, &storage.Membership{OrgID: org.ID, Roles: []string{"user", "admin"}}))

	got, err := s.GetUser(ctx(), u.ID)
	must(t, err)
	if got != u {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, u)
	}
	for _, email := range []string{"alice@example.com", " ALICE@EXAMPLE.COM "} {
		got, err = s.GetUserByEmail(ctx(), email)
		must(t, err)
		if got.ID != u.ID {
			t.Fatalf("by email %q: got %s", email, got.ID)
		}
	}
	m, err := s.GetMembership(ctx(), u.ID)
	must(t, err)
	if m.OrgID != org.ID || !slices.Equal(m.Roles, []string{"admin", "user"}) {
		t.Fatalf("membership: %+v", m)
	}
	m2, o2, err := s.GetMembershipOrganization(ctx(), u.ID)
	must(t, err)
	wantOrg, err := s.GetOrganization(ctx(), org.ID)
	must(t, err)
	if !reflect.DeepEqual(m2, m) || !reflect.DeepEqual(o2, wantOrg) {
		t.Fatalf("membership with organization:\n got %+v %+v\nwant %+v %+v", m2, o2, m, wantOrg)
	}
	p, err := s.GetPerson(ctx(), u.ID)
	must(t, err)
	if p.User != u || p.Membership == nil || p.Organization == nil ||
		!reflect.DeepEqual(*p.Membership, m) || !reflect.DeepEqual(*p.Organization, wantOrg) {
		t.Fatalf("person:\n got %+v %+v %+v\nwant %+v %+v %+v", p.User, p.Membership, p.Organization, u, m, wantOrg)
	}
	_, err = s.GetPerson(ctx(), "usr_missing")
	wantErr(t, err, storage.ErrNotFound)
	for _, email := range []string{"alice@example.com", " ALICE@Example.COM "} {
		byEmail, err := s.GetPersonByEmail(ctx(), email)
		must(t, err)
		if !reflect.DeepEqual(byEmail, p) {
			t.Fatalf("person by email %q:\n got %+v\nwant %+v", email, byEmail, p)
		}
	}
	_, err = s.GetPersonByEmail(ctx(), "nobody@example.com")
	wantErr(t, err, storage.ErrNotFound)

	tests := []struct {
		name string
		user storage.User
		m    *storage.Membership
		want error
	}{
		{"email taken in another case", storage.User{ID: storage.NewID("usr"), Email: "ALICE@example.COM", CreatedAt: base}, nil, storage.ErrConflict},
		{"unknown organization", storage.User{ID: storage.NewID("usr"), Email: "bob@example.com", CreatedAt: base},
			&storage.Membership{OrgID: "org_missing", Roles: []string{"user"}}, storage.ErrNotFound},
		{"bad role", storage.User{ID: storage.NewID("usr"), Email: "carol@example.com", CreatedAt: base},
			&storage.Membership{OrgID: org.ID, Roles: []string{"owner"}}, storage.ErrInvalid},
		{"no roles", storage.User{ID: storage.NewID("usr"), Email: "dan@example.com", CreatedAt: base},
			&storage.Membership{OrgID: org.ID}, storage.ErrInvalid},
		{"no email", storage.User{ID: storage.NewID("usr"), CreatedAt: base}, nil, storage.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, s.CreateUser(ctx(), tc.user, tc.m), tc.want)
			// Nothing half-written: the user does not exist either.
			if _, err := s.GetUser(ctx(), tc.user.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("user %s was written: %v", tc.user.ID, err)
			}
		})
	}

	operator := storage.User{ID: storage.NewID("usr"), Email: "op@example.com", CreatedAt: base.Add(time.Second)}
	must(t, s.CreateUser(ctx(), operator, nil))
	_, err = s.GetMembership(ctx(), operator.ID)
	wantErr(t, err, storage.ErrNotFound)
	_, _, err = s.GetMembershipOrganization(ctx(), operator.ID)
	wantErr(t, err, storage.ErrNotFound)
	p, err = s.GetPerson(ctx(), operator.ID)
	must(t, err)
	if gotOp, _ := s.GetUser(ctx(), operator.ID); p.User != gotOp || p.Membership != nil || p.Organization != nil {
		t.Fatalf("person without an organization: %+v %+v %+v", p.User, p.Membership, p.Organization)
	}
	if byEmail, err := s.GetPersonByEmail(ctx(), "OP@example.com"); err != nil || !reflect.DeepEqual(byEmail, p) {
		t.Fatalf("person without an organization, by email: %+v, %v", byEmail, err)
	}

	// RecordSignIn changes the sign-in time, and the hash only when given.
	before, _ := s.GetUser(ctx(), u.ID)
	must(t, s.RecordSignIn(ctx(), u.ID, base.Add(2*time.Hour), ""))
	after, _ := s.GetUser(ctx(), u.ID)
	want := before
	want.LastSignInAt = base.Add(2 * time.Hour)
	if after != want {
		t.Fatalf("after RecordSignIn:\n got %+v\nwant %+v", after, want)
	}
	must(t, s.RecordSignIn(ctx(), u.ID, base.Add(3*time.Hour), "$argon2id$rehashed"))
	after, _ = s.GetUser(ctx(), u.ID)
	want.LastSignInAt, want.PasswordHash = base.Add(3*time.Hour), "$argon2id$rehashed"
	if after != want {
		t.Fatalf("after RecordSignIn with a rehash:\n got %+v\nwant %+v", after, want)
	}
	wantErr(t, s.RecordSignIn(ctx(), "usr_missing", base, ""), storage.ErrNotFound)
	must(t, s.UpdateUser(ctx(), u.ID, func(x *storage.User) error { x.PasswordHash = u.PasswordHash; return nil }))

	inOrg, err := s.ListUsers(ctx(), org.ID)
	must(t, err)
	if len(inOrg) != 1 || inOrg[0].ID != u.ID {
		t.Fatalf("list by org: %+v", inOrg)
	}
	all, err := s.ListUsers(ctx(), "")
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("list all: %d", len(all))
	}

	must(t, s.UpdateUser(ctx(), u.ID, func(u *storage.User) error {
		u.Disabled, u.Name, u.LastSignInAt = true, "Alice Martin", base.Add(time.Minute)
		return nil
	}))
	got, _ = s.GetUser(ctx(), u.ID)
	if !got.Disabled || got.Name != "Alice Martin" || !got.LastSignInAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("after update: %+v", got)
	}
	wantErr(t, s.UpdateUser(ctx(), operator.ID, func(x *storage.User) error { x.Email = "alice@EXAMPLE.com"; return nil }), storage.ErrConflict)
	wantErr(t, s.UpdateUser(ctx(), "usr_missing", func(*storage.User) error { return nil }), storage.ErrNotFound)
}

func newClient(id string) storage.Client {
	return storage.Client{ID: id, Name: "Marketplace", SecretHash: "hash", RedirectURIs: []string{"https://rp.example/cb", "https://rp.example/cb2"},
		PostLogoutRedirectURIs: []string{"https://rp.example/bye"}, IDTokenSignedAlg: "ES256", CreatedAt: base}
}

func testClients(t *testing.T, s storage.Storage) {
	c := newClient("marketplace")
	must(t, s.CreateClient(ctx(), c))
	pub := storage.Client{ID: "spa", Public: true, RedirectURIs: []string{"http://localhost/cb"}, CreatedAt: base}
	must(t, s.CreateClient(ctx(), pub))
	wantErr(t, s.CreateClient(ctx(), c), storage.ErrConflict)
	wantErr(t, s.CreateClient(ctx(), storage.Client{ID: "nouri", CreatedAt: base}), storage.ErrInvalid)

	got, err := s.GetClient(ctx(), c.ID)
	must(t, err)
	if got.Name != c.Name || !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.PostLogoutRedirectURIs, c.PostLogoutRedirectURIs) ||
		got.IDTokenSignedAlg != "ES256" || got.Public || got.SecretHash != "hash" || !got.CreatedAt.Equal(base) {
		t.Fatalf("round trip: %+v", got)
	}
	// A rehash replaces the hash it read, and nothing else.
	must(t, s.ReplaceClientSecretHash(ctx(), c.ID, "hash", "rehashed"))
	wantErr(t, s.ReplaceClientSecretHash(ctx(), c.ID, "hash", "stale"), storage.ErrNotFound)
	wantErr(t, s.ReplaceClientSecretHash(ctx(), "nobody", "", "x"), storage.ErrNotFound)
	if got, _ := s.GetClient(ctx(), c.ID); got.SecretHash != "rehashed" || got.Name != c.Name {
		t.Fatalf("after a rehash: %+v", got)
	}
	got, _ = s.GetClient(ctx(), "spa")
	if !got.Public || got.PostLogoutRedirectURIs != nil {
		t.Fatalf("public client: %+v", got)
	}
	list, err := s.ListClients(ctx())
	must(t, err)
	if len(list) != 2 || list[0].ID != "marketplace" || list[1].ID != "spa" {
		t.Fatalf("list: %+v", list)
	}

	// Deleting a client deletes its tokens.
	must(t, s.CreateTokens(ctx(), storage.AccessToken{ID: "at1", GrantID: "g", ClientID: "spa", UserID: "u", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}, nil))
	must(t, s.DeleteClient(ctx(), "spa"))
	_, err = s.GetAccessToken(ctx(), "at1")
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.GetClient(ctx(), "spa")
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.DeleteClient(ctx(), "spa"), storage.ErrNotFound)
}

func newAuthRequest(t *testing.T, s storage.Storage) storage.AuthRequest {
	t.Helper()
	if _, err := s.GetClient(ctx(), "marketplace"); err != nil {
		must(t, s.CreateClient(ctx(), newClient("marketplace")))
	}
	maxAge := uint(300)
	r := storage.AuthRequest{ID: storage.NewID("ar"), ClientID: "marketplace", RedirectURI: "https://rp.example/cb", State: "st",
		Nonce: "n", Scopes: []string{"openid", "organization"}, ResponseType: "code", CodeChallenge: "abc", CodeChallengeMethod: "S256",
		Prompt: []string{"login"}, MaxAge: &maxAge, LoginHint: "alice@example.com", UILocales: []string{"en", "fr"},
		CreatedAt: base, ExpiresAt: base.Add(30 * time.Minute)}
	must(t, s.CreateAuthRequest(ctx(), r))
	return r
}

// newRefusedAuthRequest stores a request the screens answered with an error.
func newRefusedAuthRequest(t *testing.T, s storage.Storage) storage.AuthRequest {
	t.Helper()
	r := newAuthRequest(t, s)
	must(t, s.UpdateAuthRequest(ctx(), r.ID, func(a *storage.AuthRequest) error {
		a.Error, a.Done = "access_denied", true
		return nil
	}))
	return r
}

func testAuthRequests(t *testing.T, s storage.Storage) {
	r := newAuthRequest(t, s)
	got, err := s.GetAuthRequest(ctx(), r.ID)
	must(t, err)
	if got.State != "st" || got.MaxAge == nil || *got.MaxAge != 300 || !slices.Equal(got.Scopes, r.Scopes) ||
		!slices.Equal(got.Prompt, r.Prompt) || !slices.Equal(got.UILocales, r.UILocales) || got.Done || got.CodeChallenge != "abc" {
		t.Fatalf("round trip: %+v", got)
	}
	wantErr(t, s.CreateAuthRequest(ctx(), storage.AuthRequest{ID: "x", ClientID: "nobody", CreatedAt: base, ExpiresAt: base}), storage.ErrNotFound)

	must(t, s.UpdateAuthRequest(ctx(), r.ID, func(a *storage.AuthRequest) error {
		a.UserID, a.SessionID, a.AuthTime, a.AMR, a.Done = "usr_1", "ses_1", base, []string{"pwd"}, true
		a.CodeHash, a.CodeExpiry = "codehash", base.Add(time.Minute)
		return nil
	}))
	got, err = s.GetAuthRequestByCode(ctx(), "codehash")
	must(t, err)
	if got.ID != r.ID || !got.Done || got.UserID != "usr_1" || !slices.Equal(got.AMR, []string{"pwd"}) || !got.CodeExpiry.Equal(base.Add(time.Minute)) {
		t.Fatalf("by code: %+v", got)
	}
	_, err = s.GetAuthRequestByCode(ctx(), "other")
	wantErr(t, err, storage.ErrNotFound)

	// SetCode: only for a request answered without error, and only once.
	open := newAuthRequest(t, s)
	refused := newRefusedAuthRequest(t, s)
	for _, tc := range []struct {
		name, id string
		want     error
	}{
		{"unknown request", "ar_missing", storage.ErrNotFound},
		{"not answered yet", open.ID, storage.ErrNotFound},
		{"answered with an error", refused.ID, storage.ErrNotFound},
		{"already has a code", r.ID, storage.ErrNotFound},
	} {
		wantErr(t, s.SetCode(ctx(), tc.id, "code-"+tc.name, base.Add(time.Minute)), tc.want)
	}
	must(t, s.UpdateAuthRequest(ctx(), open.ID, func(a *storage.AuthRequest) error { a.Done = true; return nil }))
	must(t, s.SetCode(ctx(), open.ID, "code-open", base.Add(2*time.Minute)))
	got, err = s.GetAuthRequestByCode(ctx(), "code-open")
	must(t, err)
	if got.ID != open.ID || !got.CodeExpiry.Equal(base.Add(2*time.Minute)) {
		t.Fatalf("after SetCode: %+v", got)
	}
	wantErr(t, s.SetCode(ctx(), open.ID, "code-again", base.Add(time.Minute)), storage.ErrNotFound)

	must(t, s.DeleteAuthRequest(ctx(), r.ID))
	_, err = s.GetAuthRequest(ctx(), r.ID)
	wantErr(t, err, storage.ErrNotFound)

	testAnswerAuthRequest(t, s)
}

// AnswerAuthRequest answers a live request once, and is undone with the
// transaction it joins.
func testAnswerAuthRequest(t *testing.T, s storage.Storage) {
	sess := storage.Session{ID: "ses_answer", UserID: "usr_answer", AuthTime: base.Add(time.Second), AMR: []string{"pwd", "otp", "mfa"}}
	live := newAuthRequest(t, s)
	got, err := s.AnswerAuthRequest(ctx(), live.ID, sess, base.Add(time.Minute))
	must(t, err)
	want := live
	want.UserID, want.SessionID, want.AuthTime, want.AMR, want.Done = sess.UserID, sess.ID, sess.AuthTime, sess.AMR, true
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("answered:\n got %+v\nwant %+v", got, want)
	}
	if stored, _ := s.GetAuthRequest(ctx(), live.ID); !reflect.DeepEqual(stored, want) {
		t.Fatalf("stored after the answer:\n got %+v\nwant %+v", stored, want)
	}
	other := sess
	other.ID, other.UserID = "ses_other", "usr_other"
	expiring := newAuthRequest(t, s)
	refused := newRefusedAuthRequest(t, s)
	for _, tc := range []struct {
		name, id string
		now      time.Time
	}{
		{"unknown", "ar_missing", base},
		{"answered already", live.ID, base.Add(time.Minute)},
		{"refused", refused.ID, base.Add(time.Minute)},
		{"expired", expiring.ID, expiring.ExpiresAt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := s.GetAuthRequest(ctx(), tc.id)
			_, err := s.AnswerAuthRequest(ctx(), tc.id, other, tc.now)
			wantErr(t, err, storage.ErrNotFound)
			if after, _ := s.GetAuthRequest(ctx(), tc.id); !reflect.DeepEqual(after, before) {
				t.Fatalf("changed:\n got %+v\nwant %+v", after, before)
			}
		})
	}
	// In a transaction that fails, the answer is undone.
	undone := newAuthRequest(t, s)
	boom := errors.New("boom")
	wantErr(t, s.Atomic(ctx(), func(tx storage.Tx) error {
		if _, err := tx.AnswerAuthRequest(ctx(), undone.ID, sess, base.Add(time.Minute)); err != nil {
			return err
		}
		return boom
	}), boom)
	if stored, _ := s.GetAuthRequest(ctx(), undone.ID); stored.Done || stored.UserID != "" {
		t.Fatalf("answer of a rolled-back transaction stored: %+v", stored)
	}
}

func testCodeConsumedOnce(t *testing.T, s storage.Storage) {
	r := newAuthRequest(t, s)
	wantErr(t, s.ConsumeCode(ctx(), r.ID, base), storage.ErrNotFound) // no code issued yet
	must(t, s.UpdateAuthRequest(ctx(), r.ID, func(a *storage.AuthRequest) error { a.CodeHash = "h"; return nil }))

	// Eight concurrent exchanges: exactly one wins.
	var wg sync.WaitGroup
	results := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); results <- s.ConsumeCode(ctx(), r.ID, base) }()
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, storage.ErrAlreadyUsed):
		default:
			t.Fatal(err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d exchanges won, want 1", wins)
	}
	got, _ := s.GetAuthRequest(ctx(), r.ID)
	if !got.ConsumedAt.Equal(base) {
		t.Fatalf("consumed at %v", got.ConsumedAt)
	}
}

func tokens(grant, session string, n int) (storage.AccessToken, storage.RefreshToken) {
	a := storage.AccessToken{ID: storage.NewID("at"), GrantID: grant, ClientID: "marketplace", UserID: "usr_1", SessionID: session,
		Scopes: []string{"openid", "offline_access"}, Audience: []string{"marketplace"}, AuthTime: base, AMR: []string{"pwd"},
		CreatedAt: base.Add(time.Duration(n) * time.Second), ExpiresAt: base.Add(time.Hour)}
	r := storage.RefreshToken{ID: storage.NewID("rt"), Hash: storage.HashToken(storage.NewSecret()), GrantID: grant, ClientID: "marketplace",
		UserID: "usr_1", SessionID: session, Scopes: a.Scopes, Audience: a.Audience, AuthTime: base, AMR: a.AMR,
		CreatedAt: a.CreatedAt, ExpiresAt: base.Add(24 * time.Hour)}
	return a, r
}

// testGrants: the one read of a refresh or of a code exchange gives what
// the separate reads give, for a member and for a person without an
// organization, and nothing once the client is gone.
func testGrants(t *testing.T, s storage.Storage) {
	org := newOrg("")
	must(t, s.CreateOrganization(ctx(), org))
	member := storage.User{ID: storage.NewID("usr"), Email: "member@example.com", Name: "Member", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateUser(ctx(), member, &storage.Membership{OrgID: org.ID, Roles: []string{"admin"}}))
	operator := storage.User{ID: storage.NewID("usr"), Email: "operator@example.com", IsOperator: true, CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateUser(ctx(), operator, nil))

	for i, u := range []storage.User{member, operator} {
		ar := newAuthRequest(t, s) // creates the client
		codeHash := fmt.Sprintf("code-%d", i)
		must(t, s.UpdateAuthRequest(ctx(), ar.ID, func(a *storage.AuthRequest) error {
			a.UserID, a.SessionID, a.AuthTime, a.AMR, a.Done = u.ID, "ses_1", base, []string{"pwd"}, true
			a.CodeHash, a.CodeExpiry = codeHash, base.Add(time.Minute)
			return nil
		}))
		cg, err := s.GetCodeGrant(ctx(), codeHash)
		must(t, err)
		wantRequest, err := s.GetAuthRequestByCode(ctx(), codeHash)
		must(t, err)
		wantClient, err := s.GetClient(ctx(), "marketplace")
		must(t, err)
		wantPerson, err := s.GetPerson(ctx(), u.ID)
		must(t, err)
		if !reflect.DeepEqual(cg.Request, wantRequest) || !reflect.DeepEqual(cg.Client, wantClient) || !reflect.DeepEqual(cg.Person, wantPerson) {
			t.Fatalf("%s: code grant\n got %+v\nwant %+v %+v %+v", u.Email, cg, wantRequest, wantClient, wantPerson)
		}

		_, r := tokens(storage.NewID("grt"), "ses_1", 0)
		r.UserID = u.ID
		must(t, s.CreateTokens(ctx(), storage.AccessToken{ID: storage.NewID("at"), GrantID: r.GrantID, ClientID: r.ClientID,
			UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}, &r))
		g, err := s.GetRefreshGrant(ctx(), r.Hash)
		must(t, err)
		wantToken, err := s.GetRefreshToken(ctx(), r.Hash)
		must(t, err)
		if !reflect.DeepEqual(g.Token, wantToken) || !reflect.DeepEqual(g.Client, wantClient) || !reflect.DeepEqual(g.Person, wantPerson) {
			t.Fatalf("%s: refresh grant\n got %+v\nwant %+v %+v %+v", u.Email, g, wantToken, wantClient, wantPerson)
		}
		if (u.ID == member.ID) != (g.Person.Organization != nil && g.Person.Organization.ID == org.ID) {
			t.Fatalf("%s: organization %+v", u.Email, g.Person.Organization)
		}
	}
	_, err := s.GetRefreshGrant(ctx(), storage.HashToken("unknown"))
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.GetCodeGrant(ctx(), "unknown")
	wantErr(t, err, storage.ErrNotFound)
	// A request not answered yet has no person: no grant.
	open := newAuthRequest(t, s)
	must(t, s.UpdateAuthRequest(ctx(), open.ID, func(a *storage.AuthRequest) error { a.CodeHash = "code-open"; return nil }))
	_, err = s.GetCodeGrant(ctx(), "code-open")
	wantErr(t, err, storage.ErrNotFound)

	_, r := tokens("g-gone", "ses_1", 0)
	r.UserID = member.ID
	must(t, s.CreateTokens(ctx(), storage.AccessToken{ID: storage.NewID("at"), GrantID: r.GrantID, ClientID: r.ClientID,
		UserID: member.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}, &r))
	must(t, s.DeleteClient(ctx(), "marketplace"))
	_, err = s.GetRefreshGrant(ctx(), r.Hash)
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.GetCodeGrant(ctx(), "code-0")
	wantErr(t, err, storage.ErrNotFound)
}

func testTokens(t *testing.T, s storage.Storage) {
	a, r := tokens("g1", "ses_1", 0)
	must(t, s.CreateTokens(ctx(), a, &r))
	gotA, err := s.GetAccessToken(ctx(), a.ID)
	must(t, err)
	if gotA.UserID != "usr_1" || !slices.Equal(gotA.Scopes, a.Scopes) || !gotA.ExpiresAt.Equal(a.ExpiresAt) || !gotA.AuthTime.Equal(base) {
		t.Fatalf("access round trip: %+v", gotA)
	}
	gotR, err := s.GetRefreshToken(ctx(), r.Hash)
	must(t, err)
	if gotR.ID != r.ID || gotR.GrantID != "g1" || !gotR.UsedAt.IsZero() {
		t.Fatalf("refresh round trip: %+v", gotR)
	}
	// A duplicate refresh hash rolls back the access token too.
	a2, _ := tokens("g2", "", 0)
	wantErr(t, s.CreateTokens(ctx(), a2, &r), storage.ErrConflict)
	_, err = s.GetAccessToken(ctx(), a2.ID)
	wantErr(t, err, storage.ErrNotFound)

	must(t, s.RevokeAccessToken(ctx(), a.ID))
	_, err = s.GetAccessToken(ctx(), a.ID)
	wantErr(t, err, storage.ErrNotFound)

	// Revoking a refresh token revokes the access tokens of its grant.
	a3, r3 := tokens("g3", "", 0)
	must(t, s.CreateTokens(ctx(), a3, &r3))
	must(t, s.RevokeRefreshToken(ctx(), r3.Hash))
	_, err = s.GetAccessToken(ctx(), a3.ID)
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.RevokeRefreshToken(ctx(), r3.Hash), storage.ErrNotFound)

	// Session revocation.
	a4, r4 := tokens("g4", "ses_9", 0)
	must(t, s.CreateTokens(ctx(), a4, &r4))
	must(t, s.RevokeSessionTokens(ctx(), "ses_9"))
	_, err = s.GetRefreshToken(ctx(), r4.Hash)
	wantErr(t, err, storage.ErrNotFound)
	// The first grant's refresh token is untouched by all of this.
	_, err = s.GetRefreshToken(ctx(), r.Hash)
	must(t, err)
	must(t, s.RevokeGrant(ctx(), "g1"))
	_, err = s.GetRefreshToken(ctx(), r.Hash)
	wantErr(t, err, storage.ErrNotFound)
}

func testRefreshRotation(t *testing.T, s storage.Storage) {
	a, r := tokens("g", "", 0)
	must(t, s.CreateTokens(ctx(), a, &r))
	a2, r2 := tokens("g", "", 1)
	must(t, s.RotateRefreshToken(ctx(), r.Hash, base.Add(time.Minute), a2, r2))
	old, err := s.GetRefreshToken(ctx(), r.Hash)
	must(t, err)
	if !old.UsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("old token used at %v", old.UsedAt)
	}
	// Reusing the rotated token revokes the whole family, the new one included.
	a3, r3 := tokens("g", "", 2)
	wantErr(t, s.RotateRefreshToken(ctx(), r.Hash, base.Add(2*time.Minute), a3, r3), storage.ErrAlreadyUsed)
	for _, h := range []string{r.Hash, r2.Hash, r3.Hash} {
		if _, err := s.GetRefreshToken(ctx(), h); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("refresh token survived reuse: %v", err)
		}
	}
	for _, id := range []string{a.ID, a2.ID, a3.ID} {
		if _, err := s.GetAccessToken(ctx(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("access token survived reuse: %v", err)
		}
	}
	wantErr(t, s.RotateRefreshToken(ctx(), "unknown", base, a3, r3), storage.ErrNotFound)
}

func testRefreshRotationRace(t *testing.T, s storage.Storage) {
	a, r := tokens("race", "", 0)
	must(t, s.CreateTokens(ctx(), a, &r))
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			na, nr := tokens("race", "", i+1)
			errs <- s.RotateRefreshToken(ctx(), r.Hash, base.Add(time.Minute), na, nr)
		}()
	}
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		// A loser finds the token used, or already revoked by another loser.
		if err == nil {
			wins++
		} else if !errors.Is(err, storage.ErrAlreadyUsed) && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if wins > 1 {
		t.Fatalf("%d concurrent rotations succeeded", wins)
	}
}

func testSessions(t *testing.T, s storage.Storage) {
	u := storage.User{ID: storage.NewID("usr"), Email: "s@example.com", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, nil))
	sess := storage.Session{ID: storage.NewID("ses"), Hash: storage.HashToken("cookie"), UserID: u.ID, AuthTime: base, AMR: []string{"pwd"},
		CreatedAt: base, LastSeen: base, IdleExpiresAt: base.Add(time.Hour), AbsoluteExpiresAt: base.Add(24 * time.Hour),
		UserAgent: "Firefox", IP: "127.0.0.1"}
	must(t, s.CreateSession(ctx(), sess))
	wantErr(t, s.CreateSession(ctx(), storage.Session{ID: "ses_x", Hash: "h2", UserID: "usr_missing", AuthTime: base, CreatedAt: base, LastSeen: base, IdleExpiresAt: base, AbsoluteExpiresAt: base}), storage.ErrNotFound)

	got, err := s.GetSession(ctx(), sess.Hash, base.Add(time.Minute))
	must(t, err)
	if got.ID != sess.ID || got.UserAgent != "Firefox" || !slices.Equal(got.AMR, []string{"pwd"}) {
		t.Fatalf("round trip: %+v", got)
	}
	// Idle expiry, then the touch that pushes it.
	_, err = s.GetSession(ctx(), sess.Hash, base.Add(time.Hour))
	wantErr(t, err, storage.ErrNotFound)
	must(t, s.TouchSession(ctx(), sess.ID, base.Add(50*time.Minute), base.Add(110*time.Minute)))
	_, err = s.GetSession(ctx(), sess.Hash, base.Add(time.Hour))
	must(t, err)
	// The absolute lifetime wins over activity.
	must(t, s.TouchSession(ctx(), sess.ID, base.Add(23*time.Hour), base.Add(48*time.Hour)))
	_, err = s.GetSession(ctx(), sess.Hash, base.Add(24*time.Hour))
	wantErr(t, err, storage.ErrNotFound)
	wantErr(t, s.TouchSession(ctx(), "ses_missing", base, base), storage.ErrNotFound)

	list, err := s.ListUserSessions(ctx(), u.ID, base.Add(time.Hour))
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("list: %d sessions", len(list))
	}
	byID, err := s.GetSessionByID(ctx(), sess.ID)
	must(t, err)
	if byID.Hash != sess.Hash {
		t.Fatal("by id")
	}
	must(t, s.DeleteSession(ctx(), sess.ID))
	_, err = s.GetSession(ctx(), sess.Hash, base)
	wantErr(t, err, storage.ErrNotFound)
}

func testSigningKeys(t *testing.T, s storage.Storage) {
	k1 := storage.SigningKey{ID: "k1", Algorithm: "RS256", PrivateEncrypted: []byte{1, 2}, Public: []byte(`{"kty":"RSA"}`), CreatedAt: base}
	e1 := storage.SigningKey{ID: "e1", Algorithm: "ES256", PrivateEncrypted: []byte{3}, Public: []byte(`{"kty":"EC"}`), CreatedAt: base}
	must(t, s.CreateSigningKey(ctx(), k1))
	must(t, s.CreateSigningKey(ctx(), e1))
	wantErr(t, s.CreateSigningKey(ctx(), k1), storage.ErrConflict)

	k2 := storage.SigningKey{ID: "k2", Algorithm: "RS256", PrivateEncrypted: []byte{4}, Public: []byte(`{}`), CreatedAt: base.Add(time.Hour)}
	must(t, s.RotateSigningKey(ctx(), k2, base.Add(time.Hour), base.Add(2*time.Hour)))
	keys, err := s.ListSigningKeys(ctx(), base.Add(time.Hour))
	must(t, err)
	if len(keys) != 3 || keys[0].ID != "k2" {
		t.Fatalf("keys after rotation: %+v", keys)
	}
	for _, k := range keys {
		switch k.ID {
		case "k1":
			if !k.RetiredAt.Equal(base.Add(time.Hour)) || !k.PublishUntil.Equal(base.Add(2*time.Hour)) {
				t.Fatalf("k1 not retired: %+v", k)
			}
		case "e1", "k2":
			if !k.RetiredAt.IsZero() {
				t.Fatalf("%s retired", k.ID)
			}
		}
	}
	if string(keys[0].PrivateEncrypted) != string([]byte{4}) {
		t.Fatal("private part round trip")
	}
	keys, _ = s.ListSigningKeys(ctx(), base.Add(2*time.Hour))
	if len(keys) != 2 {
		t.Fatalf("retired key still published after its date: %d keys", len(keys))
	}
}

func testGarbageCollect(t *testing.T, s storage.Storage) {
	r := newAuthRequest(t, s) // expires at base+30m
	consumed := newAuthRequest(t, s)
	must(t, s.UpdateAuthRequest(ctx(), consumed.ID, func(a *storage.AuthRequest) error { a.CodeHash = "c"; return nil }))
	must(t, s.ConsumeCode(ctx(), consumed.ID, base.Add(time.Minute)))
	a, rt := tokens("g", "", 0) // access expires base+1h, refresh base+24h
	must(t, s.CreateTokens(ctx(), a, &rt))
	u := storage.User{ID: storage.NewID("usr"), Email: "gc@example.com", CreatedAt: base}
	must(t, s.CreateUser(ctx(), u, nil))
	must(t, s.CreateSession(ctx(), storage.Session{ID: "ses_gc", Hash: "hgc", UserID: u.ID, AuthTime: base, CreatedAt: base,
		LastSeen: base, IdleExpiresAt: base.Add(2 * time.Hour), AbsoluteExpiresAt: base.Add(48 * time.Hour)}))

	res, err := s.GarbageCollect(ctx(), base.Add(2*time.Hour))
	must(t, err)
	want := storage.GCResult{AuthRequests: 1, AccessTokens: 1, Sessions: 1}
	if res != want {
		t.Fatalf("gc at +2h: %+v, want %+v", res, want)
	}
	if _, err := s.GetAuthRequest(ctx(), r.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("expired auth request kept")
	}
	// An exchanged request is kept a day so that a replayed code is recognised.
	if _, err := s.GetAuthRequest(ctx(), consumed.ID); err != nil {
		t.Fatal("consumed auth request collected too early")
	}
	res, err = s.GarbageCollect(ctx(), base.Add(25*time.Hour))
	must(t, err)
	want = storage.GCResult{AuthRequests: 1, RefreshTokens: 1}
	if res != want {
		t.Fatalf("gc at +25h: %+v, want %+v", res, want)
	}
}
