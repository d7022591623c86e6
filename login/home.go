package login

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// accountFlow serves the signed-in person's home, sign-out and the style
// sheet.
type accountFlow struct{ *shared }

func (h *accountFlow) routes(r chi.Router) {
	r.Get(PathCSS, h.handleCSS)
	r.Get(PathHome, h.handleHome)
	r.Post(PathLogout, h.handleLogoutSubmit)
	r.Get(PathLoggedOut, h.handleLoggedOut)
}

type homePage struct {
	templates.Base
	Email     string
	OrgName   string
	OrgStatus string
	Admin     bool
	Operator  bool
	TwoFactor bool
	Members   int // for admins
	Pending   int // for operators: organizations awaiting a decision
}

func (h *accountFlow) handleHome(w http.ResponseWriter, r *http.Request) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	p := &homePage{Email: v.user.Email, Operator: v.user.IsOperator, Admin: v.hasOrg && isAdmin(v.membership)}
	if v.hasOrg {
		if org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID); err == nil {
			p.OrgName, p.OrgStatus = org.Name, org.Status
		}
		if p.Admin {
			if list, err := h.Store.ListMemberships(r.Context(), v.membership.OrgID); err == nil {
				p.Members = len(list)
			}
		}
	}
	if t, err := h.Store.GetTOTP(r.Context(), v.user.ID); err == nil && !t.ConfirmedAt.IsZero() {
		p.TwoFactor = true
	}
	if p.Operator {
		if list, err := h.Store.ListOrganizations(r.Context(), storage.OrgPending); err == nil {
			p.Pending = len(list)
		}
	}
	p.Base = h.spaceBase(w, r, v, "Home.Title")
	h.render(w, http.StatusOK, "home", p)
}

func (h *accountFlow) handleCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("ETag", h.Pages.CSSETag)
	if r.Header.Get("If-None-Match") == h.Pages.CSSETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(h.Pages.CSS)
}
