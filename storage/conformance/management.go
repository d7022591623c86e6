package conformance

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testManagement covers what the management API adds: organizations page
// by page with filters, clients with grants and scopes changed in place,
// audit events filtered and paged, and idempotency keys.
func testManagement(t *testing.T, s storage.Storage) {
	t.Run("UpdateClientProtocol", func(t *testing.T) { testUpdateClientProtocol(t, s) }) // apimore.go
	t.Run("OrganizationsPage", func(t *testing.T) {
		var ids []string
		for i := range 7 {
			o := newOrg("")
			o.Name = fmt.Sprintf("Org %d", i)
			if i == 3 {
				o = newOrg("73282932000074")
				o.Name, o.LegalName = "Other", "50%_Discount SAS"
			}
			if i%2 == 1 {
				o.Status = storage.OrgValidated
			}
			o.CreatedAt = base.Add(time.Duration(i/2) * time.Second) // ties: ordered by id
			must(t, s.CreateOrganization(ctx(), o))
			ids = append(ids, o.ID)
		}
		var all []string
		q := storage.OrgQuery{Limit: 3}
		for range 4 {
			page, err := s.ListOrganizationsPage(ctx(), q)
			must(t, err)
			for _, o := range page {
				all = append(all, o.ID)
			}
			if len(page) < 3 {
				break
			}
			q.AfterCreated, q.AfterID = page[len(page)-1].CreatedAt, page[len(page)-1].ID
		}
		if len(all) != 7 {
			t.Fatalf("pages gave %d organizations, want 7: %v", len(all), all)
		}
		seen := map[string]bool{}
		for _, id := range all {
			if seen[id] {
				t.Fatalf("organization %s twice across pages", id)
			}
			seen[id] = true
		}
		for _, tc := range []struct {
			q    storage.OrgQuery
			want int
		}{
			{storage.OrgQuery{Status: storage.OrgValidated}, 3},
			{storage.OrgQuery{Status: storage.OrgPending}, 4},
			{storage.OrgQuery{NotStatus: storage.OrgPending}, 3},
			{storage.OrgQuery{NotStatus: storage.OrgPending, Q: "org 1"}, 1},
			{storage.OrgQuery{SIRET: "73282932000074"}, 1},
			{storage.OrgQuery{Q: "org"}, 6},
			{storage.OrgQuery{Q: "50%_disc"}, 1}, // % and _ are literal
			{storage.OrgQuery{Q: "%"}, 1},
			{storage.OrgQuery{Q: "nothing"}, 0},
		} {
			got, err := s.ListOrganizationsPage(ctx(), tc.q)
			must(t, err)
			if len(got) != tc.want {
				t.Errorf("%+v: %d organizations, want %d", tc.q, len(got), tc.want)
			}
		}
	})
	t.Run("ClientGrantsAndUpdate", func(t *testing.T) {
		c := storage.Client{ID: "backoffice", Name: "Back office", SecretHash: "h", Grants: []string{storage.GrantClientCredentials},
			Scopes: []string{"sesame:organizations:read"}, CreatedAt: base}
		must(t, s.CreateClient(ctx(), c)) // no redirect URI: client_credentials only
		got, err := s.GetClient(ctx(), c.ID)
		must(t, err)
		if !reflect.DeepEqual(got.Grants, c.Grants) || !reflect.DeepEqual(got.Scopes, c.Scopes) || got.HasGrant(storage.GrantAuthorizationCode) {
			t.Fatalf("stored %+v", got)
		}
		wantErr(t, s.CreateClient(ctx(), storage.Client{ID: "web", CreatedAt: base}), storage.ErrInvalid)
		must(t, s.UpdateClient(ctx(), c.ID, func(c *storage.Client) error {
			c.Name, c.Scopes = "Renamed", append(c.Scopes, "sesame:audit:read")
			return nil
		}))
		got, _ = s.GetClient(ctx(), c.ID)
		if got.Name != "Renamed" || len(got.Scopes) != 2 {
			t.Fatalf("updated %+v", got)
		}
		boom := errors.New("no")
		if err := s.UpdateClient(ctx(), c.ID, func(c *storage.Client) error { c.Name = "x"; return boom }); !errors.Is(err, boom) {
			t.Fatalf("update error: %v", err)
		}
		wantErr(t, s.UpdateClient(ctx(), c.ID, func(c *storage.Client) error { c.Grants = nil; return nil }), storage.ErrInvalid)
		wantErr(t, s.UpdateClient(ctx(), "nobody", func(*storage.Client) error { return nil }), storage.ErrNotFound)
		if got, _ := s.GetClient(ctx(), c.ID); got.Name != "Renamed" {
			t.Fatalf("a refused update changed the client: %+v", got)
		}
	})
	t.Run("AuditFilters", func(t *testing.T) {
		for i := range 6 {
			actor, action := "client:a", "org.validated"
			if i%2 == 1 {
				actor, action = "usr_b", "member.invited"
			}
			must(t, s.RecordEvent(ctx(), storage.AuditEvent{ID: fmt.Sprintf("evt_%d", i), At: base.Add(time.Duration(i/2) * time.Minute),
				ActorID: actor, Action: action, OrgID: "org_x"}))
		}
		for _, tc := range []struct {
			f    storage.AuditFilter
			want int
		}{
			{storage.AuditFilter{ActorID: "client:a"}, 3},
			{storage.AuditFilter{Action: "member.invited"}, 3},
			{storage.AuditFilter{Since: base.Add(time.Minute)}, 4},
			{storage.AuditFilter{Until: base.Add(time.Minute)}, 2},
			{storage.AuditFilter{OrgID: "org_x", ActorID: "usr_b", Since: base.Add(time.Minute), Until: base.Add(2 * time.Minute)}, 1},
		} {
			got, err := s.ListEvents(ctx(), tc.f)
			must(t, err)
			if len(got) != tc.want {
				t.Errorf("%+v: %d events, want %d", tc.f, len(got), tc.want)
			}
		}
		var seen []string
		f := storage.AuditFilter{Limit: 4}
		for range 3 {
			page, err := s.ListEvents(ctx(), f)
			must(t, err)
			for _, e := range page {
				seen = append(seen, e.ID)
			}
			if len(page) < f.Limit {
				break
			}
			f.BeforeAt, f.BeforeID = page[len(page)-1].At, page[len(page)-1].ID
		}
		want := []string{"evt_5", "evt_4", "evt_3", "evt_2", "evt_1", "evt_0"}
		if !reflect.DeepEqual(seen, want) {
			t.Fatalf("paged events %v, want %v", seen, want)
		}
	})
	t.Run("Idempotency", func(t *testing.T) {
		r := storage.IdempotentRequest{ClientID: "c", Key: "k1", RequestHash: "h1", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		got, began, err := s.BeginIdempotent(ctx(), r)
		must(t, err)
		if !began {
			t.Fatal("a new key did not begin")
		}
		got, began, err = s.BeginIdempotent(ctx(), r)
		must(t, err)
		if began || got.Status != 0 || got.RequestHash != "h1" {
			t.Fatalf("a running key began again: %+v %v", got, began)
		}
		must(t, s.FinishIdempotent(ctx(), "c", "k1", 201, []byte("sealed")))
		got, began, err = s.BeginIdempotent(ctx(), storage.IdempotentRequest{ClientID: "c", Key: "k1", RequestHash: "h2", CreatedAt: base.Add(time.Minute), ExpiresAt: base.Add(time.Hour)})
		must(t, err)
		if began || got.Status != 201 || string(got.Body) != "sealed" || got.RequestHash != "h1" {
			t.Fatalf("a finished key: %+v %v", got, began)
		}
		// Another client's key is its own.
		if _, began, err := s.BeginIdempotent(ctx(), storage.IdempotentRequest{ClientID: "d", Key: "k1", RequestHash: "h1", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil || !began {
			t.Fatalf("another client's key: %v %v", began, err)
		}
		// An expired key begins again.
		if _, began, err := s.BeginIdempotent(ctx(), storage.IdempotentRequest{ClientID: "c", Key: "k1", RequestHash: "h3", CreatedAt: base.Add(2 * time.Hour), ExpiresAt: base.Add(3 * time.Hour)}); err != nil || !began {
			t.Fatalf("an expired key: %v %v", began, err)
		}
		must(t, s.DropIdempotent(ctx(), "c", "k1"))
		if _, began, _ := s.BeginIdempotent(ctx(), r); !began {
			t.Fatal("a dropped key did not begin again")
		}
		wantErr(t, s.FinishIdempotent(ctx(), "c", "unknown", 200, nil), storage.ErrNotFound)
		res, err := s.GarbageCollect(ctx(), base.Add(48*time.Hour))
		must(t, err)
		_ = res
		if _, began, _ := s.BeginIdempotent(ctx(), storage.IdempotentRequest{ClientID: "d", Key: "k1", RequestHash: "x", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); !began {
			t.Fatal("garbage collection left an expired key")
		}
	})
}

// testOrganizationSummaries: members counted per organization, the first
// admin (oldest account, then id) named, an organization without an admin
// or without members told apart, unknown ids ignored.
func testOrganizationSummaries(t *testing.T, s storage.Storage) {
	withAdmins, noAdmin, empty := newOrg(""), newOrg(""), newOrg("")
	for _, o := range []storage.Organization{withAdmins, noAdmin, empty} {
		must(t, s.CreateOrganization(ctx(), o))
	}
	add := func(org, email string, at time.Duration, roles ...string) {
		u := storage.User{ID: storage.NewID("usr"), Email: email, CreatedAt: base.Add(at)}
		must(t, s.CreateUser(ctx(), u, &storage.Membership{OrgID: org, Roles: roles}))
	}
	add(withAdmins.ID, "member-first@summary.example", 0, storage.RoleUser)
	add(withAdmins.ID, "later-admin@summary.example", 2*time.Second, storage.RoleAdmin)
	add(withAdmins.ID, "first-admin@summary.example", time.Second, storage.RoleUser, storage.RoleAdmin)
	add(noAdmin.ID, "only-member@summary.example", 0, storage.RoleUser)

	got, err := s.OrganizationSummaries(ctx(), []string{withAdmins.ID, noAdmin.ID, empty.ID, "org_unknown"})
	must(t, err)
	want := map[string]storage.OrgSummary{
		withAdmins.ID: {Members: 3, Founder: "first-admin@summary.example"},
		noAdmin.ID:    {Members: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("summaries %v, want %v", got, want)
	}
	if got, err := s.OrganizationSummaries(ctx(), nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %v %v", got, err)
	}
}
