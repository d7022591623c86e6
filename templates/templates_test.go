package templates

import (
	"io/fs"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCatalogsMatch(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fr, en := r.Catalog("fr"), r.Catalog("en")
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
	for k := range en {
		if _, ok := fr[k]; !ok {
			t.Errorf("fr lacks %q", k)
		}
	}
	// Every literal key a page or the layout uses exists.
	used := regexp.MustCompile(`\.T "([A-Za-z.]+)"`)
	_ = fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".txt")) {
			return err
		}
		b, _ := fs.ReadFile(Files(), p)
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if _, ok := fr[m[1]]; !ok {
				t.Errorf("%s uses unknown key %q", p, m[1])
			}
		}
		return nil
	})
}

func TestLang(t *testing.T) {
	tests := []struct {
		ui     []string
		accept string
		want   string
	}{
		{nil, "", "fr"},
		{nil, "en-US,en;q=0.9", "en"},
		{nil, "de-DE,de;q=0.9", "fr"},
		{nil, "de, en;q=0.5", "en"},
		{nil, "fr-CA", "fr"},
		{[]string{"en"}, "fr", "en"},
		{[]string{"de", "en-GB"}, "fr", "en"},
		{[]string{"zz-invalid!!"}, "en", "en"},
		{nil, "garbage;;;q=x", "fr"},
	}
	for _, tc := range tests {
		if got := Lang(tc.ui, tc.accept); got != tc.want {
			t.Errorf("Lang(%v, %q) = %q, want %q", tc.ui, tc.accept, got, tc.want)
		}
	}
}

type loginPage struct {
	Base
	Action, AuthRequestID, Email, ClientName string
	Passkeys                                 bool
	Company, PasswordOnly                    bool
}

func TestRenderEscapesAndTranslates(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fr", "en"} {
		w := httptest.NewRecorder()
		p := &loginPage{Base: Base{Lang: lang, Title: "Login.Title", CSRF: "tok", Error: "Errors.Login.Invalid"},
			Action: "/login", Email: `"><script>alert(1)</script>`, ClientName: "<b>RP</b>"}
		if err := r.Render(w, 401, "login", p); err != nil {
			t.Fatal(err)
		}
		body := w.Body.String()
		if w.Code != 401 || strings.Contains(body, "<script>") || strings.Contains(body, "<b>RP</b>") {
			t.Fatalf("%s: status %d or unescaped input:\n%s", lang, w.Code, body)
		}
		if !strings.Contains(body, r.Catalog(lang)["Errors.Login.Invalid"]) || !strings.Contains(body, `lang="`+lang+`"`) {
			t.Fatalf("%s: not translated:\n%s", lang, body)
		}
	}
	if !slices.Contains(r.Pages(), "login") {
		t.Fatal("login page missing")
	}
}

type setPasswordMail struct {
	MailData
	OrgName, Inviter, Link string
}

func TestRenderMail(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fr", "en"} {
		d := &setPasswordMail{MailData: MailData{Lang: lang}, OrgName: "ACME & <Co>", Inviter: "Alice", Link: "https://id.example.com/set-password?token=abc"}
		subject, text, html, err := r.RenderMail("set_password", "Mail.SetPassword.Subject", d)
		if err != nil {
			t.Fatal(err)
		}
		if subject != r.Catalog(lang)["Mail.SetPassword.Subject"] || !strings.Contains(text, d.Link) || !strings.Contains(text, "ACME & <Co>") ||
			!strings.Contains(html, `href="https://id.example.com/set-password?token=abc"`) || !strings.Contains(html, "ACME &amp; &lt;Co&gt;") {
			t.Fatalf("%s:\n%s\n%s\n%s", lang, subject, text, html)
		}
	}
}
