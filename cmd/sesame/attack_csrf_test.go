package main

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/provider"
)

// Cross-site POSTs (attacker review, /work/notes/review.md): every POST
// route of the screens, posted as each kind of person with a plausible
// form (every field a screen reads, filled), first with no CSRF token, then
// with another browser's valid token, changes nothing in the database and
// never answers 5xx. The protocol's endpoints (client authentication, not
// cookies) and the API (bearer tokens) are not cookie-authenticated and
// are left out.
func TestNoStateChangeWithoutCSRF(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	member := fixture{email: "bob@acme.example", pw: "tall-ship-passphrase-26"}
	member.userID = e.mustCLI(member.pw+"\n", "user", "add", "--email", member.email, "--org", f.orgID, "--password-stdin")

	admin := e.browser()
	admin.signInPlain(f)
	bob := e.browser()
	bob.signInPlain(member)
	operator := e.browser()
	operator.signInPlain(e.operator)
	people := map[string]*browser{"nobody": e.browser(), "member": bob, "admin": admin, "operator": operator}
	// A valid token of another browser (the attacker's own).
	attacker := e.browser()
	_, body := attacker.get(e.issuer + "/login")
	foreign := field(csrfRe, body)
	if foreign == "" {
		t.Fatal("no CSRF token on /login")
	}

	var paths []string
	err := chi.Walk(e.main.Handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method != http.MethodPost || slices.Contains(provider.Paths, route) || strings.HasPrefix(route, "/api/") {
			return nil
		}
		id := member.userID
		if strings.HasPrefix(route, "/admin/organizations/") {
			id = f.orgID
		}
		paths = append(paths, strings.NewReplacer("{id}", id, "{user}", member.userID, "/*", "/").Replace(route))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, must := range []string{"/login", "/account/security/totp/disable", "/organization/domains/add", "/organization/sso",
		"/admin/applications", "/organization/members/invite", "/admin/organizations/" + f.orgID + "/suspend"} {
		if !slices.Contains(paths, must) {
			t.Fatalf("the walk misses %s: %v", must, paths)
		}
	}
	form := url.Values{
		"email": {"carol@acme.example"}, "password": {"correct-horse-battery"}, "password_confirm": {"correct-horse-battery"},
		"current_password": {"correct-horse-battery"}, "name": {"Carol"}, "role_user": {"1"}, "role_admin": {"1"}, "require": {"1"},
		"domain": {"acme.example"}, "issuer": {"https://idp.acme.example"}, "client_id": {"acme"}, "client_secret": {"s3cret-s3cret-s3cret"},
		"id": {"evil-app"}, "redirect_uris": {"https://evil.example/cb"}, "grant_code": {"1"}, "kind": {"public"},
		"reason": {"spam"}, "lang": {"en"}, "confirm": {"1"}, "code": {"123456"}, "token": {"not-a-token"},
	}
	before := snapshot(t, e)
	for _, who := range []string{"nobody", "member", "admin", "operator"} {
		for _, p := range paths {
			for _, token := range []string{"", foreign} {
				fm := cloneValues(form)
				if token != "" {
					fm.Set("csrf_token", token)
				}
				resp, _ := people[who].post(e.issuer+p, fm)
				if resp.StatusCode >= 500 {
					t.Errorf("%s POST %s (token %v): %d", who, p, token != "", resp.StatusCode)
				}
			}
		}
	}
	after := snapshot(t, e)
	for table, rows := range before {
		if got := after[table]; !slices.Equal(rows, got) {
			t.Errorf("POSTs without this browser's CSRF token changed table %s:\nbefore %v\nafter  %v", table, rows, got)
		}
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
