package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/sesame-idp/sesame/api"
	"github.com/sesame-idp/sesame/api/apiclient"
	"github.com/sesame-idp/sesame/internal/vocab"
)

// The management API's tests against a running server: a client generated
// from the document by a third-party generator (oapi-codegen) walks the
// back office's day; every bad input gets its problem document. Every
// request and response these tests make goes through contractCheck, which
// validates both against the document.

// contract validates requests and responses against the document.
type contract struct {
	t      *testing.T
	router routers.Router
	n      atomic.Int64
}

var (
	contractOnce sync.Once
	contractDoc  *openapi3.T
	contractErr  error
)

func newContract(t *testing.T) *contract {
	t.Helper()
	contractOnce.Do(func() {
		contractDoc, contractErr = api.LoadDocument()
		if contractErr == nil {
			contractDoc.Servers = nil
		}
	})
	if contractErr != nil {
		t.Fatal(contractErr)
	}
	r, err := legacy.NewRouter(contractDoc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, router: r}
}

// RoundTrip sends the request and checks the exchange: a request the
// document describes gets a response it describes; a request it does not
// (the bad inputs) must still get a problem document.
func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := testTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if resp.StatusCode >= 500 {
		c.t.Errorf("%s %s: %d (a 5xx): %s", req.Method, req.URL.Path, resp.StatusCode, respBody)
	}
	u := *req.URL
	u.Path = strings.TrimPrefix(u.Path, vocab.PathAPI)
	check := req.Clone(context.Background())
	check.URL = &u
	check.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(check)
	if err != nil {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			c.t.Errorf("%s %s: not in the document, answered %d %s", req.Method, req.URL.Path, resp.StatusCode, ct)
		}
		return resp, nil
	}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
	if resp.StatusCode < 300 {
		// An accepted request must be one the document describes.
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s was accepted (%d) but does not validate: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: in.Options}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: the response (%d) does not validate: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, respBody)
	}
	c.n.Add(1)
	return resp, nil
}

// apiEnv is a running Sesame with a back-office client.
type apiEnv struct {
	*orgEnv
	contract *contract
	http     *http.Client
	secret   string
}

func newAPIEnv(t *testing.T, extra ...string) *apiEnv {
	t.Helper()
	e := &apiEnv{orgEnv: newOrgEnv(t, extra...), contract: newContract(t)}
	e.http = &http.Client{Transport: e.contract, Timeout: 20 * time.Second}
	e.secret = e.addClient("backoffice", vocab.APIScopes...)
	return e
}

// addClient registers a client_credentials client with scopes and
// returns its secret.
func (e *apiEnv) addClient(id string, scopes ...string) string {
	e.t.Helper()
	args := []string{"client", "add", "--id", id, "--grant", "client_credentials", "--json"}
	for _, s := range scopes {
		args = append(args, "--scope", s)
	}
	var out clientJSON
	if err := json.Unmarshal([]byte(e.mustCLI("", args...)), &out); err != nil || out.Secret == "" {
		e.t.Fatalf("client add: %v %+v", err, out)
	}
	return out.Secret
}

// token gets an access token by client credentials at the token endpoint.
func (e *apiEnv) token(id, secret string, scopes ...string) string {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := testClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil || resp.StatusCode != 200 || body.AccessToken == "" {
		e.t.Fatalf("token: %d %s", resp.StatusCode, raw)
	}
	return body.AccessToken
}

// client is the generated client with a token.
func (e *apiEnv) client(token string) *apiclient.ClientWithResponses {
	e.t.Helper()
	c, err := apiclient.NewClientWithResponses(e.issuer+vocab.PathAPI, apiclient.WithHTTPClient(e.http),
		apiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

func TestAPIBackOfficeWalk(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ctx := context.Background()
	token := e.token("backoffice", e.secret)
	c := e.client(token)

	// An organization waits for the operator (signed up, or made here).
	orgID := e.mustCLI("", "org", "create", "--name", "Nordwind GmbH", "--country", "DE")
	created, err := c.CreateOrganizationWithResponse(ctx, nil, apiclient.OrganizationCreate{Name: "Zéphyr SAS", Siret: ptr("73282932000074"),
		FounderEmail: "founder@zephyr.example", FounderName: ptr("Zoé Founder"), Language: ptr(apiclient.En)})
	if err != nil || created.JSON201 == nil || created.JSON201.Status != apiclient.Pending || created.HTTPResponse.Header.Get("ETag") == "" {
		t.Fatalf("create: %v %d %s", err, created.StatusCode(), created.Body)
	}
	e.smtp.WaitFor(t, 1, 10*time.Second) // the founder's set-password mail

	pending, err := c.ListOrganizationsWithResponse(ctx, &apiclient.ListOrganizationsParams{Status: ptr(apiclient.Pending), Limit: ptr(1)})
	if err != nil || pending.JSON200 == nil || len(pending.JSON200.Items) != 1 || pending.JSON200.NextCursor == nil {
		t.Fatalf("list pending: %v %s", err, pending.Body)
	}
	next, err := c.ListOrganizationsWithResponse(ctx, &apiclient.ListOrganizationsParams{Status: ptr(apiclient.Pending), Limit: ptr(1),
		Cursor: pending.JSON200.NextCursor})
	if err != nil || next.JSON200 == nil || len(next.JSON200.Items) != 1 || next.JSON200.NextCursor != nil {
		t.Fatalf("second page: %v %s", err, next.Body)
	}
	if ids := []string{pending.JSON200.Items[0].Id, next.JSON200.Items[0].Id}; !slices.Contains(ids, orgID) || ids[0] == ids[1] {
		t.Fatalf("pages %v lack %s", ids, orgID)
	}

	got, _ := c.GetOrganizationWithResponse(ctx, orgID)
	validated, err := c.ValidateOrganizationWithResponse(ctx, orgID, &apiclient.ValidateOrganizationParams{
		IdempotencyKey: ptr("validate-" + orgID), IfMatch: ptr(got.HTTPResponse.Header.Get("ETag"))})
	if err != nil || validated.JSON200 == nil || validated.JSON200.Status != apiclient.Validated {
		t.Fatalf("validate: %v %s", err, validated.Body)
	}

	before := len(e.smtp.Messages())
	invited, err := c.InviteMemberWithResponse(ctx, orgID, nil, apiclient.Invite{Email: "ada@nordwind.example", Name: ptr("Ada"),
		Roles: []apiclient.Role{apiclient.RoleUser}, Language: ptr(apiclient.En)})
	if err != nil || invited.JSON201 == nil || invited.JSON201.Status != apiclient.Invited {
		t.Fatalf("invite: %v %s", err, invited.Body)
	}
	userID := invited.JSON201.Id
	e.smtp.WaitFor(t, before+1, 10*time.Second)
	if m := e.smtp.To("ada@nordwind.example"); len(m) != 1 || !linkRe.MatchString(m[0].Text) {
		t.Fatalf("the invitation did not reach SMTP with its link: %+v", m)
	}

	members, err := c.ListMembersWithResponse(ctx, orgID, nil)
	if err != nil || members.JSON200 == nil || !slices.ContainsFunc(members.JSON200.Items, func(m apiclient.Member) bool { return m.Id == userID }) {
		t.Fatalf("members: %v %s", err, members.Body)
	}
	member, _ := c.GetMemberWithResponse(ctx, orgID, userID)
	roles, err := c.ChangeMemberRolesWithResponse(ctx, orgID, userID, &apiclient.ChangeMemberRolesParams{IfMatch: ptr(member.HTTPResponse.Header.Get("ETag"))},
		apiclient.Roles{Roles: []apiclient.Role{apiclient.RoleAdmin, apiclient.RoleUser}})
	if err != nil || roles.JSON200 == nil || len(roles.JSON200.Roles) != 2 {
		t.Fatalf("roles: %v %s", err, roles.Body)
	}
	removed, err := c.RemoveMemberWithResponse(ctx, orgID, userID, &apiclient.RemoveMemberParams{IfMatch: ptr(roles.HTTPResponse.Header.Get("ETag"))})
	if err != nil || removed.StatusCode() != http.StatusNoContent {
		t.Fatalf("remove: %v %d %s", err, removed.StatusCode(), removed.Body)
	}
	if gone, _ := c.GetMemberWithResponse(ctx, orgID, userID); gone.StatusCode() != http.StatusNotFound || gone.ApplicationproblemJSONDefault == nil {
		t.Fatalf("a removed member: %d %s", gone.StatusCode(), gone.Body)
	}

	events, err := c.ListAuditEventsWithResponse(ctx, &apiclient.ListAuditEventsParams{Actor: ptr("client:backoffice"), Org: ptr(orgID)})
	if err != nil || events.JSON200 == nil {
		t.Fatalf("audit: %v %s", err, events.Body)
	}
	var actions []string
	for _, ev := range events.JSON200.Items {
		actions = append(actions, ev.Action)
	}
	for _, want := range []string{"org.validated", "member.invited", "member.roles_changed", "member.removed"} {
		if !slices.Contains(actions, want) {
			t.Errorf("the audit trail lacks %s by the client: %v", want, actions)
		}
	}
	if e.contract.n.Load() < 12 {
		t.Fatalf("only %d exchanges validated", e.contract.n.Load())
	}
}
