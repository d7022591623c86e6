package templates

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"strings"
	"sync"
	textTemplate "text/template"

	"golang.org/x/text/language"

	"github.com/sesame-idp/sesame/internal/brand"
)

//go:embed layout.html pages/*.html mail/* static/* locales/*/*.json
var files embed.FS

// Languages Sesame speaks, the default first.
var Languages = []language.Tag{language.French, language.English}

var matcher = language.NewMatcher(Languages)

// Base is embedded by every page's data.
type Base struct {
	Lang     string // "fr" or "en"
	Title    string // message key of the page title
	CSRF     string // the form token, for pages with a form
	Error    string // message key of the one error to show, if any
	ErrorArg string
	// SwitchURL is this page in the other language.
	SwitchURL string
	// Space is the signed-in header and menu (space.go); nil outside.
	Space *Space
	// ErrorFields are the ids of the fields Error is about (Field marks
	// them); Render fills them from the error's key when left nil.
	ErrorFields []string
	// Brand is the operator's branding; Render fills it.
	Brand    brand.Brand
	brandCSS string
	catalog  map[string]string
}

// T translates a message key; args fill fmt verbs in the message.
func (b *Base) T(key string, args ...any) string {
	msg, ok := b.catalog[key]
	if !ok {
		return key
	}
	if len(args) > 0 && strings.Contains(msg, "%") {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// OtherLang is the language a page offers to switch to.
func (b *Base) OtherLang() string {
	if b.Lang == "en" {
		return "fr"
	}
	return "en"
}

func (b *Base) base() *Base { return b }

// Page is what Render accepts: a struct embedding Base.
type Page interface{ base() *Base }

// Renderer renders pages in a language.
type Renderer struct {
	pages    map[string]*template.Template
	mailHTML map[string]*template.Template
	mailText map[string]*textTemplate.Template
	catalogs map[string]map[string]string
	// CSS and CSSETag serve the stylesheet.
	CSS     []byte
	CSSETag string
	// Brand is the operator's branding (SetBrand), and Assets the files
	// served under /static/ by name: sesame.js, and brand.css and logo
	// when branding sets them.
	Brand  brand.Brand
	Assets map[string]Asset
}

// Asset is a file served under /static/.
type Asset struct {
	Body        []byte
	ContentType string
	ETag        string
}

func newAsset(body []byte, contentType string) Asset {
	sum := sha256.Sum256(body)
	return Asset{Body: body, ContentType: contentType, ETag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// SetBrand applies the operator's branding: every "Sesame" of the messages
// becomes the name, the colour gets its stylesheet (brand.css) and the logo
// (logo, of contentType) is served; nil logo for none.
func (r *Renderer) SetBrand(b brand.Brand, logo []byte, contentType string) {
	delete(r.Assets, "brand.css")
	delete(r.Assets, "logo")
	b.LogoURL = ""
	if len(logo) > 0 {
		a := newAsset(logo, contentType)
		r.Assets["logo"] = a
		b.LogoURL = "/static/logo?v=" + strings.Trim(a.ETag, `"`)
	}
	if css := b.CSS(); css != nil {
		r.Assets["brand.css"] = newAsset(css, "text/css; charset=utf-8")
	}
	if b.Name != "" && b.Name != brand.DefaultName {
		for _, m := range r.catalogs {
			for k, v := range m {
				m[k] = strings.ReplaceAll(v, brand.DefaultName, b.Name)
			}
		}
	}
	r.Brand = b
}

// BrandCSS is the URL of the colour's stylesheet, "" without one.
func (b *Base) BrandCSS() string {
	return b.brandCSS
}

// parsedTemplates are the embedded pages, mails and catalogs, read once per
// process (for each server, parsing the templates cost cmd/sesame's tests 14
// CPU-seconds under -race, and reading the catalogs about 5 more). Nothing
// changes a template after parsing, and executing one from many goroutines
// is safe: every Renderer shares them. Each Renderer gets its own copy of
// the catalogs, since SetBrand rewrites them.
type parsedTemplates struct {
	pages    map[string]*template.Template
	mailHTML map[string]*template.Template
	mailText map[string]*textTemplate.Template
	catalogs map[string]map[string]string
}

var parsed = sync.OnceValues(func() (*parsedTemplates, error) {
	p := &parsedTemplates{pages: map[string]*template.Template{}, mailHTML: map[string]*template.Template{},
		mailText: map[string]*textTemplate.Template{}, catalogs: map[string]map[string]string{}}
	for _, tag := range Languages {
		lang, _ := tag.Base()
		m, err := readCatalog(files, lang.String())
		if err != nil {
			return nil, err
		}
		p.catalogs[lang.String()] = m
	}
	names, err := fs.Glob(files, "pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		t, err := template.New("layout.html").ParseFS(files, "layout.html", name)
		if err != nil {
			return nil, err
		}
		p.pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	mails, err := fs.Glob(files, "mail/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range mails {
		base := strings.TrimSuffix(path.Base(name), ".html")
		h, err := template.ParseFS(files, name)
		if err != nil {
			return nil, err
		}
		t, err := textTemplate.ParseFS(files, "mail/"+base+".txt")
		if err != nil {
			return nil, err
		}
		p.mailHTML[base], p.mailText[base] = h, t
	}
	return p, nil
})

// New gives a renderer of every page, mail and catalog, read once per
// process; it fails on any template or catalog error.
func New() (*Renderer, error) {
	p, err := parsed()
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: p.pages, catalogs: map[string]map[string]string{}, mailHTML: p.mailHTML, mailText: p.mailText}
	for lang, m := range p.catalogs {
		r.catalogs[lang] = maps.Clone(m)
	}
	r.CSS, err = files.ReadFile("static/sesame.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(r.CSS)
	r.CSSETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	js, err := files.ReadFile("static/sesame.js")
	if err != nil {
		return nil, err
	}
	r.Assets = map[string]Asset{"sesame.js": newAsset(js, "text/javascript; charset=utf-8")}
	return r, nil
}

// Lang picks the page language: the first of uiLocales Sesame speaks, else
// the Accept-Language header, else French.
func Lang(uiLocales []string, acceptLanguage string) string {
	for _, l := range uiLocales {
		if tag, err := language.Parse(l); err == nil {
			if _, _, conf := matcher.Match(tag); conf >= language.High {
				b, _ := tag.Base()
				if b.String() == "fr" || b.String() == "en" {
					return b.String()
				}
			}
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, idx, conf := matcher.Match(tags...)
			if conf > language.No {
				b, _ := Languages[idx].Base()
				return b.String()
			}
		}
	}
	return "fr"
}

// Catalog returns the messages of a language, for tests and mail.
func (r *Renderer) Catalog(lang string) map[string]string { return r.catalogs[lang] }

// T translates outside a page.
func (r *Renderer) T(lang, key string) string {
	if m, ok := r.catalogs[lang][key]; ok {
		return m
	}
	return key
}

// Render writes a page with status. Pages are rendered to a buffer first
// so that a template error never leaves half a page.
func (r *Renderer) Render(w http.ResponseWriter, status int, name string, data Page) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("templates: no page %q", name)
	}
	b := data.base()
	if _, ok := r.catalogs[b.Lang]; !ok {
		b.Lang = "fr"
	}
	b.catalog = r.catalogs[b.Lang]
	b.Brand = r.Brand
	if a, ok := r.Assets["brand.css"]; ok {
		b.brandCSS = "/static/brand.css?v=" + strings.Trim(a.ETag, `"`)
	}
	if b.ErrorFields == nil {
		b.ErrorFields = errorFields[b.Error]
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("templates: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", b.Lang)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// Pages lists the page names, for tests.
func (r *Renderer) Pages() []string {
	var out []string
	for n := range r.pages {
		out = append(out, n)
	}
	return out
}

// Files exposes the embedded files, for tests that check catalogs against pages.
func Files() fs.FS { return files }

// MailData is embedded by the data of every mail.
type MailData struct {
	Lang    string
	Brand   brand.Brand // RenderMail fills it
	catalog map[string]string
}

// T translates in the mail's language.
func (m *MailData) T(key string, args ...any) string {
	return (&Base{catalog: m.catalog}).T(key, args...)
}

func (m *MailData) mail() *MailData { return m }

// Mail is what RenderMail accepts: a struct embedding MailData.
type Mail interface{ mail() *MailData }

// RenderMail renders a mail's subject (catalog key Mail.<Kind>.Subject),
// text and html bodies in the data's language.
func (r *Renderer) RenderMail(name, subjectKey string, data Mail) (subject, text, html string, err error) {
	h, ok := r.mailHTML[name]
	if !ok {
		return "", "", "", fmt.Errorf("templates: no mail %q", name)
	}
	m := data.mail()
	if _, ok := r.catalogs[m.Lang]; !ok {
		m.Lang = "fr"
	}
	m.catalog = r.catalogs[m.Lang]
	m.Brand = r.Brand
	var hb, tb bytes.Buffer
	if err := h.Execute(&hb, data); err != nil {
		return "", "", "", err
	}
	if err := r.mailText[name].Execute(&tb, data); err != nil {
		return "", "", "", err
	}
	return r.T(m.Lang, subjectKey), tb.String(), hb.String(), nil
}

// readCatalog merges every locales/<lang>/*.json file: one file per feature,
// so that features added side by side do not edit the same file. A key
// defined in two files is an error, never a silent override.
func readCatalog(fsys fs.FS, lang string) (map[string]string, error) {
	names, err := fs.Glob(fsys, "locales/"+lang+"/*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("locales/%s: no catalog", lang)
	}
	m := map[string]string{}
	from := map[string]string{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		part := map[string]string{}
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for k, v := range part {
			if first, dup := from[k]; dup {
				return nil, fmt.Errorf("%s: key %q already defined in %s", name, k, first)
			}
			m[k], from[k] = v, name
		}
	}
	return m, nil
}
