package login

import (
	"errors"
	"github.com/sesame-idp/sesame/internal/fail"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// securityFlow serves the person's security settings: the password, the
// second factor (its setup pages are in enrol.go) and the sessions.
type securityFlow struct {
	*shared
	*throttle
	*factors
	Hasher *password.Hasher
	Policy password.Policy
	// ReauthAfter: a sign-in older than this asks for the current password.
	ReauthAfter                time.Duration
	SignInPerHour, CodePerHour int
	pk                         *passkeys // the passkeys section (passkey_settings.go)
}

func (h *securityFlow) routes(r chi.Router) {
	r.Get(PathSecurity, h.handleSecurity)
	r.Post(PathSecurity+"/password", h.handleChangePassword)
	r.Get(PathSecurity+"/totp", h.handleTOTPSetup)
	r.Post(PathSecurity+"/totp", h.handleTOTPConfirm)
	r.Post(PathSecurity+"/totp/disable", h.handleTOTPDisable)
	r.Post(PathSecurity+"/sessions/{id}/end", h.handleEndSession)
	r.Post(PathSecurity+"/sessions/end-others", h.handleEndOtherSessions)
	h.passkeyRoutes(r)
	h.consentSettingsRoutes(r)
	r.Post(PathLanguage, h.handleLanguage)
}

// PathSecurity is the person's authentication settings.
const PathSecurity = "/account/security"

var errDisableRefused = fail.E(fail.Unauthorized, "Errors.TOTP.DisableRefused")

type sessionRow struct {
	ID, Browser, IP string
	LastSeen        time.Time
	Current         bool
}

type securityPage struct {
	templates.Base
	Email        string
	NeedsCurrent bool // the sign-in is older than ReauthAfter
	TOTPEnabled  bool
	RecoveryLeft int
	MFARequired  bool
	Sessions     []sessionRow
	Notice       string
	Passkeys     passkeySection
	ChosenLang   string // the person's language choice, "" for none
	LangChoices  []langChoice
	Consents     []consentRow // authorized applications (consent_settings.go)
}

var securityNotices = map[string]string{
	"password": "Security.Notice.Password", "totp-off": "Security.Notice.TOTPOff", "session": "Security.Notice.Session",
	"sessions": "Security.Notice.Sessions", "lang": "Security.Notice.Lang",
	"passkey-added": "Passkey.Notice.Added", "passkey-renamed": "Passkey.Notice.Renamed", "passkey-removed": "Passkey.Notice.Removed",
}

func (h *securityFlow) renderSecurity(w http.ResponseWriter, r *http.Request, v viewer, problem error, notice string) {
	status, errKey := h.problemOf(r, problem)
	p := &securityPage{Email: v.user.Email, Notice: notice, NeedsCurrent: h.now().Sub(v.session.AuthTime) > h.ReauthAfter,
		ChosenLang: v.user.ChosenLang, LangChoices: langChoices}
	if t, err := h.Store.GetTOTP(r.Context(), v.user.ID); err == nil && !t.ConfirmedAt.IsZero() {
		p.TOTPEnabled = true
		p.RecoveryLeft, _ = h.Store.CountRecoveryCodes(r.Context(), v.user.ID)
	}
	if v.hasOrg {
		if org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID); err == nil {
			p.MFARequired = org.RequireMFA
		}
	}
	list, err := h.Store.ListUserSessions(r.Context(), v.user.ID, h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, s := range list {
		p.Sessions = append(p.Sessions, sessionRow{ID: s.ID, Browser: browserName(s.UserAgent), IP: s.IP,
			LastSeen: s.LastSeen, Current: s.ID == v.session.ID})
	}
	p.Passkeys = h.passkeySection(r, v)
	p.Consents = h.consentRows(r, v)
	p.Base = h.spaceBase(w, r, v, "Security.Title")
	p.Error = errKey
	h.render(w, status, "security", p)
}

// browserName turns a User-Agent into what a person recognises.
func browserName(ua string) string {
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Safari/", "Safari"},
	} {
		if contains(ua, b.token) {
			os := ""
			for _, o := range []struct{ token, name string }{{"Android", "Android"}, {"iPhone", "iPhone"}, {"Windows", "Windows"},
				{"Mac OS X", "macOS"}, {"Linux", "Linux"}} {
				if contains(ua, o.token) {
					os = " · " + o.name
					break
				}
			}
			return b.name + os
		}
	}
	if ua == "" {
		return "?"
	}
	if len(ua) > 40 {
		return ua[:40] + "…"
	}
	return ua
}

func contains(s, sub string) bool {
	return len(sub) <= len(s) && (func() bool {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
		return false
	})()
}

func (h *securityFlow) handleSecurity(w http.ResponseWriter, r *http.Request) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	h.renderSecurity(w, r, v, nil, securityNotices[r.URL.Query().Get("done")])
}

// securityForm starts every form of the settings: signed in, CSRF token right.
func (h *securityFlow) securityForm(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return v, false
	}
	if !h.csrfValid(r) {
		h.renderSecurity(w, r, v, errCSRF, "")
		return v, false
	}
	return v, true
}

func securityDone(w http.ResponseWriter, r *http.Request, notice string) {
	http.Redirect(w, r, PathSecurity+"?"+url.Values{"done": {notice}}.Encode(), http.StatusSeeOther)
}

func (h *securityFlow) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	if h.now().Sub(v.session.AuthTime) > h.ReauthAfter {
		if !hasPassword(v.user) {
			// No current password to ask (an account activated with a
			// passkey): a fresh sign-in is the proof.
			h.renderSecurity(w, r, v, errPasskeyReauth, "")
			return
		}
		if !h.limit(w, r, "signin:"+web.BudgetKey(r), h.SignInPerHour) {
			return
		}
		key := h.throttleKey(r, v.user.Email)
		if locked, err := h.locked(r.Context(), key); err != nil {
			h.fail(w, r, err)
			return
		} else if locked {
			h.renderSecurity(w, r, v, errLocked, "")
			return
		}
		if err := h.Hasher.Verify(r.Context(), v.user.PasswordHash, r.PostFormValue("current_password")); err != nil {
			h.recordFailure(r.Context(), key, v.user.Email)
			h.renderSecurity(w, r, v, fail.E(fail.Unauthorized, "Errors.Security.Current"), "")
			return
		}
	}
	pw, confirm := r.PostFormValue("password"), r.PostFormValue("password_confirm")
	if pw != confirm {
		h.renderSecurity(w, r, v, fail.E(fail.Invalid, "Errors.Password.Mismatch"), "")
		return
	}
	if problem := h.Policy.Check(pw, v.user.Email); problem != "" {
		h.renderSecurity(w, r, v, fail.E(fail.Invalid, policyKeys[problem]), "")
		return
	}
	hash, err := h.Hasher.Hash(r.Context(), pw)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Accounts.ChangePassword(r.Context(), actorOf(v, r), v.user.ID, hash, v.session.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	securityDone(w, r, "password")
}

func (h *securityFlow) handleTOTPDisable(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	if v.hasOrg {
		if org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID); err == nil && org.RequireMFA {
			h.renderSecurity(w, r, v, fail.E(fail.Conflict, "Errors.TOTP.Required"), "")
			return
		}
	}
	if err := h.proveFactors(r, v.user, h.staleSignIn(v), "code", errDisableRefused); err != nil {
		if !h.refused(w, r, err) {
			return
		}
		h.renderSecurity(w, r, v, err, "")
		return
	}
	err := h.Store.Atomic(r.Context(), func(tx storage.Tx) error {
		if err := tx.DeleteTOTP(r.Context(), v.user.ID); err != nil {
			return err
		}
		h.audit(r.Context(), tx, v.user.ID, "2fa.disabled", v.user.ID, "")
		return h.Accounts.notifySecondFactor(r.Context(), tx, v.user)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Accounts.wake()
	securityDone(w, r, "totp-off")
}

func (h *securityFlow) handleEndSession(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	s, err := h.Store.GetSessionByID(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && s.UserID != v.user.ID) {
		h.renderSecurity(w, r, v, fail.E(fail.NotFound, "Errors.Request.NotFound"), "")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Accounts.EndSession(r.Context(), s); err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(r.Context(), h.Store, v.user.ID, "session.revoked", v.user.ID, "session="+s.ID)
	if s.ID == v.session.ID {
		http.SetCookie(w, h.clearSessionCookie())
		http.Redirect(w, r, PathLoggedOut, http.StatusSeeOther)
		return
	}
	securityDone(w, r, "session")
}

func (h *securityFlow) handleEndOtherSessions(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	n, err := h.Accounts.EndUserSessions(r.Context(), v.user.ID, v.session.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(r.Context(), h.Store, v.user.ID, "session.revoked", v.user.ID, "others="+strconvItoa(n))
	securityDone(w, r, "sessions")
}
