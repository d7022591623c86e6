package login

import (
	"net/http"

	"github.com/sesame-idp/sesame/storage"
)

// renderResetLink answers a reset link that cannot be used (expired, used,
// unknown) with what fits a reset: a form that sends a new link, filled
// with the address the link was mailed to when the link is one of ours
// (its holder read that mailbox). An invitation's dead link keeps its own
// advice (renderLink): only an administrator can send a new one.
func (h *passwordFlow) renderResetLink(w http.ResponseWriter, r *http.Request, err error, token string) {
	if !h.refused(w, r, err) {
		return
	}
	status, key := h.problemOf(r, err)
	p := &linkPage{Message: key, Reset: true}
	var u storage.User
	if token != "" && len(token) <= 256 {
		if t, err := h.Store.GetActionToken(r.Context(), storage.HashToken(token)); err == nil && t.Purpose == storage.PurposeResetPassword {
			if got, err := h.Store.GetUser(r.Context(), t.UserID); err == nil && !got.Disabled {
				u, p.Email = got, got.Email
			}
		}
	}
	p.Base = h.baseFor(w, r, "Link.ResetTitle", u)
	h.render(w, status, "link_invalid", p)
}
