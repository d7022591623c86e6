package templates

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/brand"
)

// Branding reaches the pages (name, logo, colour stylesheet, help link)
// and the mails (name, help link); without it, a page is as before.
func TestBranding(t *testing.T) {
	t.Parallel()
	render := func(r *Renderer, space bool) string {
		t.Helper()
		w := httptest.NewRecorder()
		p := &loginPage{Base: Base{Lang: "fr", Title: "Login.Title", CSRF: "tok"}, Action: "/login"}
		if space {
			p.Space = &Space{Email: "ada@acme.example", Menu: []NavGroup{{Items: []NavItem{{Label: "Menu.Home", Href: "/", Current: "page"}}}}}
		}
		if err := r.Render(w, 200, "login", p); err != nil {
			t.Fatal(err)
		}
		return w.Body.String()
	}
	plain, err := New()
	if err != nil {
		t.Fatal(err)
	}
	before := render(plain, false)
	plain.SetBrand(brand.Brand{}, nil, "")
	if after := render(plain, false); after != before || strings.Contains(after, "brand.css") || !strings.Contains(after, "<title>Connexion · Sesame</title>") ||
		!strings.Contains(after, `<a class="brand" href="/">Sesame</a>`) || strings.Contains(after, "Aide") {
		t.Fatalf("an empty branding changed the page:\n%s", after)
	}

	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r.SetBrand(brand.Brand{Name: "Acme ID", PrimaryColor: "#7a1fa2", SupportURL: "https://help.acme.example/id"}, []byte("<svg/>"), "image/svg+xml")
	body := render(r, false)
	for _, want := range []string{"<title>Connexion · Acme ID</title>", `<link rel="stylesheet" href="/static/brand.css?v=`,
		`<img class="logo" src="/static/logo?v=`, `alt="Acme ID" height="32">`, `<a href="https://help.acme.example/id">Aide</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in:\n%s", want, body)
		}
	}
	if css := string(r.Assets["brand.css"].Body); !strings.Contains(css, "--accent: #7a1fa2;") || r.Assets["logo"].ContentType != "image/svg+xml" {
		t.Errorf("assets: %q %+v", css, r.Assets["logo"])
	}
	if strings.Contains(r.T("fr", "Mail.SetPassword.Subject"), "Sesame") || !strings.Contains(r.T("fr", "Mail.SetPassword.Subject"), "Acme ID") {
		t.Errorf("the messages keep the old name: %q", r.T("fr", "Mail.SetPassword.Subject"))
	}
	if strings.Contains(plain.T("fr", "Mail.SetPassword.Subject"), "Acme") {
		t.Error("branding one renderer changed another's catalog")
	}
	if fresh, err := New(); err != nil || strings.Contains(fresh.T("fr", "Mail.SetPassword.Subject"), "Acme") {
		t.Errorf("a renderer made after a branding starts branded (%v)", err)
	}
	d := &setPasswordMail{MailData: MailData{Lang: "en"}, OrgName: "Acme", Link: "https://id.example.com/set-password?token=abc"}
	subject, text, html, err := r.RenderMail("set_password", "Mail.SetPassword.Subject", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, "Acme ID") || !strings.Contains(text, "Need help? https://help.acme.example/id") ||
		!strings.Contains(html, `>Acme ID</p>`) || !strings.Contains(html, `<a href="https://help.acme.example/id">`) {
		t.Errorf("mail:\n%s\n%s\n%s", subject, text, html)
	}
	// The space's header: the person, the menu with this page marked.
	space := render(r, true)
	if !strings.Contains(space, `<a href="/" aria-current="page">Accueil</a>`) || !strings.Contains(space, `<span class="avatar" aria-hidden="true">A</span>`) {
		t.Errorf("space:\n%s", space)
	}
}

func TestWhenAndField(t *testing.T) {
	t.Parallel()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 8, 5, 9, 0, time.FixedZone("CET", 3600))
	for lang, want := range map[string]string{"fr": "7 déc. 2026, 07:05 UTC", "en": "Dec 7, 2026, 07:05 UTC"} {
		b := &Base{Lang: lang, catalog: r.Catalog(lang)}
		if got := b.When(at); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
		if got := b.When(time.Time{}); got != "—" {
			t.Errorf("zero: %q", got)
		}
	}
	b := &Base{Error: "Errors.Code.Invalid", ErrorFields: errorFields["Errors.Code.Invalid"]}
	for _, tc := range []struct {
		id    string
		hints []string
		want  string
	}{
		{"code", []string{"code-hint"}, `aria-invalid="true" aria-describedby="form-error code-hint"`},
		{"code", nil, `aria-invalid="true" aria-describedby="form-error"`},
		{"email", []string{"email-hint"}, `aria-describedby="email-hint"`},
		{"email", nil, ``},
	} {
		if got := string(b.Field(tc.id, tc.hints...)); got != tc.want {
			t.Errorf("Field(%s, %v) = %q, want %q", tc.id, tc.hints, got, tc.want)
		}
	}
	if got := (&Space{Name: "Alice Martin"}).Initials(); got != "AM" {
		t.Errorf("initials %q", got)
	}
	if got := (&Space{Email: "bob@acme.example"}).Initials(); got != "B" {
		t.Errorf("initials %q", got)
	}
	if got := (&Space{Name: "  ", Email: "@x"}).Initials(); got != "?" {
		t.Errorf("initials %q", got)
	}
}
