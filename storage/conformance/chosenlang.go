package conformance

import (
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// testChosenLang: the language a person chose round-trips through create,
// update and the person's joined read, apart from the mail's locale; an
// account created without one has none.
func testChosenLang(t *testing.T, s storage.Storage) {
	org := storage.Organization{ID: storage.NewID("org"), Name: "Lang", LegalName: "Lang", Domicile: storage.DomicileAbroad,
		Country: "DE", Status: storage.OrgValidated, CreatedAt: base}
	must(t, s.CreateOrganization(ctx(), org))
	none := storage.User{ID: storage.NewID("usr"), Email: "none@lang.example", Locale: "fr", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateUser(ctx(), none, &storage.Membership{OrgID: org.ID, Roles: []string{"user"}}))
	chose := storage.User{ID: storage.NewID("usr"), Email: "chose@lang.example", Locale: "fr", ChosenLang: "en", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateUser(ctx(), chose, &storage.Membership{OrgID: org.ID, Roles: []string{"user"}}))
	if got, err := s.GetUser(ctx(), none.ID); err != nil || got.ChosenLang != "" || got.Locale != "fr" {
		t.Fatalf("an account created without a choice: %+v, %v", got, err)
	}
	if got, err := s.GetUser(ctx(), chose.ID); err != nil || got.ChosenLang != "en" || got.Locale != "fr" {
		t.Fatalf("an account created with a choice: %+v, %v", got, err)
	}
	must(t, s.UpdateUser(ctx(), none.ID, func(u *storage.User) error { u.ChosenLang = "en"; return nil }))
	p, err := s.GetPerson(ctx(), none.ID)
	must(t, err)
	if p.User.ChosenLang != "en" {
		t.Fatalf("the choice made in the settings is not stored: %+v", p.User)
	}
}
