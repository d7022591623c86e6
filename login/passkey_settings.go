package login

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"

	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
)

// The passkeys section of the security settings: add (with a name), list,
// rename, remove. Adding and removing change how the account is signed
// in to, so a sign-in older than ReauthAfter asks for the current
// password first (a person without a password signs in again); both are
// audited and mailed. At most MaxPasskeys per person.

var errPasskeyNotFound = fail.E(fail.NotFound, "Errors.Request.NotFound")

// PathSecurityPasskeys is the section's forms.
const PathSecurityPasskeys = PathSecurity + "/passkeys"

func (h *securityFlow) passkeyRoutes(r chi.Router) {
	r.Post(PathSecurityPasskeys+pathOptions, h.handlePasskeyAddOptions)
	r.Post(PathSecurityPasskeys, h.handlePasskeyAdd)
	r.Post(PathSecurityPasskeys+"/{id}/rename", h.handlePasskeyRename)
	r.Post(PathSecurityPasskeys+"/{id}/remove", h.handlePasskeyRemove)
}

type passkeyRow struct {
	ID, Name, Added, LastUsed string
	Synced                    bool
}

// passkeySection is what the settings page shows of the passkeys.
type passkeySection struct {
	Enabled  bool // WebAuthn is on (not an IP-address issuer)
	List     []passkeyRow
	CanAdd   bool
	Max      int
	Password bool // the person has a password (asked when the sign-in is stale)
}

func (h *securityFlow) passkeySection(r *http.Request, v viewer) passkeySection {
	s := passkeySection{Enabled: h.pk.enabled(), Max: MaxPasskeys, Password: hasPassword(v.user)}
	list, err := h.Store.ListPasskeys(r.Context(), v.user.ID)
	if err != nil {
		h.Logger.WarnContext(r.Context(), "list passkeys", "err", err)
	}
	for _, p := range list {
		row := passkeyRow{ID: p.ID, Name: p.Name, Added: p.CreatedAt.UTC().Format("2006-01-02"), Synced: p.BackupEligible}
		if !p.LastUsedAt.IsZero() {
			row.LastUsed = p.LastUsedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		s.List = append(s.List, row)
	}
	s.CanAdd = s.Enabled && len(list) < MaxPasskeys
	return s
}

// recentSignIn is the 5-minute rule: a stale sign-in proves the current
// password (a person without one must sign in again).
func (h *securityFlow) recentSignIn(r *http.Request, v viewer) error {
	if !h.staleSignIn(v) {
		return nil
	}
	if !hasPassword(v.user) {
		return errPasskeyReauth
	}
	return h.provePassword(r, v.user)
}

// passkeyRefused re-renders the settings with a refusal (a failure: the error page).
func (h *securityFlow) passkeyRefused(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	if h.refused(w, r, err) {
		h.renderSecurity(w, r, v, err, "")
	}
}

func (h *securityFlow) handlePasskeyAddOptions(w http.ResponseWriter, r *http.Request) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	if err := h.pk.ready(r); err != nil {
		h.pk.jsonError(w, r, err)
		return
	}
	if h.staleSignIn(v) && !hasPassword(v.user) {
		h.pk.jsonError(w, r, errPasskeyReauth)
		return
	}
	h.pk.beginRegistration(w, r, v.user, ceremonyRegister, v.session.ID)
}

func (h *securityFlow) handlePasskeyAdd(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	if !h.pk.enabled() {
		h.passkeyRefused(w, r, v, errPasskeyOff)
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	if err := h.recentSignIn(r, v); err != nil {
		h.passkeyRefused(w, r, v, err)
		return
	}
	pk, err := h.pk.finishRegistration(w, r, v.user, ceremonyRegister, v.session.ID)
	if err != nil {
		h.passkeyRefused(w, r, v, err)
		return
	}
	err = h.Store.Atomic(r.Context(), func(tx storage.Tx) error { return h.pk.storePasskey(r, tx, v.user, pk) })
	if err != nil {
		h.passkeyRefused(w, r, v, err)
		return
	}
	h.Accounts.wake()
	securityDone(w, r, "passkey-added")
}

func (h *securityFlow) handlePasskeyRename(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	name, err := passkeyName(r)
	if err != nil {
		h.passkeyRefused(w, r, v, err)
		return
	}
	id := chi.URLParam(r, "id")
	err = h.Store.Atomic(r.Context(), func(tx storage.Tx) error {
		if err := tx.RenamePasskey(r.Context(), v.user.ID, id, name); err != nil {
			return err
		}
		h.audit(r.Context(), tx, v.user.ID, "passkey.renamed", v.user.ID, "passkey="+id+" name="+name)
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		h.renderSecurity(w, r, v, errPasskeyNotFound, "")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	securityDone(w, r, "passkey-renamed")
}

func (h *securityFlow) handlePasskeyRemove(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	if !h.limit(w, r, "code:"+web.BudgetKey(r), h.CodePerHour) {
		return
	}
	id := chi.URLParam(r, "id")
	list, err := h.Store.ListPasskeys(r.Context(), v.user.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	mine := false
	for _, p := range list {
		mine = mine || p.ID == id
	}
	if !mine {
		h.renderSecurity(w, r, v, errPasskeyNotFound, "")
		return
	}
	if len(list) == 1 && !hasPassword(v.user) {
		// The only way in of an account without a password stays.
		h.passkeyRefused(w, r, v, errPasskeyOnly)
		return
	}
	if len(list) == 1 && v.hasOrg {
		// The last passkey of a member whose organization requires them
		// stays: without it they could not sign in.
		if org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID); err == nil && org.RequirePasskey {
			h.passkeyRefused(w, r, v, errPasskeyLast)
			return
		}
	}
	if err := h.recentSignIn(r, v); err != nil {
		h.passkeyRefused(w, r, v, err)
		return
	}
	err = h.Store.Atomic(r.Context(), func(tx storage.Tx) error {
		if err := tx.DeletePasskey(r.Context(), v.user.ID, id); err != nil {
			return err
		}
		h.audit(r.Context(), tx, v.user.ID, "passkey.removed", v.user.ID, "passkey="+id)
		return h.Accounts.notifySecondFactor(r.Context(), tx, v.user)
	})
	if errors.Is(err, storage.ErrNotFound) {
		h.renderSecurity(w, r, v, errPasskeyNotFound, "")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Accounts.wake()
	securityDone(w, r, "passkey-removed")
}
