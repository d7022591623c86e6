package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
)

func (h *shared) sessionCookieName() string {
	return vocab.SessionCookieName(h.SecureCookies)
}

// touchEvery limits writes: last-seen moves at most once a minute.
const touchEvery = time.Minute

// currentSession returns the browser's live session, pushing its idle
// expiry forward.
func (h *shared) currentSession(r *http.Request) (storage.Session, bool) {
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
func (h *shared) CurrentSessionID(r *http.Request) string {
	s, ok := h.currentSession(r)
	if !ok {
		return ""
	}
	return s.ID
}

// browserSession finds the browser's live session without touching it: a
// sign-in reads it before its transaction, and ends it inside.
func (h *shared) browserSession(r *http.Request) (storage.Session, bool) {
	c, err := r.Cookie(h.sessionCookieName())
	if err != nil || c.Value == "" {
		return storage.Session{}, false
	}
	s, err := h.Store.GetSession(r.Context(), storage.HashToken(c.Value), h.now())
	return s, err == nil
}

// newSession records a session for u in tx and returns it with the
// cookie's secret.
func (h *shared) newSession(ctx context.Context, tx storage.Tx, r *http.Request, u storage.User, amr []string) (storage.Session, string, error) {
	return h.newSessionIDP(ctx, tx, r, u, amr, "")
}

// newSessionIDP is newSession for a sign-in that idp (a company sign-in
// connection: its organization's id) authenticated.
func (h *shared) newSessionIDP(ctx context.Context, tx storage.Tx, r *http.Request, u storage.User, amr []string, idp string) (storage.Session, string, error) {
	now := h.now()
	secret := storage.NewSecret()
	s := storage.Session{ID: storage.NewID("ses"), Hash: storage.HashToken(secret), UserID: u.ID, AuthTime: now, AMR: amr,
		CreatedAt: now, LastSeen: now, IdleExpiresAt: now.Add(h.SessionIdle), AbsoluteExpiresAt: now.Add(h.SessionAbsolute),
		UserAgent: truncate(r.UserAgent(), 256), IP: web.ClientIP(r), IDP: idp}
	if err := tx.CreateSession(ctx, s); err != nil {
		return storage.Session{}, "", err
	}
	return s, secret, nil
}

// setSessionCookies sets the session cookie and clears the attempt's.
func (h *shared) setSessionCookies(w http.ResponseWriter, s storage.Session, secret string) {
	http.SetCookie(w, h.cookie(attemptCookie, "", -1))
	http.SetCookie(w, &http.Cookie{Name: h.sessionCookieName(), Value: secret, Path: "/", Expires: s.AbsoluteExpiresAt,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (h *shared) clearSessionCookie() *http.Cookie {
	return h.cookie(h.sessionCookieName(), "", -1)
}

// EndBrowserSession ends the session whose cookie is in the request
// headers in, and writes the cookie-clearing header to out.
func (h *shared) EndBrowserSession(ctx context.Context, in, out http.Header) error {
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
