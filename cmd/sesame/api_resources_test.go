package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/api"
	"github.com/sesame-idp/sesame/api/apiclient"
	"github.com/sesame-idp/sesame/internal/vocab"
)

// TestAPIClientsAndPeople: relying parties registered, read, changed,
// rotated and removed through the API under the rules of the command line;
// a person disabled, enabled, their second factor reset, their sessions
// ended; organizations suspended and reactivated.
func TestAPIClientsAndPeople(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ctx := context.Background()
	c := e.client(e.token("backoffice", e.secret))

	created, err := c.CreateClientWithResponse(ctx, &apiclient.CreateClientParams{IdempotencyKey: ptr("rp-1")}, apiclient.ClientCreate{
		Id: "shop", Name: ptr("Shop"), RedirectUris: ptr([]string{"https://shop.example/cb"}),
		IdTokenSignedResponseAlg: ptr(apiclient.ClientCreateIdTokenSignedResponseAlgES256)})
	if err != nil || created.JSON201 == nil || created.JSON201.ClientSecret == nil || len(*created.JSON201.ClientSecret) < 40 {
		t.Fatalf("create: %v %s", err, created.Body)
	}
	if g := created.JSON201.Client.Grants; len(g) != 2 || g[0] != apiclient.AuthorizationCode {
		t.Fatalf("grants %v", g)
	}
	got, err := c.GetClientWithResponse(ctx, "shop")
	if err != nil || got.JSON200 == nil || strings.Contains(string(got.Body), `"client_secret"`) {
		t.Fatalf("get: %v %s", err, got.Body)
	}
	etag := got.HTTPResponse.Header.Get("ETag")
	updated, err := c.UpdateClientWithResponse(ctx, "shop", &apiclient.UpdateClientParams{IfMatch: &etag},
		apiclient.ClientUpdate{Name: ptr("Shop (new)"), PostLogoutRedirectUris: ptr([]string{"https://shop.example/bye"})})
	if err != nil || updated.JSON200 == nil || updated.JSON200.Name != "Shop (new)" {
		t.Fatalf("update: %v %s", err, updated.Body)
	}
	stale, _ := c.UpdateClientWithResponse(ctx, "shop", &apiclient.UpdateClientParams{IfMatch: &etag}, apiclient.ClientUpdate{Name: ptr("x")})
	if stale.StatusCode() != http.StatusPreconditionFailed {
		t.Fatalf("a stale update: %d %s", stale.StatusCode(), stale.Body)
	}
	refused, _ := c.UpdateClientWithResponse(ctx, "shop", nil, apiclient.ClientUpdate{RedirectUris: ptr([]string{"http://shop.example/cb"})})
	if refused.StatusCode() != 400 || !strings.Contains(string(refused.Body), "must use https") {
		t.Fatalf("the CLI's rule: %d %s", refused.StatusCode(), refused.Body)
	}
	rotated, err := c.RotateClientSecretWithResponse(ctx, "shop", nil)
	if err != nil || rotated.JSON200 == nil || *rotated.JSON200.ClientSecret == *created.JSON201.ClientSecret {
		t.Fatalf("rotate: %v %s", err, rotated.Body)
	}
	list, _ := c.ListClientsWithResponse(ctx, &apiclient.ListClientsParams{Limit: ptr(1)})
	if list.JSON200 == nil || len(list.JSON200.Items) != 1 || list.JSON200.NextCursor == nil {
		t.Fatalf("list: %s", list.Body)
	}
	rest, _ := c.ListClientsWithResponse(ctx, &apiclient.ListClientsParams{Cursor: list.JSON200.NextCursor})
	if rest.JSON200 == nil || len(rest.JSON200.Items) < 2 || rest.JSON200.Items[0].Id == list.JSON200.Items[0].Id {
		t.Fatalf("second page: %s", rest.Body)
	}
	if del, _ := c.DeleteClientWithResponse(ctx, "shop", nil); del.StatusCode() != http.StatusNoContent {
		t.Fatalf("delete: %d %s", del.StatusCode(), del.Body)
	}

	// People: a member of a validated organization.
	orgID := e.mustCLI("", "org", "create", "--name", "People AG", "--country", "DE", "--validated")
	inv, err := c.InviteMemberWithResponse(ctx, orgID, nil, apiclient.Invite{Email: "p@people.example", Roles: []apiclient.Role{apiclient.RoleAdmin}})
	if err != nil || inv.JSON201 == nil {
		t.Fatalf("invite: %v %s", err, inv.Body)
	}
	uid := inv.JSON201.Id
	u, _ := c.GetUserWithResponse(ctx, uid)
	if u.JSON200 == nil || !u.JSON200.Invited || u.JSON200.OrganizationId == nil || *u.JSON200.OrganizationId != orgID {
		t.Fatalf("user: %s", u.Body)
	}
	dis, _ := c.DisableUserWithResponse(ctx, uid, &apiclient.DisableUserParams{IfMatch: ptr(u.HTTPResponse.Header.Get("ETag"))})
	if dis.JSON200 == nil || !dis.JSON200.Disabled {
		t.Fatalf("disable: %s", dis.Body)
	}
	en, _ := c.EnableUserWithResponse(ctx, uid, nil)
	if en.JSON200 == nil || en.JSON200.Disabled {
		t.Fatalf("enable: %s", en.Body)
	}
	if r, _ := c.ResetSecondFactorWithResponse(ctx, uid, nil); r.JSON200 == nil || r.JSON200.SecondFactor {
		t.Fatalf("reset 2FA: %s", r.Body)
	}
	if r, _ := c.EndSessionsWithResponse(ctx, uid, nil); r.JSON200 == nil || r.JSON200.SessionsEnded != 0 {
		t.Fatalf("end sessions: %s", r.Body)
	}
	if r, _ := c.SuspendOrganizationWithResponse(ctx, orgID, nil, apiclient.Suspend{Reason: ptr("unpaid")}); r.JSON200 == nil || r.JSON200.Status != apiclient.Suspended {
		t.Fatalf("suspend: %s", r.Body)
	}
	if r, _ := c.SuspendOrganizationWithResponse(ctx, orgID, nil, apiclient.Suspend{}); r.StatusCode() != http.StatusConflict {
		t.Fatalf("suspend twice: %d %s", r.StatusCode(), r.Body)
	}
	if r, _ := c.ReactivateOrganizationWithResponse(ctx, orgID, nil); r.JSON200 == nil || r.JSON200.Status != apiclient.Validated {
		t.Fatalf("reactivate: %s", r.Body)
	}
	ev, _ := c.ListAuditEventsWithResponse(ctx, &apiclient.ListAuditEventsParams{Actor: ptr("client:backoffice"), Limit: ptr(200)})
	var actions []string
	for _, x := range ev.JSON200.Items {
		actions = append(actions, x.Action)
	}
	for _, want := range []string{"client.created", "client.updated", "client.secret_rotated", "client.removed", "user.disabled",
		"user.enabled", "2fa.reset", "user.sessions_ended", "org.suspended", "org.reactivated"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

// TestClientCredentialsTokens: the grant gives only registered scopes;
// the token introspects (to its client, without a person) and is refused
// at userinfo; a client without the grant is refused it.
func TestClientCredentialsTokens(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	post := func(path, id, secret string, form url.Values, header ...string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			req.SetBasicAuth(id, secret)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	reader := e.addClient("reader", vocab.ScopeOrganizationsRead)
	cc := url.Values{"grant_type": {"client_credentials"}}
	if code, out := post("/oauth/token", "reader", reader, url.Values{"grant_type": {"client_credentials"}, "scope": {vocab.ScopeAuditRead}}); code != 400 || out["error"] != "invalid_scope" {
		t.Fatalf("an unregistered scope: %d %v", code, out)
	}
	if code, out := post("/oauth/token", "reader", "wrong-secret-wrong-secret-wrong-secret", cc); code != 401 || out["error"] != "invalid_client" {
		t.Fatalf("a wrong secret: %d %v", code, out)
	}
	webSecret := e.marketRP.secret
	if code, out := post("/oauth/token", e.marketRP.clientID, webSecret, cc); code != 400 || out["error"] != "unauthorized_client" {
		t.Fatalf("a client without the grant: %d %v", code, out)
	}
	code, out := post("/oauth/token", "reader", reader, cc)
	token, _ := out["access_token"].(string)
	if code != 200 || token == "" || out["scope"] != vocab.ScopeOrganizationsRead || out["refresh_token"] != nil || out["id_token"] != nil {
		t.Fatalf("token: %d %v", code, out)
	}
	if code, out := post("/oauth/introspect", "reader", reader, url.Values{"token": {token}}); code != 200 || out["active"] != true ||
		out["client_id"] != "reader" || out["sub"] != "reader" || out["email"] != nil {
		t.Fatalf("introspection: %d %v", code, out)
	}
	req, _ := http.NewRequest("GET", e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := testClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("userinfo with a client's token: %v %v", err, resp)
	}
	if code, _ := post("/oauth/revoke", "reader", reader, url.Values{"token": {token}}); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if code, out := post("/oauth/introspect", "reader", reader, url.Values{"token": {token}}); code != 200 || out["active"] != false {
		t.Fatalf("introspection after revocation: %d %v", code, out)
	}
}

// TestAPINoStateChangeOnGet: every GET operation of the document, with a
// token, leaves the database as it was, but for the client's request
// counter (rate_limits: the per-client budget counts reads too).
func TestAPINoStateChangeOnGet(t *testing.T) {
	t.Parallel() // the snapshots are taken once the one mail is delivered and marked sent
	e := newAPIEnv(t)
	token := e.token("backoffice", e.secret)
	orgID := e.mustCLI("", "org", "create", "--name", "Walk AG", "--country", "DE", "--validated")
	resp, body := e.call("POST", "/organizations/"+orgID+"/members", token, `{"email":"w@walk.example","roles":["user"]}`)
	var m struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("invite: %d %s", resp.StatusCode, body)
	}
	e.smtp.WaitFor(t, 1, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; { // the outbox marked sent: nothing moves any more
		if n, err := e.main.Store.CountUnsentMails(context.Background()); err == nil && n == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("mail still unsent: %d %v", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.mustCLI("", "org", "domain", "add", orgID, "walk.example")
	ids := strings.NewReplacer("{org_id}", orgID, "{user_id}", m.ID, "{client_id}", "backoffice", "{domain}", "walk.example")
	var paths []string
	for _, r := range api.RoutesOf(contractDoc) {
		if method, path, _ := strings.Cut(r, " "); method == http.MethodGet {
			paths = append(paths, strings.TrimPrefix(ids.Replace(path), vocab.PathAPI)) // e.call adds the prefix
		}
	}
	if len(paths) < 8 {
		t.Fatalf("only %d GET operations: %v", len(paths), paths)
	}
	before := snapshot(t, e.orgEnv)
	for _, p := range paths {
		for _, q := range []string{"", "?limit=1", "?cursor=bm9wZQ"} {
			resp, body := e.call("GET", p+q, token, "")
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s%s: %d %s", p, q, resp.StatusCode, body)
			}
			if q == "" && resp.StatusCode != 200 && !strings.HasSuffix(p, "/sso") { // the walk reaches every resource
				t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
			}
		}
	}
	after := snapshot(t, e.orgEnv)
	for table, rows := range before {
		if table == "rate_limits" {
			continue
		}
		if table == "audit_events" {
			// Every call is audited: the walk adds its reads, and only them.
			for _, row := range rows {
				if !slices.Contains(after[table], row) {
					t.Errorf("GET requests changed an audit event: %s", row)
				}
			}
			// (the document, served without a token, names no client)
			if added := len(after[table]) - len(rows); added != 3*(len(paths)-1) {
				t.Errorf("%d GET requests with a token added %d audit events", 3*(len(paths)-1), added)
			}
			for _, row := range after[table] {
				if !slices.Contains(rows, row) && (!strings.Contains(row, "api.read") || !strings.Contains(row, "client:backoffice")) {
					t.Errorf("a GET request added %s", row)
				}
			}
			continue
		}
		if got := after[table]; !slices.Equal(rows, got) {
			t.Errorf("GET requests changed table %s:\nbefore %v\nafter  %v", table, rows, got)
		}
	}
}
