package login

import (
	"crypto/subtle"
	"net/http"

	"github.com/sesame-idp/sesame/storage"
)

// csrfCookieName is the double-submit cookie. With an https issuer it takes
// the __Host- prefix, which a sibling subdomain cannot set.
func (h *Handler) csrfCookieName() string {
	if h.SecureCookies {
		return "__Host-sesame_csrf"
	}
	return "sesame_csrf"
}

// csrfToken returns the browser's CSRF token, setting the cookie the first
// time. The form carries the same value; a cross-site page can read neither.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(h.csrfCookieName()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v := storage.NewSecret()
	http.SetCookie(w, &http.Cookie{Name: h.csrfCookieName(), Value: v, Path: "/", HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	return v
}

// csrfValid checks the form's token against the cookie, in constant time.
func (h *Handler) csrfValid(r *http.Request) bool {
	c, err := r.Cookie(h.csrfCookieName())
	if err != nil || len(c.Value) != 43 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf_token"))) == 1
}
