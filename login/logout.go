package login

import (
	"net/http"

	"github.com/sesame-idp/sesame/templates"
)

// handleLogoutSubmit signs out from the account page. Relying parties use
// the provider's end_session endpoint instead.
func (h *accountFlow) handleLogoutSubmit(w http.ResponseWriter, r *http.Request) {
	if !h.csrfValid(r) {
		h.fail(w, r, errCSRF)
		return
	}
	if err := h.EndBrowserSession(r.Context(), r.Header, w.Header()); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, PathLoggedOut, http.StatusSeeOther)
}

type loggedOutPage struct{ templates.Base }

func (h *accountFlow) handleLoggedOut(w http.ResponseWriter, r *http.Request) {
	p := &loggedOutPage{Base: h.base(w, r, "LoggedOut.Title", nil)}
	h.render(w, http.StatusOK, "logged_out", p)
}
