package login

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/sesame-idp/sesame/templates"
)

const langCookie = "sesame_lang"

// lang picks the page language: an explicit ?lang= (remembered in a
// cookie), then the remembered choice, then the request's ui_locales, then
// Accept-Language, then French.
func (h *shared) lang(w http.ResponseWriter, r *http.Request, uiLocales []string) string {
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "fr" || c.Value == "en") {
		return c.Value
	}
	return templates.Lang(uiLocales, r.Header.Get("Accept-Language"))
}

// switchURL is the current page in the other language. After a failed
// POST it is the GET of the same screen, with its authorization request.
func switchURL(r *http.Request, other string) string {
	q := r.URL.Query()
	if id := r.PostFormValue("authRequestID"); r.Method == http.MethodPost && id != "" {
		q.Set("authRequestID", id)
	}
	q.Set("lang", other)
	return (&url.URL{Path: sitePath(r.URL.Path), RawQuery: q.Encode()}).String()
}

// sitePath makes the request's path safe to link to from its own page. The
// path is the client's: "//evil.example/x" written in a link is another
// site, and browsers read a backslash as a slash. Cleaning leaves a single
// leading slash (no host can follow); a backslash makes it the home page.
func sitePath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return "/"
	}
	return path.Clean(p)
}

// base fills the part every page shares.
func (h *shared) base(w http.ResponseWriter, r *http.Request, title string, uiLocales []string) templates.Base {
	lang := h.lang(w, r, uiLocales)
	other := "en"
	if lang == "en" {
		other = "fr"
	}
	return templates.Base{Lang: lang, Title: title, CSRF: h.csrfToken(w, r), SwitchURL: switchURL(r, other)}
}
