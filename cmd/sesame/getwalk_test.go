package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/login/totp"
	"github.com/sesame-idp/sesame/provider"
)

// No state change on GET, anywhere (issue 13): every GET route, walked as
// each kind of person — nobody, a member in the middle of a sign-in, a
// member, an admin with a second factor, the operator — leaves the
// database as it was, apart from the sessions' last-seen times. A link
// followed from another site carries the Lax session cookie, so a GET that
// writes is a cross-site request forgery.
//
// Two protocol GETs create what the protocol says they create and are
// walked apart: /authorize stores the authorization request it starts, and
// the login screens' callback stores the code it answers with.
func TestNoStateChangeOnGet(t *testing.T) {
	t.Parallel()
	e := newOrgEnv(t)
	f := e.member("alice@acme.example", "correct-horse-battery", "admin", "user")
	member := fixture{email: "bob@acme.example", pw: "tall-ship-passphrase-26"}
	member.userID = e.mustCLI(member.pw+"\n", "user", "add", "--email", member.email, "--org", f.orgID, "--password-stdin")
	e.inviteMember(func() *browser { b := e.browser(); b.signInPlain(f); return b }(), "carol@acme.example", false)

	admin := e.browser()
	admin.signInPlain(f)
	secret, _ := e.enableTOTP(admin)
	bob := e.browser()
	bob.signInPlain(member)
	operator := e.browser()
	operator.signInPlain(e.operator)
	midway := e.browser() // the password given, the code still to come
	_, body := midway.get(e.issuer + "/login")
	midway.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {f.pw}})
	people := map[string]*browser{"nobody": e.browser(), "midway": midway, "member": bob, "admin": admin, "operator": operator}
	// consenting: an authorized application listed in the settings, and
	// the consent page of another one open (consent.go).
	consenting, consentCSRF := walkConsenting(t, e.testEnv, member)
	people["consenting"] = consenting

	var paths []string
	err := chi.Walk(e.main.Handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet && route != provider.PathAuthorize && route != provider.PathCallback {
			paths = append(paths, strings.NewReplacer("{id}", f.userID, "/*", "/").Replace(route))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, must := range []string{"/account/security/totp", "/login/enrol", "/login/code", provider.PathEndSession, "/login/passkey/enrol", "/static/passkey.js", "/sso/callback", "/organization/domains", "/organization/sso", "/device"} {
		if !slices.Contains(paths, must) {
			t.Fatalf("the walk misses %s: %v", must, paths)
		}
	}
	// Each path also with the query strings its links carry (the device
	// page's: a live user code, which a GET must not answer).
	device := e.deviceStart(t, "openid")
	// The console's lists: a search, a status, a cursor (forged, and
	// oversized), as their links and forms carry them.
	queries := []string{"", "?token=not-a-token", "?authRequestID=ar_unknown", "?lang=en", "?state=forged&code=forged", "?post_logout_redirect_uri=http://127.0.0.1:1/marketplace/bye&client_id=marketplace",
		"?q=acme&status=validated", "?q=73282932000074", "?status=nonsense", "?after=bm90LWEtY3Vyc29y", "?q=" + strings.Repeat("x", 4000)}
	before := snapshot(t, e)
	for _, who := range []string{"nobody", "midway", "member", "admin", "operator", "consenting"} {
		for _, p := range paths {
			for _, q := range queries {
				resp, _ := people[who].get(e.issuer + p + q)
				if resp.StatusCode >= 500 {
					t.Errorf("%s GET %s%s: %d", who, p, q, resp.StatusCode)
				}
			}
		}
	}
	for _, who := range []string{"nobody", "midway", "member", "admin", "operator"} {
		for _, q := range []string{"?user_code=" + device["user_code"].(string), "?user_code=BBBB-BBBB"} {
			if resp, _ := people[who].get(e.issuer + "/device" + q); resp.StatusCode >= 500 {
				t.Errorf("%s GET /device%s: %d", who, q, resp.StatusCode)
			}
		}
	}
	after := snapshot(t, e)
	for table, rows := range before {
		if got := after[table]; !slices.Equal(rows, got) {
			t.Errorf("GET requests changed table %s:\nbefore %v\nafter  %v", table, rows, got)
		}
	}
	for table := range after {
		if _, ok := before[table]; !ok {
			t.Errorf("a table appeared: %s", table)
		}
	}
	// The endpoints that authenticate clients take POST only: a GET is
	// refused before it counts against a budget.
	for _, p := range []string{provider.PathToken, provider.PathIntrospect, provider.PathRevoke, provider.PathPAR, provider.PathDeviceAuthorization} {
		if resp, _ := people["nobody"].get(e.issuer + p); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d, Allow %q; want 405 and POST", p, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	// The sign-in in progress survived the walk: nothing it read was spent.
	e.clock.Add(totp.Period)
	code, _ := totp.Code(secret, e.clock.Now())
	_, body = midway.get(e.issuer + "/login/code")
	if resp, _ := midway.post(e.issuer+"/login/code", url.Values{"csrf_token": {field(csrfRe, body)}, "code": {code}}); resp.Request.URL.Path != "/" || !midway.signedIn() {
		t.Errorf("after the walk, the code step: %d %s", resp.StatusCode, resp.Request.URL.Path)
	}
	// The consent step survived it too.
	resp, _ := consenting.post(e.issuer+"/login/consent", url.Values{"csrf_token": {consentCSRF}, "decision": {"allow"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "code=") {
		t.Errorf("after the walk, the consent step: %d %s", resp.StatusCode, loc)
	}
}

// snapshot reads every table of the SQLite database as sorted lines, with
// the sessions' last-seen times (what a GET may move) and the outbox's
// delivery state (what the mail worker moves meanwhile) left out.
func snapshot(t *testing.T, e *orgEnv) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.main.Config.SQLitePath()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		r, err := db.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		var lines []string
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for i, c := range cols {
				if table == "sessions" && (c == "last_seen" || c == "idle_expires_at") {
					continue
				}
				// The mail worker delivers in the background, whatever the
				// GETs do: a mail's existence counts, its delivery not.
				if table == "mail_outbox" && !slices.Contains([]string{"id", "kind", "to_addr", "subject", "created_at"}, c) {
					continue
				}
				parts = append(parts, fmt.Sprintf("%s=%v", c, vals[i]))
			}
			lines = append(lines, strings.Join(parts, " "))
		}
		r.Close()
		sort.Strings(lines)
		out[table] = lines
	}
	return out
}
