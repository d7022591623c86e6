package templates

import (
	"html"
	"html/template"
	"slices"
	"strings"
	"time"
)

// Space is the header of the signed-in pages: who is signed in, their
// organization, and the menu. A page outside the space leaves Base.Space nil
// and keeps the plain layout.
type Space struct {
	Name, Email        string
	OrgName, OrgStatus string // empty for a person without an organization
	// Menu is the menu's groups, in order; the first has no title.
	Menu []NavGroup
}

// Initials are what the avatar shows: the first letters of the name, or
// of the email address.
func (s *Space) Initials() string {
	src := s.Name
	if strings.TrimSpace(src) == "" {
		src, _, _ = strings.Cut(s.Email, "@")
	}
	var out []rune
	for _, w := range strings.Fields(src) {
		r := []rune(w)
		out = append(out, r[0])
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return strings.ToUpper(string(out))
}

// NavGroup is a titled part of the menu (Organisation, Console).
type NavGroup struct {
	Title string // message key, "" for the first group
	Items []NavItem
}

// NavItem is one entry of the menu.
type NavItem struct {
	Label   string // message key
	Href    string
	Current string // "page" for this page, "true" for a page under it, else ""
}

// errorFields are the fields a refusal is about, by its message key: the
// pages mark them aria-invalid and point them to the message (Base.Field).
var errorFields = map[string][]string{
	"Errors.Login.Invalid":          {"email", "password"},
	"Errors.Login.Missing":          {"email", "password"},
	"Errors.Code.Invalid":           {"code"},
	"Errors.Password.Mismatch":      {"password_confirm"},
	"Errors.Password.TooShort":      {"password"},
	"Errors.Password.TooLong":       {"password"},
	"Errors.Password.ContainsEmail": {"password"},
	"Errors.Password.TooCommon":     {"password"},
	"Errors.Security.Current":       {"current_password"},
	"Errors.TOTP.DisableRefused":    {"disable_password", "disable_code"},
	"Errors.TOTP.ReplaceRefused":    {"current_password", "current_code"},
	"Errors.Members.Email":          {"invite_email"},
	"Errors.Members.EmailTaken":     {"invite_email"},
	"Errors.Signup.Missing":         {"email", "password"},
	"Errors.Signup.CloudInvalid":    {"email", "password"},
	"Errors.Signup.SIRETFormat":     {"siret"},
	"Errors.Signup.SIRETKey":        {"siret"},
	"Errors.Signup.SIRETUnknown":    {"siret"},
	"Errors.Signup.SIRETClosed":     {"siret"},
	"Errors.Signup.SIRETTaken":      {"siret"},
	"Errors.Signup.Name":            {"name"},
	"Errors.Signup.Country":         {"country"},
	"Errors.Signup.CountryFrance":   {"country"},
}

// ErrorID is the id of the page's error message, which fields in error
// point to.
const ErrorID = "form-error"

// Field writes an input's aria-describedby (its hints, by id) and, when the
// page's error is about this field, aria-invalid="true" with the error
// message first in its description.
func (b *Base) Field(id string, hints ...string) template.HTMLAttr {
	desc := hints
	invalid := b.Error != "" && slices.Contains(b.ErrorFields, id)
	if invalid {
		desc = append([]string{ErrorID}, hints...)
	}
	var out string
	if invalid {
		out = `aria-invalid="true" `
	}
	if len(desc) > 0 {
		out += `aria-describedby="` + html.EscapeString(strings.Join(desc, " ")) + `"`
	}
	return template.HTMLAttr(strings.TrimSpace(out))
}

// When writes a moment in the page's language, to the minute, in UTC:
// "7 déc. 2026, 08:15 UTC", "Dec 7, 2026, 08:15 UTC". A zero time is "—".
func (b *Base) When(t time.Time) string { return b.when(t, "15:04") }

// WhenSeconds is When to the second, for the audit trail.
func (b *Base) WhenSeconds(t time.Time) string { return b.when(t, "15:04:05") }

func (b *Base) when(t time.Time, clock string) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	months := strings.Split(b.T("Date.Months"), ",")
	month := t.Format("Jan")
	if len(months) == 12 {
		month = months[t.Month()-1]
	}
	if b.Lang == "en" {
		return month + " " + t.Format("2, 2006, "+clock) + " UTC"
	}
	return t.Format("2 ") + month + t.Format(" 2006, "+clock) + " UTC"
}

// ISODate is t as yyyy-mm-dd (the value of a date input).
func ISODate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// Groups splits a grouped code ("ABCD EFGH") into its groups, each written
// unbreakable, so a key wraps only between groups.
func (b *Base) Groups(s string) []string { return strings.Fields(s) }

// Compact is s without its spaces: what a copy button copies.
func (b *Base) Compact(s string) string { return strings.ReplaceAll(s, " ", "") }

// Translator is T in lang outside a page: for sentences a page shows
// already translated (the audit trail).
func (r *Renderer) Translator(lang string) func(key string, args ...any) string {
	c, ok := r.catalogs[lang]
	if !ok {
		c = r.catalogs["fr"]
	}
	return (&Base{catalog: c}).T
}

// Address writes an email address that may break before its "@" only,
// never inside a word.
func (b *Base) Address(s string) template.HTML {
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return template.HTML(html.EscapeString(s))
	}
	return template.HTML(`<span class="nowrap">` + html.EscapeString(local) + `</span><wbr><span class="nowrap">@` + html.EscapeString(domain) + `</span>`)
}
