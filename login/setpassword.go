package login

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/sesame-idp/sesame/internal/fail"

	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// passwordFlow serves the links that set a password: the invitation's
// (here) and the reset's (forgot.go). A set-password link continues into
// the gate (proceed).
type passwordFlow struct {
	*shared
	*throttle
	gate   *signInFlow
	Hasher *password.Hasher
	Policy password.Policy
	// Reset requests per IP address and hour, per email address and hour.
	ResetPerHour, ResetPerEmail int
	pk                          *passkeys // an invitation activated with a passkey (passkey_invite.go)
}

func (h *passwordFlow) routes(r chi.Router) {
	r.Get(PathSetPassword, h.handleSetPassword)
	r.Post(PathSetPassword, h.handleSetPasswordSubmit)
	r.Get(PathForgot, h.handleForgot)
	r.Post(PathForgot, h.handleForgotSubmit)
	r.Get(PathResetPassword, h.handleReset)
	r.Post(PathResetPassword, h.handleResetSubmit)
	h.passkeyRoutes(r)
}

func strconvItoa(n int) string { return strconv.Itoa(n) }

type setPasswordPage struct {
	templates.Base
	Token    string
	Email    string
	Passkeys bool // a passkey may be created instead
}

type linkPage struct {
	templates.Base
	Message string
}

func (h *passwordFlow) renderLink(w http.ResponseWriter, r *http.Request, err error) {
	if !h.refused(w, r, err) {
		return
	}
	status, key := h.problemOf(r, err)
	p := &linkPage{Base: h.base(w, r, "Link.Title", nil), Message: key}
	h.render(w, status, "link_invalid", p)
}

func (h *passwordFlow) renderSetPassword(w http.ResponseWriter, r *http.Request, problem error, token string, u storage.User) {
	status, errKey := h.problemOf(r, problem)
	p := &setPasswordPage{Token: token, Email: u.Email, Passkeys: h.pk.enabled()}
	p.Base = h.base(w, r, "SetPassword.Title", []string{u.Locale})
	p.Error = errKey
	if errKey != "" {
		p.ErrorArg = strconv.Itoa(max(h.Policy.MinLength, 12))
	}
	h.render(w, status, "set_password", p)
}

// linkUser checks a mailed link and finds its person.
func (h *passwordFlow) linkUser(ctx context.Context, token string, check func(context.Context, string) (storage.ActionToken, error)) (storage.User, error) {
	t, err := check(ctx, token)
	if err != nil {
		return storage.User{}, err
	}
	u, err := h.Store.GetUser(ctx, t.UserID)
	if err != nil {
		return u, ErrLinkInvalid
	}
	return u, nil
}

// newPassword checks the form that chooses a password (token, twice the
// same, the policy) and returns its problem, nil when there is none.
func (h *passwordFlow) newPassword(r *http.Request, email string) error {
	pw, confirm := r.PostFormValue("password"), r.PostFormValue("password_confirm")
	switch {
	case !h.csrfValid(r):
		return errCSRF
	case pw != confirm:
		return fail.E(fail.Invalid, "Errors.Password.Mismatch")
	}
	if problem := h.Policy.Check(pw, email); problem != "" {
		return fail.E(fail.Invalid, policyKeys[problem])
	}
	return nil
}

func (h *passwordFlow) handleSetPassword(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	u, err := h.linkUser(r.Context(), token, h.Accounts.CheckLink)
	if err != nil {
		h.renderLink(w, r, err)
		return
	}
	h.renderSetPassword(w, r, nil, token, u)
}

// policyKeys maps password policy problems to messages.
var policyKeys = map[string]string{
	"too_short":      "Errors.Password.TooShort",
	"too_long":       "Errors.Password.TooLong",
	"contains_email": "Errors.Password.ContainsEmail",
	"too_common":     "Errors.Password.TooCommon",
}

func (h *passwordFlow) handleSetPasswordSubmit(w http.ResponseWriter, r *http.Request) {
	token := r.PostFormValue("token")
	u, err := h.linkUser(r.Context(), token, h.Accounts.CheckLink)
	if err != nil {
		h.renderLink(w, r, err)
		return
	}
	if problem := h.newPassword(r, u.Email); problem != nil {
		h.renderSetPassword(w, r, problem, token, u)
		return
	}
	hash, err := h.Hasher.Hash(r.Context(), r.PostFormValue("password"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err = h.Accounts.SetPassword(r.Context(), Actor{IP: web.ClientIP(r)}, token, hash)
	if errors.Is(err, ErrLinkUsed) || errors.Is(err, ErrLinkInvalid) || errors.Is(err, ErrAccountExists) {
		h.renderLink(w, r, err)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.Info("password set", "user", u.ID)
	// The link proved the mailbox and the person chose the password: the
	// gate goes on from there (the organization's second factor first, when
	// it requires one), and continues the sign-in this browser was doing.
	p, err := h.Store.GetPerson(r.Context(), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	at := attempt{UserID: u.ID, Proofs: []string{proofPassword}, Throttle: h.throttleKey(r, u.Email)}
	var ar *storage.AuthRequest
	if c, err := r.Cookie(authRequestCookie); err == nil {
		http.SetCookie(w, h.cookie(authRequestCookie, "", -1))
		if got, err := h.gate.authRequest(r.Context(), c.Value); err == nil {
			at.AuthRequestID, ar = got.ID, &got
		}
	}
	h.gate.proceed(w, r, at, p, ar, nil)
}
