package conformance

import (
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testRefreshIDP: a refresh token keeps the company provider that
// authenticated its session, through the one read of a refresh and a
// rotation; a token of Sesame's own sign-in has none.
func testRefreshIDP(t *testing.T, s storage.Storage) {
	const up = "https://login.acme.example"
	a, r := tokens("g-idp", "", 0)
	r.IDP = up
	must(t, s.CreateTokens(ctx(), a, &r))
	got, err := s.GetRefreshToken(ctx(), r.Hash)
	must(t, err)
	if got.IDP != up {
		t.Fatalf("idp %q, want %q", got.IDP, up)
	}
	a2, r2 := tokens("g-idp", "", 1)
	r2.IDP = got.IDP
	must(t, s.RotateRefreshToken(ctx(), r.Hash, base.Add(time.Minute), a2, r2))
	got, err = s.GetRefreshToken(ctx(), r2.Hash)
	must(t, err)
	if got.IDP != up {
		t.Fatalf("rotated idp %q, want %q", got.IDP, up)
	}
	a3, r3 := tokens("g-own", "", 0)
	must(t, s.CreateTokens(ctx(), a3, &r3))
	if got, err := s.GetRefreshToken(ctx(), r3.Hash); err != nil || got.IDP != "" {
		t.Fatalf("own sign-in: idp %q, %v", got.IDP, err)
	}
}

// testAnySSOConnection: whether any organization has a connection.
func testAnySSOConnection(t *testing.T, s storage.Storage) {
	want := func(w bool) {
		t.Helper()
		got, err := s.AnySSOConnection(ctx())
		must(t, err)
		if got != w {
			t.Fatalf("AnySSOConnection %v, want %v", got, w)
		}
	}
	want(false)
	a, b := newOrg(""), newOrg("")
	must(t, s.CreateOrganization(ctx(), a))
	must(t, s.CreateOrganization(ctx(), b))
	for _, o := range []storage.Organization{a, b} {
		must(t, s.PutSSOConnection(ctx(), storage.SSOConnection{OrgID: o.ID, Issuer: "https://idp.example.fr", ClientID: "sesame",
			SecretEncrypted: []byte{1}, DefaultRoles: []string{storage.RoleUser}, CreatedAt: base}))
		want(true)
	}
	must(t, s.DeleteSSOConnection(ctx(), a.ID))
	want(true)
	must(t, s.DeleteSSOConnection(ctx(), b.ID))
	want(false)
}
