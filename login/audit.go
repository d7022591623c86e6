package login

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

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
		h.Logger.Warn("audit", "err", err)
	}
}

// The audit pages: a table of sentences in the page's language ("Alice
// Martin a invité bob@acme.example"), filtered by dates and type, by pages
// of auditPageSize (auditsentence.go writes the sentences).

const auditPageSize = 50

// auditTypes are the type filter's choices: an action prefix each.
var auditTypes = []string{"signin", "member", "org", "password", "2fa", "session", "user", "client", "keys"}

type auditRow struct {
	At       time.Time
	Sentence string // already in the page's language
	Org, IP  string
	Details  string
}

type auditPage struct {
	templates.Base
	Scope    string // the organization's name, or "" for everything
	Operator bool   // the operator's view: a column for the organization
	Rows     []auditRow
	// The filter, as the form shows it, and the pages around this one.
	From, To, Type string
	Types          []string
	Filtered       bool
	Page           int
	Newer, Older   string // links, "" when there is none
}

// auditQuery reads the filter of the page's query: dates as yyyy-mm-dd
// (To included), a known type, a page number. What does not parse is left
// out, never an error.
func auditQuery(q url.Values) (f storage.AuditFilter, from, to, typ string, page int) {
	if t, err := time.Parse(time.DateOnly, q.Get("from")); err == nil {
		f.Since, from = t, q.Get("from")
	}
	if t, err := time.Parse(time.DateOnly, q.Get("to")); err == nil {
		f.Until, to = t.AddDate(0, 0, 1), q.Get("to")
	}
	if slices.Contains(auditTypes, q.Get("type")) {
		typ = q.Get("type")
		f.ActionPrefix = typ + "."
	}
	page, _ = strconv.Atoi(q.Get("page"))
	page = min(max(page, 1), 10000)
	f.Limit, f.Offset = auditPageSize+1, (page-1)*auditPageSize
	return f, from, to, typ, page
}

func (h *auditFlow) renderAudit(w http.ResponseWriter, r *http.Request, v viewer, orgID, scope string) {
	f, from, to, typ, page := auditQuery(r.URL.Query())
	f.OrgID = orgID
	events, err := h.Store.ListEvents(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &auditPage{Scope: scope, Operator: orgID == "", From: from, To: to, Type: typ, Types: auditTypes, Page: page,
		Filtered: from != "" || to != "" || typ != ""}
	p.Base = h.spaceBase(w, r, v, "Audit.Title")
	link := func(n int) string {
		q := url.Values{}
		for k, v := range map[string]string{"from": from, "to": to, "type": typ} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		if len(q) == 0 {
			return sitePath(r.URL.Path)
		}
		return sitePath(r.URL.Path) + "?" + q.Encode()
	}
	if len(events) > auditPageSize {
		events, p.Older = events[:auditPageSize], link(page+1)
	}
	if page > 1 {
		p.Newer = link(page - 1)
	}
	words := newAuditWords(r.Context(), h.Store, h.Pages.Translator(p.Lang))
	for _, e := range events {
		row := auditRow{At: e.At, Sentence: words.sentence(e), IP: e.IP}
		if p.Operator && e.OrgID != "" {
			row.Org = words.org(e.OrgID)
		}
		p.Rows = append(p.Rows, row)
	}
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
