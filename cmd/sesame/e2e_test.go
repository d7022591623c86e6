package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	idp "github.com/sesame-idp/sesame/provider"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// orgClaims is what relying parties read about the organization.
type orgClaims struct {
	Subject   string   `json:"sub"`
	Email     string   `json:"email"`
	Verified  bool     `json:"email_verified"`
	Name      string   `json:"name"`
	OrgID     string   `json:"org_id"`
	OrgName   string   `json:"org_name"`
	OrgRoles  []string `json:"org_roles"`
	OrgStatus string   `json:"org_status"`
	OrgSIRET  string   `json:"org_siret"`
	AMR       []string `json:"amr"`
	ACR       string   `json:"acr"`
	AuthTime  int64    `json:"auth_time"`
	SID       string   `json:"sid"`
	Nonce     string   `json:"nonce"`
}

func (e *testEnv) relyingParty(f fixture, nonce string, algs ...string) rp.RelyingParty {
	e.t.Helper()
	opts := []rp.VerifierOption{rp.WithNonce(func(context.Context) string { return nonce })}
	if len(algs) > 0 {
		opts = append(opts, rp.WithSupportedSigningAlgorithms(algs...))
	}
	party, err := rp.NewRelyingPartyOIDC(context.Background(), e.issuer, f.clientID, f.secret, f.redirect,
		[]string{"openid", "email", "profile", "organization", "offline_access"}, rp.WithVerifierOpts(opts...), rp.WithHTTPClient(testClient))
	if err != nil {
		e.t.Fatal(err)
	}
	return party
}

func TestCodeFlowWithOrganizationClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	b := e.browser()
	verifier, challenge := pkce()
	code := b.signIn(f, challenge, nil)

	// The zitadel/oidc relying party checks signature, issuer, audience, expiry, nonce and at_hash.
	party := e.relyingParty(f, "n-marketplace")
	tokens := exchange(t, party, code, verifier)
	if tokens.RefreshToken == "" || tokens.AccessToken == "" {
		t.Fatal("missing access or refresh token")
	}
	c := tokens.IDTokenClaims
	if c.Subject != f.userID || c.AuthTime == 0 || !slices.Equal(c.AuthenticationMethodsReferences, []string{"pwd"}) ||
		c.AuthenticationContextClassReference != "urn:sesame:loa:1" {
		t.Fatalf("ID token claims: %+v", c)
	}

	// go-oidc, independently, verifies the same ID token.
	provider, err := gooidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&gooidc.Config{ClientID: f.clientID}).Verify(context.Background(), tokens.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	var claims orgClaims
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	want := orgClaims{Subject: f.userID, Email: f.email, Verified: true, Name: "Alice Martin", OrgID: f.orgID, OrgName: "ACME",
		OrgRoles: []string{"admin", "user"}, OrgStatus: "pending", OrgSIRET: "73282932000074", AMR: []string{"pwd"},
		ACR: "urn:sesame:loa:1", AuthTime: claims.AuthTime, SID: claims.SID, Nonce: "n-marketplace"}
	if !equalClaims(claims, want) || !strings.HasPrefix(claims.SID, "ses_") {
		t.Fatalf("ID token claims:\n got %+v\nwant %+v", claims, want)
	}

	// Userinfo carries the same organization claims, and the current status.
	e.mustCLI("", "org", "validate", f.orgID)
	info, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", f.userID, party)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(info)
	var ui orgClaims
	json.Unmarshal(raw, &ui)
	if ui.OrgID != f.orgID || ui.OrgStatus != "validated" || !slices.Equal(ui.OrgRoles, []string{"admin", "user"}) ||
		ui.OrgSIRET != "73282932000074" || ui.Email != f.email || ui.Name != "Alice Martin" {
		t.Fatalf("userinfo: %s", raw)
	}
}

// TestLoginPOSTAnswersTheRelyingParty: the password form's response is the
// redirect to the relying party itself, with the code, the state and the
// issuer (RFC 9207, which discovery announces), and not a hop through the
// callback: one round trip less for the person signing in.
func TestLoginPOSTAnswersTheRelyingParty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	b := e.browser()
	// The form's POST is not followed, so that a hop through the callback
	// would show; the authorize → form redirect is.
	b.client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if via[len(via)-1].Method == http.MethodPost {
			return http.ErrUseLastResponse
		}
		return nil
	}
	verifier, challenge := pkce()
	resp, _ := b.submitLogin(f, challenge, nil)
	q := rpRedirect(t, resp, f)
	if q.Get("code") == "" || q.Get("state") != "st-marketplace" {
		t.Fatalf("answer: %v", q)
	}
	if !slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Value != "" && c.MaxAge >= 0 }) {
		t.Fatal("the answer does not set the session cookie")
	}
	tokens := exchange(t, e.relyingParty(f, "n-marketplace"), q.Get("code"), verifier)
	if tokens.IDTokenClaims.Subject != f.userID {
		t.Fatalf("subject %q", tokens.IDTokenClaims.Subject)
	}
	_, raw := b.get(e.issuer + "/.well-known/openid-configuration")
	var disc map[string]any
	json.Unmarshal([]byte(raw), &disc)
	if disc["authorization_response_iss_parameter_supported"] != true || disc["issuer"] != e.issuer ||
		!slices.Contains(disc["response_modes_supported"].([]any), any("form_post")) {
		t.Fatalf("discovery: %v", disc)
	}
}

// TestFormPostAnswer: response_mode=form_post gets Sesame's own page, which
// posts the code, state and issuer to the redirect URI by a script its
// policy allows by nonce, or by a button; refusals are posted the same way,
// whether the login screens made them (prompt=none, no session) or
// /authorize did (the library's prompt check, our PKCE check).
func TestFormPostAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	verifier, challenge := pkce()
	hidden := regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	refusal := []string{"error", "iss", "state"}
	for _, tc := range []struct {
		name       string
		extra      url.Values
		signIn     bool
		wantFields []string
		wantError  string
	}{
		{"code", url.Values{"response_mode": {"form_post"}}, true, []string{"code", "iss", "state"}, ""},
		{"refusal by the screens", url.Values{"response_mode": {"form_post"}, "prompt": {"none"}}, false, refusal, "login_required"},
		{"refusal by the library", url.Values{"response_mode": {"form_post"}, "prompt": {"none login"}}, false, refusal, "invalid_request"},
		{"refusal by the PKCE check", url.Values{"response_mode": {"form_post"}, "code_challenge": {"short"}}, false, refusal, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			var resp *http.Response
			var body string
			if tc.signIn {
				resp, body = b.submitLogin(f, challenge, tc.extra)
			} else {
				resp, body = b.get(e.authorizeURL(f, challenge, tc.extra))
			}
			nonce := regexp.MustCompile(`script-src 'self' 'nonce-([A-Za-z0-9_-]+)'`).FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
			if resp.StatusCode != http.StatusOK || nonce == nil ||
				!strings.Contains(body, `<form method="post" action="`+f.redirect+`">`) ||
				!strings.Contains(body, `<script nonce="`+nonce[1]+`">document.forms[0].submit()</script>`) ||
				!strings.Contains(body, `<button type="submit">Continuer vers l&#39;application</button>`) {
				t.Fatalf("%d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
			}
			fields := url.Values{}
			var names []string
			for _, m := range hidden.FindAllStringSubmatch(body, -1) {
				fields.Set(m[1], html.UnescapeString(m[2]))
				if m[1] != "error_description" {
					names = append(names, m[1])
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.wantFields) || fields.Get("state") != "st-marketplace" || fields.Get("iss") != e.issuer {
				t.Fatalf("fields %v", fields)
			}
			if tc.signIn {
				tokens := exchange(t, e.relyingParty(f, "n-marketplace"), fields.Get("code"), verifier)
				if tokens.IDTokenClaims.Subject != f.userID {
					t.Fatalf("subject %q", tokens.IDTokenClaims.Subject)
				}
			} else if fields.Get("error") != tc.wantError {
				t.Fatalf("error %q, want %s", fields.Get("error"), tc.wantError)
			}
		})
	}
}

// exchange redeems a code through the zitadel/oidc relying party, which
// verifies the ID token (signature, issuer, audience, expiry, nonce, at_hash).
func exchange(t *testing.T, party rp.RelyingParty, code, verifier string) *oidc.Tokens[*oidc.IDTokenClaims] {
	t.Helper()
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), code, party, rp.WithCodeVerifier(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func equalClaims(a, b orgClaims) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestClientChoosesES256AndAbroadOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("es-app", "--id-token-signed-response-alg", "ES256")
	org := e.mustCLI("", "org", "create", "--name", "Müller GmbH", "--country", "de", "--validated")
	f.email = "hans@mueller.example"
	f.userID = e.mustCLI(f.pw+"\n", "user", "add", "--email", f.email, "--org", org, "--password-stdin")
	verifier, challenge := pkce()
	code := e.browser().signIn(f, challenge, nil)
	party := e.relyingParty(f, "n-es-app", "ES256")
	tokens := exchange(t, party, code, verifier)
	provider, _ := gooidc.NewProvider(context.Background(), e.issuer)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: f.clientID, SupportedSigningAlgs: []string{"ES256"}}).Verify(context.Background(), tokens.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	if claims["org_status"] != "validated" || claims["org_name"] != "Müller GmbH" || claims["org_siret"] != nil {
		t.Fatalf("claims: %v", claims)
	}
	if roles, _ := claims["org_roles"].([]any); len(roles) != 1 || roles[0] != "user" {
		t.Fatalf("roles: %v", claims["org_roles"])
	}
}

// A client registered for EdDSA gets Ed25519-signed ID tokens, at the code
// exchange and at every refresh, that both relying-party libraries verify
// against the published key set (an OKP key); discovery lists the three
// algorithms.
func TestClientChoosesEdDSA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("ed-app", "--id-token-signed-response-alg", "EdDSA")
	e.person(&f)
	verifier, challenge := pkce()
	code := e.browser().signIn(f, challenge, nil)
	party := e.relyingParty(f, "n-ed-app", "EdDSA")
	tokens := exchange(t, party, code, verifier)
	provider, err := gooidc.NewProvider(context.Background(), e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&disc); err != nil || !slices.Equal(disc.Algs, []string{"RS256", "ES256", "EdDSA"}) {
		t.Fatalf("discovery algorithms: %v %v", disc.Algs, err)
	}
	verify := provider.Verifier(&gooidc.Config{ClientID: f.clientID, SupportedSigningAlgs: []string{"EdDSA"}})
	// At a refresh there is no nonce to expect (the refreshed ID token has
	// none), as a relying party's nonce function returns outside a sign-in.
	refresher := e.relyingParty(f, "", "EdDSA")
	for i, raw := range []string{tokens.IDToken, refreshedIDToken(t, refresher, tokens.RefreshToken)} {
		if _, err := verify.Verify(context.Background(), raw); err != nil {
			t.Fatalf("ID token %d: %v", i, err)
		}
		hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		if !strings.Contains(string(hdr), `"alg":"EdDSA"`) {
			t.Fatalf("ID token %d header: %s", i, hdr)
		}
	}
}

// refreshedIDToken refreshes through the relying-party library, which
// verifies the new ID token, and returns it.
func refreshedIDToken(t *testing.T, party rp.RelyingParty, refresh string) string {
	t.Helper()
	tokens, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), party, refresh, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return tokens.IDToken
}

func TestTokenResponseHeadersAndPublicClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pub := fixture{clientID: "spa2", redirect: "http://127.0.0.1:1/spa2/cb", email: "alice@acme.example", pw: testPassword}
	e.mustCLI("", "client", "add", "--id", "spa2", "--public", "--redirect-uri", pub.redirect)
	e.person(&pub)
	verifier, challenge := pkce()
	code := e.browser().signIn(pub, challenge, nil)
	status, body, h := e.tokenRequest(pub, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {pub.redirect}, "client_id": {"spa2"}, "code_verifier": {verifier}})
	if status != 200 || body["access_token"] == nil || body["id_token"] == nil {
		t.Fatalf("public client exchange: %d %v", status, body)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
		t.Fatalf("token response cache headers: %v", h)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	verifier, challenge := pkce()
	code := e.browser().signIn(f, challenge, nil)
	party := e.relyingParty(f, "n-marketplace")
	tokens := exchange(t, party, code, verifier)
	first := tokens.RefreshToken
	// ID tokens from a refresh carry no nonce (OpenID Connect Core §12.2).
	refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), e.relyingParty(f, ""), first, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == first {
		t.Fatal("refresh token not rotated")
	}
	if refreshed.IDTokenClaims.Subject != f.userID || refreshed.IDTokenClaims.AuthTime != tokens.IDTokenClaims.AuthTime {
		t.Fatalf("refreshed ID token: %+v", refreshed.IDTokenClaims)
	}
	second := refreshed.RefreshToken
	// Reusing the first token is refused and revokes the family: the second dies too.
	status, body, _ := e.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %v", status, body)
	}
	status, body, _ = e.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("family not revoked: %d %v", status, body)
	}
	// The access token of the family is revoked as well.
	if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), refreshed.AccessToken, "Bearer", f.userID, party); err == nil {
		t.Fatal("access token of a revoked family still works")
	}
	// A refresh token of another client is refused.
	other := e.fixture("other")
	status, body, _ = e.tokenRequest(other, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("cross-client refresh: %d %v", status, body)
	}
}

func TestRevocationIntrospectionAndUserinfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	other := e.fixture("other")
	verifier, challenge := pkce()
	code := e.browser().signIn(f, challenge, nil)
	party := e.relyingParty(f, "n-marketplace")
	tokens := exchange(t, party, code, verifier)
	introspect := func(c fixture, token string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.clientID, c.secret)
		status, body, h := doJSON(t, req)
		if status != 200 || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("introspect: %d %v %v", status, body, h)
		}
		return body
	}
	got := introspect(f, tokens.AccessToken)
	if got["active"] != true || got["sub"] != f.userID || got["client_id"] != f.clientID || got["org_id"] != f.orgID {
		t.Fatalf("introspect access token: %v", got)
	}
	if got := introspect(f, tokens.RefreshToken); got["active"] != true || got["token_type"] != "refresh_token" {
		t.Fatalf("introspect refresh token: %v", got)
	}
	if got := introspect(other, tokens.AccessToken); got["active"] != false {
		t.Fatalf("another client sees the token: %v", got)
	}
	if got := introspect(f, "garbage"); got["active"] != false {
		t.Fatalf("garbage active: %v", got)
	}

	// Userinfo without a token: 401 with a Bearer challenge.
	req, _ := http.NewRequest(http.MethodGet, e.issuer+"/userinfo", nil)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("userinfo without token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	req.Header.Set("Authorization", "Bearer not-a-token")
	resp, _ = testClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("userinfo with a bad token: %d", resp.StatusCode)
	}

	// Revoking the access token (RFC 7009) ends userinfo and introspection for it.
	if err := rp.RevokeToken(context.Background(), party, tokens.AccessToken, "access_token"); err != nil {
		t.Fatal(err)
	}
	if got := introspect(f, tokens.AccessToken); got["active"] != false {
		t.Fatalf("revoked token active: %v", got)
	}
	// Revoking the refresh token ends the grant.
	if err := rp.RevokeToken(context.Background(), party, tokens.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	status, body, _ := e.tokenRequest(f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("revoked refresh token: %d %v", status, body)
	}
	// An unknown token is revoked all the same (200), per RFC 7009 §2.2.
	if err := rp.RevokeToken(context.Background(), party, "unknown", ""); err != nil {
		t.Fatal(err)
	}
}

func TestSingleSignOnAndLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.fixture("marketplace")
	e.person(&a)
	bApp := e.fixture("billing")
	bApp.email, bApp.pw, bApp.userID = a.email, a.pw, a.userID
	br := e.browser()
	va, ca := pkce()
	codeA := br.signIn(a, ca, nil)
	ta := exchange(t, e.relyingParty(a, "n-marketplace"), codeA, va)

	// The second application gets a code without the form.
	vb, cb := pkce()
	resp, _ := br.get(e.authorizeURL(bApp, cb, nil))
	q := rpRedirect(t, resp, bApp)
	if q.Get("code") == "" {
		t.Fatalf("SSO: %v", q)
	}
	partyB := e.relyingParty(bApp, "n-billing")
	tb := exchange(t, partyB, q.Get("code"), vb)
	if tb.IDTokenClaims.Subject != a.userID || tb.IDTokenClaims.AuthTime != ta.IDTokenClaims.AuthTime {
		t.Fatal("SSO token differs in subject or auth_time")
	}
	sidA, sidB := ta.IDTokenClaims.Claims["sid"], tb.IDTokenClaims.Claims["sid"]
	if sidA == nil || sidA != sidB {
		t.Fatalf("sid %v vs %v", sidA, sidB)
	}

	// prompt=login shows the form even with a session; max_age=0 too.
	for _, extra := range []url.Values{{"prompt": {"login"}}, {"max_age": {"0"}}} {
		_, c := pkce()
		resp, body := br.get(e.authorizeURL(bApp, c, extra))
		if resp.StatusCode != 200 || field(arIDRe, body) == "" {
			t.Fatalf("%v: want the form, got %d", extra, resp.StatusCode)
		}
	}
	// max_age satisfied: no form.
	_, c := pkce()
	resp, _ = br.get(e.authorizeURL(bApp, c, url.Values{"max_age": {"3600"}}))
	if rpRedirect(t, resp, bApp).Get("code") == "" {
		t.Fatal("max_age=3600 should not ask again")
	}

	// RP-initiated logout with id_token_hint and a registered post-logout URI.
	logout := e.issuer + "/end_session?" + url.Values{"id_token_hint": {tb.IDToken},
		"post_logout_redirect_uri": {"http://127.0.0.1:1/billing/bye"}, "state": {"bye"}}.Encode()
	resp, _ = br.get(logout)
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || loc != "http://127.0.0.1:1/billing/bye?state=bye" {
		t.Fatalf("logout redirect: %d %q", resp.StatusCode, loc)
	}
	// Both applications' tokens issued in the session are revoked...
	if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), ta.AccessToken, "Bearer", a.userID, e.relyingParty(a, "")); err == nil {
		t.Fatal("the first application's token survived logout")
	}
	status, body, _ := e.tokenRequest(bApp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tb.RefreshToken}})
	if status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after logout: %d %v", status, body)
	}
	// ...and both applications now see the form.
	for _, f := range []fixture{a, bApp} {
		_, c := pkce()
		resp, body := br.get(e.authorizeURL(f, c, nil))
		if resp.StatusCode != 200 || field(arIDRe, body) == "" {
			t.Fatalf("%s after logout: want the form, got %d", f.clientID, resp.StatusCode)
		}
	}
	// prompt=none without a session answers login_required to the application.
	_, c = pkce()
	resp, _ = br.get(e.authorizeURL(a, c, url.Values{"prompt": {"none"}}))
	if q := rpRedirect(t, resp, a); q.Get("error") != "login_required" || q.Get("state") != "st-marketplace" {
		t.Fatalf("prompt=none: %v", q)
	}
	// An unregistered post_logout_redirect_uri is not followed.
	resp, _ = br.get(e.issuer + "/end_session?" + url.Values{"client_id": {"billing"},
		"post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
	if strings.Contains(resp.Header.Get("Location"), "evil") {
		t.Fatal("open redirect through end_session")
	}
}

func TestLoginHintAndLocales(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	br := e.browser()
	_, c := pkce()
	_, body := br.get(e.authorizeURL(f, c, url.Values{"login_hint": {"bob@example.com"}, "ui_locales": {"en"}}))
	if field(emailRe, body) != "bob@example.com" || !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Sign in") {
		t.Fatalf("login_hint or ui_locales ignored: %.500s", body)
	}
	// ui_locales is remembered for the browser session (issue 19): the
	// same browser's next sign-in keeps English.
	if _, body = br.get(e.authorizeURL(f, c, nil)); !strings.Contains(body, `lang="en"`) {
		t.Fatalf("ui_locales of this browser session forgotten: %.500s", body)
	}
	br = e.browser()
	_, body = br.get(e.authorizeURL(f, c, nil))
	if !strings.Contains(body, `lang="fr"`) || !strings.Contains(body, "Connexion") || !strings.Contains(body, "App marketplace") {
		t.Fatalf("French by default: %.500s", body)
	}
	br.lang = "en-GB,en;q=0.8"
	_, body = br.get(e.authorizeURL(f, c, nil))
	if !strings.Contains(body, `lang="en"`) {
		t.Fatal("Accept-Language ignored")
	}
}

func TestWrongPasswordIsGenericAndCSRFIsChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	br := e.browser()
	_, c := pkce()
	_, body := br.get(e.authorizeURL(f, c, nil))
	csrf, ar := field(csrfRe, body), field(arIDRe, body)
	var pages []string
	for _, cred := range [][2]string{{f.email, "wrong-password-123"}, {"nobody@acme.example", "wrong-password-123"}} {
		resp, body := br.post(e.issuer+"/login", url.Values{"csrf_token": {csrf}, "authRequestID": {ar}, "email": {cred[0]}, "password": {cred[1]}})
		if resp.StatusCode != 401 || !strings.Contains(body, "Adresse e-mail ou mot de passe incorrect.") || field(emailRe, body) != cred[0] {
			t.Fatalf("%s: %d %.400s", cred[0], resp.StatusCode, body)
		}
		pages = append(pages, strings.ReplaceAll(body, cred[0], "EMAIL"))
	}
	if pages[0] != pages[1] {
		t.Fatal("known and unknown emails get different pages")
	}
	// Without the CSRF token: 403, nothing signed in.
	resp, _ := br.post(e.issuer+"/login", url.Values{"authRequestID": {ar}, "email": {f.email}, "password": {f.pw}})
	if resp.StatusCode != 403 {
		t.Fatalf("missing CSRF token: %d", resp.StatusCode)
	}
	// A cross-site POST is refused by origin, even with a token.
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/login", strings.NewReader(url.Values{"csrf_token": {csrf}, "authRequestID": {ar},
		"email": {f.email}, "password": {f.pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, _ = br.do(req)
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site POST: %d", resp.StatusCode)
	}
	// The session id changes at sign-in (no fixation): a planted cookie is replaced.
	u, _ := url.Parse(e.issuer)
	br.client.Jar.SetCookies(u, []*http.Cookie{{Name: "sesame_session", Value: "planted", Path: "/"}})
	resp, _ = br.post(e.issuer+"/login", url.Values{"csrf_token": {csrf}, "authRequestID": {ar}, "email": {f.email}, "password": {f.pw}})
	rpRedirect(t, resp, f)
	for _, ck := range br.client.Jar.Cookies(u) {
		if ck.Name == "sesame_session" && ck.Value == "planted" {
			t.Fatal("session cookie not replaced at sign-in")
		}
	}
}

func TestSecurityHeadersOnPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/login", "/logged-out", "/nope"} {
		resp, err := testClient.Get(e.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") == "" || h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	resp, _ := testClient.Get(e.issuer + "/login")
	for _, c := range resp.Cookies() {
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: HttpOnly %v SameSite %v", c.Name, c.HttpOnly, c.SameSite)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture("marketplace")
	e.person(&f)
	jwks := func() []string {
		resp, err := testClient.Get(e.issuer + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		json.NewDecoder(resp.Body).Decode(&set)
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.Kid)
		}
		return out
	}
	before := jwks()
	if len(before) != 3 {
		t.Fatalf("want an RS256, an ES256 and an EdDSA key, got %v", before)
	}
	created := strings.Fields(e.mustCLI("", "keys", "rotate"))
	if len(created) != 3 {
		t.Fatalf("keys rotate printed %v", created)
	}
	e.clock.Add(11 * time.Second) // past keys.cache_refresh: the server re-reads
	after := jwks()
	for _, k := range append(before, created...) {
		if !slices.Contains(after, k) {
			t.Fatalf("key %s missing after rotation: %v", k, after)
		}
	}
	verifier, challenge := pkce()
	code := e.browser().signIn(f, challenge, nil)
	tokens := exchange(t, e.relyingParty(f, "n-marketplace"), code, verifier)
	if kid := tokens.IDTokenClaims.SignatureAlg; kid != "RS256" {
		t.Fatalf("alg %s", kid)
	}
	header := strings.Split(tokens.IDToken, ".")[0]
	if !strings.Contains(decodeSegment(header), created[0]) {
		t.Fatalf("new ID tokens are not signed by the new key %s: %s", created[0], decodeSegment(header))
	}
	list := e.mustCLI("", "keys", "list")
	if !strings.Contains(list, "retired, published until") || !strings.Contains(list, created[0]) {
		t.Fatalf("keys list:\n%s", list)
	}
	// Past the publication window, the retired keys leave the set.
	e.clock.Add(3 * time.Hour)
	if got := jwks(); len(got) != len(idp.Algorithms) || !slices.Contains(got, created[0]) {
		t.Fatalf("after the window: %v", got)
	}
}

func TestDiscoveryAndKeysAreCachedWithETags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	get := func(path, etag string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		io.Copy(b, resp.Body)
		return resp, b.String()
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		resp, body := get(path, "")
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || etag == "" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public") || !json.Valid([]byte(body)) {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
		if resp, _ := get(path, etag); resp.StatusCode != http.StatusNotModified {
			t.Fatalf("%s with its ETag: %d", path, resp.StatusCode)
		}
	}
	resp, _ := get("/keys", "")
	before := resp.Header.Get("ETag")
	e.mustCLI("", "keys", "rotate")
	e.clock.Add(11 * time.Second)
	resp, body := get("/keys", before)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == before || strings.Count(body, `"kid"`) != 2*len(idp.Algorithms) {
		t.Fatalf("after a rotation: %d, ETag %q, %d keys", resp.StatusCode, resp.Header.Get("ETag"), strings.Count(body, `"kid"`))
	}
}
