package login

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// The "Authorized applications" section of the security settings: the
// third-party applications the person allowed (consent.go), each with
// what it receives and a revocation, which ends the application's tokens
// for the person (storage.Consents.RevokeConsent) in the transaction that
// deletes the consent.

func init() { securityNotices["consent-revoked"] = "Consent.Notice.Revoked" }

// consentRow is one authorized application.
type consentRow struct {
	ClientID, Name string
	Since          time.Time
	Scopes         []scopeLine
}

// consentRows lists the person's authorized applications; a failure to
// read them is logged and shows none (the rest of the page still works).
func (h *securityFlow) consentRows(r *http.Request, v viewer) []consentRow {
	list, err := h.Store.ListConsents(r.Context(), v.user.ID)
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "list consents", "err", err)
		return nil
	}
	out := make([]consentRow, 0, len(list))
	for _, c := range list {
		name := c.ClientName
		if name == "" {
			name = c.ClientID
		}
		out = append(out, consentRow{ClientID: c.ClientID, Name: name, Since: c.UpdatedAt, Scopes: scopeLines(c.Scopes)})
	}
	return out
}

func (h *securityFlow) consentSettingsRoutes(r chi.Router) {
	r.Post(PathSecurity+"/applications/{client}/revoke", h.handleRevokeConsent)
}

// handleRevokeConsent revokes the person's own consent to one application:
// another person's is never found (the consent is looked up by the
// signed-in person and the client together).
func (h *securityFlow) handleRevokeConsent(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	clientID := chi.URLParam(r, "client")
	ctx := r.Context()
	err := h.Store.Atomic(ctx, func(tx storage.Tx) error {
		if err := tx.RevokeConsent(ctx, v.user.ID, clientID); err != nil {
			return err
		}
		h.audit(ctx, tx, v.user.ID, "consent.revoked", v.user.ID, "client="+clientID)
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		h.renderSecurity(w, r, v, fail.E(fail.NotFound, "Errors.Request.NotFound"), "")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(ctx, "consent revoked", "user", v.user.ID, "client", clientID)
	securityDone(w, r, "consent-revoked")
}
