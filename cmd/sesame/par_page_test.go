package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPushedRequestErrorPage: a request_uri that is unknown, used or
// another client's is the error page a person reads, in French by
// default and in English by Accept-Language, never a redirect.
func TestPushedRequestErrorPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	push := func() string {
		_, challenge := pkce()
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/par", strings.NewReader(url.Values{"response_type": {"code"},
			"redirect_uri": {f.redirect}, "scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(f.clientID, f.secret)
		status, body, _ := doJSON(t, req)
		if status != http.StatusCreated {
			t.Fatalf("PAR: %d %v", status, body)
		}
		return body["request_uri"].(string)
	}
	uri := push()
	authorize := e.issuer + "/authorize?" + url.Values{"client_id": {f.clientID}, "request_uri": {uri}}.Encode()
	b := e.browser()
	if resp, body := b.get(authorize); resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="authRequestID"`) {
		t.Fatalf("first use: %d %.200s", resp.StatusCode, body)
	}
	for _, tc := range []struct{ lang, want string }{
		{"", "Cette demande de connexion a expiré ou a déjà servi."},
		{"en", "This sign-in request has expired or was already used."},
	} {
		b := e.browser()
		b.lang = tc.lang
		resp, body := b.get(authorize)
		if resp.StatusCode/100 != 4 || resp.Request.URL.Path != "/authorize" || !strings.Contains(body, tc.want) {
			t.Fatalf("reused request_uri (%q): %d %s %.300s", tc.lang, resp.StatusCode, resp.Request.URL, body)
		}
	}
}

// journeyPushedRequestErrorPage: the same page on a phone.
func journeyPushedRequestErrorPage(t *testing.T) {
	ctx := chromium(t, "fr-FR")
	e := newEnv(t)
	authorize := e.issuer + "/authorize?" + url.Values{"client_id": {"marketplace"}, "request_uri": {"urn:ietf:params:oauth:request_uri:used"}}.Encode()
	e.fixture("marketplace")
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(authorize),
		chromedp.WaitVisible(`//*[contains(normalize-space(), "a expiré ou a déjà servi")]`))
	if width := get(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Fatalf("the page scrolls sideways on a phone: %dpx wide", width)
	}
	artifact(t, "par-request-uri-fr-phone.png", get(t, ctx, chromedp.CaptureScreenshot()))
}
