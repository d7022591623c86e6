package login

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// Paths of the passkey at sign-in. Each ceremony has its options (POST,
// JSON) and its answer (POST, a form).
const (
	PathLoginPasskey      = "/login/passkey"           // a passkey alone
	PathLoginCodePasskey  = PathLoginCode + "/passkey" // after a password
	PathLoginPasskeyEnrol = "/login/passkey/enrol"     // set up at sign-in
	pathOptions           = "/options"
	PathPasskeyScript     = "/static/passkey.js"
)

func (h *signInFlow) passkeyRoutes(r chi.Router) {
	r.Get(PathPasskeyScript, handlePasskeyScript)
	r.Post(PathLoginPasskey+pathOptions, h.handlePasskeySignInOptions)
	r.Post(PathLoginPasskey, h.handlePasskeySignIn)
	r.Post(PathLoginCodePasskey+pathOptions, h.handlePasskeySecondOptions)
	r.Post(PathLoginCodePasskey, h.handlePasskeySecond)
	r.Get(PathLoginPasskeyEnrol, h.handlePasskeyEnrol)
	r.Post(PathLoginPasskeyEnrol+pathOptions, h.handlePasskeyEnrolOptions)
	r.Post(PathLoginPasskeyEnrol, h.handlePasskeyEnrolSubmit)
}

// handlePasskeyScript serves the one script (templates/static/passkey.js).
func handlePasskeyScript(w http.ResponseWriter, r *http.Request) {
	js, err := templates.Files().(interface{ ReadFile(string) ([]byte, error) }).ReadFile("static/passkey.js")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(js)
}

// pendingRequest is the live authorization request a form names, if any.
func (h *signInFlow) pendingRequest(r *http.Request) (*storage.AuthRequest, error) {
	id := r.PostFormValue("authRequestID")
	if id == "" {
		return nil, nil
	}
	ar, err := h.authRequest(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return &ar, nil
}

// The sign-in with a passkey alone: a discoverable credential, user
// verification required. Its ceremony is bound to the authorization
// request the page signs in for (none: home).
func (h *signInFlow) handlePasskeySignInOptions(w http.ResponseWriter, r *http.Request) {
	if err := h.pk.ready(r); err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	ar, err := h.pendingRequest(r)
	if err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	opts, sd, err := h.pk.WA.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	h.pk.start(w, r, ceremonySignIn, arID(ar), sd, opts)
}

func arID(ar *storage.AuthRequest) string {
	if ar == nil {
		return ""
	}
	return ar.ID
}

func (h *signInFlow) handlePasskeySignIn(w http.ResponseWriter, r *http.Request) {
	ar, err := h.pendingRequest(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.pk.ready(r); err != nil {
		h.renderLogin(w, r, ar, "", err)
		return
	}
	if !h.limit(w, r, "signin:"+web.BudgetKey(r), h.SignInPerHour) {
		return
	}
	sd, err := h.pk.take(w, r, ceremonySignIn, arID(ar))
	if err != nil {
		h.passkeyRefused(w, r, ar, err)
		return
	}
	pk, u, uv, err := h.pk.verifyAssertion(r, sd, nil)
	if err != nil {
		if u.ID != "" {
			h.audit(r.Context(), h.Store, "", "signin.failed", u.ID, "passkey")
		}
		h.passkeyRefused(w, r, ar, err)
		return
	}
	person, err := h.Store.GetPerson(r.Context(), u.ID)
	if err != nil {
		h.passkeyRefused(w, r, ar, errPasskeyInvalid)
		return
	}
	at := attempt{UserID: u.ID, Proofs: proofsOf(pk, uv), Throttle: h.throttleKey(r, u.Email), AuthRequestID: arID(ar)}
	h.proceed(w, r, at, person, ar, h.pk.recordUse(r, pk))
}

// passkeyRefused renders the sign-in page with the refusal (a failure: the
// error page).
func (h *signInFlow) passkeyRefused(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, err error) {
	if !h.refused(w, r, err) {
		return
	}
	h.count("failure")
	h.renderLogin(w, r, ar, "", err)
}

// The passkey as second factor, after a password: the ceremony is bound
// to the sign-in in progress (its person and its expiry).
func attemptBinding(at attempt) string { return at.UserID + "/" + strconv.FormatInt(at.Exp, 10) }

func (h *signInFlow) handlePasskeySecondOptions(w http.ResponseWriter, r *http.Request) {
	at, person, ok := h.currentAttempt(r)
	if !ok {
		h.pk.jsonError(w, r, errPasskeyExpired)
		return
	}
	if err := h.pk.ready(r); err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	x, list, err := h.pk.userOf(r, person.User)
	if err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	if len(list) == 0 {
		h.pk.jsonError(w, r, errPasskeyInvalid)
		return
	}
	opts, sd, err := h.pk.WA.BeginLogin(x, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	h.pk.start(w, r, ceremonySecond, attemptBinding(at), sd, opts)
}

func (h *signInFlow) handlePasskeySecond(w http.ResponseWriter, r *http.Request) {
	at, person, ok := h.currentAttempt(r)
	if !ok {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	if err := h.pk.ready(r); err != nil {
		h.renderCodeErr(w, r, at, person, err)
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	sd, err := h.pk.take(w, r, ceremonySecond, attemptBinding(at))
	if err != nil {
		h.renderCodeErr(w, r, at, person, err)
		return
	}
	u := person.User
	pk, _, uv, err := h.pk.verifyAssertion(r, sd, &u)
	if err != nil {
		h.count("failure")
		h.recordFailure(r.Context(), at.Throttle, u.Email)
		h.audit(r.Context(), h.Store, u.ID, "signin.failed", u.ID, "passkey")
		h.renderCodeErr(w, r, at, person, err)
		return
	}
	for _, p := range proofsOf(pk, uv) {
		at = at.with(p)
	}
	h.proceed(w, r, at, person, nil, h.pk.recordUse(r, pk))
}

// renderCodeErr renders the code page with a refusal (a failure: the error page).
func (h *signInFlow) renderCodeErr(w http.ResponseWriter, r *http.Request, at attempt, p storage.Person, err error) {
	if h.refused(w, r, err) {
		h.renderCode(w, r, err, at, p)
	}
}

// Setting up a passkey at sign-in, when a phishing-resistant sign-in is
// required and the person has none: the page, its options, its answer.
type passkeyEnrolPage struct {
	templates.Base
	Action string
	Intro  string
}

// passkeyEnrolling returns the browser's sign-in when its next step is a
// passkey's set-up; else it sends the browser where it belongs.
func (h *signInFlow) passkeyEnrolling(w http.ResponseWriter, r *http.Request, answer func(error)) (attempt, storage.Person, bool) {
	at, p, ok := h.currentAttempt(r)
	if !ok {
		answer(nil)
		return at, p, false
	}
	var ar *storage.AuthRequest
	if got, err := h.authRequest(r.Context(), at.AuthRequestID); at.AuthRequestID != "" && err == nil {
		ar = &got
	}
	next, err := h.requirement(r.Context(), p, at, ar)
	if err != nil {
		answer(err)
		return at, p, false
	}
	if next != stepPasskeyEnrol {
		answer(nil)
		return at, p, false
	}
	return at, p, true
}

func (h *signInFlow) renderPasskeyEnrol(w http.ResponseWriter, r *http.Request, problem error, u storage.User) {
	status, errKey := h.problemOf(r, problem)
	p := &passkeyEnrolPage{Action: PathLoginPasskeyEnrol, Intro: "Passkey.EnrolIntro"}
	p.Base = h.baseFor(w, r, "Passkey.EnrolTitle", u)
	p.Error = errKey
	h.render(w, status, "passkey_enrol", p)
}

func (h *signInFlow) handlePasskeyEnrol(w http.ResponseWriter, r *http.Request) {
	_, p, ok := h.passkeyEnrolling(w, r, func(err error) {
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
	})
	if !ok {
		return
	}
	var problem error
	if !h.pk.enabled() {
		problem = errPasskeyOff
	}
	h.renderPasskeyEnrol(w, r, problem, p.User)
}

func (h *signInFlow) handlePasskeyEnrolOptions(w http.ResponseWriter, r *http.Request) {
	at, p, ok := h.passkeyEnrolling(w, r, func(err error) {
		if err == nil {
			err = errPasskeyExpired
		}
		h.pk.jsonError(w, r, err)
	})
	if !ok {
		return
	}
	if err := h.pk.ready(r); err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	h.pk.beginRegistration(w, r, p.User, ceremonyEnrol, attemptBinding(at))
}

func (h *signInFlow) handlePasskeyEnrolSubmit(w http.ResponseWriter, r *http.Request) {
	at, p, ok := h.passkeyEnrolling(w, r, func(err error) {
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
	})
	if !ok {
		return
	}
	u := p.User
	if err := h.pk.ready(r); err != nil {
		h.renderPasskeyEnrol(w, r, err, u)
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	pk, err := h.pk.finishRegistration(w, r, u, ceremonyEnrol, attemptBinding(at))
	if err != nil {
		if h.refused(w, r, err) {
			h.renderPasskeyEnrol(w, r, err, u)
		}
		return
	}
	store := func(tx storage.Tx) error { return h.pk.storePasskey(r, tx, u, pk) }
	// Registration verified the person (user verification is required).
	for _, proof := range proofsOf(pk, true) {
		at = at.with(proof)
	}
	h.complete(w, r, p, at, store, nil)
}
