package login

import (
	"context"
	"errors"
	"github.com/sesame-idp/sesame/internal/fail"
	"net/http"

	"github.com/sesame-idp/sesame/login/totp"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// Paths of the second step at sign-in.
const (
	PathLoginCode  = "/login/code"
	PathLoginEnrol = "/login/enrol"
)

type codePage struct {
	templates.Base
	// What the person may prove: a code (TOTP or recovery code), a
	// passkey (offered first), or a passkey alone (PasskeyOnly: the
	// organization or the relying party asks for a phishing-resistant sign-in).
	Code, Passkey, PasskeyOnly bool
}

func (h *signInFlow) renderCode(w http.ResponseWriter, r *http.Request, problem error, at attempt, person storage.Person) {
	status, errKey := h.problemOf(r, problem)
	u := person.User
	p := &codePage{Base: h.base(w, r, "Code.Title", []string{u.Locale})}
	p.Code, _ = h.hasSecondFactor(r.Context(), h.Store, u.ID)
	if keys, err := h.Store.ListPasskeys(r.Context(), u.ID); err == nil {
		p.Passkey = len(keys) > 0 && h.pk.enabled()
	}
	var ar *storage.AuthRequest
	if got, err := h.authRequest(r.Context(), at.AuthRequestID); at.AuthRequestID != "" && err == nil {
		ar = &got
	}
	p.PasskeyOnly = p.Passkey && (orgRequiresPasskey(person) || asksPasskey(ar))
	if p.PasskeyOnly {
		p.Code = false
	}
	p.Error = errKey
	h.render(w, status, "code", p)
}

func (h *signInFlow) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	at, person, ok := h.currentAttempt(r)
	if !ok {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	h.renderCode(w, r, nil, at, person)
}

var (
	errCodeInvalid = fail.E(fail.Unauthorized, "Errors.Code.Invalid")
	errLocked      = fail.E(fail.TooMany, "Errors.Login.Locked")
)

// checkSecondFactor verifies a TOTP code (refusing a replay within its
// step) or spends a recovery code.
func (h *factors) checkSecondFactor(ctx context.Context, u storage.User, code string) error {
	t, err := h.Store.GetTOTP(ctx, u.ID)
	if err != nil || t.ConfirmedAt.IsZero() {
		return errCodeInvalid
	}
	secret, err := h.TOTPBox.Open(t.SecretEncrypted)
	if err != nil {
		return err
	}
	if step, ok := totp.Verify(string(secret), code, h.now(), t.LastStep); ok {
		if err := h.Store.UseTOTPStep(ctx, u.ID, step); errors.Is(err, storage.ErrAlreadyUsed) {
			return errCodeInvalid
		} else if err != nil {
			return err
		}
		return nil
	}
	if rc := totp.NormalizeRecoveryCode(code); rc != "" {
		err := h.Store.UseRecoveryCode(ctx, u.ID, totp.HashRecoveryCode(rc), h.now())
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrAlreadyUsed) {
			return errCodeInvalid
		}
		if err == nil {
			h.audit(ctx, h.Store, u.ID, "2fa.recovery_code_used", u.ID, "")
		}
		return err
	}
	return errCodeInvalid
}

func (h *signInFlow) handleLoginCodeSubmit(w http.ResponseWriter, r *http.Request) {
	at, person, ok := h.currentAttempt(r)
	if !ok {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	u := person.User
	if !h.csrfValid(r) {
		h.renderCode(w, r, errCSRF, at, person)
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	if locked, err := h.locked(r.Context(), at.Throttle); err != nil {
		h.fail(w, r, err)
		return
	} else if locked {
		h.count("locked")
		h.renderCode(w, r, errLocked, at, person)
		return
	}
	if err := h.checkSecondFactor(r.Context(), u, r.PostFormValue("code")); err != nil {
		if errors.Is(err, errCodeInvalid) {
			h.count("failure")
			h.recordFailure(r.Context(), at.Throttle, u.Email)
			h.audit(r.Context(), h.Store, u.ID, "signin.failed", u.ID, "second factor")
			h.renderCode(w, r, errCodeInvalid, at, person)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.proceed(w, r, at.with(proofOTP), person, nil, nil)
}
