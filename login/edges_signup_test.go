package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/login/company"
)

// TestSignupStepTwoShowsTheChosenForm: step 2 asks where the company is,
// then shows that form alone — France: the SIRET search, then one
// "create" button under the company found; abroad: name and country with
// one "create" button. (Failed before: both forms and two create buttons
// on one page.)
func TestSignupStepTwoShowsTheChosenForm(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	siret, _ := company.ParseSIRET("732 829 320 00074")
	hx.H.build().signup.Directory = company.Static{siret: {Name: "NUAGE", LegalName: "NUAGE SAS", Address: "1 rue X 13100 AIX"}}
	b := hx.Browser()
	step2 := b.Post(PathSignup, url.Values{"email": {"founder@cloud.example"}, "password": {"cloud password 42"}}).Shows(http.StatusOK, "")
	draft := step2.Field("draft")
	type want struct{ radios, siret, name, creates int }
	count := func(t *testing.T, p *page, w want) {
		t.Helper()
		got := want{strings.Count(p.Body, `name="domicile" value=`) - strings.Count(p.Body, `type="hidden" name="domicile"`),
			strings.Count(p.Body, `id="siret"`), strings.Count(p.Body, `id="name"`) + strings.Count(p.Body, `id="country"`),
			strings.Count(p.Body, `value="create"`)}
		if got != w {
			t.Fatalf("radios, SIRET, name+country, create buttons: %+v, want %+v; %s", got, w, excerpt(p.Body))
		}
	}
	count(t, step2, want{radios: 2})
	post := func(f url.Values) *page {
		f.Set("draft", draft)
		return b.Post(PathSignupCompany, f)
	}
	fr := post(url.Values{"domicile": {"FR"}, "action": {"choose"}}).Shows(http.StatusOK, "")
	count(t, fr, want{siret: 1})
	found := post(url.Values{"domicile": {"FR"}, "siret": {"73282932000074"}, "action": {"search"}}).Shows(http.StatusOK, "")
	count(t, found, want{siret: 1, creates: 1})
	abroad := post(url.Values{"domicile": {"abroad"}, "action": {"choose"}}).Shows(http.StatusOK, "")
	count(t, abroad, want{name: 2, creates: 1})
	count(t, post(url.Values{"domicile": {"FR"}, "action": {"change"}}), want{name: 2, creates: 1})
	count(t, post(url.Values{"domicile": {"abroad"}, "action": {"change"}}), want{siret: 1})
	for _, bad := range []string{"", "xx", "<script>"} {
		p := post(url.Values{"domicile": {bad}, "action": {"choose"}}).Shows(http.StatusBadRequest, "Errors.Signup.Domicile")
		count(t, p, want{radios: 2})
	}
	// An abroad error keeps the abroad form.
	count(t, post(url.Values{"domicile": {"abroad"}, "country": {"DE"}, "action": {"create"}}).Shows(http.StatusBadRequest, "Errors.Signup.Name"),
		want{name: 2, creates: 1})
	// The one button creates.
	post(url.Values{"domicile": {"FR"}, "siret": {"73282932000074"}, "action": {"create"}}).Shows(http.StatusOK, "Signup.Done")
}
