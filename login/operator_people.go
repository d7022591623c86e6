package login

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/storage"
)

// The console's decisions on an organization beyond validation (suspend,
// reactivate) and on its people (disable, enable, reset the second
// factor): the rules are login.Accounts', as for the command line and the
// API.

func (h *operatorFlow) peopleRoutes(r chi.Router) {
	r.Post(PathOperator+"/{id}/suspend", h.handleOperatorSuspend)
	r.Post(PathOperator+"/{id}/reactivate", h.handleOperatorReactivate)
	r.Post(PathOperator+"/{id}/members/{user}/disable", h.handleOperatorDisable)
	r.Post(PathOperator+"/{id}/members/{user}/enable", h.handleOperatorEnable)
	r.Post(PathOperator+"/{id}/members/{user}/reset-2fa", h.handleOperatorReset2FA)
}

func operatorActor(v viewer, r *http.Request) Actor {
	a := actorOf(v, r)
	a.Operator = true
	return a
}

func (h *operatorFlow) orgAction(w http.ResponseWriter, r *http.Request, notice string, act func(v viewer, orgID string) error) {
	orgID := chi.URLParam(r, "id")
	h.operatorAction(w, r, h.renderOperatorOrg, PathOperator+"/"+url.PathEscape(orgID), notice, func(v viewer) error {
		return act(v, orgID)
	})
}

func (h *operatorFlow) handleOperatorSuspend(w http.ResponseWriter, r *http.Request) {
	h.orgAction(w, r, "suspended", func(v viewer, orgID string) error {
		return h.Accounts.SuspendOrganization(r.Context(), operatorActor(v, r), orgID, r.PostFormValue("reason"))
	})
}

func (h *operatorFlow) handleOperatorReactivate(w http.ResponseWriter, r *http.Request) {
	h.orgAction(w, r, "reactivated", func(v viewer, orgID string) error {
		return h.Accounts.ReactivateOrganization(r.Context(), operatorActor(v, r), orgID)
	})
}

// memberOf refuses a person who is not a member of the organization in
// the URL (another organization's id in a forged form).
func (h *operatorFlow) memberOf(r *http.Request, orgID, userID string) error {
	m, err := h.Store.GetMembership(r.Context(), userID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && m.OrgID != orgID) {
		return ErrNotMember
	}
	return err
}

func (h *operatorFlow) personAction(w http.ResponseWriter, r *http.Request, notice string, act func(v viewer, userID string) error) {
	h.orgAction(w, r, notice, func(v viewer, orgID string) error {
		userID := chi.URLParam(r, "user")
		if err := h.memberOf(r, orgID, userID); err != nil {
			return err
		}
		return act(v, userID)
	})
}

func (h *operatorFlow) handleOperatorDisable(w http.ResponseWriter, r *http.Request) {
	h.personAction(w, r, "disabled", func(v viewer, userID string) error {
		return h.Accounts.DisableUser(r.Context(), operatorActor(v, r), userID)
	})
}

func (h *operatorFlow) handleOperatorEnable(w http.ResponseWriter, r *http.Request) {
	h.personAction(w, r, "enabled", func(v viewer, userID string) error {
		return h.Accounts.EnableUser(r.Context(), operatorActor(v, r), userID)
	})
}

func (h *operatorFlow) handleOperatorReset2FA(w http.ResponseWriter, r *http.Request) {
	h.personAction(w, r, "2fa-reset", func(v viewer, userID string) error {
		return h.Accounts.ResetSecondFactor(r.Context(), operatorActor(v, r), "", userID)
	})
}
