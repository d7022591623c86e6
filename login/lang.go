package login

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"golang.org/x/text/language"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// langCookie remembers, for a year, the language chosen with a page's
// language link (or in the settings) in this browser.
const langCookie = "sesame_lang"

// uiLangCookie remembers, for the browser session, the language a relying
// party asked for at this sign-in (ui_locales), so that the code step and
// the pages after it keep it.
const uiLangCookie = "sesame_ui_lang"

// pickLang is the page language, in this order:
//
//  1. ?lang= on this request: the person clicked the language link. It is
//     remembered in this browser and replaces the relying party's wish for
//     the rest of the browser session (a click that changed nothing would
//     be a broken link);
//  2. uiLocales: what the relying party asked for at this sign-in — passed
//     by the page that shows the authorization request, then remembered for
//     the browser session (uiLangCookie);
//  3. the language chosen with the link in this browser (langCookie);
//  4. chosen: the account's own choice ("" for none, or no account);
//  5. the browser's Accept-Language;
//  6. French.
func (h *shared) pickLang(w http.ResponseWriter, r *http.Request, uiLocales []string, chosen string) string {
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		h.rememberLang(w, l)
		return l
	}
	if l, ok := uiLang(uiLocales); ok {
		return l
	}
	for _, name := range []string{uiLangCookie, langCookie} {
		if c, err := r.Cookie(name); err == nil && (c.Value == "fr" || c.Value == "en") {
			return c.Value
		}
	}
	if chosen == "fr" || chosen == "en" {
		return chosen
	}
	return templates.Lang(nil, r.Header.Get("Accept-Language"))
}

// lang is the language of a page without an account: the rules of
// pickLang, with the relying party's uiLocales when the page shows its
// request.
func (h *shared) lang(w http.ResponseWriter, r *http.Request, uiLocales []string) string {
	return h.pickLang(w, r, uiLocales, "")
}

// rememberLang records a choice the person made in this browser (the
// language link, the settings, the activation form): the link's cookie for
// a year, and the relying party's wish for this session forgotten.
func (h *shared) rememberLang(w http.ResponseWriter, l string) {
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, h.cookie(uiLangCookie, "", -1))
}

// rememberUILocales keeps the relying party's ui_locales of this sign-in
// for the browser session, when Sesame speaks one of them.
func (h *shared) rememberUILocales(w http.ResponseWriter, uiLocales []string) {
	if l, ok := uiLang(uiLocales); ok {
		http.SetCookie(w, h.cookie(uiLangCookie, l, 0))
	}
}

// uiLang is the first of a relying party's ui_locales Sesame speaks.
func uiLang(uiLocales []string) (string, bool) {
	for _, l := range uiLocales {
		tag, err := language.Parse(l)
		if err != nil {
			continue
		}
		if b, _ := tag.Base(); b.String() == "fr" || b.String() == "en" {
			return b.String(), true
		}
	}
	return "", false
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

// base fills the part every page shares, for a page without an account;
// uiLocales are the relying party's when the page shows its request.
func (h *shared) base(w http.ResponseWriter, r *http.Request, title string, uiLocales []string) templates.Base {
	return h.baseWith(w, r, title, h.pickLang(w, r, uiLocales, ""))
}

// baseFor fills the shared part of a page shown to person u (the code
// step, the signed-in pages): their own language choice counts.
func (h *shared) baseFor(w http.ResponseWriter, r *http.Request, title string, u storage.User) templates.Base {
	return h.baseWith(w, r, title, h.pickLang(w, r, nil, u.ChosenLang))
}

func (h *shared) baseWith(w http.ResponseWriter, r *http.Request, title, lang string) templates.Base {
	other := "en"
	if lang == "en" {
		other = "fr"
	}
	return templates.Base{Lang: lang, Title: title, CSRF: h.csrfToken(w, r), SwitchURL: switchURL(r, other)}
}
