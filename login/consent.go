package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// Consent for third-party applications (issue 18). A client registered as a
// third party (storage.ClientProtocol.ThirdParty) gets nothing of a person
// before they allowed it, on a page naming it and what it will receive.
// Consent is a step after the gate, never a way around it: the page is
// reached only from the gate's complete (a sign-in that lacks nothing) or
// from single sign-on (finish, once the session satisfied the request),
// each of which hands the browser a sealed ticket binding the
// authorization request to the session that just proved itself. The page
// and its answer need that ticket, that same live session and the request
// still unanswered; allowing answers the request with that session.
//
// The answer is remembered per person and client with the scopes allowed
// (storage.Consents): a request asking no more than was allowed is not
// asked again, one asking more is; prompt=consent always asks; prompt=none
// when the person would be asked answers consent_required. Denying answers
// access_denied (the state kept, as every answer). The security settings
// list what was allowed, and revoking ends the client's tokens for the
// person (consent_settings.go). First-party clients are never asked.

// PathConsent is the consent page.
const PathConsent = "/login/consent"

// consentCookie holds, sealed, the ticket of the consent step.
const consentCookie = "sesame_consent"

// consentLifetime bounds the consent step (the authorization request's own
// expiry bounds it too).
const consentLifetime = 10 * time.Minute

// consentTicket is the gate's (or single sign-on's) word that session
// SessionID may answer request AuthRequestID once the person consents.
type consentTicket struct {
	AuthRequestID string `json:"a"`
	SessionID     string `json:"s"`
	Exp           int64  `json:"x"`
}

var errConsentExpired = fail.E(fail.Invalid, "Errors.Consent.Expired")

// consentReader is what deciding whether to ask reads: a transaction or
// the Store.
type consentReader interface {
	GetClient(ctx context.Context, id string) (storage.Client, error)
	GetConsent(ctx context.Context, userID, clientID string) (storage.Consent, error)
}

// consentNeeded says whether person userID must be asked before request ar
// is answered: its client is a third party, and prompt=consent asks, or
// the person never allowed it, or allowed it fewer scopes than ar asks.
func consentNeeded(ctx context.Context, rd consentReader, ar storage.AuthRequest, userID string) (bool, error) {
	c, err := rd.GetClient(ctx, ar.ClientID)
	if err != nil {
		return false, err
	}
	if !c.Protocol.ThirdParty {
		return false, nil
	}
	if slices.Contains(ar.Prompt, "consent") {
		return true, nil
	}
	got, err := rd.GetConsent(ctx, userID, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range ar.Scopes {
		if !slices.Contains(got.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// consentFirst is consentNeeded for the request a sign-in completes, read
// in its transaction: false when the request is gone, expired or answered
// (the caller's answer then says so).
func (h *signInFlow) consentFirst(ctx context.Context, tx storage.Tx, arID, userID string) (bool, error) {
	ar, err := tx.GetAuthRequest(ctx, arID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ar.Done || !h.now().Before(ar.ExpiresAt) {
		return false, nil
	}
	return consentNeeded(ctx, tx, ar, userID)
}

// setConsentTicket hands the browser the ticket of the consent step.
func (h *signInFlow) setConsentTicket(w http.ResponseWriter, arID, sessionID string) error {
	sealed, err := seal(h.AttemptBox, consentTicket{AuthRequestID: arID, SessionID: sessionID,
		Exp: h.now().Add(consentLifetime).Unix()})
	if err != nil {
		return err
	}
	http.SetCookie(w, h.cookie(consentCookie, sealed, int(consentLifetime.Seconds())))
	return nil
}

// askConsent sends a browser whose session s would answer ar to the
// consent page, or answers consent_required to prompt=none.
func (h *signInFlow) askConsent(w http.ResponseWriter, r *http.Request, ar storage.AuthRequest, s storage.Session) {
	if slices.Contains(ar.Prompt, "none") {
		h.failRequest(w, r, ar, "consent_required")
		return
	}
	if err := h.setConsentTicket(w, ar.ID, s.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, PathConsent, http.StatusSeeOther)
}

func (h *signInFlow) consentRoutes(r chi.Router) {
	r.Get(PathConsent, h.handleConsent)
	r.Post(PathConsent, h.handleConsentSubmit)
}

// consentStep is what the consent page is about, checked.
type consentStep struct {
	ar      storage.AuthRequest
	session storage.Session
	user    storage.User
	client  storage.Client
}

// consentStep opens the browser's ticket and checks it still holds: its
// session is the browser's live one, of an enabled person, and its
// request is live, unanswered, of a third party. Otherwise it answers
// with the error page and reports false.
func (h *signInFlow) consentStep(w http.ResponseWriter, r *http.Request) (consentStep, bool) {
	var tk consentTicket
	c, err := r.Cookie(consentCookie)
	if err != nil || !unseal(h.AttemptBox, c.Value, &tk) || h.now().Unix() > tk.Exp || tk.SessionID == "" {
		h.fail(w, r, errConsentExpired)
		return consentStep{}, false
	}
	s, ok := h.currentSession(r)
	if !ok || subtle.ConstantTimeCompare([]byte(s.ID), []byte(tk.SessionID)) != 1 {
		h.fail(w, r, errConsentExpired)
		return consentStep{}, false
	}
	ar, err := h.authRequest(r.Context(), tk.AuthRequestID)
	if err != nil {
		h.fail(w, r, err)
		return consentStep{}, false
	}
	u, err := h.Store.GetUser(r.Context(), s.UserID)
	if err != nil || u.Disabled {
		h.fail(w, r, errConsentExpired)
		return consentStep{}, false
	}
	cl, err := h.Store.GetClient(r.Context(), ar.ClientID)
	if err != nil || !cl.Protocol.ThirdParty {
		h.fail(w, r, errUnknownRequest)
		return consentStep{}, false
	}
	return consentStep{ar: ar, session: s, user: u, client: cl}, true
}

// scopeLine is one thing the application receives, in plain words.
type scopeLine struct {
	Key string // the message key
	Arg string // the scope's name, for a scope without words of its own
}

// knownScopes have a sentence of their own (Consent.Scope.<scope>).
var knownScopes = []string{"openid", "profile", "email", "organization", "offline_access"}

// scopeLines says what scopes give, in the order of knownScopes, then the
// others by name.
func scopeLines(scopes []string) []scopeLine {
	var out []scopeLine
	for _, s := range knownScopes {
		if slices.Contains(scopes, s) {
			out = append(out, scopeLine{Key: "Consent.Scope." + s})
		}
	}
	for _, s := range scopes {
		if !slices.Contains(knownScopes, s) {
			out = append(out, scopeLine{Key: "Consent.Scope.Other", Arg: s})
		}
	}
	return out
}

type consentPage struct {
	templates.Base
	ClientName string
	Email      string
	Scopes     []scopeLine
	Again      bool // the person allowed it before (fewer scopes, or prompt=consent)
}

func (h *signInFlow) handleConsent(w http.ResponseWriter, r *http.Request) {
	st, ok := h.consentStep(w, r)
	if !ok {
		return
	}
	p := &consentPage{ClientName: st.client.Name, Email: st.user.Email, Scopes: scopeLines(st.ar.Scopes)}
	if p.ClientName == "" {
		p.ClientName = st.client.ID
	}
	if _, err := h.Store.GetConsent(r.Context(), st.user.ID, st.client.ID); err == nil {
		p.Again = true
	}
	p.Base = h.baseFor(w, r, "Consent.Title", st.user)
	h.render(w, http.StatusOK, "consent", p)
}

func (h *signInFlow) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	if !h.csrfValid(r) {
		h.fail(w, r, errCSRF)
		return
	}
	st, ok := h.consentStep(w, r)
	if !ok {
		return
	}
	ctx, u, cl := r.Context(), st.user, st.client
	switch r.PostFormValue("decision") {
	case "allow":
		var reply http.HandlerFunc
		err := h.Store.Atomic(ctx, func(tx storage.Tx) error {
			err := h.recordConsent(ctx, tx, u.ID, cl.ID, st.ar.Scopes)
			if err != nil {
				return err
			}
			reply, err = h.answerIn(ctx, tx, st.ar.ID, st.session)
			return err
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.SetCookie(w, h.cookie(consentCookie, "", -1))
		h.Logger.InfoContext(ctx, "consent granted", "user", u.ID, "client", cl.ID)
		reply(w, r)
	case "deny":
		http.SetCookie(w, h.cookie(consentCookie, "", -1))
		h.audit(ctx, h.Store, u.ID, "consent.denied", u.ID, "client="+cl.ID)
		h.Logger.InfoContext(ctx, "consent denied", "user", u.ID, "client", cl.ID)
		h.failRequest(w, r, st.ar, "access_denied")
	default:
		h.fail(w, r, fail.E(fail.Invalid, "Errors.Request.Invalid"))
	}
}

// recordConsent remembers, in tx, that userID allowed clientID scopes
// (added to what they allowed it before), and audits it: the consent page's
// Allow, and the device page's approval of a third-party application.
func (h *shared) recordConsent(ctx context.Context, tx storage.Tx, userID, clientID string, scopes []string) error {
	prev, err := tx.GetConsent(ctx, userID, clientID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	all := slices.Clone(prev.Scopes)
	for _, s := range scopes {
		if !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	now := h.now()
	if err := tx.SaveConsent(ctx, storage.Consent{UserID: userID, ClientID: clientID, Scopes: all, GrantedAt: now, UpdatedAt: now}); err != nil {
		return err
	}
	h.audit(ctx, tx, userID, "consent.granted", userID, "client="+clientID+" scopes="+strings.Join(scopes, ","))
	return nil
}
