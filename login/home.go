package login

import (
	"net/http"

	"github.com/sesame-idp/sesame/templates"
)

type homePage struct {
	templates.Base
	Email   string
	OrgName string
}

func (h *Handler) handleHome(w http.ResponseWriter, r *http.Request) {
	s, ok := h.currentSession(r)
	if !ok {
		http.Redirect(w, r, PathLogin, http.StatusSeeOther)
		return
	}
	u, err := h.Store.GetUser(r.Context(), s.UserID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &homePage{Email: u.Email}
	if m, err := h.Store.GetMembership(r.Context(), u.ID); err == nil {
		if org, err := h.Store.GetOrganization(r.Context(), m.OrgID); err == nil {
			p.OrgName = org.Name
		}
	}
	p.Base = h.base(w, r, "Home.Title", nil)
	if err := h.Pages.Render(w, http.StatusOK, "home", p); err != nil {
		h.Logger.Error("render home", "err", err)
	}
}
