package login

import (
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/sesame-idp/sesame/templates"
)

// confirmLogoutPage asks before an end_session request that does not show
// it comes from an application the person signed in to (no valid
// id_token_hint) ends their session: a cross-site link must not sign them
// out of everything.
type confirmLogoutPage struct {
	templates.Base
	Action string
	Fields []formField
}

// ConfirmLogout renders the question; its form posts params back to
// action (the provider's end_session) with the CSRF token.
func (h *shared) ConfirmLogout(w http.ResponseWriter, r *http.Request, action string, params url.Values, uiLocales []string) {
	p := &confirmLogoutPage{Base: h.base(w, r, "ConfirmLogout.Title", uiLocales), Action: action}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		p.Fields = append(p.Fields, formField{name, params.Get(name)})
	}
	h.render(w, http.StatusOK, "confirm_logout", p)
}
