package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
)

func (h *Handler) sessionCookieName() string {
	if h.SecureCookies {
		return "__Host-sesame_session"
	}
	return "sesame_session"
}

// touchEvery limits writes: last-seen moves at most once a minute.
const touchEvery = time.Minute

// currentSession returns the browser's live session, pushing its idle
// expiry forward.
func (h *Handler) currentSession(r *http.Request) (storage.Session, bool) {
	c, err := r.Cookie(h.sessionCookieName())
	if err != nil || c.Value == "" {
		return storage.Session{}, false
	}
	now := h.now()
	s, err := h.Store.GetSession(r.Context(), storage.HashToken(c.Value), now)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			h.Logger.Error("load session", "err", err)
		}
		return storage.Session{}, false
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		s.LastSeen, s.IdleExpiresAt = now, now.Add(h.SessionIdle)
		if err := h.Store.TouchSession(r.Context(), s.ID, s.LastSeen, s.IdleExpiresAt); err != nil {
			h.Logger.Warn("touch session", "err", err)
		}
	}
	return s, true
}

// CurrentSessionID is the provider's view of the browser session.
func (h *Handler) CurrentSessionID(r *http.Request) string {
	s, ok := h.currentSession(r)
	if !ok {
		return ""
	}
	return s.ID
}

// startSession signs the browser in with a new session. Any session the
// browser had is ended first: a sign-in always gets a fresh id (no session
// fixation).
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u storage.User, amr []string) (storage.Session, error) {
	s, secret, err := h.newSession(r.Context(), r, u, amr)
	if err != nil {
		return storage.Session{}, err
	}
	h.setSessionCookies(w, s, secret)
	return s, nil
}

// newSession records a session for u, ending the browser's previous one,
// and returns it with the cookie's secret.
func (h *Handler) newSession(ctx context.Context, r *http.Request, u storage.User, amr []string) (storage.Session, string, error) {
	if old, ok := h.currentSession(r); ok {
		if err := h.Accounts.EndSession(ctx, old); err != nil {
			return storage.Session{}, "", err
		}
	}
	now := h.now()
	secret := storage.NewSecret()
	s := storage.Session{ID: storage.NewID("ses"), Hash: storage.HashToken(secret), UserID: u.ID, AuthTime: now, AMR: amr,
		CreatedAt: now, LastSeen: now, IdleExpiresAt: now.Add(h.SessionIdle), AbsoluteExpiresAt: now.Add(h.SessionAbsolute),
		UserAgent: truncate(r.UserAgent(), 256), IP: web.ClientIP(r)}
	if err := h.Store.CreateSession(ctx, s); err != nil {
		return storage.Session{}, "", err
	}
	return s, secret, nil
}

// setSessionCookies sets the session cookie and clears the second-step one.
func (h *Handler) setSessionCookies(w http.ResponseWriter, s storage.Session, secret string) {
	http.SetCookie(w, &http.Cookie{Name: mfaCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: h.sessionCookieName(), Value: secret, Path: "/", Expires: s.AbsoluteExpiresAt,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearSessionCookie() *http.Cookie {
	return &http.Cookie{Name: h.sessionCookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode}
}

// EndBrowserSession ends the session whose cookie is in the request
// headers in, and writes the cookie-clearing header to out.
func (h *Handler) EndBrowserSession(ctx context.Context, in, out http.Header) error {
	r := &http.Request{Header: in}
	if c, err := r.Cookie(h.sessionCookieName()); err == nil && c.Value != "" {
		s, err := h.Store.GetSession(ctx, storage.HashToken(c.Value), h.now())
		switch {
		case err == nil:
			if err := h.Accounts.EndSession(ctx, s); err != nil {
				return err
			}
			h.Logger.Info("session ended", "session", s.ID, "user", s.UserID)
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	out.Add("Set-Cookie", h.clearSessionCookie().String())
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
