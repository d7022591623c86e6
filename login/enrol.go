package login

import (
	"context"
	"errors"
	"github.com/sesame-idp/sesame/internal/fail"
	"html/template"
	"net/http"
	"time"

	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/login/totp"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/templates"
)

// factors is the second factor: checking a code, the setup page and its
// confirmation, the recovery codes, and the proof that replacing or
// disabling it asks for. The gate's enrolment and the security settings
// use it.
type factors struct {
	*shared
	*throttle
	Hasher     *password.Hasher
	TOTPBox    *secretbox.Box // encrypts TOTP secrets at rest and seals the setup page's secret
	TOTPIssuer string         // the name authenticator apps show
}

// Setting up a second factor, at sign-in (the gate's enrolment step) and
// from the security settings. Showing the setup page stores nothing: the
// new secret travels sealed in the page's form, for this person and ten
// minutes, and is stored only when its first code confirms it. Enrolment
// never overwrites a confirmed factor; replacing one from the settings
// needs the proof that disabling it needs (the password and a current code
// or recovery code), and is audited and mailed.

// enrolmentLifetime bounds a setup page's secret.
const enrolmentLifetime = 10 * time.Minute

type enrolment struct {
	UserID string `json:"u"`
	Secret string `json:"s"`
	Exp    int64  `json:"x"`
}

var (
	errFactorExists   = fail.E(fail.Conflict, "Errors.TOTP.Exists")
	errReplaceRefused = fail.E(fail.Unauthorized, "Errors.TOTP.ReplaceRefused")
)

type totpSetupPage struct {
	templates.Base
	Action    string
	QR        template.URL // the data: URI of the QR code, made here
	Key       string
	Enrolment string // the sealed secret
	Replace   bool   // a confirmed factor exists: its proof is asked too
	// NeedsPassword: the current password is asked (a replacement, or a
	// sign-in older than ReauthAfter, as for a password change).
	NeedsPassword bool
}

type recoveryPage struct {
	templates.Base
	Codes    []string
	Continue string
	Download string // the codes sealed for their download (recoveryfile.go)
}

// openEnrolment opens the sealed secret of the posted setup form, when it
// is this person's and still fresh.
func (h *factors) openEnrolment(r *http.Request, u storage.User) (string, bool) {
	var e enrolment
	if !unseal(h.TOTPBox, r.PostFormValue("enrolment"), &e) || e.UserID != u.ID || h.now().Unix() > e.Exp || e.Secret == "" {
		return "", false
	}
	return e.Secret, true
}

// renderTOTPSetup shows the setup page: with the posted secret when it is
// still good (a mistyped code keeps the app's entry valid), else a new one.
func (h *factors) renderTOTPSetup(w http.ResponseWriter, r *http.Request, problem error, u storage.User, action string, replace, needsPassword bool) {
	status, errKey := h.problemOf(r, problem)
	if problem == nil && action == PathLoginEnrol {
		errKey = "TOTP.Required" // why a sign-in stopped here
	}
	var k totp.Key
	secret, ok := "", false
	if r.Method == http.MethodPost {
		secret, ok = h.openEnrolment(r, u)
	}
	if ok {
		k = totp.KeyFor(h.TOTPIssuer, u.Email, secret)
	} else {
		var err error
		if k, err = totp.Generate(h.TOTPIssuer, u.Email); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	sealed, err := seal(h.TOTPBox, enrolment{UserID: u.ID, Secret: k.Secret, Exp: h.now().Add(enrolmentLifetime).Unix()})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	qr, err := totp.QRCodeDataURI(k.URL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &totpSetupPage{Action: action, QR: template.URL(qr), Key: groupKey(k.Secret),
		Enrolment: sealed, Replace: replace, NeedsPassword: (replace || needsPassword) && hasPassword(u)}
	title := "TOTP.Title"
	if replace {
		title = "TOTP.ReplaceTitle"
	}
	p.Base = h.baseFor(w, r, title, u)
	p.Error = errKey
	h.render(w, status, "totp_setup", p)
}

// confirmEnrolment checks the first code against the posted secret and
// returns the secret and the code's step; errCodeInvalid when either is wrong.
func (h *factors) confirmEnrolment(r *http.Request, u storage.User) (string, int64, error) {
	secret, ok := h.openEnrolment(r, u)
	if !ok {
		return "", 0, errCodeInvalid
	}
	step, ok := totp.Verify(secret, r.PostFormValue("code"), h.now(), 0)
	if !ok {
		return "", 0, errCodeInvalid
	}
	return secret, step, nil
}

// storeFactor stores a confirmed secret with ten new recovery codes, in the
// caller's transaction, and returns the codes (shown once). A confirmed
// factor is replaced only when replace says its proof was given.
func (h *factors) storeFactor(ctx context.Context, tx storage.Tx, u storage.User, secret string, step int64, replace bool) ([]string, error) {
	has, err := h.hasSecondFactor(ctx, tx, u.ID)
	if err != nil {
		return nil, err
	}
	if has && !replace {
		return nil, errFactorExists
	}
	sealed, err := h.TOTPBox.Seal([]byte(secret))
	if err != nil {
		return nil, err
	}
	now := h.now()
	if err := tx.PutTOTP(ctx, storage.TOTP{UserID: u.ID, SecretEncrypted: sealed, CreatedAt: now}); err != nil {
		return nil, err
	}
	codes := totp.RecoveryCodes(10)
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = totp.HashRecoveryCode(c)
	}
	if err := tx.ConfirmTOTP(ctx, u.ID, step, now, hashes); err != nil {
		return nil, err
	}
	action := "2fa.enabled"
	if has {
		action = "2fa.replaced"
	}
	h.audit(ctx, tx, u.ID, action, u.ID, "")
	// Every change of the second factor is mailed: whoever did it, the
	// owner learns of it.
	if err := h.Accounts.notifySecondFactor(ctx, tx, u); err != nil {
		return nil, err
	}
	return codes, nil
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

func (h *factors) renderRecovery(w http.ResponseWriter, r *http.Request, u storage.User, codes []string, next string) {
	p := &recoveryPage{Codes: codes, Continue: next, Download: sealRecoveryFile(h.TOTPBox, h.now(), u.ID, codes)}
	p.Base = h.baseFor(w, r, "Recovery.Title", u)
	h.render(w, http.StatusOK, "recovery_codes", p)
}

// enrolling returns the browser's sign-in when its next step is the
// enrolment; else it sends the browser where it belongs.
func (h *signInFlow) enrolling(w http.ResponseWriter, r *http.Request) (attempt, storage.Person, bool) {
	at, p, ok := h.currentAttempt(r)
	if !ok {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return at, p, false
	}
	var ar *storage.AuthRequest
	if got, err := h.authRequest(r.Context(), at.AuthRequestID); at.AuthRequestID != "" && err == nil {
		ar = &got
	}
	next, err := h.requirement(r.Context(), p, at, ar)
	switch {
	case err != nil:
		h.fail(w, r, err)
		return at, p, false
	case next == stepCode:
		http.Redirect(w, r, PathLoginCode, http.StatusSeeOther)
		return at, p, false
	case next == stepPasskeyEnrol:
		http.Redirect(w, r, PathLoginPasskeyEnrol, http.StatusSeeOther)
		return at, p, false
	case next != stepEnrol:
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return at, p, false
	}
	return at, p, true
}

func (h *signInFlow) handleLoginEnrol(w http.ResponseWriter, r *http.Request) {
	_, p, ok := h.enrolling(w, r)
	if !ok {
		return
	}
	h.renderTOTPSetup(w, r, nil, p.User, PathLoginEnrol, false, false)
}

func (h *signInFlow) handleLoginEnrolSubmit(w http.ResponseWriter, r *http.Request) {
	at, p, ok := h.enrolling(w, r)
	if !ok {
		return
	}
	u := p.User
	if !h.csrfValid(r) {
		h.renderTOTPSetup(w, r, errCSRF, u, PathLoginEnrol, false, false)
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	secret, step, err := h.confirmEnrolment(r, u)
	if err != nil {
		h.renderTOTPSetup(w, r, errCodeInvalid, u, PathLoginEnrol, false, false)
		return
	}
	var codes []string
	store := func(tx storage.Tx) (err error) {
		codes, err = h.storeFactor(r.Context(), tx, u, secret, step, false)
		return err
	}
	// The codes are made in the transaction; complete shows them once it
	// has committed (a placeholder says so until then).
	h.complete(w, r, p, at.with(proofOTP), store, codesOf(&codes))
}

// codesOf defers reading the recovery codes until complete shows them.
func codesOf(codes *[]string) func() []string { return func() []string { return *codes } }

func (h *securityFlow) handleTOTPSetup(w http.ResponseWriter, r *http.Request) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	has, err := h.hasSecondFactor(r.Context(), h.Store, v.user.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderTOTPSetup(w, r, nil, v.user, PathSecurity+"/totp", has, h.staleSignIn(v))
}

// staleSignIn says whether the viewer's sign-in is older than ReauthAfter:
// then a change of how the account is signed in to asks for the current
// password (whoever finds a session left open must not bind their own
// authenticator to it).
func (h *securityFlow) staleSignIn(v viewer) bool {
	return h.now().Sub(v.session.AuthTime) > h.ReauthAfter
}

func (h *securityFlow) handleTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	u := v.user
	replace, err := h.hasSecondFactor(r.Context(), h.Store, u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	action, stale := PathSecurity+"/totp", h.staleSignIn(v)
	if !h.csrfValid(r) {
		h.renderTOTPSetup(w, r, errCSRF, u, action, replace, stale)
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	secret, step, err := h.confirmEnrolment(r, u)
	if err != nil {
		h.renderTOTPSetup(w, r, errCodeInvalid, u, action, replace, stale)
		return
	}
	var proof error
	switch {
	case replace:
		proof = h.proveFactors(r, u, stale, "current_code", errReplaceRefused)
	case stale:
		proof = h.provePassword(r, u)
	}
	if proof != nil {
		if !h.refused(w, r, proof) {
			return
		}
		h.renderTOTPSetup(w, r, proof, u, action, replace, stale)
		return
	}
	var codes []string
	err = h.Store.Atomic(r.Context(), func(tx storage.Tx) (err error) {
		codes, err = h.storeFactor(r.Context(), tx, u, secret, step, replace)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Accounts.wake()
	h.renderRecovery(w, r, u, codes, PathSecurity)
}

var errCurrentPassword = fail.E(fail.Unauthorized, "Errors.Security.Current")

// provePassword checks the current password of a stale sign-in, with the
// sign-in's lock and failure counting.
func (h *factors) provePassword(r *http.Request, u storage.User) error {
	if !hasPassword(u) {
		// No password to ask (an account activated with a passkey or by
		// company sign-in): a fresh sign-in is the proof.
		return errPasskeyReauth
	}
	key := h.throttleKey(r, u.Email)
	if locked, err := h.locked(r.Context(), key); err != nil {
		return err
	} else if locked {
		return errLocked
	}
	if err := h.Hasher.Verify(r.Context(), u.PasswordHash, r.PostFormValue("current_password")); err != nil {
		h.recordFailure(r.Context(), key, u.Email)
		return errCurrentPassword
	}
	return nil
}

// proveFactors checks the proof that turning off or replacing the second
// factor needs — the password and a current code or recovery code (in the
// form's codeField) — with the sign-in's lock and failure counting, and
// returns refused when either is wrong. A person without a password proves
// a fresh sign-in instead (stale: errPasskeyReauth, nothing counted).
func (h *factors) proveFactors(r *http.Request, u storage.User, stale bool, codeField string, refused error) error {
	if !hasPassword(u) && stale {
		return errPasskeyReauth
	}
	key := h.throttleKey(r, u.Email)
	if locked, err := h.locked(r.Context(), key); err != nil {
		return err
	} else if locked {
		return errLocked
	}
	var perr error
	if hasPassword(u) {
		perr = h.Hasher.Verify(r.Context(), u.PasswordHash, r.PostFormValue("current_password"))
	}
	cerr := h.checkSecondFactor(r.Context(), u, r.PostFormValue(codeField))
	if cerr != nil && !errors.Is(cerr, errCodeInvalid) {
		return cerr
	}
	if perr != nil || cerr != nil {
		h.recordFailure(r.Context(), key, u.Email)
		return refused
	}
	return nil
}
