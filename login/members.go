package login

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// membersFlow serves an organization's admins: members, roles,
// invitations, the second-factor policy.
type membersFlow struct {
	*shared
	pk *passkeys // whether "passkeys only" can be met (passkey_accounts.go)
}

func (h *membersFlow) routes(r chi.Router) {
	r.Get(PathMembers, h.handleMembers)
	r.Post(PathMembers+"/invite", h.handleInvite)
	r.Post(PathMembers+"/{id}/roles", h.handleMemberRoles)
	r.Post(PathMembers+"/{id}/resend", h.handleMemberResend)
	r.Post(PathMembers+"/{id}/remove", h.handleMemberRemove)
	r.Post(PathMembers+"/{id}/reset-2fa", h.handleMemberReset2FA)
	r.Post(PathMembers+"/require-2fa", h.handleRequire2FA)
	r.Post(PathMembers+"/require-passkeys", h.handleRequirePasskeys)
}

// PathMembers is the organization admins' screen.
const PathMembers = "/organization/members"

type memberRow struct {
	ID, Email, Name  string
	Admin, User      bool
	Invited, Blocked bool
	Self             bool
	MFA              bool
	LastSignIn       time.Time
}

// State is the member's state as the table shows it.
func (m memberRow) State() string {
	switch {
	case m.Blocked:
		return "disabled"
	case m.Invited:
		return "invited"
	}
	return "active"
}

type membersPage struct {
	templates.Base
	OrgName    string
	Status     string
	RequireMFA bool
	// RequirePasskey: every member signs in with a passkey (passkey_policy.go).
	RequirePasskey bool
	Members        []memberRow
	Notice         string
	// The invitation form, kept after an error.
	InviteEmail, InviteName string
	InviteAdmin, InviteUser bool
}

func (h *membersFlow) renderMembers(w http.ResponseWriter, r *http.Request, v viewer, problem error, p *membersPage) {
	status, errKey := h.problemOf(r, problem)
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
	p.OrgName, p.Status, p.RequireMFA, p.RequirePasskey = org.Name, org.Status, org.RequireMFA, org.RequirePasskey
	for _, m := range list {
		u, err := h.Store.GetUser(r.Context(), m.UserID)
		if err != nil {
			continue
		}
		row := memberRow{ID: u.ID, Email: u.Email, Name: u.Name, Invited: u.PasswordHash == "", Blocked: u.Disabled, Self: u.ID == v.user.ID,
			LastSignIn: u.LastSignInAt}
		if t, err := h.Store.GetTOTP(r.Context(), u.ID); err == nil && !t.ConfirmedAt.IsZero() {
			row.MFA = true
		}
		for _, role := range m.Roles {
			row.Admin = row.Admin || role == storage.RoleAdmin
			row.User = row.User || role == storage.RoleUser
		}
		p.Members = append(p.Members, row)
	}
	p.Base = h.spaceBase(w, r, v, "Members.Title")
	p.Error = errKey
	h.render(w, status, "members", p)
}

var noticeKeys = map[string]string{
	"invited": "Members.Notice.Invited", "roles": "Members.Notice.Roles", "resent": "Members.Notice.Resent",
	"removed": "Members.Notice.Removed", "2fa-reset": "Members.Notice.Reset2FA", "require-2fa": "Members.Notice.Require2FA", "validated": "Operator.Notice.Validated", "rejected": "Operator.Notice.Rejected",
	"suspended": "Operator.Notice.Suspended", "reactivated": "Operator.Notice.Reactivated", "disabled": "Operator.Notice.Disabled",
	"enabled": "Operator.Notice.Enabled",
}

func (h *membersFlow) handleMembers(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	h.renderMembers(w, r, v, nil, &membersPage{Notice: noticeKeys[r.URL.Query().Get("done")], InviteUser: true})
}

// memberAction runs a members-screen form: admin check, CSRF, then the
// action; on success back to the list with a notice.
func (h *membersFlow) memberAction(w http.ResponseWriter, r *http.Request, notice string, act func(v viewer) error, keep *membersPage) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	if keep == nil {
		keep = &membersPage{InviteUser: true}
	}
	if !h.csrfValid(r) {
		h.renderMembers(w, r, v, errCSRF, keep)
		return
	}
	if err := act(v); err != nil {
		h.renderMembers(w, r, v, err, keep)
		return
	}
	back := PathMembers
	if notice == "require-2fa" {
		back = PathPolicy
	}
	http.Redirect(w, r, back+"?"+url.Values{"done": {notice}}.Encode(), http.StatusSeeOther)
}

func rolesFrom(r *http.Request) []string {
	var roles []string
	if r.PostFormValue("role_admin") != "" {
		roles = append(roles, storage.RoleAdmin)
	}
	if r.PostFormValue("role_user") != "" {
		roles = append(roles, storage.RoleUser)
	}
	return roles
}

func (h *membersFlow) handleInvite(w http.ResponseWriter, r *http.Request) {
	email, name := strings.TrimSpace(r.PostFormValue("email")), strings.TrimSpace(r.PostFormValue("name"))
	roles := rolesFrom(r)
	keep := &membersPage{InviteEmail: email, InviteName: name, InviteAdmin: r.PostFormValue("role_admin") != "",
		InviteUser: r.PostFormValue("role_user") != ""}
	h.memberAction(w, r, "invited", func(v viewer) error {
		lang := h.lang(w, r, nil)
		_, err := h.Accounts.Invite(r.Context(), actorOf(v, r), v.membership.OrgID, email, name, lang, roles)
		return err
	}, keep)
}

func (h *membersFlow) handleMemberRoles(w http.ResponseWriter, r *http.Request) {
	h.memberAction(w, r, "roles", func(v viewer) error {
		return h.Accounts.SetRoles(r.Context(), actorOf(v, r), v.membership.OrgID, chi.URLParam(r, "id"), rolesFrom(r))
	}, nil)
}

func (h *membersFlow) handleMemberResend(w http.ResponseWriter, r *http.Request) {
	h.memberAction(w, r, "resent", func(v viewer) error {
		return h.Accounts.ResendInvitation(r.Context(), actorOf(v, r), v.membership.OrgID, chi.URLParam(r, "id"))
	}, nil)
}

func (h *membersFlow) handleMemberRemove(w http.ResponseWriter, r *http.Request) {
	h.memberAction(w, r, "removed", func(v viewer) error {
		return h.Accounts.RemoveMember(r.Context(), actorOf(v, r), v.membership.OrgID, chi.URLParam(r, "id"))
	}, nil)
}

// plausibleEmail is the light check of an address typed in a form; the
// mail that follows is the real one.
func plausibleEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && len(s) <= 320 && !strings.ContainsAny(s, " <>,;\"")
}

func (h *membersFlow) handleMemberReset2FA(w http.ResponseWriter, r *http.Request) {
	h.memberAction(w, r, "2fa-reset", func(v viewer) error {
		return h.Accounts.ResetSecondFactor(r.Context(), actorOf(v, r), v.membership.OrgID, chi.URLParam(r, "id"))
	}, nil)
}

func (h *membersFlow) handleRequire2FA(w http.ResponseWriter, r *http.Request) {
	h.memberAction(w, r, "require-2fa", func(v viewer) error {
		return h.Accounts.SetRequireMFA(r.Context(), actorOf(v, r), v.membership.OrgID, r.PostFormValue("require") != "")
	}, nil)
}
