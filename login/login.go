package login

import (
	"context"
	"errors"
	"github.com/sesame-idp/sesame/internal/fail"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/templates"
)

// signInFlow serves the gate's screens (gate.go): the password form here,
// the code step (secondfactor.go) and the enrolment at sign-in (enrol.go).
type signInFlow struct {
	*shared
	*throttle
	*factors
	Hasher     *password.Hasher
	AttemptBox *secretbox.Box // seals the sign-in between its steps (attemptCookie)
	pk         *passkeys      // passkeys as proofs (passkey_signin.go)
	// Answer is the provider's (Handler.Answer).
	Answer func(ctx context.Context, tx storage.AuthRequests, ar storage.AuthRequest) http.HandlerFunc
	// SignIns counts outcomes (Handler.SignIns); per IP and hour budgets.
	SignIns                    func(result string)
	SignInPerHour, CodePerHour int
	// company routes connected domains upstream (companyflow.go); nil
	// without company sign-in.
	company *companyFlow
}

func (h *signInFlow) routes(r chi.Router) {
	r.Get(PathLogin, h.handleLogin)
	r.Post(PathLogin, h.handleLoginSubmit)
	r.Get(PathLoginCode, h.handleLoginCode)
	r.Post(PathLoginCode, h.handleLoginCodeSubmit)
	r.Get(PathLoginEnrol, h.handleLoginEnrol)
	r.Post(PathLoginEnrol, h.handleLoginEnrolSubmit)
	h.passkeyRoutes(r)
	r.Post(PathLoginCancel, h.handleLoginCancel)
	h.consentRoutes(r)
}

func (h *signInFlow) count(result string) {
	if h.SignIns != nil {
		h.SignIns(result)
	}
}

type loginPage struct {
	templates.Base
	Action        string
	AuthRequestID string
	Email         string
	ClientName    string
	Passkeys      bool // the browser may sign in with a passkey
	// Company: company sign-in is on (the page offers it); PasswordOnly:
	// the form asks for the password even for a connected domain (a
	// break-glass admin, or a person whose organization does not enforce it).
	Company, PasswordOnly bool
	Next                  string // the page to land on after signing in (returnpath.go)
}

// authRequestCookie remembers the authorization request a browser was
// signing in for, so that setting a password from the mail continues it
// (not to be confused with attemptCookie, a sign-in between its steps).
const authRequestCookie = "sesame_pending"

// authRequestCookieLifetime is how long a browser remembers it.
const authRequestCookieLifetime = 30 * time.Minute

var errUnknownRequest = fail.E(fail.Invalid, "Errors.AuthRequest.Unknown")

// The sign-in's refusals.
var (
	errLoginInvalid = fail.E(fail.Unauthorized, "Errors.Login.Invalid") // wrong password, unknown or disabled account: one answer
	errLoginMissing = fail.E(fail.Invalid, "Errors.Login.Missing")
	errCSRF         = fail.E(fail.Forbidden, "Errors.Request.CSRF")
)

// authRequest loads a live, unfinished authorization request.
func (h *signInFlow) authRequest(ctx context.Context, id string) (storage.AuthRequest, error) {
	ar, err := h.Store.GetAuthRequest(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return ar, errUnknownRequest
	}
	if err != nil {
		return ar, err
	}
	if ar.Done || !h.now().Before(ar.ExpiresAt) {
		return ar, errUnknownRequest
	}
	return ar, nil
}

func (h *signInFlow) handleLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	var ar *storage.AuthRequest
	if id != "" {
		got, err := h.authRequest(r.Context(), id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		ar = &got
	}
	sess, signedIn := h.currentSession(r)
	if ar == nil {
		// A session below its organization's rule (turned on since) goes
		// through the gate again for the page that sent it here (device.go).
		if signedIn && !h.belowPolicy(r.Context(), sess) {
			http.Redirect(w, r, landing(attempt{Return: requestedReturn(r)}), http.StatusSeeOther)
			return
		}
		h.renderLogin(w, r, nil, "", nil)
		return
	}
	reuse := reuseNone
	if signedIn {
		reuse = h.sessionSatisfies(r.Context(), *ar, sess)
	}
	if reuse == reuseYes {
		h.finish(w, r, *ar, sess)
		return
	}
	if slices.Contains(ar.Prompt, "none") {
		if reuse == reuseLevelTooLow {
			h.failRequest(w, r, *ar, "unmet_authentication_requirements")
			return
		}
		h.failRequest(w, r, *ar, "login_required")
		return
	}
	// A login_hint of a connected domain goes straight to its provider.
	if h.company != nil && ar.LoginHint != "" && r.URL.Query().Get("method") != "password" &&
		len(ar.LoginHint) <= 320 && h.company.route(w, r, ar, ar.LoginHint) {
		return
	}
	h.renderLogin(w, r, ar, ar.LoginHint, nil)
}

// renderLogin renders the sign-in form with what was typed (email) and,
// when err is set, its refusal: the status and sentence come from the page
// door (web.Status).
func (h *signInFlow) renderLogin(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, email string, err error) {
	status, errKey := web.Status(err)
	p := &loginPage{Action: PathLogin, Email: email, Passkeys: h.pk.enabled(), Company: h.company != nil && h.company.Companies.Offered(r.Context()),
		PasswordOnly: r.URL.Query().Get("method") == "password" || r.PostFormValue("method") == "password"}
	var locales []string
	if ar != nil {
		p.AuthRequestID = ar.ID
		// The relying party's ui_locales, when the browser first shows
		// its request (not after a click on the language link, nor on a
		// failed POST): the page speaks it, and so do the steps after it.
		if r.Method == http.MethodGet && r.URL.Query().Get("lang") == "" {
			locales = ar.UILocales
			h.rememberUILocales(w, locales)
		}
		http.SetCookie(w, h.cookie(authRequestCookie, ar.ID, int(authRequestCookieLifetime.Seconds())))
		if c, err := h.Store.GetClient(r.Context(), ar.ClientID); err == nil {
			p.ClientName = c.Name
		}
	}
	if ar == nil {
		p.Next = requestedReturn(r)
	}
	p.Base = h.base(w, r, "Login.Title", locales)
	p.Error = errKey
	h.render(w, status, "login", p)
}

// reuse is whether a browser's session answers a request by itself.
type reuse int

const (
	reuseNone        reuse = iota // no session, or one that cannot (another person, too old, prompt=login)
	reuseYes                      // single sign-on
	reuseLevelTooLow              // the person's, but without the second factor the request or the policy needs
)

// sessionSatisfies says whether the browser's session answers the request
// without showing the form (single sign-on). A session serves only the
// level it reached: a relying party asking for the second factor, or an
// organization that requires it since, gets a new sign-in through the gate.
func (h *signInFlow) sessionSatisfies(ctx context.Context, ar storage.AuthRequest, s storage.Session) reuse {
	if slices.Contains(ar.Prompt, "login") {
		return reuseNone
	}
	if ar.MaxAge != nil && h.now().Sub(s.AuthTime) >= time.Duration(*ar.MaxAge)*time.Second {
		return reuseNone
	}
	if ar.HintUserID != "" && ar.HintUserID != s.UserID {
		return reuseNone
	}
	p, err := h.Store.GetPerson(ctx, s.UserID)
	if err != nil || p.User.Disabled {
		return reuseNone
	}
	if !slices.Contains(s.AMR, vocab.AMRMFA) && (asksMFA(&ar) || orgRequiresMFA(p)) {
		return reuseLevelTooLow
	}
	if !hasPasskeyAMR(s.AMR) && (asksPasskey(&ar) || orgRequiresPasskey(p)) {
		return reuseLevelTooLow
	}
	return reuseYes
}

// finish records who authenticated, in which session, with the code the
// provider makes for it, and sends the browser on to the relying party.
func (h *signInFlow) finish(w http.ResponseWriter, r *http.Request, ar storage.AuthRequest, s storage.Session) {
	if ask, err := consentNeeded(r.Context(), h.Store, ar, s.UserID); err != nil {
		h.fail(w, r, err)
		return
	} else if ask {
		h.askConsent(w, r, ar, s) // a third party not yet allowed (consent.go)
		return
	}
	var reply http.HandlerFunc
	err := h.Store.Atomic(r.Context(), func(tx storage.Tx) (err error) {
		reply, err = h.answerIn(r.Context(), tx, ar.ID, s)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reply(w, r)
}

// answerIn records that session s answers the request and has the provider
// make its code, both in tx, and returns what writes the answer once that
// has committed.
func (h *signInFlow) answerIn(ctx context.Context, tx storage.Tx, arID string, s storage.Session) (http.HandlerFunc, error) {
	answered, err := h.markAnswered(ctx, tx, arID, s)
	if err != nil {
		return nil, err
	}
	return h.Answer(ctx, tx, answered), nil
}

// markAnswered records that session s answers the authorization request
// and returns the request as stored; errUnknownRequest when it is unknown,
// expired or already answered.
func (h *signInFlow) markAnswered(ctx context.Context, tx storage.Tx, arID string, s storage.Session) (storage.AuthRequest, error) {
	answered, err := tx.AnswerAuthRequest(ctx, arID, s, h.now())
	if errors.Is(err, storage.ErrNotFound) {
		return answered, errUnknownRequest
	}
	return answered, err
}

// failRequest answers the relying party with an OAuth error.
func (h *signInFlow) failRequest(w http.ResponseWriter, r *http.Request, ar storage.AuthRequest, code string) {
	var refused storage.AuthRequest
	err := h.Store.UpdateAuthRequest(r.Context(), ar.ID, func(a *storage.AuthRequest) error {
		a.Error, a.Done = code, true
		refused = *a
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Answer(r.Context(), h.Store, refused)(w, r)
}

func (h *signInFlow) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	var ar *storage.AuthRequest
	if id := r.PostFormValue("authRequestID"); id != "" {
		got, err := h.authRequest(r.Context(), id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		ar = &got
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	if !h.csrfValid(r) {
		h.renderLogin(w, r, ar, email, errCSRF)
		return
	}
	// An address of a connected domain goes to its provider before any
	// password is looked at (the password field is ignored), unless the
	// form asked for the password.
	if h.company != nil && email != "" && len(email) <= 320 && r.PostFormValue("method") != "password" &&
		h.company.route(w, r, ar, email) {
		return
	}
	if r.PostFormValue("method") == "company" {
		h.renderLogin(w, r, ar, email, errSSONoRoute)
		return
	}
	if email == "" || pw == "" || len(email) > 320 {
		h.renderLogin(w, r, ar, email, errLoginMissing)
		return
	}
	if !h.limit(w, r, "signin:"+web.BudgetKey(r), h.SignInPerHour) {
		return
	}
	// Guessing is paused per email address, known or not, so the pause
	// tells nothing about the account; a browser that signed in to it
	// before counts apart (throttle.go).
	key := h.throttleKey(r, email)
	if locked, err := h.locked(r.Context(), key); err != nil {
		h.fail(w, r, err)
		return
	} else if locked {
		h.count("locked")
		h.renderLogin(w, r, ar, email, errLocked)
		return
	}
	person, err := h.Store.GetPersonByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	known, u := err == nil, person.User
	// An unknown email, or an account without a password (activated with
	// a passkey), is checked against a dummy hash: same answer, same time.
	hash := u.PasswordHash
	if !hasPassword(u) {
		hash = ""
	}
	verr := h.Hasher.Verify(r.Context(), hash, pw)
	if verr != nil && !errors.Is(verr, password.ErrMismatch) && !errors.Is(verr, password.ErrMalformed) {
		h.fail(w, r, verr) // the context ended while waiting for a hashing slot
		return
	}
	if verr != nil || !known || u.Disabled {
		h.recordFailure(r.Context(), key, email)
		h.count("failure")
		if known {
			h.auditOrg(r.Context(), h.Store, "", "signin.failed", u.ID, orgIDOf(person), "password")
		}
		h.Logger.InfoContext(r.Context(), "sign-in failed", "known", known, "ip", web.ClientIP(r))
		// At a domain whose organization signs in only through its
		// provider, a failure answers as a right password does (the gate
		// refuses all but the break-glass admin): the answer never tells
		// a guessed password right.
		if h.company != nil {
			if conn, err := h.connectionFor(r.Context(), email); err == nil && conn != nil && conn.Enforce {
				h.renderLogin(w, r, ar, email, errSSOEnforced)
				return
			}
		}
		h.renderLogin(w, r, ar, email, errLoginInvalid)
		return
	}
	// The same password hashed with today's parameters, stored with the
	// step the password leads to.
	var record func(storage.Tx) error
	if h.Hasher.NeedsRehash(u.PasswordHash) {
		if rehash, err := h.Hasher.Hash(r.Context(), pw); err != nil {
			h.Logger.WarnContext(r.Context(), "rehash password", "err", err)
		} else {
			record = func(tx storage.Tx) error { return tx.RecordSignIn(r.Context(), u.ID, h.now(), rehash) }
		}
	}
	at := attempt{UserID: u.ID, Proofs: []string{proofPassword}, Throttle: key}
	if ar != nil {
		at.AuthRequestID = ar.ID
	} else {
		at.Return = requestedReturn(r)
	}
	h.proceed(w, r, at, person, ar, record)
}
