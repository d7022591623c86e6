package login

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/templates"
)

// policyFlow shows an organization's security policy to its admins. The
// form posts to the members flow's require-2fa action, which comes back
// here.
type policyFlow struct {
	*shared
	pk *passkeys
}

// PathPolicy is the organization's security policy.
const PathPolicy = "/organization/policy"

func (h *policyFlow) routes(r chi.Router) {
	r.Get(PathPolicy, h.handlePolicy)
}

type policyPage struct {
	templates.Base
	RequireMFA bool
	// RequirePasskey: every member signs in with a passkey (passkey_policy.go).
	RequirePasskey bool
	// PasskeysOn: the server offers passkeys; without them the switch is
	// shown only to turn a saved policy off.
	PasskeysOn bool
	Members    int
	WithMFA    int
	Notice     string
}

func (h *policyFlow) handlePolicy(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.Store.ListMemberships(r.Context(), org.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &policyPage{RequireMFA: org.RequireMFA, RequirePasskey: org.RequirePasskey, PasskeysOn: h.pk.enabled(), Members: len(list), Notice: noticeKeys[r.URL.Query().Get("done")]}
	for _, m := range list {
		if t, err := h.Store.GetTOTP(r.Context(), m.UserID); err == nil && !t.ConfirmedAt.IsZero() {
			p.WithMFA++
		}
	}
	p.Base = h.spaceBase(w, r, v, "Policy.Title")
	h.render(w, http.StatusOK, "policy", p)
}
