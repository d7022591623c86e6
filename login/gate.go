package login

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// The sign-in gate. Every way into a browser session, or up a level, ends
// in proceed: the password form, the code step, the enrolment at sign-in,
// the set-password link. The screens only collect proofs (a password, a
// code, a link); the gate alone decides, in one order, what they still
// lack and when a session may start:
//
//  1. the account is enabled;
//  2. failures are counted and locks honoured per throttle key (see
//     throttle.go), and a proof never clears them: only a complete
//     sign-in does;
//  3. a person with a second factor proves it;
//  4. a person without one enrols first when their organization or the
//     relying party (acr_values=urn:sesame:loa:2) requires it — the
//     session exists only after that, so single sign-on never serves a
//     level that was not reached; likewise a passkey, when the
//     organization requires passkeys or the relying party asks for
//     urn:sesame:loa:3 (a person who has one proves it, one who has none
//     sets one up);
//  5. the session, the audit event, the last sign-in, the cleared
//     failures and the answer to the relying party commit in one
//     transaction, and the session's amr is exactly what was proven.
//
// Between steps the attempt travels sealed in the browser (attemptCookie), for
// at most secondStepLifetime; nothing about it is stored.

// attemptCookie holds, sealed, a sign-in whose first proof was right and
// whose next step is still to come (not to be confused with
// authRequestCookie, the authorization request the browser signs in for).
// Its name predates the gate: a second factor is not its only next step.
const attemptCookie = "sesame_mfa"

// secondStepLifetime bounds a sign-in between its steps.
const secondStepLifetime = 5 * time.Minute

// Proofs a sign-in collects, as RFC 8176 names them.
const (
	proofPassword = vocab.AMRPassword
	proofOTP      = vocab.AMROTP
)

// attempt is a sign-in in progress.
type attempt struct {
	UserID        string   `json:"u"`
	Proofs        []string `json:"p"` // proven so far, in order
	AuthRequestID string   `json:"a,omitempty"`
	Throttle      string   `json:"t"` // the key its failures count against
	// Return is the page to land on when no relying party waits
	// (returnpath.go); checked again when used.
	Return string `json:"n,omitempty"`
	// PasswordSetAt is the person's password time when the attempt was
	// sealed: a new password (a reset, a change) ends the attempts begun
	// with the old one.
	PasswordSetAt int64 `json:"w"`
	Exp           int64 `json:"x"`
	// A company sign-in (companyflow.go): the connection (its
	// organization's id), the upstream's amr, and whether the upstream
	// proved a second factor (its amr has mfa, or its acr is one the
	// connection counts as sufficient).
	IDP         string   `json:"i,omitempty"`
	Upstream    []string `json:"m,omitempty"`
	UpstreamMFA bool     `json:"f,omitempty"`
}

func (at attempt) proved(p string) bool { return slices.Contains(at.Proofs, p) }

// passkey says whether a passkey was proven (device-bound or synced).
func (at attempt) passkey() bool { return at.proved(proofHWK) || at.proved(proofSWK) }

// secondFactor says whether a second factor was proven: a code, or a
// passkey (alone at sign-in it comes with user verification, so it is both).
func (at attempt) secondFactor() bool { return at.proved(proofOTP) || at.passkey() }

// with returns the attempt with one more proof.
func (at attempt) with(p string) attempt {
	if !at.proved(p) {
		at.Proofs = append(slices.Clip(at.Proofs), p)
	}
	return at
}

// amr is what the session says was proven: the proofs, and "mfa" when they
// are of two kinds.
func (at attempt) amr() []string {
	if at.IDP != "" {
		return at.upstreamAMR()
	}
	out := slices.Clone(at.Proofs)
	if (at.proved(proofPassword) && at.secondFactor()) || (at.passkey() && at.proved(proofUser)) {
		out = append(out, vocab.AMRMFA)
	}
	return out
}

// step is what a sign-in still needs.
type step int

const (
	stepDone  step = iota
	stepCode       // prove the second factor
	stepEnrol      // set one up, then it counts as proven
	// stepPasskeyEnrol: a phishing-resistant sign-in is required (the
	// organization's policy, acr_values=urn:sesame:loa:3) and the person
	// has no passkey: they set one up, then it counts as proven.
	stepPasskeyEnrol
)

// requirement says what the person must still do: the gate's rules 3 and 4.
func (h *signInFlow) requirement(ctx context.Context, p storage.Person, at attempt, ar *storage.AuthRequest) (step, error) {
	has, err := h.hasSecondFactor(ctx, h.Store, p.User.ID)
	if err != nil {
		return stepDone, err
	}
	keys, err := h.Store.ListPasskeys(ctx, p.User.ID)
	if err != nil {
		return stepDone, err
	}
	needsPasskey := orgRequiresPasskey(p) || asksPasskey(ar)
	switch {
	case needsPasskey && !at.passkey() && len(keys) > 0:
		return stepCode, nil // the code page then offers the passkey alone
	case (has || len(keys) > 0) && !at.secondFactor() && !at.UpstreamMFA:
		// A second factor the person has is proven before anything is
		// set up: a password alone never binds a new passkey to an
		// account that has more. The company's provider proving one
		// (UpstreamMFA) meets the policy and acr_values=loa:2 as Sesame's
		// own would; it does not stand for a passkey (loa:3).
		return stepCode, nil
	case needsPasskey && !at.passkey():
		return stepPasskeyEnrol, nil
	case !has && len(keys) == 0 && !at.UpstreamMFA && (orgRequiresMFA(p) || asksMFA(ar)):
		return stepEnrol, nil
	}
	return stepDone, nil
}

// hasSecondFactor reports whether the person has a confirmed second factor.
func (h *factors) hasSecondFactor(ctx context.Context, tx storage.SecondFactors, userID string) (bool, error) {
	t, err := tx.GetTOTP(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && !t.ConfirmedAt.IsZero(), err
}

func orgRequiresMFA(p storage.Person) bool { return p.Organization != nil && p.Organization.RequireMFA }

func orgRequiresPasskey(p storage.Person) bool {
	return p.Organization != nil && p.Organization.RequirePasskey
}

func asksPasskey(ar *storage.AuthRequest) bool {
	return ar != nil && slices.Contains(ar.ACRValues, vocab.ACRPasskey)
}

// hasPasskeyAMR says whether a session's sign-in proved a passkey.
func hasPasskeyAMR(amr []string) bool {
	return slices.Contains(amr, vocab.AMRHWK) || slices.Contains(amr, vocab.AMRSWK)
}

func asksMFA(ar *storage.AuthRequest) bool {
	return ar != nil && slices.Contains(ar.ACRValues, vocab.ACRMFA)
}

// proceed takes a sign-in of person p one step further: to the next proof
// it lacks, or into a session. p is the person as the caller's request read
// them, and ar the live authorization request when the caller has it (nil:
// read here from at, when the attempt names one). record, when set, adds the
// caller's writes (a rehashed password) to the transaction that records the
// step.
func (h *signInFlow) proceed(w http.ResponseWriter, r *http.Request, at attempt, p storage.Person, ar *storage.AuthRequest, record func(storage.Tx) error) {
	if p.User.ID != at.UserID || p.User.Disabled {
		// Disabled (or deleted) meanwhile: the same answer as a wrong password.
		h.count("failure")
		h.renderLogin(w, r, nil, "", errLoginInvalid)
		return
	}
	if ar == nil && at.AuthRequestID != "" {
		if got, err := h.authRequest(r.Context(), at.AuthRequestID); err == nil {
			ar = &got
		}
	}
	if ar == nil {
		at.AuthRequestID = "" // none, or expired or answered meanwhile: home, signed in
	}
	if at.IDP == "" {
		// A password (or a link) for an address whose organization signs
		// in only through its provider: refused, but for its break-glass admin.
		if enforced, err := h.enforced(r.Context(), p); err != nil {
			h.fail(w, r, err)
			return
		} else if enforced {
			h.count("failure")
			h.renderLogin(w, r, ar, p.User.Email, errSSOEnforced)
			return
		}
	}
	next, err := h.requirement(r.Context(), p, at, ar)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if next == stepDone {
		h.complete(w, r, p, at, record, nil)
		return
	}
	if next == stepPasskeyEnrol && !h.pk.enabled() {
		// A passkey is required (loa:3, or a policy saved while passkeys
		// were on) and this server offers none: the requirement cannot be
		// met, rather than a step that does not exist.
		if ar != nil {
			h.failRequest(w, r, *ar, "unmet_authentication_requirements")
			return
		}
		h.renderLogin(w, r, nil, p.User.Email, errPasskeyOff)
		return
	}
	if record != nil {
		if err := h.Store.Atomic(r.Context(), record); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	at.PasswordSetAt = p.User.PasswordSetAt.UnixNano()
	if err := h.setAttempt(w, at); err != nil {
		h.fail(w, r, err)
		return
	}
	h.count("second_factor")
	to := PathLoginCode
	switch next {
	case stepEnrol:
		to = PathLoginEnrol
	case stepPasskeyEnrol:
		to = PathLoginPasskeyEnrol
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// complete starts the session of a sign-in that lacks nothing, in one
// transaction with record (the caller's writes), the cleared failures, the
// last sign-in, the end of the browser's previous session, the audit event
// and the answer to the relying party; then sets the cookies and answers.
// With recovery (an enrolment: the codes that record made), the codes are
// shown first and the relying party is answered from their page's link.
func (h *signInFlow) complete(w http.ResponseWriter, r *http.Request, p storage.Person, at attempt, record func(storage.Tx) error, recovery func() []string) {
	u := p.User
	amr := at.amr()
	previous, hadPrevious := h.browserSession(r)
	var (
		s      storage.Session
		secret string
		reply  http.HandlerFunc
		next   = landing(at)
		// consent: the request waits for the person's consent (consent.go)
		consent bool
	)
	ctx := r.Context()
	err := h.Store.Atomic(ctx, func(tx storage.Tx) error {
		if record != nil {
			if err := record(tx); err != nil {
				return err
			}
		}
		if err := h.clearFailures(ctx, tx, at.Throttle); err != nil {
			return err
		}
		if err := tx.RecordSignIn(ctx, u.ID, h.now(), ""); err != nil {
			return err
		}
		if hadPrevious {
			// A sign-in always gets a fresh session id (no fixation).
			if err := h.Accounts.endSession(ctx, tx, previous); err != nil {
				return err
			}
		}
		var err error
		if s, secret, err = h.newSessionIDP(ctx, tx, r, u, amr, at.IDP); err != nil {
			return err
		}
		details := "amr=" + joinAMR(amr)
		if at.IDP != "" {
			details += " idp=" + at.IDP
		}
		h.auditOrg(ctx, tx, u.ID, "signin.succeeded", u.ID, orgIDOf(p), details)
		if at.AuthRequestID == "" {
			return nil
		}
		// A third party is answered only after the person consents
		// (consent.go): the session exists, the request waits.
		if consent, err = h.consentFirst(ctx, tx, at.AuthRequestID, u.ID); err != nil || consent {
			next = PathConsent
			return err
		}
		if recovery != nil {
			if _, err := h.markAnswered(ctx, tx, at.AuthRequestID, s); err == nil {
				next = vocab.CallbackURL(at.AuthRequestID)
			} else if !errors.Is(err, errUnknownRequest) {
				return err
			}
			return nil
		}
		reply, err = h.answerIn(ctx, tx, at.AuthRequestID, s)
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
	if consent {
		if err := h.setConsentTicket(w, at.AuthRequestID, s.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.trustDevice(w, u.Email)
	h.count("success")
	h.Logger.InfoContext(r.Context(), "signed in", "user", u.ID, "session", s.ID, "amr", amr)
	switch {
	case recovery != nil:
		h.renderRecovery(w, r, u, recovery(), next)
	case reply != nil:
		reply(w, r)
	case consent:
		http.Redirect(w, r, PathConsent, http.StatusSeeOther)
	default:
		http.Redirect(w, r, landing(at), http.StatusSeeOther)
	}
}

// setAttempt seals the attempt into the browser until its next step.
func (h *signInFlow) setAttempt(w http.ResponseWriter, at attempt) error {
	at.Exp = h.now().Add(secondStepLifetime).Unix()
	sealed, err := seal(h.AttemptBox, at)
	if err != nil {
		return err
	}
	http.SetCookie(w, h.cookie(attemptCookie, sealed, int(secondStepLifetime.Seconds())))
	return nil
}

// currentAttempt opens the browser's sign-in in progress, with its person
// (enabled), or reports that there is none.
func (h *signInFlow) currentAttempt(r *http.Request) (attempt, storage.Person, bool) {
	var at attempt
	c, err := r.Cookie(attemptCookie)
	if err != nil || !unseal(h.AttemptBox, c.Value, &at) || h.now().Unix() > at.Exp || at.UserID == "" {
		return at, storage.Person{}, false
	}
	p, err := h.Store.GetPerson(r.Context(), at.UserID)
	if err != nil || p.User.Disabled || p.User.PasswordSetAt.UnixNano() != at.PasswordSetAt {
		return at, storage.Person{}, false
	}
	return at, p, true
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
