package login

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/sesame-idp/sesame/templates"
)

// The signed-in space: every page a signed-in person reaches from the menu
// has the same header (who, their organization and its status) and menu
// (templates/layout.html, "space"). The menu is this table: a new page
// adds its line here, and a line whose page does not exist (no GET route
// mounted) is left out, so the table may name pages still to come.

// menuEntry is one line of the signed-in menu.
type menuEntry struct {
	group string // message key of its group; "" for the first
	label string // message key
	path  string
	who   func(viewer) bool
}

func everyone(viewer) bool    { return true }
func orgAdmins(v viewer) bool { return v.hasOrg && isAdmin(v.membership) }
func operators(v viewer) bool { return v.user.IsOperator }

// Paths the menu names that other flows own.
const (
	PathOperatorPeople   = "/admin/people"
	menuGroupOrg         = "Menu.Organization"
	menuGroupConsole     = "Menu.Console"
	menuCurrentPage      = "page"
	menuCurrentUnderPage = "true"
)

var menu = []menuEntry{
	{"", "Menu.Home", PathHome, everyone},
	{"", "Menu.Security", PathSecurity, everyone},
	{menuGroupOrg, "Menu.Members", PathMembers, orgAdmins},
	{menuGroupOrg, "Menu.Policy", PathPolicy, orgAdmins},
	{menuGroupOrg, "Menu.Domains", PathDomains, orgAdmins},
	{menuGroupOrg, "Menu.CompanySSO", PathCompanySSO, orgAdmins},
	{menuGroupOrg, "Menu.OrgAudit", PathOrgAudit, orgAdmins},
	{menuGroupConsole, "Menu.Organizations", PathOperator, operators},
	{menuGroupConsole, "Menu.Applications", PathApplications, operators},
	{menuGroupConsole, "Menu.People", PathOperatorPeople, operators},
	{menuGroupConsole, "Menu.Audit", PathOperatorAudit, operators},
}

// mountedGETs reports which paths have a GET route on router: the menu
// shows only pages that exist.
func mountedGETs(router chi.Routes) func(string) bool {
	return func(path string) bool { return router.Match(chi.NewRouteContext(), http.MethodGet, path) }
}

// menuFor is the menu of v, on the page at path: the entries v may use,
// whose page exists, in groups; the entry of this page (or of the page it
// belongs to) is marked current.
func (h *shared) menuFor(v viewer, path string) []templates.NavGroup {
	var groups []templates.NavGroup
	best, bestLen := -1, 0
	type at struct{ g, i int }
	var where []at
	for _, e := range menu {
		if !e.who(v) || (h.routed != nil && !h.routed(e.path)) {
			continue
		}
		if len(groups) == 0 || groups[len(groups)-1].Title != e.group {
			groups = append(groups, templates.NavGroup{Title: e.group})
		}
		g := &groups[len(groups)-1]
		g.Items = append(g.Items, templates.NavItem{Label: e.label, Href: e.path})
		where = append(where, at{len(groups) - 1, len(g.Items) - 1})
		switch {
		case e.path == path:
			best, bestLen = len(where)-1, 1<<30
		case e.path != PathHome && strings.HasPrefix(path, e.path+"/") && len(e.path) > bestLen:
			best, bestLen = len(where)-1, len(e.path)
		}
	}
	if best >= 0 {
		item := &groups[where[best].g].Items[where[best].i]
		item.Current = menuCurrentUnderPage
		if item.Href == path {
			item.Current = menuCurrentPage
		}
	}
	return groups
}

// spaceBase is base for a page of the signed-in space: the header's person
// and organization, and the menu.
func (h *shared) spaceBase(w http.ResponseWriter, r *http.Request, v viewer, title string) templates.Base {
	b := h.base(w, r, title, []string{v.user.Locale})
	sp := &templates.Space{Name: v.user.Name, Email: v.user.Email, Menu: h.menuFor(v, sitePath(r.URL.Path))}
	if strings.EqualFold(strings.TrimSpace(sp.Name), sp.Email) {
		sp.Name = "" // an account named by its address: said once
	}
	if v.hasOrg {
		if org, err := h.Store.GetOrganization(r.Context(), v.membership.OrgID); err == nil {
			sp.OrgName, sp.OrgStatus = org.Name, org.Status
		}
	}
	b.Space = sp
	return b
}

// countryName is a country's name in lang ("France", "Belgique"), or ""
// for a code the list does not know.
func countryName(lang, code string) string {
	if code == "FR" {
		r, _ := language.ParseRegion(code)
		return display.Regions(language.MustParse(lang)).Name(r)
	}
	for _, c := range countries(lang) {
		if c.Code == code {
			return c.Name
		}
	}
	return ""
}
