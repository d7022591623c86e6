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
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/sso"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// Company sign-in at the door: the login page routes an address whose
// domain an organization has verified and connected to its own provider
// (routing tells only that the domain uses company sign-in, which is
// public: never whether an account exists); /sso/start sends the browser
// upstream (code flow, PKCE, state, nonce, sealed in a cookie for
// ssoLifetime); /sso/callback checks the state (once: a replayed callback
// is refused), has the code exchanged and the ID token verified
// (login/sso), accepts only a verified email in one of the organization's
// verified domains, finds or creates the member (just in time, with the
// connection's default roles), and hands the proof to the gate (gate.go)
// like any other: the disabled account, the organization's status and 2FA
// policy, the audit and the session are the gate's.
//
// The callback is a GET that may start a session: the upstream's redirect
// is a top-level navigation (a cross-site POST would carry no Lax cookie),
// and what it changes is bound to the state sealed in this browser's
// cookie, so a forged or replayed callback changes nothing.
const (
	PathSSOStart    = "/sso/start"
	PathSSOCallback = "/sso/callback"
)

// ssoCookie holds, sealed, a company sign-in on its way upstream.
const ssoCookie = "sesame_sso"

// ssoLifetime bounds a trip upstream.
const ssoLifetime = 10 * time.Minute

// Refusals of company sign-in at the door.
var (
	errSSOEnforced      = fail.E(fail.Forbidden, "Errors.SSO.Enforced")
	errSSOState         = fail.E(fail.Invalid, "Errors.SSO.State")
	errSSOEmailOutside  = fail.E(fail.Forbidden, "Errors.SSO.EmailOutside")
	errSSOEmailNotProof = fail.E(fail.Forbidden, "Errors.SSO.EmailUnverified")
	errSSOOtherOrg      = fail.E(fail.Conflict, "Errors.SSO.OtherOrg")
	errSSONoRoute       = fail.E(fail.Invalid, "Errors.SSO.NoRoute")
	errSSOOrgClosed     = fail.E(fail.Forbidden, "Errors.SSO.OrgClosed")
)

type ssoPending struct {
	Kind          string `json:"k"` // "sso": not another sealed value of the same box
	Org           string `json:"o"`
	State         string `json:"s"`
	Nonce         string `json:"n"`
	Verifier      string `json:"v"`
	AuthRequestID string `json:"a,omitempty"`
	Email         string `json:"e,omitempty"`
	Exp           int64  `json:"x"`
}

// companyFlow serves company sign-in at the door.
type companyFlow struct {
	*signInFlow
	Companies *CompanySignIn
}

func (h *companyFlow) routes(r chi.Router) {
	r.Post(PathSSOStart, h.handleStart)
	r.Get(PathSSOCallback, h.handleCallback)
}

// callbackURL is Sesame's redirect URI at every upstream.
func (h *shared) callbackURL() string {
	return strings.TrimSuffix(h.Accounts.Issuer, "/") + PathSSOCallback
}

// connectionFor returns the connection that routes email, if any.
func (h *shared) connectionFor(ctx context.Context, email string) (*storage.SSOConnection, error) {
	d := domains.Of(email)
	if d == "" {
		return nil, nil
	}
	_, conn, err := h.Store.GetVerifiedDomain(ctx, d)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return conn, err
}

// enforced reports whether p may not sign in with Sesame's own proofs:
// their address's domain is connected with --enforce and they are not its
// break-glass admin (nor an operator, who belongs to no organization).
func (h *signInFlow) enforced(ctx context.Context, p storage.Person) (bool, error) {
	if p.User.IsOperator {
		return false, nil
	}
	conn, err := h.connectionFor(ctx, p.User.Email)
	if err != nil || conn == nil {
		return false, err
	}
	return conn.Enforce && conn.BreakGlass != p.User.ID, nil
}

// route sends the browser upstream when email's domain is connected, and
// says whether it did (or answered otherwise).
func (h *companyFlow) route(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, email string) bool {
	conn, err := h.connectionFor(r.Context(), email)
	if err != nil {
		h.fail(w, r, err)
		return true
	}
	if conn == nil {
		return false
	}
	h.start(w, r, ar, email, *conn)
	return true
}

// handleStart is the "continue with your company's sign-in" button, and
// the retry of the page that says the provider did not answer.
func (h *companyFlow) handleStart(w http.ResponseWriter, r *http.Request) {
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
	if !h.csrfValid(r) {
		h.renderLogin(w, r, ar, email, errCSRF)
		return
	}
	if email == "" || len(email) > 320 {
		h.renderLogin(w, r, ar, email, errLoginMissing)
		return
	}
	if !h.route(w, r, ar, email) {
		h.renderLogin(w, r, ar, email, errSSONoRoute)
	}
}

// start seals the trip and redirects upstream; the upstream unreachable,
// it shows the retry page.
func (h *companyFlow) start(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, email string, conn storage.SSOConnection) {
	// A form's trip counts against the address's budget; a login_hint's
	// (a GET) writes nothing, and needs a live authorization request.
	if r.Method == http.MethodPost && !h.limit(w, r, "sso:"+web.BudgetKey(r), h.SignInPerHour) {
		return
	}
	up, err := h.Companies.upstream(conn, h.callbackURL())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := ssoPending{Kind: "sso", Org: conn.OrgID, State: storage.NewSecret(), Nonce: storage.NewSecret(),
		Verifier: storage.NewSecret(), Email: email, Exp: h.now().Add(ssoLifetime).Unix()}
	if ar != nil {
		p.AuthRequestID = ar.ID
	}
	to, err := h.Companies.Upstream.AuthURL(r.Context(), up, p.State, p.Nonce, p.Verifier, email)
	if err != nil {
		h.upstreamFailed(w, r, ar, email, err)
		return
	}
	sealed, err := seal(h.AttemptBox, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.SetCookie(w, h.cookie(ssoCookie, sealed, int(ssoLifetime.Seconds())))
	if ar != nil {
		http.SetCookie(w, h.cookie(authRequestCookie, ar.ID, int(authRequestCookieLifetime.Seconds())))
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type ssoRetryPage struct {
	templates.Base
	Message       string
	Email         string
	AuthRequestID string
}

// upstreamFailed shows that the company's provider did not answer, or
// answered an error, and offers to try again: a page, never a 5xx.
func (h *companyFlow) upstreamFailed(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, email string, err error) {
	h.Logger.WarnContext(r.Context(), "company sign-in: upstream failed", "err", err)
	h.count("upstream_failed")
	p := &ssoRetryPage{Message: "Errors.SSO.Upstream", Email: email}
	var locales []string
	if ar != nil {
		p.AuthRequestID, locales = ar.ID, ar.UILocales
	}
	p.Base = h.base(w, r, "SSO.Retry.Title", locales)
	h.render(w, http.StatusOK, "sso_retry", p)
}

// pending opens the browser's trip upstream, once: the cookie is cleared,
// and its state is spent in storage so that a replayed callback (the same
// URL and cookie again) is refused.
func (h *companyFlow) pending(w http.ResponseWriter, r *http.Request) (ssoPending, error) {
	var p ssoPending
	c, err := r.Cookie(ssoCookie)
	if err != nil || !unseal(h.AttemptBox, c.Value, &p) || p.Kind != "sso" || p.State == "" || h.now().Unix() > p.Exp {
		return p, errSSOState
	}
	got := r.URL.Query().Get("state")
	if subtle.ConstantTimeCompare([]byte(got), []byte(p.State)) != 1 {
		return p, errSSOState
	}
	http.SetCookie(w, h.cookie(ssoCookie, "", -1))
	n, _, err := h.Store.Hit(r.Context(), "sso-state:"+storage.HashToken(p.State), ssoLifetime, h.now())
	if err != nil {
		return p, err
	}
	if n > 1 {
		return p, errSSOState
	}
	return p, nil
}

func (h *companyFlow) handleCallback(w http.ResponseWriter, r *http.Request) {
	p, err := h.pending(w, r)
	if err != nil {
		h.Logger.InfoContext(r.Context(), "company sign-in: bad or replayed callback", "err", err)
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	var ar *storage.AuthRequest
	if p.AuthRequestID != "" {
		if got, err := h.authRequest(ctx, p.AuthRequestID); err == nil {
			ar = &got
		}
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		if e == "" {
			e = "no code"
		}
		h.upstreamFailed(w, r, ar, p.Email, errors.New("upstream answered "+truncate(e, 64)))
		return
	}
	conn, err := h.Store.GetSSOConnection(ctx, p.Org)
	if errors.Is(err, storage.ErrNotFound) {
		h.fail(w, r, errSSONoRoute) // removed meanwhile
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	up, err := h.Companies.upstream(conn, h.callbackURL())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := h.Companies.Upstream.Exchange(ctx, up, q.Get("code"), p.Verifier, p.Nonce)
	if errors.Is(err, sso.ErrUpstream) {
		h.upstreamFailed(w, r, ar, p.Email, err)
		return
	} else if err != nil {
		h.auditOrg(ctx, h.Store, "", "signin.failed", "", conn.OrgID, "sso: "+truncate(err.Error(), 200))
		h.fail(w, r, err)
		return
	}
	person, err := h.member(ctx, r, conn, id)
	if err != nil {
		h.auditOrg(ctx, h.Store, "", "signin.failed", "", conn.OrgID, "sso: "+fail.KeyOf(err)+" email="+truncate(id.Email, 320))
		h.fail(w, r, err)
		return
	}
	at := attempt{UserID: person.User.ID, IDP: conn.Issuer, Upstream: cleanAMR(id.AMR),
		UpstreamMFA: slices.Contains(id.AMR, vocab.AMRMFA) || id.ACR != "" && slices.Contains(conn.SufficientACR, id.ACR),
		Throttle:    h.throttleKey(r, person.User.Email)}
	if ar != nil {
		at.AuthRequestID = ar.ID
	}
	h.proceed(w, r, at, person, ar, nil)
}

// member is the person the upstream's identity signs in: a verified email
// in one of the connection's organization's verified domains; an existing
// member of that organization (or one invited to it) is linked, a new
// address becomes a member with the default roles, and an address that
// belongs to someone outside the organization is refused.
func (h *companyFlow) member(ctx context.Context, r *http.Request, conn storage.SSOConnection, id sso.Identity) (storage.Person, error) {
	email := canonicalEmail(id.Email)
	if email == "" || len(email) > 320 || !OneLine(email) || !plausibleEmail(email) {
		return storage.Person{}, errSSOEmailOutside
	}
	if !id.EmailVerified {
		return storage.Person{}, errSSOEmailNotProof
	}
	d, _, err := h.Store.GetVerifiedDomain(ctx, domains.Of(email))
	if errors.Is(err, storage.ErrNotFound) || err == nil && d.OrgID != conn.OrgID {
		return storage.Person{}, errSSOEmailOutside
	} else if err != nil {
		return storage.Person{}, err
	}
	org, err := h.Store.GetOrganization(ctx, conn.OrgID)
	if err != nil {
		return storage.Person{}, err
	}
	if org.Status != storage.OrgValidated {
		return storage.Person{}, errSSOOrgClosed
	}
	p, err := h.Store.GetPersonByEmail(ctx, email)
	if err == nil {
		if p.Membership == nil || p.Membership.OrgID != conn.OrgID {
			return p, errSSOOtherOrg
		}
		return p, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return p, err
	}
	actor := Actor{ID: "sso", IP: web.ClientIP(r)}
	var userID string
	err = h.Store.Atomic(ctx, func(tx storage.Tx) error {
		if err := tx.LockOrganization(ctx, conn.OrgID); err != nil {
			return err
		}
		// A first sign-in of the same address that ran at the same moment
		// may have made the member while this one waited for the lock:
		// both sign in, as that member.
		if p, err := tx.GetPersonByEmail(ctx, email); err == nil {
			if p.Membership == nil || p.Membership.OrgID != conn.OrgID {
				return errSSOOtherOrg
			}
			userID = p.User.ID
			return nil
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		// Invited to this organization and never accepted: the invitation
		// is accepted by this sign-in.
		users, err := tx.ListUsers(ctx, conn.OrgID)
		if err != nil {
			return err
		}
		for _, u := range users {
			if storage.NormalizeEmail(u.Email) == storage.NormalizeEmail(email) && u.PasswordHash == "" {
				err := tx.UpdateUser(ctx, u.ID, func(x *storage.User) error {
					x.PasswordHash, x.UpdatedAt = noPassword, h.now()
					return nil
				})
				if errors.Is(err, storage.ErrConflict) {
					return errSSOOtherOrg
				} else if err != nil {
					return err
				}
				userID = u.ID
				if err := h.Accounts.takeAddress(ctx, tx, actor, u, "company sign-in took the address"); err != nil {
					return err
				}
				return h.Accounts.audit(ctx, tx, actor, "member.linked", "user", u.ID, conn.OrgID, "sso invitation accepted")
			}
		}
		now := h.now()
		u := storage.User{ID: storage.NewID("usr"), Email: email, PasswordHash: noPassword, CreatedAt: now, UpdatedAt: now}
		if OneLine(id.Name) && len(id.Name) <= 200 {
			u.Name = id.Name
		}
		m := &storage.Membership{UserID: u.ID, OrgID: conn.OrgID, Roles: conn.DefaultRoles}
		if err := tx.CreateUser(ctx, u, m); errors.Is(err, storage.ErrConflict) {
			return errSSOOtherOrg
		} else if err != nil {
			return err
		}
		userID = u.ID
		if err := h.Accounts.takeAddress(ctx, tx, actor, u, "company sign-in took the address"); err != nil {
			return err
		}
		return h.Accounts.audit(ctx, tx, actor, "member.created", "user", u.ID, conn.OrgID,
			"sso roles="+strings.Join(storage.NormalizeRoles(conn.DefaultRoles), ","))
	})
	if err != nil {
		return storage.Person{}, err
	}
	return h.Store.GetPerson(ctx, userID)
}

// canonicalEmail is the upstream's address with its domain in normal
// form (lower case, ASCII, no final dot: "Jeanne@ACME.example." is
// "Jeanne@acme.example"), so that one address never makes two accounts;
// "" when the domain has no normal form.
func canonicalEmail(s string) string {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return ""
	}
	d := domains.Of(s)
	if d == "" {
		return ""
	}
	return s[:at+1] + d
}

// cleanAMR keeps the upstream's amr values that look like RFC 8176's
// (short tokens), at most 8.
func cleanAMR(in []string) []string {
	var out []string
	for _, a := range in {
		if len(out) == 8 {
			break
		}
		if a != "" && len(a) <= 32 && !strings.ContainsFunc(a, func(c rune) bool { return c <= ' ' || c > '~' || c == ',' }) &&
			!slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// upstreamAMR is a company sign-in's amr: the upstream's (or "fed" when it
// sent none), Sesame's own code when one was asked, and mfa when a second
// factor was proven, upstream or here.
func (at attempt) upstreamAMR() []string {
	out := slices.Clone(at.Upstream)
	if len(out) == 0 {
		out = []string{"fed"}
	}
	// Sesame's own second factor, when the gate asked for it after the
	// upstream: a code, or a passkey (with its user verification).
	for _, own := range []string{proofOTP, proofHWK, proofSWK, proofUser} {
		if at.proved(own) && !slices.Contains(out, own) {
			out = append(out, own)
		}
	}
	if (at.UpstreamMFA || at.secondFactor()) && !slices.Contains(out, vocab.AMRMFA) {
		out = append(out, vocab.AMRMFA)
	}
	return out
}
