package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestOpenIDClientDevice runs panva's openid-client v6 (the same locked
// install as TestOpenIDClient) doing the device authorization grant with
// node --test against this Sesame: initiateDeviceAuthorization, the
// person's answer on the device page, pollDeviceAuthorizationGrant. The
// person's browser is this test's: an HTTP client that opens
// verification_uri_complete, signs in through the gate (the page sends it
// to the sign-in and back), confirms the code and approves or denies.
func TestOpenIDClientDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("openid-client (node, npm ci) is a process test: skipped under -short")
	}
	node, npm := nodeTools(t)
	t.Parallel()
	e := newEnv(t)
	f := fixture{clientID: "node-device", email: "alice@acme.example", pw: testPassword, issuer: e.issuer}
	e.mustCLI("", "client", "add", "--id", f.clientID, "--name", "Outil CLI", "--public", "--grant", "device_code")
	e.person(&f)

	browser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, msg := approveDevice(e, f, r.URL.Query().Get("url"), r.URL.Query().Get("decision"))
		if status != http.StatusOK {
			http.Error(w, msg, http.StatusBadGateway)
			return
		}
		w.Write([]byte(msg))
	}))
	defer browser.Close()

	// The library waits the polling interval with the real clock.
	e.runOpenIDClient(node, npm, "device.test.mjs", 4, "SESAME_CLIENT_ID="+f.clientID, "SESAME_BROWSER="+browser.URL, "SESAME_EMAIL="+f.email)
}

// approveDevice is the person at their browser: it opens the verification
// link, signs in when sent to, confirms the code and answers (approve or
// deny). It returns 200 and the last page's path, or what went wrong.
func approveDevice(e *testEnv, f fixture, link, decision string) (int, string) {
	b := e.browser()
	resp, body := b.get(link)
	if resp.Request.URL.Path == "/login" {
		resp, body = b.post(e.issuer+"/login", url.Values{"csrf_token": {field(csrfRe, body)}, "email": {f.email}, "password": {f.pw},
			"next": {resp.Request.URL.Query().Get("next")}})
	}
	if resp.Request.URL.Path != "/device" || resp.StatusCode != http.StatusOK {
		return http.StatusBadGateway, "not on the device page: " + resp.Request.URL.String() + " " + body
	}
	code := field(userCodeRe, body)
	resp, body = b.post(e.issuer+"/device", url.Values{"csrf_token": {field(csrfRe, body)}, "user_code": {code}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="decision"`) {
		return http.StatusBadGateway, "no confirmation: " + body
	}
	resp, body = b.post(e.issuer+"/device/decide", url.Values{"csrf_token": {field(csrfRe, body)}, "user_code": {field(userCodeRe, body)},
		"decision": {decision}})
	if resp.StatusCode != http.StatusOK {
		return http.StatusBadGateway, "the answer: " + body
	}
	return http.StatusOK, resp.Request.URL.Path
}

var userCodeRe = regexp.MustCompile(`name="user_code" value="([^"]*)"`)
