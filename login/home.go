package login

import (
	"net/http"

	"github.com/sesame-idp/sesame/templates"
)

type homePage struct {
	templates.Base
	Email     string
	OrgName   string
	OrgStatus string
	Admin     bool
	Operator  bool
}

func (h *Handler) handleHome(w http.ResponseWriter, r *http.Request) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	p := &homePage{Email: v.user.Email, Operator: v.user.IsOperator, Admin: v.hasOrg && isAdmin(v.membership)}
	if v.hasOrg {
		if org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID); err == nil {
			p.OrgName, p.OrgStatus = org.Name, org.Status
		}
	}
	p.Base = h.base(w, r, "Home.Title", []string{v.user.Locale})
	if err := h.Pages.Render(w, http.StatusOK, "home", p); err != nil {
		h.Logger.Error("render home", "err", err)
	}
}
