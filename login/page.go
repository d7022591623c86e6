package login

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/templates"
)

// shared is the page plumbing every flow uses, in one place: rendering a
// page, the error page and the safe error (fail), the CSRF token, cookies,
// sealed payloads, per-IP budgets (guard.go), the browser session
// (session.go), who is signed in (guard.go) and the audit trail (audit.go).
// A flow embeds it and adds the dependencies of its own screens.
type shared struct {
	Store  Store
	Pages  *templates.Renderer
	Now    func() time.Time
	Logger *slog.Logger
	// Accounts ends sessions and records audit events.
	Accounts *Accounts
	// SecureCookies marks cookies Secure and __Host- (https issuers).
	SecureCookies                bool
	SessionIdle, SessionAbsolute time.Duration
	// routed reports whether a GET route exists for a path (the menu
	// shows only pages that exist); set by Handler.Routes.
	routed func(path string) bool
}

func (h *shared) now() time.Time { return h.Now() }

// render writes page p (its Base already filled) with status; a template
// error is logged (the renderer wrote nothing).
func (h *shared) render(w http.ResponseWriter, status int, name string, p templates.Page) {
	if err := h.Pages.Render(w, status, name, p); err != nil {
		h.Logger.Error("render "+name, "err", err)
	}
}

// showError renders the error page for err: the status and message its
// code and key call for (web.Status). It logs nothing: fail does, and the
// rate limiter keeps its own count.
func (h *shared) showError(w http.ResponseWriter, r *http.Request, err error) {
	status, key := web.Status(err)
	p := &errorPage{Base: h.base(w, r, "Error.Title", nil), Message: key}
	h.render(w, status, "error", p)
}

// fail logs err and renders the page its status and key call for: the
// cause goes to the log, the person sees one translated message.
func (h *shared) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := web.Status(err)
	if status >= 500 {
		h.Logger.Error("request failed", "path", r.URL.Path, "err", err)
	} else {
		h.Logger.Info("request refused", "path", r.URL.Path, "status", status, "err", err)
	}
	h.showError(w, r, err)
}

// refused is the page door for a form that failed: it reports whether err
// is a refusal, for the form to show again (what was typed kept, the
// message and status from problemOf); a failure (5xx) is answered here
// with the error page, its cause logged, and refused reports false.
func (h *shared) refused(w http.ResponseWriter, r *http.Request, err error) bool {
	if status, _ := web.Status(err); status >= 500 {
		h.fail(w, r, err)
		return false
	}
	return true
}

// problemOf is the status and message a form shows for its problem (nil:
// 200 and none), through web.Status like every page; a server-side cause
// is logged, never shown.
func (h *shared) problemOf(r *http.Request, problem error) (int, string) {
	status, key := web.Status(problem)
	if status >= 500 {
		h.Logger.Error("request failed", "path", r.URL.Path, "err", problem)
	}
	return status, key
}

type errorPage struct {
	templates.Base
	Message string
	Detail  string
}

// cookie is one of Sesame's cookies: for the whole site, out of scripts'
// reach, Lax, Secure on https. maxAge 0 makes a session cookie, -1 clears it.
func (h *shared) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: h.SecureCookies,
		SameSite: http.SameSiteLaxMode}
}

// seal encrypts v for the browser to carry (a cookie, a hidden field).
func seal(box *secretbox.Box, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed, err := box.Seal(raw)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// unseal opens what seal made into v; false when it was not sealed by box
// or does not decode.
func unseal(box *secretbox.Box, s string, v any) bool {
	sealed, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	raw, err := box.Open(sealed)
	return err == nil && json.Unmarshal(raw, v) == nil
}

// csrfCookieName is the double-submit cookie. With an https issuer it takes
// the __Host- prefix, which a sibling subdomain cannot set.
func (h *shared) csrfCookieName() string {
	if h.SecureCookies {
		return "__Host-sesame_csrf"
	}
	return "sesame_csrf"
}

// csrfToken returns the browser's CSRF token, setting the cookie the first
// time. The form carries the same value; a cross-site page can read neither.
func (h *shared) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(h.csrfCookieName()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v := storage.NewSecret()
	http.SetCookie(w, h.cookie(h.csrfCookieName(), v, 0))
	return v
}

// csrfValid checks the form's token against the cookie, in constant time.
func (h *shared) csrfValid(r *http.Request) bool {
	c, err := r.Cookie(h.csrfCookieName())
	if err != nil || len(c.Value) != 43 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf_token"))) == 1
}
