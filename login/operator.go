package login

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// operatorFlow serves the operator's console: organizations to decide on,
// and one organization's members to repair.
type operatorFlow struct {
	*shared
	Companies *CompanySignIn // company sign-in, when configured (operator_sso.go)
}

func (h *operatorFlow) routes(r chi.Router) {
	r.Get(PathOperator, h.handleOperator)
	r.Post(PathOperator+"/{id}/validate", h.handleOperatorValidate)
	r.Post(PathOperator+"/{id}/reject", h.handleOperatorReject)
	r.Get(PathOperator+"/{id}", h.handleOperatorOrg)
	r.Post(PathOperator+"/{id}/members/{user}/roles", h.handleOperatorMemberRoles)
	h.peopleRoutes(r)      // operator_people.go
	h.applicationRoutes(r) // applications.go
	h.ssoRoutes(r)         // operator_sso.go
}

// PathOperator is the operator console.
const PathOperator = "/admin/organizations"

type orgRow struct {
	storage.Organization
	Founder     string
	Members     int
	CountryName string // in the page's language
}

type operatorPage struct {
	templates.Base
	Pending     []orgRow
	MorePending bool // more than a page waits: the oldest are shown
	Others      []orgRow
	Q, Status   string   // the list's search and status filter
	Statuses    []string // the filter's choices
	Next, First string   // the list's next page and its first ("" when there is none)
	Notice      string
}

// consolePageSize bounds every list of the console: with ten thousand
// organizations the page stays one query per list and a few per row.
const consolePageSize = 50

// orgListStatuses are the list's filter: every status but pending, whose
// organizations are the cards above it.
var orgListStatuses = []string{storage.OrgValidated, storage.OrgRejected, storage.OrgSuspended}

// orgListQuery reads the list's search, filter and cursor from the URL: a
// 14-digit search is a SIRET, other words look in the names.
func orgListQuery(u *url.URL) (storage.OrgQuery, string, error) {
	v := u.Query()
	q := storage.OrgQuery{Limit: consolePageSize + 1}
	search := strings.TrimSpace(v.Get("q"))
	if len(search) > 200 {
		return q, "", errConsoleSearch
	}
	if isSIRET(search) {
		q.SIRET = search
	} else {
		q.Q = search
	}
	if st := v.Get("status"); st != "" {
		if !slices.Contains(orgListStatuses, st) {
			return q, "", errConsoleSearch
		}
		q.Status = st
	}
	if after := v.Get("after"); after != "" {
		at, id, ok := readOrgCursor(after)
		if !ok {
			return q, "", errConsoleSearch
		}
		q.AfterCreated, q.AfterID = at, id
	}
	return q, search, nil
}

var errConsoleSearch = fail.E(fail.Invalid, "Errors.Console.Search")

func isSIRET(s string) bool {
	if len(s) != 14 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// The list's cursor: the last organization shown, (created_at, id).
func orgCursor(o storage.Organization) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(o.CreatedAt.UnixNano(), 10) + "." + o.ID))
}

func readOrgCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	at, id, ok := strings.Cut(string(b), ".")
	n, perr := strconv.ParseInt(at, 10, 64)
	if err != nil || !ok || perr != nil || id == "" {
		return time.Time{}, "", false
	}
	return time.Unix(0, n), id, true
}

// orgRows are the list's rows of orgs, with their members counted and
// their first admin named in one read for the whole page.
func (h *operatorFlow) orgRows(r *http.Request, orgs []storage.Organization) ([]orgRow, error) {
	ids := make([]string, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	sums, err := h.Store.OrganizationSummaries(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	rows := make([]orgRow, len(orgs))
	for i, o := range orgs {
		rows[i] = orgRow{Organization: o, Members: sums[o.ID].Members, Founder: sums[o.ID].Founder}
	}
	return rows, nil
}

func (h *operatorFlow) renderOperator(w http.ResponseWriter, r *http.Request, v viewer, problem error, notice string) {
	status, errKey := h.problemOf(r, problem)
	q, search, err := orgListQuery(r.URL)
	if err != nil {
		// A hand-made URL: the first page, unfiltered, and why.
		q, search = storage.OrgQuery{Limit: consolePageSize + 1}, ""
		status, errKey = h.problemOf(r, err)
	}
	pending, err := h.Store.ListOrganizationsPage(r.Context(), storage.OrgQuery{Status: storage.OrgPending, Limit: consolePageSize + 1})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := &operatorPage{Notice: notice, Q: search, Status: q.Status, Statuses: orgListStatuses}
	if len(pending) > consolePageSize {
		pending, p.MorePending = pending[:consolePageSize], true
	}
	others, err := h.listOthers(r, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(others) > consolePageSize {
		others = others[:consolePageSize]
		next := url.Values{"after": {orgCursor(others[len(others)-1])}}
		if search != "" {
			next.Set("q", search)
		}
		if q.Status != "" {
			next.Set("status", q.Status)
		}
		p.Next = PathOperator + "?" + next.Encode()
	}
	if !q.AfterCreated.IsZero() || q.AfterID != "" {
		first := url.Values{}
		if search != "" {
			first.Set("q", search)
		}
		if q.Status != "" {
			first.Set("status", q.Status)
		}
		p.First = PathOperator + "?" + first.Encode()
	}
	rows, err := h.orgRows(r, append(pending[:len(pending):len(pending)], others...))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Pending, p.Others = rows[:len(pending)], rows[len(pending):]
	p.Base = h.spaceBase(w, r, v, "Operator.Title")
	for i := range p.Pending {
		p.Pending[i].CountryName = countryName(p.Lang, p.Pending[i].Country)
	}
	p.Error = errKey
	h.render(w, status, "operator", p)
}

// listOthers lists a page of the organizations that are not pending (their
// cards are above), or of the status filtered on.
func (h *operatorFlow) listOthers(r *http.Request, q storage.OrgQuery) ([]storage.Organization, error) {
	if q.Status == "" {
		q.NotStatus = storage.OrgPending
	}
	return h.Store.ListOrganizationsPage(r.Context(), q)
}

func (h *operatorFlow) handleOperator(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operator(w, r)
	if !ok {
		return
	}
	h.renderOperator(w, r, v, nil, noticeKeys[r.URL.Query().Get("done")])
}

// consolePage renders one of the console's pages with a notice or an error.
type consolePage func(w http.ResponseWriter, r *http.Request, v viewer, problem error, notice string)

// operatorAction runs a console form: operator check, CSRF, then act; a
// refusal renders page again with its message, a success goes to back with
// the done notice.
func (h *operatorFlow) operatorAction(w http.ResponseWriter, r *http.Request, page consolePage, back, notice string, act func(v viewer) error) {
	v, ok := h.operator(w, r)
	if !ok {
		return
	}
	if !h.csrfValid(r) {
		page(w, r, v, errCSRF, "")
		return
	}
	if err := act(v); err != nil {
		if !h.refused(w, r, err) {
			return
		}
		page(w, r, v, err, "")
		return
	}
	http.Redirect(w, r, back+"?"+url.Values{"done": {notice}}.Encode(), http.StatusSeeOther)
}

func (h *operatorFlow) handleOperatorValidate(w http.ResponseWriter, r *http.Request) {
	h.operatorAction(w, r, h.renderOperator, PathOperator, "validated", func(v viewer) error {
		return h.Accounts.ValidateOrganization(r.Context(), actorOf(v, r), chi.URLParam(r, "id"))
	})
}

func (h *operatorFlow) handleOperatorReject(w http.ResponseWriter, r *http.Request) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	h.operatorAction(w, r, h.renderOperator, PathOperator, "rejected", func(v viewer) error {
		return h.Accounts.RejectOrganization(r.Context(), actorOf(v, r), chi.URLParam(r, "id"), reason)
	})
}

// The operator's view of one organization: its members, and their roles to
// repair — an organization left without a usable admin gets one back here
// (or with `sesame member roles`). The last active admin still stays.

type operatorMember struct {
	ID, Email, Name string
	Admin, User     bool
	Invited         bool
	Disabled, MFA   bool
}

type operatorOrgPage struct {
	templates.Base
	Org     storage.Organization
	Members []operatorMember
	Notice  string
	SSO     *consoleSSO // domains and company sign-in (operator_sso.go)
}

func (h *operatorFlow) renderOperatorOrg(w http.ResponseWriter, r *http.Request, v viewer, problem error, notice string) {
	status, errKey := h.problemOf(r, problem)
	orgID := chi.URLParam(r, "id")
	org, err := h.Store.GetOrganization(r.Context(), orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	members, err := h.Store.ListMemberships(r.Context(), orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.Store.ListUsers(r.Context(), orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	roles := make(map[string]storage.Membership, len(members))
	for _, m := range members {
		roles[m.UserID] = m
	}
	p := &operatorOrgPage{Org: org, Notice: notice}
	for _, u := range users {
		m := roles[u.ID]
		p.Members = append(p.Members, operatorMember{ID: u.ID, Email: u.Email, Name: u.Name, Admin: isAdmin(m),
			User: slices.Contains(m.Roles, storage.RoleUser), Invited: u.PasswordHash == "", Disabled: u.Disabled,
			MFA: h.hasConfirmedTOTP(r, u.ID)})
	}
	if p.SSO, err = h.companySignIn(r.Context(), orgID); err != nil {
		h.fail(w, r, err)
		return
	}
	p.Base = h.spaceBase(w, r, v, "Operator.OrgTitle")
	p.Error = errKey
	h.render(w, status, "operator_org", p)
}

func (h *operatorFlow) handleOperatorOrg(w http.ResponseWriter, r *http.Request) {
	v, ok := h.operator(w, r)
	if !ok {
		return
	}
	h.renderOperatorOrg(w, r, v, nil, noticeKeys[r.URL.Query().Get("done")])
}

func (h *operatorFlow) handleOperatorMemberRoles(w http.ResponseWriter, r *http.Request) {
	orgID := chi.URLParam(r, "id")
	h.operatorAction(w, r, h.renderOperatorOrg, PathOperator+"/"+url.PathEscape(orgID), "roles", func(v viewer) error {
		actor := actorOf(v, r)
		actor.Operator = true
		return h.Accounts.SetRoles(r.Context(), actor, orgID, chi.URLParam(r, "user"), rolesFrom(r))
	})
}

// hasConfirmedTOTP says whether the person has a second factor.
func (h *operatorFlow) hasConfirmedTOTP(r *http.Request, userID string) bool {
	t, err := h.Store.GetTOTP(r.Context(), userID)
	return err == nil && !t.ConfirmedAt.IsZero()
}
