package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

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

// mfaCookie holds, sealed, a sign-in whose password was right and whose
// second factor is still to come.
const mfaCookie = "sesame_mfa"

// pendingLifetime of a second step.
const secondStepLifetime = 5 * time.Minute

type pendingSignIn struct {
	UserID        string `json:"u"`
	AuthRequestID string `json:"a,omitempty"`
	Enrol         bool   `json:"e,omitempty"`
	Exp           int64  `json:"x"`
}

func (h *Handler) setPendingSignIn(w http.ResponseWriter, p pendingSignIn) error {
	p.Exp = h.now().Add(secondStepLifetime).Unix()
	raw, _ := json.Marshal(p)
	sealed, err := h.MFABox.Seal(raw)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: mfaCookie, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: "/",
		MaxAge: int(secondStepLifetime.Seconds()), HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
	return nil
}

func (h *Handler) pendingSignIn(r *http.Request) (pendingSignIn, storage.Person, bool) {
	var p pendingSignIn
	c, err := r.Cookie(mfaCookie)
	if err != nil {
		return p, storage.Person{}, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return p, storage.Person{}, false
	}
	raw, err := h.MFABox.Open(sealed)
	if err != nil || json.Unmarshal(raw, &p) != nil || h.now().Unix() > p.Exp {
		return p, storage.Person{}, false
	}
	person, err := h.Store.GetPerson(r.Context(), p.UserID)
	if err != nil || person.User.Disabled {
		return p, storage.Person{}, false
	}
	return p, person, true
}

// secondStep says what the person must do after a right password: give a
// code (a confirmed second factor), or enrol one (their organization
// requires it), or nothing.
func (h *Handler) secondStep(ctx context.Context, p storage.Person) (code, enrol bool, err error) {
	t, err := h.Store.GetTOTP(ctx, p.User.ID)
	switch {
	case err == nil && !t.ConfirmedAt.IsZero():
		return true, false, nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return false, false, err
	}
	return false, p.Organization != nil && p.Organization.RequireMFA, nil
}

type codePage struct {
	templates.Base
}

func (h *Handler) renderCode(w http.ResponseWriter, r *http.Request, status int, u storage.User, errKey string) {
	p := &codePage{Base: h.base(w, r, "Code.Title", []string{u.Locale})}
	p.Error = errKey
	if err := h.Pages.Render(w, status, "code", p); err != nil {
		h.Logger.Error("render code", "err", err)
	}
}

func (h *Handler) handleLoginCode(w http.ResponseWriter, r *http.Request) {
	_, person, ok := h.pendingSignIn(r)
	if !ok {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	h.renderCode(w, r, http.StatusOK, person.User, "")
}

var (
	errCodeInvalid = &web.Error{Status: http.StatusUnauthorized, Key: "Errors.Code.Invalid"}
	errLocked      = &web.Error{Status: http.StatusTooManyRequests, Key: "Errors.Login.Locked"}
)

// checkSecondFactor verifies a TOTP code (refusing a replay within its
// step) or spends a recovery code.
func (h *Handler) checkSecondFactor(ctx context.Context, u storage.User, code string) error {
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
			h.audit(ctx, u.ID, "2fa.recovery_code_used", u.ID, "")
		}
		return err
	}
	return errCodeInvalid
}

// locked reports whether sign-ins are paused for the address, with its
// failures so far.
func (h *Handler) locked(ctx context.Context, email string) (bool, storage.LoginFailures, error) {
	f, err := h.Store.GetLoginFailures(ctx, loginFailureKey(email))
	return err == nil && f.LockedUntil.After(h.now()), f, err
}

// clearFailures forgets the address's failures after a sign-in, when
// locked found any (f): most sign-ins have none to delete.
func (h *Handler) clearFailures(ctx context.Context, email string, f storage.LoginFailures) error {
	if f.Failures == 0 && f.LockedUntil.IsZero() {
		return nil
	}
	return h.Store.ClearLoginFailures(ctx, loginFailureKey(email))
}

// lockFor is the cloud console's policy: after 4 failures one minute, one
// more minute per 4 further failures, at most 10 minutes.
func lockFor(failures int) time.Duration {
	if failures < 4 || failures%4 != 0 {
		return 0
	}
	return min(time.Duration(failures/4)*time.Minute, 10*time.Minute)
}

func (h *Handler) recordFailure(ctx context.Context, email string) {
	f, err := h.Store.RecordLoginFailure(ctx, loginFailureKey(email), h.now(), lockFor)
	if err != nil {
		h.Logger.Warn("record failed sign-in", "err", err)
		return
	}
	if !f.LockedUntil.IsZero() && f.LockedUntil.After(h.now()) && lockFor(f.Failures) > 0 {
		h.Logger.Warn("sign-in locked after repeated failures", "failures", f.Failures, "until", f.LockedUntil.Format(time.RFC3339))
		target := ""
		if u, err := h.Store.GetUserByEmail(ctx, email); err == nil {
			target = u.ID
		}
		h.audit(ctx, "", "signin.locked", target, fmt.Sprintf("failures=%d until=%s", f.Failures, f.LockedUntil.UTC().Format(time.RFC3339)))
	}
}

func (h *Handler) handleLoginCodeSubmit(w http.ResponseWriter, r *http.Request) {
	p, person, ok := h.pendingSignIn(r)
	if !ok {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	u := person.User
	if !h.csrfValid(r) {
		h.renderCode(w, r, http.StatusForbidden, u, "Errors.Request.CSRF")
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	locked, failures, err := h.locked(r.Context(), u.Email)
	if err != nil {
		h.fail(w, r, err)
		return
	} else if locked {
		h.renderCode(w, r, http.StatusTooManyRequests, u, "Errors.Login.Locked")
		return
	}
	if err := h.checkSecondFactor(r.Context(), u, r.PostFormValue("code")); err != nil {
		if errors.Is(err, errCodeInvalid) {
			h.count("failure")
			h.recordFailure(r.Context(), u.Email)
			h.audit(r.Context(), u.ID, "signin.failed", u.ID, "second factor")
			h.renderCode(w, r, http.StatusUnauthorized, u, "Errors.Code.Invalid")
			return
		}
		h.fail(w, r, err)
		return
	}
	h.completeSignIn(w, r, person, p.AuthRequestID, []string{"pwd", "otp", "mfa"}, func(ctx context.Context) error {
		return h.clearFailures(ctx, u.Email, failures)
	})
}

// completeSignIn records the sign-in in one transaction — the session, the
// audit event, the authorization request it answers with the provider's
// code, and what record adds (the caller's own writes) — then sets the
// cookie and goes on with the authorization request, or home when there is
// none or it is no longer open. Nothing is written to the response before
// the commit.
func (h *Handler) completeSignIn(w http.ResponseWriter, r *http.Request, p storage.Person, authRequestID string, amr []string,
	record func(ctx context.Context) error) {
	u := p.User
	var (
		s      storage.Session
		secret string
		reply  http.HandlerFunc
	)
	err := h.Store.Atomic(r.Context(), func(ctx context.Context) error {
		if record != nil {
			if err := record(ctx); err != nil {
				return err
			}
		}
		var err error
		if s, secret, err = h.newSession(ctx, r, u, amr); err != nil {
			return err
		}
		h.auditOrg(ctx, u.ID, "signin.succeeded", u.ID, orgIDOf(p), "amr="+joinAMR(amr))
		if authRequestID == "" {
			return nil
		}
		reply, err = h.answerIn(ctx, authRequestID, s)
		if errors.Is(err, errUnknownRequest) {
			return nil // expired or answered meanwhile: home, signed in
		}
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.setSessionCookies(w, s, secret)
	h.count("success")
	h.Logger.Info("signed in", "user", u.ID, "session", s.ID, "amr", amr)
	if reply != nil {
		reply(w, r)
		return
	}
	http.Redirect(w, r, PathHome, http.StatusSeeOther)
}

// orgIDOf is the person's organization, "" for an operator.
func orgIDOf(p storage.Person) string {
	if p.Membership != nil {
		return p.Membership.OrgID
	}
	return ""
}

func joinAMR(amr []string) string {
	out := ""
	for i, a := range amr {
		if i > 0 {
			out += ","
		}
		out += a
	}
	return out
}

// audit records an event about a person, in their organization; a failure
// to record is logged, not shown.
func (h *Handler) audit(ctx context.Context, actorID, action, userID, details string) {
	h.auditOrg(ctx, actorID, action, userID, h.Accounts.orgOf(ctx, userID), details)
}

// auditOrg is audit when the person's organization is known already.
func (h *Handler) auditOrg(ctx context.Context, actorID, action, userID, orgID, details string) {
	ip, _ := ctx.Value(ipKey{}).(string)
	if err := h.Accounts.audit(ctx, Actor{ID: actorID, IP: ip}, action, "user", userID, orgID, details); err != nil {
		h.Logger.Warn("audit", "err", err)
	}
}

// --- enrolment, at sign-in (forced) and from the security settings ---

type totpSetupPage struct {
	templates.Base
	Action string
	QR     template.URL // the data: URI of the QR code, made here
	Key    string
}

type recoveryPage struct {
	templates.Base
	Codes    []string
	Continue string
}

// totpSetup returns the person's unconfirmed secret, making one if there is
// none or it is older than ten minutes.
func (h *Handler) totpSetup(ctx context.Context, u storage.User) (totp.Key, string, error) {
	if t, err := h.Store.GetTOTP(ctx, u.ID); err == nil && t.ConfirmedAt.IsZero() && h.now().Sub(t.CreatedAt) < 10*time.Minute {
		if secret, err := h.TOTPBox.Open(t.SecretEncrypted); err == nil {
			k := totp.KeyFor(h.TOTPIssuer, u.Email, string(secret))
			qr, err := totp.QRCodeDataURI(k.URL)
			return k, qr, err
		}
	}
	k, err := totp.Generate(h.TOTPIssuer, u.Email)
	if err != nil {
		return k, "", err
	}
	sealed, err := h.TOTPBox.Seal([]byte(k.Secret))
	if err != nil {
		return k, "", err
	}
	if err := h.Store.PutTOTP(ctx, storage.TOTP{UserID: u.ID, SecretEncrypted: sealed, CreatedAt: h.now()}); err != nil {
		return k, "", err
	}
	qr, err := totp.QRCodeDataURI(k.URL)
	return k, qr, err
}

// totpConfirm checks the first code against the unconfirmed secret, then
// confirms it with ten new recovery codes, which it returns (shown once).
func (h *Handler) totpConfirm(ctx context.Context, u storage.User, code string) ([]string, error) {
	t, err := h.Store.GetTOTP(ctx, u.ID)
	if err != nil || !t.ConfirmedAt.IsZero() {
		return nil, errCodeInvalid
	}
	secret, err := h.TOTPBox.Open(t.SecretEncrypted)
	if err != nil {
		return nil, err
	}
	step, ok := totp.Verify(string(secret), code, h.now(), t.LastStep)
	if !ok {
		return nil, errCodeInvalid
	}
	codes := totp.RecoveryCodes(10)
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = totp.HashRecoveryCode(c)
	}
	if err := h.Store.ConfirmTOTP(ctx, u.ID, step, h.now(), hashes); err != nil {
		return nil, err
	}
	h.audit(ctx, u.ID, "2fa.enabled", u.ID, "")
	return codes, nil
}

func (h *Handler) renderTOTPSetup(w http.ResponseWriter, r *http.Request, status int, u storage.User, action, errKey string) {
	k, qr, err := h.totpSetup(r.Context(), u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &totpSetupPage{Action: action, QR: template.URL(qr), Key: groupKey(k.Secret)}
	p.Base = h.base(w, r, "TOTP.Title", []string{u.Locale})
	p.Error = errKey
	if err := h.Pages.Render(w, status, "totp_setup", p); err != nil {
		h.Logger.Error("render totp setup", "err", err)
	}
}

// groupKey shows the key in groups of four, easier to type.
func groupKey(k string) string {
	out := ""
	for i := 0; i < len(k); i += 4 {
		if i > 0 {
			out += " "
		}
		out += k[i:min(i+4, len(k))]
	}
	return out
}

func (h *Handler) renderRecovery(w http.ResponseWriter, r *http.Request, u storage.User, codes []string, next string) {
	p := &recoveryPage{Codes: codes, Continue: next}
	p.Base = h.base(w, r, "Recovery.Title", []string{u.Locale})
	if err := h.Pages.Render(w, http.StatusOK, "recovery_codes", p); err != nil {
		h.Logger.Error("render recovery codes", "err", err)
	}
}

func (h *Handler) handleLoginEnrol(w http.ResponseWriter, r *http.Request) {
	p, person, ok := h.pendingSignIn(r)
	if !ok || !p.Enrol {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	h.renderTOTPSetup(w, r, http.StatusOK, person.User, PathLoginEnrol, "TOTP.Required")
}

func (h *Handler) handleLoginEnrolSubmit(w http.ResponseWriter, r *http.Request) {
	p, person, ok := h.pendingSignIn(r)
	if !ok || !p.Enrol {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	u := person.User
	if !h.csrfValid(r) {
		h.renderTOTPSetup(w, r, http.StatusForbidden, u, PathLoginEnrol, "Errors.Request.CSRF")
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	codes, err := h.totpConfirm(r.Context(), u, r.PostFormValue("code"))
	if errors.Is(err, errCodeInvalid) {
		h.renderTOTPSetup(w, r, http.StatusUnauthorized, u, PathLoginEnrol, "Errors.Code.Invalid")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.startSession(w, r, u, []string{"pwd", "otp", "mfa"})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	next := PathHome
	if p.AuthRequestID != "" {
		if _, err := h.markAnswered(r.Context(), p.AuthRequestID, s); err == nil {
			next = h.Finish(r.Context(), p.AuthRequestID)
		}
	}
	h.renderRecovery(w, r, u, codes, next)
}
