package login

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// PathForgot is "Mot de passe oublié ?".
const PathForgot = "/forgot"

type forgotPage struct {
	templates.Base
	Email string
	Sent  bool
}

func (h *passwordFlow) renderForgot(w http.ResponseWriter, r *http.Request, problem error, p *forgotPage) {
	status, errKey := h.problemOf(r, problem)
	p.Base = h.base(w, r, "Forgot.Title", nil)
	p.Error = errKey
	h.render(w, status, "forgot", p)
}

func (h *passwordFlow) handleForgot(w http.ResponseWriter, r *http.Request) {
	h.renderForgot(w, r, nil, &forgotPage{})
}

// handleForgotSubmit always answers the same page: whether the address has
// an account is not for the asker to know.
func (h *passwordFlow) handleForgotSubmit(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	p := &forgotPage{Email: email}
	if !h.csrfValid(r) {
		h.renderForgot(w, r, errCSRF, p)
		return
	}
	if !plausibleEmail(email) {
		h.renderForgot(w, r, fail.E(fail.Invalid, "Errors.Members.Email"), p)
		return
	}
	if !h.limit(w, r, "reset:"+web.BudgetKey(r), h.ResetPerHour) {
		return
	}
	// Per address, over the limit, nothing more is mailed, and nothing shows.
	n, _, err := h.Store.Hit(r.Context(), "reset-email:"+storage.HashToken(storage.NormalizeEmail(email)), hour, h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if n <= h.ResetPerEmail {
		if err := h.Accounts.RequestReset(r.Context(), Actor{IP: web.ClientIP(r)}, email, h.lang(w, r, nil)); err != nil {
			h.fail(w, r, err)
			return
		}
	} else {
		h.Logger.WarnContext(r.Context(), "password reset requests over the limit for an address")
	}
	h.renderForgot(w, r, nil, &forgotPage{Email: email, Sent: true})
}

type resetPage struct {
	templates.Base
	Token string
	Email string
	Done  bool
}

func (h *passwordFlow) renderReset(w http.ResponseWriter, r *http.Request, problem error, p *resetPage, u storage.User) {
	status, errKey := h.problemOf(r, problem)
	p.Base = h.baseFor(w, r, "Reset.Title", u)
	p.Error = errKey
	if errKey != "" {
		p.ErrorArg = strconvItoa(max(h.Policy.MinLength, 12))
	}
	h.render(w, status, "reset_password", p)
}

func (h *passwordFlow) handleReset(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	u, err := h.linkUser(r.Context(), token, h.Accounts.CheckResetLink)
	if err != nil {
		h.renderResetLink(w, r, err, token)
		return
	}
	h.renderReset(w, r, nil, &resetPage{Token: token, Email: u.Email}, u)
}

func (h *passwordFlow) handleResetSubmit(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	u, err := h.linkUser(r.Context(), token, h.Accounts.CheckResetLink)
	if err != nil {
		h.renderResetLink(w, r, err, token)
		return
	}
	p := &resetPage{Token: token, Email: u.Email}
	if problem := h.newPassword(r, u.Email); problem != nil {
		h.renderReset(w, r, problem, p, u)
		return
	}
	hash, err := h.Hasher.Hash(r.Context(), r.PostFormValue("password"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.Accounts.ResetPassword(r.Context(), Actor{IP: web.ClientIP(r)}, token, hash); errors.Is(err, ErrLinkUsed) || errors.Is(err, ErrLinkInvalid) {
		h.renderResetLink(w, r, err, token)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "password reset", "user", u.ID)
	// Every session ended, this browser's too: sign in again, with the
	// second factor if there is one.
	http.SetCookie(w, h.clearSessionCookie())
	h.renderReset(w, r, nil, &resetPage{Done: true}, u)
}

const hour = time.Hour
