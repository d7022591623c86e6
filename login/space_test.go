package login

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

var menuLink = regexp.MustCompile(`<li><a href="([^"]+)"( aria-current="(page|true)")?>([^<]+)</a></li>`)

// sideMenu is the menu beside the content (the page holds it twice: there
// and folded for phones), as "href label [current]" lines.
func sideMenu(t *testing.T, p *page) []string {
	t.Helper()
	i := strings.Index(p.Body, `<div class="side">`)
	if i < 0 {
		t.Fatalf("no menu; body: %s", excerpt(p.Body))
	}
	var out []string
	for _, m := range menuLink.FindAllStringSubmatch(p.Body[i:], -1) {
		line := m[1] + " " + m[4]
		if m[3] != "" {
			line += " [" + m[3] + "]"
		}
		out = append(out, line)
	}
	return out
}

// Each role's menu holds its entries only, and only the pages that exist
// (people is in the table, not yet routed; domains only with company sign-in);
// the page is marked current, a page under an entry marks it "true".
func TestSpaceMenuByRole(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgPending)
	admin := hx.User("ada@acme.example", &org, storage.RoleAdmin, storage.RoleUser)
	member := hx.User("bob@acme.example", &org, storage.RoleUser)
	op := hx.User("op@sesame.example", nil)
	browsers := map[string]*browser{}
	for name, u := range map[string]storage.User{"admin": admin, "member": member, "operator": op} {
		browsers[name] = hx.Browser()
		browsers[name].SignIn(u.Email, "")
	}
	for _, tc := range []struct {
		who, path string
		want      []string
	}{
		{"member", PathHome, []string{"/ Menu.Home [page]", "/account/security Menu.Security"}},
		{"member", PathSecurity, []string{"/ Menu.Home", "/account/security Menu.Security [page]"}},
		{"admin", PathMembers, []string{"/ Menu.Home", "/account/security Menu.Security", "/organization/members Menu.Members [page]",
			"/organization/policy Menu.Policy", "/organization/audit Menu.OrgAudit"}},
		{"admin", PathPolicy, []string{"/ Menu.Home", "/account/security Menu.Security", "/organization/members Menu.Members",
			"/organization/policy Menu.Policy [page]", "/organization/audit Menu.OrgAudit"}},
		{"operator", PathOperatorAudit, []string{"/ Menu.Home", "/account/security Menu.Security", "/admin/organizations Menu.Organizations",
			"/admin/applications Menu.Applications", "/admin/audit Menu.Audit [page]"}},
		{"operator", PathOperator + "/" + org.ID, []string{"/ Menu.Home", "/account/security Menu.Security",
			"/admin/organizations Menu.Organizations [true]", "/admin/applications Menu.Applications", "/admin/audit Menu.Audit"}},
	} {
		t.Run(tc.who+tc.path, func(t *testing.T) {
			p := browsers[tc.who].Get(tc.path).Shows(http.StatusOK, "")
			got := sideMenu(t, p)
			want := make([]string, len(tc.want))
			for i, w := range tc.want { // keys to English labels
				href, rest, _ := strings.Cut(w, " ")
				key, cur, _ := strings.Cut(rest, " ")
				want[i] = strings.TrimSpace(href + " " + pages.T("en", key) + " " + cur)
			}
			if !slices.Equal(got, want) {
				t.Errorf("menu\n got %q\nwant %q", got, want)
			}
			// The header: who, the organization and its status, sign-out by POST.
			header := p.Body[strings.Index(p.Body, `<header class="bar">`):strings.Index(p.Body, `<div class="shell">`)]
			u := map[string]storage.User{"admin": admin, "member": member, "operator": op}[tc.who]
			if !strings.Contains(header, u.Email) || !strings.Contains(p.Body, `<form method="post" action="/logout" class="signout">`) {
				t.Errorf("header: %s", header)
			}
			if tc.who != "operator" && (!strings.Contains(header, "Acme") || !strings.Contains(header, "pending validation")) {
				t.Errorf("the header does not show the organization and its status: %s", header)
			}
			if !strings.Contains(p.Body, `<details class="menu-fold">`) {
				t.Error("no folding menu for phones")
			}
		})
	}
	// Pages outside the space keep the plain layout.
	if p := hx.Browser().Get(PathLogin); strings.Contains(p.Body, `class="bar"`) || !strings.Contains(p.Body, `<main class="card" id="main">`) {
		t.Error("the sign-in page has the space's header")
	}
}

func TestCountryName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, code, want string }{
		{"fr", "FR", "France"}, {"en", "BE", "Belgium"}, {"fr", "DE", "Allemagne"}, {"en", "ZZ", ""}, {"fr", "", ""},
	} {
		if got := countryName(tc.lang, tc.code); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.lang, tc.code, got, tc.want)
		}
	}
}

// The menu is a table: a line whose page is routed appears, in its group,
// for the role it names; the others do not.
func TestMenuShowsRoutedPagesOnly(t *testing.T) {
	t.Parallel()
	admin := viewer{user: storage.User{ID: "u"}, hasOrg: true, membership: storage.Membership{Roles: []string{storage.RoleAdmin}}}
	op := viewer{user: storage.User{ID: "o", IsOperator: true}}
	labels := func(groups []string, h *shared, v viewer, path string) []string {
		var out []string
		for _, g := range h.menuFor(v, path) {
			out = append(out, "["+g.Title+"]")
			for _, it := range g.Items {
				out = append(out, it.Label+"="+it.Current)
			}
		}
		return out
	}
	all := &shared{routed: func(string) bool { return true }}
	some := &shared{routed: func(p string) bool {
		return p != PathDomains && p != PathCompanySSO && p != PathApplications && p != PathOperatorPeople
	}}
	if got := labels(nil, all, admin, PathDomains+"/example.com"); !slices.Equal(got, []string{"[]", "Menu.Home=", "Menu.Security=",
		"[Menu.Organization]", "Menu.Members=", "Menu.Policy=", "Menu.Domains=true", "Menu.CompanySSO=", "Menu.OrgAudit="}) {
		t.Errorf("admin, every page routed: %q", got)
	}
	if got := labels(nil, some, op, PathHome); !slices.Equal(got, []string{"[]", "Menu.Home=page", "Menu.Security=",
		"[Menu.Console]", "Menu.Organizations=", "Menu.Audit="}) {
		t.Errorf("operator, today's pages: %q", got)
	}
	if got := labels(nil, all, op, PathOperatorPeople); !slices.Contains(got, "Menu.People=page") || slices.Contains(got, "Menu.Members=") {
		t.Errorf("operator, people: %q", got)
	}
	// A path that only starts like an entry's is not under it.
	if got := labels(nil, all, admin, "/organization/membersx"); slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, "=true") || strings.HasSuffix(s, "=page") }) {
		t.Errorf("a look-alike path is marked: %q", got)
	}
}

// Members as a table: name, email, roles, state (invited, active,
// disabled), last sign-in, and the row's actions.
func TestMembersTable(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	admin := hx.User("ada@acme.example", &org, storage.RoleAdmin, storage.RoleUser)
	off := hx.User("off@acme.example", &org, storage.RoleUser)
	if err := hx.Store.UpdateUser(context.Background(), off.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	b := hx.Browser()
	b.SignIn(admin.Email, "")
	invite(t, hx, b, "new@acme.example")
	p := b.Get(PathMembers).Shows(http.StatusOK, "Members.Title")
	row := func(email string) string {
		local, _, _ := strings.Cut(email, "@")
		i := strings.Index(p.Body, `<td data-label="Email address" class="cell-email"><span class="nowrap">`+local+`</span><wbr>`)
		if i < 0 {
			t.Fatalf("no row for %s: %s", email, excerpt(p.Body))
		}
		start := strings.LastIndex(p.Body[:i], "<tr")
		end := strings.Index(p.Body[i:], "</tr>")
		return p.Body[start : i+end]
	}
	for _, tc := range []struct {
		email string
		want  []string
		not   []string
	}{
		{admin.Email, []string{">Active<", ">Administrator<", ">User<", "UTC<", ">you<"}, []string{">Never<", "/remove"}},
		{"new@acme.example", []string{">Invited<", ">Never<", "/resend", "Remove new@acme.example"}, []string{">Active<"}},
		{off.Email, []string{">Disabled<", ">Never<"}, []string{"/resend"}},
	} {
		r := row(tc.email)
		for _, w := range tc.want {
			if !strings.Contains(r, w) {
				t.Errorf("%s: no %q in %s", tc.email, w, r)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r, n) {
				t.Errorf("%s: %q in %s", tc.email, n, r)
			}
		}
	}
	for _, col := range []string{"Name", "Email address", "Roles", "State", "Last sign-in"} {
		if !strings.Contains(p.Body, `<th scope="col">`+col+`</th>`) {
			t.Errorf("no column %s", col)
		}
	}
	// The policy page holds the second-factor rule, and comes back to itself.
	pol := b.Get(PathPolicy).Shows(http.StatusOK, "Policy.Title")
	if !strings.Contains(pol.Body, "0 of 3 member(s)") {
		t.Errorf("policy: %s", excerpt(pol.Body))
	}
	// Not for members nor operators; not signed in, to the sign-in page.
	m := hx.Browser()
	m.SignIn(hx.User("bob@acme.example", &org, storage.RoleUser).Email, "")
	b.Post(PathMembers+"/require-2fa", url.Values{"require": {"1"}}).Redirects(PathPolicy)
	b.Get(PathPolicy+"?done=require-2fa").Shows(http.StatusOK, "Members.Notice.Require2FA")
	m.Get(PathPolicy).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	o := hx.Browser()
	o.SignIn(hx.User("op@sesame.example", nil).Email, "")
	o.Get(PathPolicy).Shows(http.StatusForbidden, "Errors.Request.Forbidden")
	hx.Browser().Get(PathPolicy).Redirects(PathLogin)
}

// The audit trail: sentences in the page's language, a filter by dates
// and type, pages of 50; bad filters are left out, never an error; an
// admin sees their organization's events only.
func TestAuditTrailPage(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	other := hx.Org("Other", storage.OrgValidated)
	admin := hx.User("ada@acme.example", &org, storage.RoleAdmin)
	if err := hx.Store.UpdateUser(context.Background(), admin.ID, func(u *storage.User) error { u.Name = "Alice Martin"; return nil }); err != nil {
		t.Fatal(err)
	}
	bob := hx.User("bob@acme.example", &org, storage.RoleUser)
	stranger := hx.User("eve@other.example", &other, storage.RoleAdmin)
	day := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	record := func(at time.Time, actor, action, target, orgID, details string) {
		t.Helper()
		if err := hx.Store.RecordEvent(context.Background(), storage.AuditEvent{ID: storage.NewID("evt"), At: at, ActorID: actor, Action: action,
			TargetType: "user", TargetID: target, OrgID: orgID, IP: "192.0.2.7", Details: details}); err != nil {
			t.Fatal(err)
		}
	}
	record(day, admin.ID, "member.invited", bob.ID, org.ID, "roles=user")
	record(day.Add(time.Hour), admin.ID, "member.roles_changed", bob.ID, org.ID, "roles=admin,user")
	record(day.AddDate(0, 0, 1), "", "signin.failed", bob.ID, org.ID, "password")
	record(day.AddDate(0, 0, 2), "cli", "something.new", bob.ID, org.ID, "")
	record(day, stranger.ID, "member.invited", stranger.ID, other.ID, "roles=admin")
	for i := range 60 {
		record(day.AddDate(0, -1, 0).Add(time.Duration(i)*time.Minute), bob.ID, "signin.succeeded", bob.ID, org.ID, "amr=pwd")
	}
	b := hx.Browser()
	b.SignIn(admin.Email, "")

	p := b.Get(PathOrgAudit+"?from=2026-03-10&to=2026-03-12").Shows(http.StatusOK, "Audit.Title")
	for _, want := range []string{"Alice Martin invited bob@acme.example (user)", "Alice Martin changed the roles of bob@acme.example: administrator, user",
		"Failed sign-in for bob@acme.example", "The command line: something.new (bob@acme.example)", "Mar 10, 2026, 09:00:00 UTC", "192.0.2.7"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the trail does not say %q: %s", want, excerpt(p.Body))
		}
	}
	if strings.Contains(p.Body, "eve@other.example") || strings.Contains(p.Body, "usr_") || strings.Contains(p.Body, "member.invited") {
		t.Errorf("the trail shows another organization's event or raw codes: %s", excerpt(p.Body))
	}
	// In French, by the language link.
	fr := b.Get(PathOrgAudit + "?from=2026-03-10&to=2026-03-10&lang=fr")
	if !strings.Contains(fr.Body, "Alice Martin a invité bob@acme.example (utilisateur)") || !strings.Contains(fr.Body, "10 mars 2026, 09:00:00 UTC") ||
		strings.Contains(fr.Body, "Échec de connexion") {
		t.Errorf("French trail of one day: %s", excerpt(fr.Body))
	}
	b.Get(PathOrgAudit + "?lang=en")
	// By type.
	if p := b.Get(PathOrgAudit + "?type=member"); !strings.Contains(p.Body, "invited bob") || strings.Contains(p.Body, "signed in") {
		t.Errorf("type=member: %s", excerpt(p.Body))
	}
	// Pages: 64 events of this organization (and the admin's own sign-in).
	first := b.Get(PathOrgAudit + "?type=signin")
	if n := strings.Count(first.Body, "<tr>") - 1; n != 50 || !strings.Contains(first.Body, `href="/organization/audit?page=2&amp;type=signin" rel="next"`) ||
		strings.Contains(first.Body, `rel="prev"`) {
		t.Errorf("page 1: %d rows; %s", n, excerpt(first.Body))
	}
	second := b.Get(PathOrgAudit + "?type=signin&page=2")
	if n := strings.Count(second.Body, "<tr>") - 1; n != 12 || !strings.Contains(second.Body, `rel="prev"`) || strings.Contains(second.Body, `rel="next"`) {
		t.Errorf("page 2: %d rows", n)
	}
	// Bad filters: left out, a 200.
	for _, q := range []string{"?page=-4", "?page=abc", "?page=99999999999999999999", "?from=yesterday&to=2026-13-45", "?type=%3Cscript%3E",
		"?type=member.&from=2026-03-10T00:00", "?" + strings.Repeat("type=x&", 200)} {
		p := b.Get(PathOrgAudit + q)
		if p.Status != http.StatusOK || strings.Contains(p.Body, "<script>") {
			t.Errorf("%s: %d", q, p.Status)
		}
	}
	if p := b.Get(PathOrgAudit + "?page=40"); !strings.Contains(p.Body, pages.T("en", "Audit.None")) {
		t.Errorf("a page past the end: %s", excerpt(p.Body))
	}
	// The operator sees every organization, with its name in a column.
	o := hx.Browser()
	o.SignIn(hx.User("op@sesame.example", nil).Email, "")
	all := o.Get(PathOperatorAudit + "?from=2026-03-10&to=2026-03-10")
	if !strings.Contains(all.Body, "eve@other.example invited eve@other.example (administrator)") || !strings.Contains(all.Body, `<td data-label="Organization">Other</td>`) {
		t.Errorf("operator's trail: %s", excerpt(all.Body))
	}
}

// The recovery codes' download: a POST of the sealed codes, for this
// person, for a quarter of an hour; anything else is refused.
func TestRecoveryCodesFile(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleUser)
	other := hx.User("bob@acme.example", &org, storage.RoleUser)
	b := hx.Browser()
	b.SignIn(u.Email, "")
	setup := b.Get(PathSecurity + "/totp")
	shown := b.Post(PathSecurity+"/totp", url.Values{"enrolment": {setup.Field("enrolment")}, "code": {hx.Code(setupSecret(t, setup))}}).Shows(http.StatusOK, "Recovery.Enabled")
	codes, sealed := recoveryCodes(shown), shown.Field("codes")
	if len(codes) != 10 || strings.Contains(sealed, codes[0]) {
		t.Fatalf("%d codes; sealed %q", len(codes), sealed)
	}
	if !strings.Contains(shown.Body, `data-copy="recovery-codes"`) || !strings.Contains(shown.Body, `<script src="/static/sesame.js" defer></script>`) {
		t.Error("no Copy button or no script")
	}
	file := b.Post(PathRecoveryFile, url.Values{"codes": {sealed}})
	if file.Status != http.StatusOK || file.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		file.Header.Get("Content-Disposition") != `attachment; filename="recovery-codes.txt"` || file.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("file: %d %v", file.Status, file.Header)
	}
	for _, c := range codes {
		if !strings.Contains(file.Body, c+"\r\n") {
			t.Errorf("the file misses %s", c)
		}
	}
	if !strings.Contains(file.Body, u.Email) || !strings.Contains(file.Body, "Sesame — recovery codes") {
		t.Errorf("file:\n%s", file.Body)
	}
	// Refused: without the CSRF token, forged, truncated, another's, by GET, signed out, late.
	b.PostRaw(PathRecoveryFile, url.Values{"codes": {sealed}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
	for name, v := range map[string]string{"empty": "", "forged": "AAAA" + sealed[4:], "truncated": sealed[:len(sealed)/2], "garbage": "%%%",
		"huge": strings.Repeat("A", 60000), "the setup's sealed secret": setup.Field("enrolment")} {
		if p := b.Post(PathRecoveryFile, url.Values{"codes": {v}}); p.Status != http.StatusBadRequest || strings.Contains(p.Body, codes[0]) {
			t.Errorf("%s: %d", name, p.Status)
		}
	}
	ob := hx.Browser()
	ob.SignIn(other.Email, "")
	if p := ob.Post(PathRecoveryFile, url.Values{"codes": {sealed}}); p.Status != http.StatusBadRequest || strings.Contains(p.Body, codes[0]) {
		t.Errorf("another person downloads them: %d", p.Status)
	}
	if p := b.Get(PathRecoveryFile); p.Status == http.StatusOK {
		t.Error("a GET answers the file")
	}
	hx.Browser().PostRaw(PathRecoveryFile, url.Values{"codes": {sealed}}).Redirects(PathLogin)
	hx.Clock.Add(16 * time.Minute)
	b.Post(PathRecoveryFile, url.Values{"codes": {sealed}}).Shows(http.StatusBadRequest, "Errors.Recovery.File")
}

// A field in error points to the message and says it is invalid; the
// other fields do not.
func TestFieldsInError(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	org := hx.Org("Acme", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, storage.RoleAdmin)
	p := hx.Browser().Post(PathLogin, url.Values{"email": {u.Email}, "password": {"wrong password!"}}).Shows(http.StatusUnauthorized, "Errors.Login.Invalid")
	for _, id := range []string{"email", "password"} {
		if !regexp.MustCompile(`id="` + id + `"[^>]* aria-invalid="true" aria-describedby="form-error"`).MatchString(p.Body) {
			t.Errorf("%s is not marked: %s", id, excerpt(p.Body))
		}
	}
	if !strings.Contains(p.Body, `<p class="error" role="alert" id="form-error">`) {
		t.Error("no message to point to")
	}
	if p := hx.Browser().Get(PathLogin); strings.Contains(p.Body, "aria-invalid") {
		t.Error("a fresh form is marked invalid")
	}
	b := hx.Browser()
	b.SignIn(u.Email, "")
	sec := b.Post(PathSecurity+"/password", url.Values{"password": {"yet another passphrase"}, "password_confirm": {"other"}}).Shows(http.StatusBadRequest, "Errors.Password.Mismatch")
	if !strings.Contains(sec.Body, `id="password_confirm" name="password_confirm" type="password" autocomplete="new-password" required aria-invalid="true" aria-describedby="form-error">`) ||
		!strings.Contains(sec.Body, `id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="pw-hint">`) {
		t.Errorf("security page: %s", sec.Body[strings.Index(sec.Body, "<form"):][:1200])
	}
	mem := b.Post(PathMembers+"/invite", url.Values{"email": {"not an address"}, "role_user": {"1"}}).Shows(http.StatusBadRequest, "Errors.Members.Email")
	if !strings.Contains(mem.Body, `required aria-invalid="true" aria-describedby="form-error">`) {
		t.Error("the invitation's email is not marked")
	}
}

// The assets: the script (for the Copy buttons), with an ETag; an unknown
// name, or the branding's files when none is configured, are 404.
func TestStaticAssets(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	b := hx.Browser()
	js := b.Get("/static/sesame.js")
	if js.Status != http.StatusOK || js.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(js.Body, "navigator.clipboard") {
		t.Fatalf("script: %d %v", js.Status, js.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, hx.URL+"/static/sesame.js", nil)
	req.Header.Set("If-None-Match", js.Header.Get("ETag"))
	if p := b.do(req); p.Status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", p.Status)
	}
	for _, name := range []string{"logo", "brand.css", "nothing", "..%2Fpages%2Flogin.html", "sesame.js%00"} {
		if p := b.Get("/static/" + name); p.Status != http.StatusNotFound {
			t.Errorf("%s: %d", name, p.Status)
		}
	}
	// Without branding, no colour stylesheet and no logo in the pages.
	if p := b.Get(PathLogin); strings.Contains(p.Body, "brand.css") || strings.Contains(p.Body, `class="logo"`) ||
		!strings.Contains(p.Body, "<title>Sign in · Sesame</title>") {
		t.Errorf("unbranded page: %s", p.Body[:600])
	}
}
