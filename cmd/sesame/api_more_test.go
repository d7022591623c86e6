package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/domains/dnstest"
)

// The management API, second round (issue 16's leftovers): domains and
// company sign-in, If-Match inside the change's transaction, every call
// audited.

// TestAPIDomainsAndSSO: the back office claims a domain (the record to
// publish in the answer), verifies it by DNS (refused while unpublished)
// or by the operator's force, pages the list, sets the organization's
// company sign-in (the secret written, never read back), changes it with
// If-Match (a stale one refused), removes it and a domain; the audit
// trail names the client for each change.
func TestAPIDomainsAndSSO(t *testing.T) {
	t.Parallel()
	dns := dnstest.Start(t)
	e := newAPIEnv(t, "SESAME_DOMAINS_RESOLVER="+dns.Addr, "SESAME_DOMAINS_TIMEOUT=300ms", "SESAME_DOMAINS_PRIVATE_ISSUERS=true")
	token := e.token("backoffice", e.secret)
	org := e.mustCLI("", "org", "create", "--name", "ACME", "--country", "DE", "--validated")
	base := "/organizations/" + org

	resp, body := e.call("POST", base+"/domains", token, `{"name":"ACME.example"}`, "Idempotency-Key", "d-1")
	var d struct {
		Name     string `json:"name"`
		Verified bool   `json:"verified"`
		Record   struct {
			Type, Name, Value string
			ZoneLine          string `json:"zone_line"`
		} `json:"record"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(body, &d) != nil || d.Name != "acme.example" || d.Verified ||
		d.Record.Type != "TXT" || d.Record.Name != "_sesame-challenge.acme.example" || d.Record.Value == "" ||
		d.Record.ZoneLine != domains.Record("acme.example", d.Record.Value) || resp.Header.Get("Location") != vocab.PathAPI+base+"/domains/acme.example" {
		t.Fatalf("add: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	// The same key with another body: refused, nothing claimed.
	if resp, body := e.call("POST", base+"/domains", token, `{"name":"beta.example"}`, "Idempotency-Key", "d-1"); resp.StatusCode != 422 ||
		readProblem(t, resp, body).Code != "reused" {
		t.Fatalf("replayed key, another body: %d %s", resp.StatusCode, body)
	}
	// Not published: refused by the look-up, as on the screens.
	if resp, body := e.call("POST", base+"/domains/acme.example/verify", token, ""); resp.StatusCode != 409 {
		t.Fatalf("verify unpublished: %d %s", resp.StatusCode, body)
	}
	dns.SetTXT(domains.RecordName("acme.example"), d.Record.Value)
	if resp, body := e.call("POST", base+"/domains/acme.example/verify", token, ""); resp.StatusCode != 200 || !strings.Contains(string(body), `"verified":true`) {
		t.Fatalf("verify: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("POST", base+"/domains", token, `{"name":"beta.example"}`); resp.StatusCode != 201 {
		t.Fatalf("add beta: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("POST", base+"/domains/beta.example/verify", token, `{"force":true}`); resp.StatusCode != 200 || !strings.Contains(string(body), `"verified":true`) {
		t.Fatalf("forced: %d %s", resp.StatusCode, body)
	}
	var pageOne, pageTwo struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
		Next *string `json:"next_cursor"`
	}
	if resp, body := e.call("GET", base+"/domains?limit=1", token, ""); resp.StatusCode != 200 || json.Unmarshal(body, &pageOne) != nil ||
		len(pageOne.Items) != 1 || pageOne.Items[0].Name != "acme.example" || pageOne.Next == nil {
		t.Fatalf("page one: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("GET", base+"/domains?limit=1&cursor="+*pageOne.Next, token, ""); resp.StatusCode != 200 || json.Unmarshal(body, &pageTwo) != nil ||
		len(pageTwo.Items) != 1 || pageTwo.Items[0].Name != "beta.example" || pageTwo.Next != nil {
		t.Fatalf("page two: %d %s", resp.StatusCode, body)
	}

	// Company sign-in: Sesame itself is the upstream here (its discovery answers).
	const secret = "upstream-client-secret-4417"
	if resp, body := e.call("PUT", base+"/sso", token, `{"issuer":"`+e.issuer+`","client_id":"sesame"}`); resp.StatusCode != 400 {
		t.Fatalf("without a secret: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call("PUT", base+"/sso", token, `{"issuer":"`+e.issuer+`","client_id":"sesame","client_secret":"`+secret+`","scopes":["profile"],"default_roles":["user"]}`)
	var fields map[string]any
	if resp.StatusCode != 200 || strings.Contains(string(body), secret) || json.Unmarshal(body, &fields) != nil || fields["client_secret"] != nil ||
		!strings.Contains(string(body), `"has_client_secret":true`) || !strings.Contains(string(body), `"callback_url":"`+e.issuer+`/sso/callback"`) {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	first := resp.Header.Get("ETag")
	resp, body = e.call("GET", base+"/sso", token, "")
	if resp.StatusCode != 200 || strings.Contains(string(body), secret) || resp.Header.Get("ETag") != first {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	// Changed with If-Match, the secret kept; the old ETag is then stale.
	resp, body = e.call("PUT", base+"/sso", token, `{"issuer":"`+e.issuer+`","client_id":"sesame","enforce":true}`, "If-Match", first)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"enforce":true`) || !strings.Contains(string(body), `"has_client_secret":true`) {
		t.Fatalf("put with If-Match: %d %s", resp.StatusCode, body)
	}
	second := resp.Header.Get("ETag")
	if resp, body := e.call("PUT", base+"/sso", token, `{"issuer":"`+e.issuer+`","client_id":"sesame"}`, "If-Match", first); resp.StatusCode != 412 {
		t.Fatalf("stale put: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("DELETE", base+"/sso", token, "", "If-Match", first); resp.StatusCode != 412 {
		t.Fatalf("stale delete: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("DELETE", base+"/sso", token, "", "If-Match", second); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("GET", base+"/sso", token, ""); resp.StatusCode != 404 {
		t.Fatalf("after delete: %d %s", resp.StatusCode, body)
	}
	resp, body = e.call("GET", base+"/domains/beta.example", token, "")
	if resp.StatusCode != 200 {
		t.Fatalf("get domain: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("DELETE", base+"/domains/beta.example", token, "", "If-Match", resp.Header.Get("ETag")); resp.StatusCode != 204 {
		t.Fatalf("remove domain: %d %s", resp.StatusCode, body)
	}
	// The command line sees the API's changes: one domain left.
	var listed []map[string]any
	if err := json.Unmarshal([]byte(e.mustCLI("", "--json", "org", "domain", "list", org)), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("domain list: %v %v", listed, err)
	}
	actions := e.auditActions(token, "client:backoffice", org)
	for _, want := range []string{"domain.added", "domain.verified", "sso.set", "sso.removed", "domain.removed"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the audit trail lacks %s by the client: %v", want, actions)
		}
	}
}

// auditActions lists the actions of actor's events (of org when given).
func (e *apiEnv) auditActions(token, actor, org string) []string {
	e.t.Helper()
	q := "/audit-events?limit=200&actor=" + actor
	if org != "" {
		q += "&org=" + org
	}
	resp, body := e.call("GET", q, token, "")
	var list struct {
		Items []struct {
			Action  string `json:"action"`
			Details string `json:"details"`
		} `json:"items"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &list) != nil {
		e.t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	var out []string
	for _, ev := range list.Items {
		out = append(out, ev.Action)
	}
	return out
}

// race sends n copies of one request at once and counts the answers by
// status.
func (e *apiEnv) race(n int, method, path, token, body string, header ...string) map[int]int {
	e.t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rd io.Reader
			if body != "" {
				rd = bytes.NewReader([]byte(body))
			}
			req, _ := http.NewRequest(method, e.issuer+vocab.PathAPI+path, rd)
			req.Header.Set("Authorization", "Bearer "+token)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			<-start
			status := -1
			if resp, err := e.http.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			}
			mu.Lock()
			got[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return got
}

// TestAPIIfMatchRace: requests carrying the same ETag, sent at once, to
// change an organization, a member or a person: exactly one succeeds, the
// others are refused as stale (412) — the version is checked inside the
// change's transaction, with the row held, not before it. Run on SQLite
// here and on PostgreSQL by TestOnPostgres.
func TestAPIIfMatchRace(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	token := e.token("backoffice", e.secret)
	org := e.mustCLI("", "org", "create", "--name", "Race AG", "--country", "DE", "--validated")
	resp, body := e.call("POST", "/organizations/"+org+"/members", token, `{"email":"r@race.example","roles":["user"]}`)
	var m struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("invite: %d %s", resp.StatusCode, body)
	}
	const n = 6
	for _, tc := range []struct {
		name, method, path, read, body string
	}{
		{"organization", "POST", "/organizations/" + org + "/suspend", "/organizations/" + org, `{"reason":"race"}`},
		{"member", "PATCH", "/organizations/" + org + "/members/" + m.ID, "/organizations/" + org + "/members/" + m.ID, `{"roles":["admin","user"]}`},
		{"person", "POST", "/users/" + m.ID + "/disable", "/users/" + m.ID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.call("GET", tc.read, token, "")
			etag := resp.Header.Get("ETag")
			if resp.StatusCode != 200 || etag == "" {
				t.Fatalf("read: %d %s", resp.StatusCode, body)
			}
			got := e.race(n, tc.method, tc.path, token, tc.body, "If-Match", etag)
			if got[200] != 1 || got[412] != n-1 {
				t.Fatalf("%d requests with one ETag: %v; want one 200 and %d 412", n, got, n-1)
			}
		})
	}
	// One change each in the audit trail.
	actions := e.auditActions(token, "client:backoffice", "")
	for action, want := range map[string]int{"org.suspended": 1, "member.roles_changed": 1, "user.disabled": 1} {
		if got := count(actions, action); got != want {
			t.Errorf("%s audited %d times, want %d", action, got, want)
		}
	}
}

func count(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

// TestAPICallsAreAudited: every call of a client is in the audit trail
// with the client as actor — a read (api.read, the path, query and
// status), a refusal (api.refused), a replayed POST (api.replayed) — and
// a change by its own event only, never twice.
func TestAPICallsAreAudited(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	token := e.token("backoffice", e.secret)
	reader := e.token("reader", e.addClient("reader", vocab.ScopeOrganizationsRead))
	org := e.mustCLI("", "org", "create", "--name", "Audited", "--country", "DE")

	if resp, body := e.call("GET", "/organizations?limit=2", reader, ""); resp.StatusCode != 200 {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("GET", "/organizations/"+org, reader, ""); resp.StatusCode != 200 {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("POST", "/organizations/"+org+"/validate", reader, ""); resp.StatusCode != 403 {
		t.Fatalf("wrong scope: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("POST", "/organizations/"+org+"/validate", token, "", "Idempotency-Key", "v-1"); resp.StatusCode != 200 {
		t.Fatalf("validate: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("POST", "/organizations/"+org+"/validate", token, "", "Idempotency-Key", "v-1"); resp.StatusCode != 200 ||
		resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("POST", "/organizations/"+org+"/validate", token, ""); resp.StatusCode != 409 {
		t.Fatalf("validated twice: %d %s", resp.StatusCode, body)
	}

	resp, body := e.call("GET", "/audit-events?limit=200&actor=client:reader", token, "")
	var list struct {
		Items []struct {
			Actor, Action, Details string
			TargetType             string `json:"target_type"`
			TargetID               string `json:"target_id"`
		} `json:"items"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &list) != nil {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	var reads, refusals []string
	for _, ev := range list.Items {
		switch ev.Action {
		case "api.read":
			reads = append(reads, ev.Details)
		case "api.refused":
			refusals = append(refusals, ev.Details+" "+ev.TargetType+":"+ev.TargetID)
		}
	}
	if !slices.Contains(reads, "GET "+vocab.PathAPI+"/organizations?limit=2 200") || !slices.Contains(reads, "GET "+vocab.PathAPI+"/organizations/"+org+" 200") {
		t.Fatalf("the reader's reads: %q", reads)
	}
	if len(refusals) != 1 || refusals[0] != "POST "+vocab.PathAPI+"/organizations/"+org+"/validate 403 organization:"+org {
		t.Fatalf("the reader's refusal: %q", refusals)
	}
	actions := e.auditActions(token, "client:backoffice", "")
	for action, want := range map[string]int{"org.validated": 1, "api.replayed": 1, "api.refused": 1} {
		if got := count(actions, action); got != want {
			t.Errorf("%s: %d events, want %d (%v)", action, got, want, actions)
		}
	}
}

// TestAPIClientProtocol: a client's protocol options (issue 18) through
// the API, under the rules the command line applies (login.CheckProtocol):
// a private_key_jwt client registered with its keys has no secret; PAR,
// DPoP, JWT access tokens, origins and the device grant round-trip; each
// refusal names its field.
func TestAPIClientProtocol(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	token := e.token("backoffice", e.secret)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "ES256"}}})
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1"}}})

	resp, body := e.call("POST", "/clients", token, `{"id":"keyed","redirect_uris":["https://rp.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks":`+string(pub)+
		`,"require_pushed_authorization_requests":true,"dpop_bound_access_tokens":true,"access_token_format":"jwt","resource":"https://api.rp.example","allowed_origins":["https://App.rp.example"]}`)
	var created struct {
		Client       map[string]any `json:"client"`
		ClientSecret *string        `json:"client_secret"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(body, &created) != nil || created.ClientSecret != nil {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	c := created.Client
	if c["token_endpoint_auth_method"] != "private_key_jwt" || c["jwks"] == nil || c["require_pushed_authorization_requests"] != true ||
		c["dpop_bound_access_tokens"] != true || c["access_token_format"] != "jwt" || c["resource"] != "https://api.rp.example" ||
		fmt.Sprint(c["allowed_origins"]) != "[https://app.rp.example]" || c["third_party"] != false {
		t.Fatalf("the options: %v", c)
	}
	// The command line reads what the API wrote.
	if out := e.mustCLI("", "--json", "client", "list"); !strings.Contains(out, `"token_endpoint_auth_method": "private_key_jwt"`) ||
		!strings.Contains(out, `"require_pushed_authorization_requests": true`) {
		t.Fatalf("client list: %s", out)
	}
	resp, body = e.call("GET", "/clients/keyed", token, "")
	etag := resp.Header.Get("ETag")
	resp, body = e.call("PATCH", "/clients/keyed", token, `{"jwks_uri":"https://rp.example/jwks","require_pushed_authorization_requests":false,"third_party":true}`, "If-Match", etag)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"jwks_uri":"https://rp.example/jwks"`) || strings.Contains(string(body), `"jwks":`) ||
		!strings.Contains(string(body), `"third_party":true`) || !strings.Contains(string(body), `"require_pushed_authorization_requests":false`) {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.call("PATCH", "/clients/keyed", token, `{"third_party":false}`, "If-Match", etag); resp.StatusCode != 412 {
		t.Fatalf("stale update: %d %s", resp.StatusCode, body)
	}
	// The device grant is in the document's enum; whether a client may
	// have it is the rules' (login.ClientGrants, the device flow's).
	resp, body = e.call("POST", "/clients", token, `{"id":"tv","public":true,"grants":["device_code","refresh_token"]}`)
	if slices.Contains(login.ClientGrants, "device_code") {
		if resp.StatusCode != 201 || !strings.Contains(string(body), `"device_code"`) || !strings.Contains(string(body), `"token_endpoint_auth_method":"none"`) {
			t.Fatalf("device client: %d %s", resp.StatusCode, body)
		}
	} else if resp.StatusCode != 400 || !strings.Contains(string(body), `"name":"grants"`) {
		t.Fatalf("device client before the device flow: %d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"keys and a key URL", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks":` + string(pub) + `,"jwks_uri":"https://x.example/jwks"}`, 400, "token_endpoint_auth_method"},
		{"no keys", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, 400, "token_endpoint_auth_method"},
		{"a private key", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks":` + string(priv) + `}`, 400, "jwks"},
		{"not a key set", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[]}}`, 400, "jwks"},
		{"keys without private_key_jwt", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"jwks_uri":"https://x.example/jwks"}`, 400, "jwks_uri"},
		{"a public keyed client", "POST", "/clients", `{"id":"x","public":true,"redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://x.example/jwks"}`, 400, "token_endpoint_auth_method"},
		{"an http key URL", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"http://x.example/jwks"}`, 400, "jwks_uri"},
		{"an unknown method", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"token_endpoint_auth_method":"magic"}`, 400, "token_endpoint_auth_method"},
		{"an unknown format", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"access_token_format":"paseto"}`, 400, "access_token_format"},
		{"a resource of opaque tokens", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"resource":"https://api.example"}`, 400, "resource"},
		{"an origin with a path", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"allowed_origins":["https://app.example/path"]}`, 400, "allowed_origins"},
		{"an http origin", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"allowed_origins":["http://app.example"]}`, 400, "allowed_origins"},
		{"refresh without a grant that gives it", "POST", "/clients", `{"id":"x","grants":["refresh_token","client_credentials"],"scopes":["sesame:audit:read"]}`, 400, "grants"},
		{"an unknown grant", "POST", "/clients", `{"id":"x","grants":["password"]}`, 400, "grants"},
		{"an unknown option", "POST", "/clients", `{"id":"x","redirect_uris":["https://x.example/cb"],"require_mtls":true}`, 400, "require_mtls"},
		{"an update to a resource of opaque tokens", "PATCH", "/clients/keyed", `{"access_token_format":"opaque"}`, 400, "resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.call(tc.method, tc.path, token, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			readProblem(t, resp, body)
			if !strings.Contains(string(body), `"name":"`+tc.field) && !strings.Contains(string(body), "."+tc.field+`"`) {
				t.Fatalf("the problem does not name %q: %s", tc.field, body)
			}
		})
	}
	if resp, body := e.call("GET", "/clients/x", token, ""); resp.StatusCode != 404 {
		t.Fatalf("a refused client was registered: %d %s", resp.StatusCode, body)
	}
}
