package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/vocab"
)

// problem is a problem document as a client reads it.
type problem struct {
	Type          string `json:"type"`
	Title         string `json:"title"`
	Status        int    `json:"status"`
	Detail        string `json:"detail"`
	Code          string `json:"code"`
	InvalidParams []struct {
		Name   string `json:"name"`
		Reason string `json:"reason"`
	} `json:"invalid_params"`
}

// call sends one request to the API with the contract check, and returns
// the response and its body.
func (e *apiEnv) call(method, path, token, body string, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.issuer+vocab.PathAPI+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func readProblem(t *testing.T, resp *http.Response, body []byte) problem {
	t.Helper()
	var p problem
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d with %q, not a problem document: %s", resp.StatusCode, ct, body)
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Status != resp.StatusCode || p.Type != "urn:sesame:problem:"+p.Code || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem document %s (status %d)", body, resp.StatusCode)
	}
	return p
}

// TestAPIBadInput: every bad input of the issue, each with its problem
// document (and never a 5xx: the contract check fails any).
func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	token := e.token("backoffice", e.secret)
	readOnly := e.token(func() (string, string) {
		return "reader", e.addClient("reader", vocab.ScopeOrganizationsRead)
	}())
	// Another client's token, revoked by that client at the revocation endpoint.
	otherSecret := e.addClient("other", vocab.APIScopes...)
	revoked := e.token("other", otherSecret)
	form := url.Values{"token": {revoked}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("other", otherSecret)
	if resp, err := testClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", err, resp)
	}
	// A token of a client since deleted.
	e.addClient("gone", vocab.ScopeOrganizationsRead)
	goneToken := e.token("gone", e.rotate("gone")) // the rotated secret works at once
	e.mustCLI("", "client", "remove", "gone")

	orgID := e.mustCLI("", "org", "create", "--name", "Target", "--country", "DE")
	resp, body := e.call("GET", "/organizations/"+orgID, token, "")
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	big := `{"name":"` + strings.Repeat("x", 70<<10) + `","founder_email":"a@b.example"}`
	// Another organization, with a domain: its id under this one is not found.
	otherOrg := e.mustCLI("", "org", "create", "--name", "Other", "--country", "DE", "--validated")
	e.mustCLI("", "org", "domain", "add", otherOrg, "other.example")
	ssoBody := `{"issuer":"` + e.issuer + `","client_id":"sesame","client_secret":"s3cret"}`

	for _, tc := range []struct {
		name, method, path, token, body string
		header                          []string
		status                          int
		code, param                     string
	}{
		{"no token", "GET", "/organizations", "", "", nil, 401, "unauthorized", ""},
		{"not a bearer", "GET", "/organizations", "", "", []string{"Authorization", "Basic Zm9vOmJhcg=="}, 401, "unauthorized", ""},
		{"forged token", "GET", "/organizations", "not-a-token", "", nil, 401, "unauthorized", ""},
		{"revoked token", "GET", "/organizations", revoked, "", nil, 401, "unauthorized", ""},
		{"deleted client's token", "GET", "/organizations", goneToken, "", nil, 401, "unauthorized", ""},
		{"wrong scope", "POST", "/organizations/" + orgID + "/validate", readOnly, "", nil, 403, "forbidden", ""},
		{"wrong scope to read members", "GET", "/organizations/" + orgID + "/members", readOnly, "", nil, 403, "forbidden", ""},
		{"unknown organization", "GET", "/organizations/org_nothere", token, "", nil, 404, "not_found", ""},
		{"unknown member", "GET", "/organizations/" + orgID + "/members/usr_nothere", token, "", nil, 404, "not_found", ""},
		{"unknown user", "POST", "/users/usr_nothere/disable", token, "", nil, 404, "not_found", ""},
		{"unknown client", "DELETE", "/clients/nothere", token, "", nil, 404, "not_found", ""},
		{"unknown route", "GET", "/nothing", token, "", nil, 404, "not_found", ""},
		{"wrong method", "PUT", "/organizations", token, "", nil, 405, "method", ""},
		{"bad cursor", "GET", "/organizations?cursor=bm9wZQ", token, "", nil, 400, "invalid", "cursor"},
		{"another list's cursor", "GET", "/organizations?cursor=eyJsIjoiY2xpZW50cyIsImkiOiJ4In0", token, "", nil, 400, "invalid", "cursor"},
		{"limit too high", "GET", "/organizations?limit=500", token, "", nil, 400, "invalid", "limit"},
		{"limit not a number", "GET", "/organizations?limit=ten", token, "", nil, 400, "invalid", "limit"},
		{"unknown status", "GET", "/organizations?status=sleeping", token, "", nil, 400, "invalid", "status"},
		{"bad since", "GET", "/audit-events?since=yesterday", token, "", nil, 400, "invalid", "since"},
		{"oversized body", "POST", "/organizations", token, big, nil, 413, "too_large", ""},
		{"malformed body", "POST", "/organizations", token, `{"name": "x",`, nil, 400, "invalid", "body"},
		{"body not an object", "POST", "/organizations", token, `[1,2]`, nil, 400, "invalid", ""},
		{"missing body", "POST", "/organizations/" + orgID + "/reject", token, "", nil, 400, "invalid", ""},
		{"unknown field", "POST", "/organizations", token, `{"name":"X","country":"DE","founder_email":"f@x.example","admin":true}`, nil, 400, "invalid", "admin"},
		{"unknown nested role", "POST", "/organizations/" + orgID + "/members", token, `{"email":"a@x.example","roles":["owner"]}`, nil, 400, "invalid", ""},
		{"empty reason", "POST", "/organizations/" + orgID + "/reject", token, `{"reason":""}`, nil, 400, "invalid", ""},
		{"bad email", "POST", "/organizations/" + orgID + "/members", token, `{"email":"not an address","roles":["user"]}`, nil, 400, "invalid", ""},
		{"French country without SIRET", "POST", "/organizations", token, `{"name":"X","country":"FR","founder_email":"f@x.example"}`, nil, 400, "invalid", "siret"},
		{"client without redirect URI", "POST", "/clients", token, `{"id":"web"}`, nil, 400, "invalid", "redirect_uris"},
		{"client with http redirect", "POST", "/clients", token, `{"id":"web","redirect_uris":["http://evil.example/cb"]}`, nil, 400, "invalid", "redirect_uris"},
		{"stale If-Match", "POST", "/organizations/" + orgID + "/validate", token, "", []string{"If-Match", `"stale"`}, 412, "stale", ""},
		{"wrong content type", "POST", "/organizations/" + orgID + "/reject", token, "", []string{"Content-Type", "text/plain"}, 400, "invalid", ""},
		{"reject a validated organization later: not pending", "POST", "/organizations/" + orgID + "/reactivate", token, "", nil, 409, "conflict", ""},
		// Domains and company sign-in (issue 17's features).
		{"wrong scope to add a domain", "POST", "/organizations/" + orgID + "/domains", readOnly, `{"name":"target.example"}`, nil, 403, "forbidden", ""},
		{"wrong scope to set company sign-in", "PUT", "/organizations/" + orgID + "/sso", readOnly, ssoBody, nil, 403, "forbidden", ""},
		{"wrong scope to remove company sign-in", "DELETE", "/organizations/" + otherOrg + "/sso", readOnly, "", nil, 403, "forbidden", ""},
		{"another organization's domain", "GET", "/organizations/" + orgID + "/domains/other.example", token, "", nil, 404, "not_found", ""},
		{"another organization's domain verified", "POST", "/organizations/" + orgID + "/domains/other.example/verify", token, `{"force":true}`, nil, 404, "not_found", ""},
		{"another organization's domain removed", "DELETE", "/organizations/" + orgID + "/domains/other.example", token, "", nil, 404, "not_found", ""},
		{"domains of an unknown organization", "GET", "/organizations/org_nothere/domains", token, "", nil, 404, "not_found", ""},
		{"unknown field in a domain", "POST", "/organizations/" + orgID + "/domains", token, `{"name":"target.example","verified":true}`, nil, 400, "invalid", "verified"},
		{"not a domain", "POST", "/organizations/" + orgID + "/domains", token, `{"name":"not a domain"}`, nil, 400, "invalid", ""},
		{"a public mail domain", "POST", "/organizations/" + orgID + "/domains", token, `{"name":"gmail.com"}`, nil, 400, "invalid", ""},
		{"a domain another organization claimed twice", "POST", "/organizations/" + otherOrg + "/domains", token, `{"name":"other.example"}`, nil, 409, "conflict", ""},
		{"unknown field in company sign-in", "PUT", "/organizations/" + orgID + "/sso", token, `{"issuer":"https://idp.example","client_id":"x","secret":"s"}`, nil, 400, "invalid", "secret"},
		{"company sign-in of a pending organization", "PUT", "/organizations/" + orgID + "/sso", token, ssoBody, nil, 409, "conflict", ""},
		{"company sign-in without a verified domain", "PUT", "/organizations/" + otherOrg + "/sso", token, ssoBody, nil, 409, "conflict", ""},
		{"company sign-in with an http issuer", "PUT", "/organizations/" + otherOrg + "/sso", token, `{"issuer":"http://idp.example","client_id":"x"}`, nil, 400, "invalid", ""},
		{"no company sign-in", "GET", "/organizations/" + orgID + "/sso", token, "", nil, 404, "not_found", ""},
		{"stale If-Match on a domain", "DELETE", "/organizations/" + otherOrg + "/domains/other.example", token, "", []string{"If-Match", `"stale"`}, 412, "stale", ""},
		{"If-Match on no company sign-in", "DELETE", "/organizations/" + otherOrg + "/sso", token, "", []string{"If-Match", `"stale"`}, 412, "stale", ""},
		{"stale If-Match on a member", "PATCH", "/organizations/" + orgID + "/members/usr_nothere", token, `{"roles":["user"]}`, []string{"If-Match", `"stale"`}, 404, "not_found", ""},
		{"wrong method on domains", "PUT", "/organizations/" + orgID + "/domains", token, "", nil, 405, "method", ""},
		{"wrong method on a user", "DELETE", "/users/usr_nothere", token, "", nil, 405, "method", ""},
		{"in French", "GET", "/organizations/org_nothere", token, "", []string{"Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5"}, 404, "not_found", ""},
		{"in English when asked first", "GET", "/organizations/org_nothere", token, "", []string{"Accept-Language", "de, en;q=0.8, fr;q=0.5"}, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.call(tc.method, tc.path, tc.token, tc.body, tc.header...)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			p := readProblem(t, resp, body)
			if p.Code != tc.code {
				t.Fatalf("code %q, want %q: %s", p.Code, tc.code, body)
			}
			if tc.param != "" && !strings.Contains(string(body), `"name":"`+tc.param) && !strings.Contains(string(body), "."+tc.param+`"`) {
				t.Fatalf("the problem does not name %q: %s", tc.param, body)
			}
			if want := allowOf[tc.name]; tc.status == 405 && resp.Header.Get("Allow") != want {
				t.Fatalf("405 with Allow %q, want %q", resp.Header.Get("Allow"), want)
			}
			if want, ok := titleOf[tc.name]; ok && (p.Title != want[0] || !strings.HasPrefix(p.Detail, want[1]) ||
				resp.Header.Get("Content-Language") != want[2] || p.Type != "urn:sesame:problem:not_found") {
				t.Fatalf("title %q, detail %q, Content-Language %q; want %q: %s", p.Title, p.Detail, resp.Header.Get("Content-Language"), want, body)
			}
			switch tc.status {
			case 401:
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("401 without a Bearer challenge: %v", resp.Header)
				}
			case 403:
				if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
					t.Fatalf("403 without insufficient_scope: %v", resp.Header)
				}
			}
		})
	}
	// The stale If-Match changed nothing.
	if resp, body := e.call("GET", "/organizations/"+orgID, token, ""); resp.Header.Get("ETag") != etag || !strings.Contains(string(body), `"pending"`) {
		t.Fatalf("after the refusals: %s", body)
	}
}

// allowOf is the Allow header a 405 of the table must carry (RFC 9110).
var allowOf = map[string]string{
	"wrong method":            "GET, POST",
	"wrong method on domains": "GET, POST",
	"wrong method on a user":  "GET",
}

// titleOf is the language of a problem by Accept-Language: title, the
// start of the detail, Content-Language (the type URI does not change).
var titleOf = map[string][3]string{
	"in French":                   {"Introuvable", "Cette page", "fr"},
	"in English when asked first": {"Not found", "", "en"},
	"unknown organization":        {"Not found", "", "en"},
}

// rotate gives a client a new secret through the API, as the back office
// would, and returns it.
func (e *apiEnv) rotate(id string) string {
	e.t.Helper()
	token := e.token("backoffice", e.secret)
	resp, body := e.call("POST", "/clients/"+id+"/rotate-secret", token, "")
	var out struct {
		Secret string `json:"client_secret"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || out.Secret == "" {
		e.t.Fatalf("rotate: %d %s", resp.StatusCode, body)
	}
	return out.Secret
}

// TestAPIIdempotencyKey: a retry with the same key and body answers the
// first result and makes nothing twice; the same key with another body is
// 422; another client's same key is its own.
func TestAPIIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	token := e.token("backoffice", e.secret)
	body := `{"name":"Once GmbH","country":"DE","founder_email":"once@once.example"}`
	first, b1 := e.call("POST", "/organizations", token, body, "Idempotency-Key", "k-1")
	again, b2 := e.call("POST", "/organizations", token, body, "Idempotency-Key", "k-1")
	if first.StatusCode != 201 || again.StatusCode != 201 || string(b1) != string(b2) || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("ETag") != first.Header.Get("ETag") || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("retry: %d %s / %d %s %v", first.StatusCode, b1, again.StatusCode, b2, again.Header)
	}
	resp, list := e.call("GET", "/organizations?q=once", token, "")
	if n := strings.Count(string(list), `"Once GmbH"`); resp.StatusCode != 200 || n != 1 {
		t.Fatalf("%d organizations made by one key: %s", n, list)
	}
	if got := e.smtp.WaitFor(t, 1, 10*time.Second); len(e.smtp.To("once@once.example")) != 1 {
		t.Fatalf("the founder was mailed %d times: %v", len(e.smtp.To("once@once.example")), got)
	}
	other, ob := e.call("POST", "/organizations", token, strings.Replace(body, "Once", "Twice", 1), "Idempotency-Key", "k-1")
	if other.StatusCode != 422 || readProblem(t, other, ob).Code != "reused" {
		t.Fatalf("same key, another body: %d %s", other.StatusCode, ob)
	}
	// A refusal is a first answer too: kept, replayed.
	bad := `{"name":"X","country":"FR","founder_email":"f@x.example"}`
	r1, p1 := e.call("POST", "/organizations", token, bad, "Idempotency-Key", "k-2")
	r2, p2 := e.call("POST", "/organizations", token, bad, "Idempotency-Key", "k-2")
	if r1.StatusCode != 400 || r2.StatusCode != 400 || string(p1) != string(p2) {
		t.Fatalf("a refused first request: %d %s / %d %s", r1.StatusCode, p1, r2.StatusCode, p2)
	}
	// Another client's key is its own.
	secret := e.addClient("second", vocab.ScopeOrganizationsWrite)
	r3, b3 := e.call("POST", "/organizations", e.token("second", secret), strings.Replace(body, "Once", "Second", 1), "Idempotency-Key", "k-1")
	if r3.StatusCode != 201 || string(b3) == string(b1) {
		t.Fatalf("another client's key: %d %s", r3.StatusCode, b3)
	}
}

// TestAPIRateLimit: past its requests per minute a client gets 429 with
// Retry-After, until the minute ends; another client is not counted.
func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, "SESAME_RATELIMIT_API_PER_CLIENT_PER_MINUTE=3")
	token := e.token("backoffice", e.secret)
	now := e.clock.Now()
	e.clock.Add(now.Truncate(time.Minute).Add(time.Minute + 5*time.Second).Sub(now)) // 5 s into a minute
	for i := range 3 {
		if resp, body := e.call("GET", "/organizations", token, ""); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body := e.call("GET", "/organizations", token, "")
	if resp.StatusCode != 429 || readProblem(t, resp, body).Code != "too_many" || resp.Header.Get("Retry-After") != "56" {
		t.Fatalf("over the limit: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	other := e.token("reader", e.addClient("reader", vocab.ScopeOrganizationsRead))
	if resp, body := e.call("GET", "/organizations", other, ""); resp.StatusCode != 200 {
		t.Fatalf("another client: %d %s", resp.StatusCode, body)
	}
	e.clock.Add(time.Minute)
	if resp, body := e.call("GET", "/organizations", token, ""); resp.StatusCode != 200 {
		t.Fatalf("the next minute: %d %s", resp.StatusCode, body)
	}
}
