package login

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// companyAdminFlow serves an organization's admins their company sign-in:
// the domains ("Domaines") and the connection ("Connexion d'entreprise").
// The rules are CompanySignIn's, shared with the command line.
type companyAdminFlow struct {
	*shared
	Companies *CompanySignIn
}

// Paths of the company sign-in screens.
const (
	PathDomains    = "/organization/domains"
	PathCompanySSO = "/organization/sso"
)

func (h *companyAdminFlow) routes(r chi.Router) {
	r.Get(PathDomains, h.handleDomains)
	r.Post(PathDomains+"/add", h.handleDomainAdd)
	r.Post(PathDomains+"/verify", h.handleDomainVerify)
	r.Post(PathDomains+"/remove", h.handleDomainRemove)
	r.Get(PathCompanySSO, h.handleSSO)
	r.Post(PathCompanySSO, h.handleSSOSave)
	r.Post(PathCompanySSO+"/remove", h.handleSSORemove)
}

type domainRow struct {
	Name, Record string
	Verified     bool
	VerifiedAt   string
}

type domainsPage struct {
	templates.Base
	OrgName string
	Domains []domainRow
	Notice  string
	NewName string // the add form, kept after an error
}

var domainNotices = map[string]string{
	"added": "Domains.Notice.Added", "verified": "Domains.Notice.Verified", "removed": "Domains.Notice.Removed",
	"saved": "SSO.Notice.Saved", "sso-removed": "SSO.Notice.Removed",
}

func (h *companyAdminFlow) renderDomains(w http.ResponseWriter, r *http.Request, v viewer, problem error, p *domainsPage) {
	status, errKey := h.problemOf(r, problem)
	org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.Store.ListDomains(r.Context(), org.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.OrgName = org.Name
	for _, d := range list {
		row := domainRow{Name: d.Name, Record: domains.Record(d.Name, d.Challenge), Verified: d.Verified()}
		if d.Verified() {
			row.VerifiedAt = d.VerifiedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		p.Domains = append(p.Domains, row)
	}
	p.Base = h.spaceBase(w, r, v, "Domains.Title")
	p.Error = errKey
	h.render(w, status, "domains", p)
}

func (h *companyAdminFlow) handleDomains(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	h.renderDomains(w, r, v, nil, &domainsPage{Notice: domainNotices[r.URL.Query().Get("done")]})
}

// domainAction runs a form of the domains screen: admin, CSRF, the action;
// a refusal re-renders the list with its message (a failure is the error
// page), success goes back to the list with a notice.
func (h *companyAdminFlow) domainAction(w http.ResponseWriter, r *http.Request, notice string, act func(v viewer) error, keep *domainsPage) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	if keep == nil {
		keep = &domainsPage{}
	}
	if !h.csrfValid(r) {
		h.renderDomains(w, r, v, errCSRF, keep)
		return
	}
	if err := act(v); err != nil {
		h.Logger.InfoContext(r.Context(), "domains: refused", "err", err)
		h.renderDomains(w, r, v, err, keep)
		return
	}
	http.Redirect(w, r, PathDomains+"?"+url.Values{"done": {notice}}.Encode(), http.StatusSeeOther)
}

func formDomain(r *http.Request) string {
	d := strings.TrimSpace(r.PostFormValue("domain"))
	if len(d) > 300 {
		d = d[:300]
	}
	return d
}

func (h *companyAdminFlow) handleDomainAdd(w http.ResponseWriter, r *http.Request) {
	name := formDomain(r)
	h.domainAction(w, r, "added", func(v viewer) error {
		_, err := h.Companies.AddDomain(r.Context(), actorOf(v, r), v.membership.OrgID, name)
		return err
	}, &domainsPage{NewName: name})
}

func (h *companyAdminFlow) handleDomainVerify(w http.ResponseWriter, r *http.Request) {
	h.domainAction(w, r, "verified", func(v viewer) error {
		_, err := h.Companies.VerifyDomain(r.Context(), actorOf(v, r), v.membership.OrgID, formDomain(r), false)
		return err
	}, nil)
}

func (h *companyAdminFlow) handleDomainRemove(w http.ResponseWriter, r *http.Request) {
	h.domainAction(w, r, "removed", func(v viewer) error {
		return h.Companies.RemoveDomain(r.Context(), actorOf(v, r), v.membership.OrgID, formDomain(r))
	}, nil)
}

type ssoPage struct {
	templates.Base
	OrgName     string
	Callback    string
	Ready       bool // validated, with a verified domain
	NotReadyKey string
	Configured  bool
	Notice      string
	// The form, from the stored connection or as typed.
	Issuer, ClientID, Scopes, SufficientACR string
	HasSecret, Enforce, RoleAdmin, RoleUser bool
}

func (h *companyAdminFlow) renderSSO(w http.ResponseWriter, r *http.Request, v viewer, problem error, p *ssoPage, typed bool) {
	status, errKey := h.problemOf(r, problem)
	ctx := r.Context()
	org, err := h.Store.GetOrganization(ctx, v.membership.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.OrgName, p.Callback = org.Name, h.callbackURL()
	if err := h.Companies.ready(ctx, org.ID); err != nil {
		if !h.refused(w, r, err) {
			return
		}
		_, p.NotReadyKey = h.problemOf(r, err)
	} else {
		p.Ready = true
	}
	conn, err := h.Store.GetSSOConnection(ctx, org.ID)
	switch {
	case err == nil:
		p.Configured, p.HasSecret = true, true
		if !typed {
			p.Issuer, p.ClientID, p.Enforce = conn.Issuer, conn.ClientID, conn.Enforce
			p.Scopes, p.SufficientACR = strings.Join(conn.Scopes, " "), strings.Join(conn.SufficientACR, " ")
			for _, role := range conn.DefaultRoles {
				p.RoleAdmin = p.RoleAdmin || role == storage.RoleAdmin
				p.RoleUser = p.RoleUser || role == storage.RoleUser
			}
		}
	case errors.Is(err, storage.ErrNotFound):
		if !typed {
			p.RoleUser = true
		}
	default:
		h.fail(w, r, err)
		return
	}
	p.Base = h.spaceBase(w, r, v, "SSO.Title")
	p.Error = errKey
	h.render(w, status, "company_sso", p)
}

func (h *companyAdminFlow) handleSSO(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	h.renderSSO(w, r, v, nil, &ssoPage{Notice: domainNotices[r.URL.Query().Get("done")]}, false)
}

func (h *companyAdminFlow) handleSSOSave(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	in := ConnectionInput{Issuer: r.PostFormValue("issuer"), ClientID: r.PostFormValue("client_id"),
		ClientSecret: r.PostFormValue("client_secret"), Scopes: strings.Fields(r.PostFormValue("scopes")),
		SufficientACR: strings.Fields(r.PostFormValue("sufficient_acr")), DefaultRoles: rolesFrom(r),
		Enforce: r.PostFormValue("enforce") != "", KeepBreakGlass: true}
	keep := &ssoPage{Issuer: in.Issuer, ClientID: in.ClientID, Scopes: r.PostFormValue("scopes"),
		SufficientACR: r.PostFormValue("sufficient_acr"), Enforce: in.Enforce,
		RoleAdmin: r.PostFormValue("role_admin") != "", RoleUser: r.PostFormValue("role_user") != ""}
	if !h.csrfValid(r) {
		h.renderSSO(w, r, v, errCSRF, keep, true)
		return
	}
	if len(in.DefaultRoles) == 0 {
		h.renderSSO(w, r, v, ErrInvalidRoles, keep, true)
		return
	}
	if _, err := h.Companies.SetConnection(r.Context(), actorOf(v, r), v.membership.OrgID, in); err != nil {
		h.Logger.InfoContext(r.Context(), "company sign-in: refused", "err", err)
		h.renderSSO(w, r, v, err, keep, true)
		return
	}
	http.Redirect(w, r, PathCompanySSO+"?done=saved", http.StatusSeeOther)
}

func (h *companyAdminFlow) handleSSORemove(w http.ResponseWriter, r *http.Request) {
	v, ok := h.orgAdmin(w, r)
	if !ok {
		return
	}
	if !h.csrfValid(r) {
		h.renderSSO(w, r, v, errCSRF, &ssoPage{}, false)
		return
	}
	if err := h.Companies.RemoveConnection(r.Context(), actorOf(v, r), v.membership.OrgID); err != nil {
		h.renderSSO(w, r, v, err, &ssoPage{}, false)
		return
	}
	http.Redirect(w, r, PathCompanySSO+"?done=sso-removed", http.StatusSeeOther)
}
