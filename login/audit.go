package login

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// auditFlow serves the audit trails: an organization's to its admins,
// everything to operators.
type auditFlow struct{ *shared }

func (h *auditFlow) routes(r chi.Router) {
	r.Get(PathOrgAudit, h.handleOrgAudit)
	r.Get(PathOperatorAudit, h.handleOperatorAudit)
}

// Paths of the audit trail screens.
const (
	PathOrgAudit      = "/organization/audit"
	PathOperatorAudit = "/admin/audit"
)

// audit records an event about a person, in their organization; a failure
// to record is logged, not shown.
func (h *shared) audit(ctx context.Context, tx auditTrail, actorID, action, userID, details string) {
	h.auditOrg(ctx, tx, actorID, action, userID, h.Accounts.orgOf(ctx, tx, userID), details)
}

// auditOrg is audit when the person's organization is known already.
func (h *shared) auditOrg(ctx context.Context, tx auditTrail, actorID, action, userID, orgID, details string) {
	ip, _ := ctx.Value(ipKey{}).(string)
	if err := h.Accounts.audit(ctx, tx, Actor{ID: actorID, IP: ip}, action, "user", userID, orgID, details); err != nil {
		h.Logger.WarnContext(ctx, "audit", "err", err)
	}
}

type auditRow struct {
	At, Actor, Action, Target, IP, Details string
}

type auditPage struct {
	templates.Base
	Scope string // the organization's name, or "" for everything
	Rows  []auditRow
}

func (h *auditFlow) renderAudit(w http.ResponseWriter, r *http.Request, v viewer, orgID, scope string) {
	events, err := h.Store.ListEvents(r.Context(), storage.AuditFilter{OrgID: orgID, Limit: 200})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := map[string]string{}
	name := func(id string) string {
		if id == "" || id == "cli" {
			return map[string]string{"": "—", "cli": "cli"}[id]
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := id
		if u, err := h.Store.GetUser(r.Context(), id); err == nil {
			n = u.Email
		}
		names[id] = n
		return n
	}
	p := &auditPage{Scope: scope}
	for _, e := range events {
		target := e.TargetID
		if e.TargetType == "user" {
			target = name(e.TargetID)
		}
		p.Rows = append(p.Rows, auditRow{At: e.At.UTC().Format("2006-01-02 15:04:05 UTC"), Actor: name(e.ActorID), Action: e.Action,
			Target: target, IP: e.IP, Details: e.Details})
	}
	p.Base = h.baseFor(w, r, "Audit.Title", v.user)
	h.render(w, http.StatusOK, "audit", p)
}

// handleOrgAudit shows an organization's trail to its admins.
func (h *auditFlow) handleOrgAudit(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderAudit(w, r, v, org.ID, org.Name)
}

// handleOperatorAudit shows every event to operators.
func (h *auditFlow) handleOperatorAudit(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operator(w, r)
	if !ok {
		return
	}
	h.renderAudit(w, r, v, "", "")
}
