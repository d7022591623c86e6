package conformance

import (
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testRefreshProvenance: a refresh token keeps the company provider that
// authenticated its session and the acr its grant was issued with, through
// the one read of a refresh and a rotation; a token of Sesame's own sign-in
// has no provider.
func testRefreshProvenance(t *testing.T, s storage.Storage) {
	const up, acr = "https://login.acme.example", "urn:sesame:loa:2"
	a, r := tokens("g-idp", "", 0)
	r.IDP, r.ACR = up, acr
	must(t, s.CreateTokens(ctx(), a, &r))
	got, err := s.GetRefreshToken(ctx(), r.Hash)
	must(t, err)
	if got.IDP != up || got.ACR != acr {
		t.Fatalf("idp %q acr %q, want %q %q", got.IDP, got.ACR, up, acr)
	}
	a2, r2 := tokens("g-idp", "", 1)
	r2.IDP, r2.ACR = got.IDP, got.ACR
	must(t, s.RotateRefreshToken(ctx(), r.Hash, base.Add(time.Minute), a2, r2))
	got, err = s.GetRefreshToken(ctx(), r2.Hash)
	must(t, err)
	if got.IDP != up || got.ACR != acr {
		t.Fatalf("rotated: idp %q acr %q, want %q %q", got.IDP, got.ACR, up, acr)
	}
	a3, r3 := tokens("g-own", "", 0)
	must(t, s.CreateTokens(ctx(), a3, &r3))
	if got, err := s.GetRefreshToken(ctx(), r3.Hash); err != nil || got.IDP != "" || got.ACR != "" {
		t.Fatalf("own sign-in: idp %q acr %q, %v", got.IDP, got.ACR, err)
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
