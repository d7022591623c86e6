package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-idp/sesame/internal/testclock"
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlite"
)

const (
	fapiIssuer   = "https://id.example.com"
	fapiRedirect = "https://rp.example/cb"
	fapiSecret   = "fapi-client-secret-0123456789abcdef"
)

// Keys generated once for the whole package's tests (RSA is slow).
var fapiKeys = sync.OnceValue(func() (k struct {
	client, stranger *rsa.PrivateKey
	ec, ec2          *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
}) {
	k.client, _ = rsa.GenerateKey(rand.Reader, 2048)
	k.stranger, _ = rsa.GenerateKey(rand.Reader, 2048)
	k.ec, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k.ec2, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, k.ed, _ = ed25519.GenerateKey(rand.Reader)
	return k
})

// fapiEnv is a provider over a real SQLite file with a moved clock and
// the clients of the protocol's extensions:
//   - conf, other: confidential, client_secret_basic;
//   - pkjwt: private_key_jwt with a registered JWK set (RSA k1, EC k2,
//     Ed25519 k3), --require-par;
//   - pkjwturi: private_key_jwt with a jwks_uri;
//   - pub: public; dpop: confidential, --require-dpop.
type fapiEnv struct {
	p      *Provider
	db     *sqlite.DB
	clock  *testclock.Clock
	userID string
	jwks   *httptest.Server
}

func newFAPI(t testing.TB, adjust ...func(*Options)) *fapiEnv {
	t.Helper()
	ctx := context.Background()
	db, master, keys := newTestStore(t)
	clock := testclock.New(time.Now().Truncate(time.Second))
	now := clock.Now()
	k := fapiKeys()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.client.PublicKey, KeyID: "k1", Use: "sig"},
		{Key: &k.ec.PublicKey, KeyID: "k2"},
		{Key: k.ed.Public(), KeyID: "k3"}}}
	rawSet, _ := json.Marshal(set)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(rawSet)
	}))
	t.Cleanup(jwks.Close)
	hash, _ := HashClientSecret(master, fapiSecret)
	for _, c := range []storage.Client{
		{ID: "conf", SecretHash: hash},
		{ID: "other", SecretHash: hash},
		{ID: "pkjwt", Protocol: storage.ClientProtocol{AuthMethod: AuthPrivateKeyJWT, JWKS: string(rawSet), RequirePAR: true}},
		{ID: "pkjwturi", Protocol: storage.ClientProtocol{AuthMethod: AuthPrivateKeyJWT, JWKSURI: jwks.URL}},
		{ID: "pub", Public: true, Protocol: storage.ClientProtocol{AllowedOrigins: []string{"https://app.example"}}},
		{ID: "dpop", SecretHash: hash, Protocol: storage.ClientProtocol{RequireDPoP: true}},
		{ID: "api", SecretHash: hash, Protocol: storage.ClientProtocol{AccessTokenFormat: AccessTokenJWT, Resource: "https://api.example"}},
	} {
		c.RedirectURIs, c.CreatedAt, c.Name = []string{fapiRedirect}, now, "App "+c.ID
		if err := db.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	u := storage.User{ID: storage.NewID("usr"), Email: "ada@acme.example", Name: "Ada", CreatedAt: now}
	if err := db.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	o := Options{Issuer: fapiIssuer, Store: db, Keys: keys, Secrets: nil, MasterKey: master, Now: clock.Now,
		Lifetimes: Lifetimes{AuthRequest: time.Hour, Code: time.Minute, AccessToken: time.Hour, IDToken: time.Hour, RefreshToken: 24 * time.Hour},
		Screens:   noScreens{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HTTPClient: jwks.Client()}
	for _, f := range adjust {
		f(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &fapiEnv{p: p, db: db, clock: clock, userID: u.ID, jwks: jwks}
}

// answer is a response of the provider.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) str(name string) string { s, _ := a.body[name].(string); return s }

func (a answer) String() string { return fmt.Sprintf("%d %v", a.status, a.body) }

// send serves req, with its form parsed first as the server's Forms
// middleware does.
func (e *fapiEnv) send(req *http.Request) answer {
	req.ParseForm()
	w := httptest.NewRecorder()
	e.p.ServeHTTP(w, req)
	out := answer{status: w.Code, header: w.Header()}
	json.Unmarshal(w.Body.Bytes(), &out.body)
	return out
}

// post posts form to path; auth is "" (none), "basic:ID" (the secret) or
// a header to set, as "Name: value".
func (e *fapiEnv) post(path string, form url.Values, basicID string, headers ...string) answer {
	req := httptest.NewRequest(http.MethodPost, fapiIssuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(basicID, fapiSecret)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Add(name, value)
	}
	return e.send(req)
}

// grant stores a finished authorization request of client with a code,
// as the login screens and the callback leave it; it returns the code and
// its PKCE verifier.
func (e *fapiEnv) grant(t testing.TB, clientID string, scopes ...string) (code, verifier string) {
	t.Helper()
	verifier = storage.NewSecret() + "0123456789"
	sum := sha256.Sum256([]byte(verifier))
	code = "code-" + storage.NewSecret()
	now := e.clock.Now()
	if len(scopes) == 0 {
		scopes = []string{"openid", "email", "offline_access"}
	}
	err := e.db.CreateAuthRequest(context.Background(), storage.AuthRequest{ID: storage.NewID("ar"), ClientID: clientID,
		RedirectURI: fapiRedirect, Scopes: scopes, ResponseType: "code", CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
		CodeChallengeMethod: "S256", CreatedAt: now, ExpiresAt: now.Add(time.Hour), UserID: e.userID, SessionID: "ses_1", AuthTime: now,
		AMR: []string{"pwd"}, Done: true, CodeHash: storage.HashToken(code), CodeExpiry: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return code, verifier
}

func codeForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {fapiRedirect}, "code_verifier": {verifier}}
}

// sign makes a compact JWS of claims with key (kid may be "").
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid, typ string, embed bool, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType(jose.ContentType(typ))
	sk := jose.SigningKey{Algorithm: alg, Key: key}
	if kid != "" {
		sk.Key = jose.JSONWebKey{Key: key, KeyID: kid}
	}
	signer, err := jose.NewSigner(sk, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertion is a private_key_jwt assertion of client, signed with the
// registered RSA key k1, with claims changed by edit.
func (e *fapiEnv) assertion(t testing.TB, client string, edit func(map[string]any)) string {
	now := e.clock.Now()
	claims := map[string]any{"iss": client, "sub": client, "aud": fapiIssuer, "jti": storage.NewSecret(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	if edit != nil {
		edit(claims)
	}
	return sign(t, jose.RS256, fapiKeys().client, "k1", "JWT", false, claims)
}

func assertionForm(form url.Values, a string) url.Values {
	out := url.Values{"client_assertion_type": {assertionType}, "client_assertion": {a}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

// proof is a DPoP proof by key for method and target, with claims changed
// by edit; token, when set, gives ath.
func (e *fapiEnv) proof(t testing.TB, key *ecdsa.PrivateKey, method, target, token string, edit func(map[string]any)) string {
	claims := map[string]any{"jti": storage.NewSecret(), "htm": method, "htu": target, "iat": e.clock.Now().Unix()}
	if token != "" {
		claims["ath"] = accessTokenHash(token)
	}
	if edit != nil {
		edit(claims)
	}
	return sign(t, jose.ES256, key, "", "dpop+jwt", true, claims)
}

func thumbprint(t testing.TB, key crypto.PublicKey) string {
	b, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// --- PAR ---

func parForm(clientID string) url.Values {
	sum := sha256.Sum256([]byte(strings.Repeat("v", 43)))
	return url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {fapiRedirect}, "scope": {"openid email"},
		"state": {"st-" + clientID}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
}

func (e *fapiEnv) authorize(query url.Values) answer {
	return e.send(httptest.NewRequest(http.MethodGet, fapiIssuer+PathAuthorize+"?"+query.Encode(), nil))
}

// TestPushedAuthorizationRequest: a pushed request is answered with a
// request_uri valid 60 s, and /authorize with it proceeds to the login
// screens with the pushed parameters only; the stored request is them.
func TestPushedAuthorizationRequest(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	a := e.post(PathPAR, parForm("conf"), "conf")
	if a.status != http.StatusCreated || !strings.HasPrefix(a.str("request_uri"), requestURIPrefix) || a.body["expires_in"] != float64(60) ||
		a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("PAR: %v", a)
	}
	// Parameters beside request_uri do not count (RFC 9126 §4).
	got := e.authorize(url.Values{"client_id": {"conf"}, "request_uri": {a.str("request_uri")}, "state": {"injected"},
		"redirect_uri": {"https://evil.example/cb"}})
	loc, _ := url.Parse(got.header.Get("Location"))
	if got.status != http.StatusFound || !strings.HasPrefix(loc.Path, "/login") {
		t.Fatalf("authorize with request_uri: %v %s", got, got.header.Get("Location"))
	}
	ar, err := e.db.GetAuthRequest(context.Background(), loc.Query().Get("authRequestID"))
	if err != nil || ar.State != "st-conf" || ar.RedirectURI != fapiRedirect || ar.CodeChallengeMethod != "S256" || ar.ClientID != "conf" {
		t.Fatalf("stored request: %+v %v", ar, err)
	}
}

// TestPushedRequestRefusals: every bad request_uri gets the error page
// (never a redirect, never a 5xx), and a --require-par client's plain
// request is refused at its redirect URI.
func TestPushedRequestRefusals(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	push := func(id string) string {
		auth := id
		form := parForm(id)
		if id == "pkjwt" {
			auth, form = "", assertionForm(form, e.assertion(t, id, nil))
		}
		a := e.post(PathPAR, form, auth)
		if a.status != http.StatusCreated {
			t.Fatalf("PAR for %s: %v", id, a)
		}
		return a.str("request_uri")
	}
	used := push("conf")
	if a := e.authorize(url.Values{"client_id": {"conf"}, "request_uri": {used}}); a.status != http.StatusFound {
		t.Fatalf("first use: %v", a)
	}
	expired := push("conf")
	othersURI := push("other")
	e.clock.Add(PushedRequestLifetime)
	fresh := push("conf")
	tests := []struct {
		name   string
		query  url.Values
		status int
	}{
		{"reused", url.Values{"client_id": {"conf"}, "request_uri": {used}}, 400},
		{"expired", url.Values{"client_id": {"conf"}, "request_uri": {expired}}, 400},
		{"another client's", url.Values{"client_id": {"conf"}, "request_uri": {othersURI}}, 400},
		{"unknown", url.Values{"client_id": {"conf"}, "request_uri": {requestURIPrefix + "nope"}}, 400},
		{"no client_id", url.Values{"request_uri": {fresh}}, 400},
	}
	for _, tc := range tests {
		a := e.authorize(tc.query)
		if a.status != tc.status || a.header.Get("Location") != "" {
			t.Errorf("%s: %v Location %q, want %d and no redirect", tc.name, a, a.header.Get("Location"), tc.status)
		}
	}
	// The refusals spent nothing of conf's fresh request_uri; another
	// client's attempt spends nothing of its owner's.
	if a := e.authorize(url.Values{"client_id": {"conf"}, "request_uri": {fresh}}); a.status != http.StatusFound {
		t.Fatalf("fresh request_uri after the refusals: %v", a)
	}
	others := push("other")
	if a := e.authorize(url.Values{"client_id": {"conf"}, "request_uri": {others}}); a.status != 400 {
		t.Fatalf("another client's live request_uri: %v", a)
	}
	if a := e.authorize(url.Values{"client_id": {"other"}, "request_uri": {others}}); a.status != http.StatusFound {
		t.Fatalf("its owner after another client's attempt: %v", a)
	}
	// --require-par: a plain request goes back with invalid_request.
	q := parForm("pkjwt")
	a := e.authorize(q)
	loc, _ := url.Parse(a.header.Get("Location"))
	if a.status != http.StatusFound || !strings.HasPrefix(loc.String(), fapiRedirect) || loc.Query().Get("error") != "invalid_request" ||
		loc.Query().Get("iss") != fapiIssuer {
		t.Fatalf("plain request of a --require-par client: %v %s", a, loc)
	}
	// ...and its pushed request proceeds.
	if a := e.authorize(url.Values{"client_id": {"pkjwt"}, "request_uri": {push("pkjwt")}}); a.status != http.StatusFound ||
		!strings.Contains(a.header.Get("Location"), "/login") {
		t.Fatalf("pushed request of a --require-par client: %v %s", a, a.header.Get("Location"))
	}
}

// TestPushedRequestEndpointRefusals: what the PAR endpoint refuses, each
// with its OAuth error.
func TestPushedRequestEndpointRefusals(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	with := func(edit func(url.Values)) url.Values {
		f := parForm("conf")
		edit(f)
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		auth   string
		status int
		oauth  string
	}{
		{"request_uri inside", with(func(f url.Values) { f.Set("request_uri", requestURIPrefix+"x") }), "conf", 400, "invalid_request"},
		{"request object", with(func(f url.Values) { f.Set("request", "eyJ.x.y") }), "conf", 400, "invalid_request"},
		{"unregistered redirect_uri", with(func(f url.Values) { f.Set("redirect_uri", "https://evil.example/cb") }), "conf", 400, "invalid_request"},
		{"no PKCE", with(func(f url.Values) { f.Del("code_challenge") }), "conf", 400, "invalid_request"},
		{"plain PKCE", with(func(f url.Values) { f.Set("code_challenge_method", "plain") }), "conf", 400, "invalid_request"},
		{"token response", with(func(f url.Values) { f.Set("response_type", "token") }), "conf", 400, "invalid_request"},
		{"repeated parameter", with(func(f url.Values) { f.Add("scope", "profile") }), "conf", 400, "invalid_request"},
		{"no client authentication", parForm("conf"), "", 401, "invalid_client"},
		{"unknown client", parForm("ghost"), "", 401, "invalid_client"},
		{"private_key_jwt client with no assertion", parForm("pkjwt"), "", 401, "invalid_client"},
		{"public client", parForm("pub"), "", 201, ""},
		{"confidential client", parForm("conf"), "conf", 201, ""},
	}
	for _, tc := range tests {
		a := e.post(PathPAR, tc.form, tc.auth)
		if a.status != tc.status || a.str("error") != tc.oauth {
			t.Errorf("%s: %v, want %d %q", tc.name, a, tc.status, tc.oauth)
		}
		if a.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: 401 without a challenge", tc.name)
		}
	}
	// A GET changes nothing and is refused.
	req := httptest.NewRequest(http.MethodGet, fapiIssuer+PathPAR+"?"+parForm("pub").Encode(), nil)
	if a := e.send(req); a.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET PAR: %v", a)
	}
	// Oversized parameters.
	big := with(func(f url.Values) { f.Set("state", strings.Repeat("s", pushedMaxBytes)) })
	if a := e.post(PathPAR, big, "conf"); a.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %v", a)
	}
}

// --- private_key_jwt ---

// TestPrivateKeyJWT: an assertion signed by a registered key (RSA, EC,
// Ed25519; by kid or not; registered or at a jwks_uri) authenticates its
// client at the token endpoint; every bad one is 401 invalid_client.
func TestPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	k := fapiKeys()
	exchange := func(client string, a string) answer {
		code, verifier := e.grant(t, client)
		return e.post(PathToken, assertionForm(codeForm(code, verifier), a), "")
	}
	now := e.clock.Now()
	claims := func(client string, edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": client, "sub": client, "aud": fapiIssuer, "jti": storage.NewSecret(), "iat": now.Unix(),
			"exp": now.Add(time.Minute).Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	good := []struct {
		name string
		a    string
	}{
		{"RS256 by kid", e.assertion(t, "pkjwt", nil)},
		{"PS256", sign(t, jose.PS256, k.client, "k1", "", false, claims("pkjwt", nil))},
		{"ES256 without kid", sign(t, jose.ES256, k.ec, "", "", false, claims("pkjwt", nil))},
		{"EdDSA", sign(t, jose.EdDSA, k.ed, "k3", "", false, claims("pkjwt", nil))},
		{"aud the token endpoint", e.assertion(t, "pkjwt", func(c map[string]any) { c["aud"] = fapiIssuer + PathToken })},
		{"aud a list", e.assertion(t, "pkjwt", func(c map[string]any) { c["aud"] = []string{"x", fapiIssuer} })},
		{"jwks_uri", e.assertion(t, "pkjwturi", nil)},
	}
	for _, tc := range good {
		client := "pkjwt"
		if strings.Contains(tc.name, "jwks_uri") {
			client = "pkjwturi"
		}
		if a := exchange(client, tc.a); a.status != http.StatusOK || a.str("access_token") == "" {
			t.Errorf("%s: %v", tc.name, a)
		}
	}
	replayed := e.assertion(t, "pkjwt", nil)
	if a := exchange("pkjwt", replayed); a.status != http.StatusOK {
		t.Fatalf("first use: %v", a)
	}
	bad := []struct {
		name   string
		client string
		a      string
	}{
		{"replayed", "pkjwt", replayed},
		{"expired", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() })},
		{"exp too far", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { c["exp"] = now.Add(10 * time.Minute).Unix() })},
		{"no exp", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { delete(c, "exp") })},
		{"no jti", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { delete(c, "jti") })},
		{"iat ahead", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() })},
		{"other audience", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { c["aud"] = "https://other.example" })},
		{"introspection audience at the token endpoint", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { c["aud"] = fapiIssuer + PathIntrospect })},
		{"unknown key with its kid", "pkjwt", sign(t, jose.RS256, k.stranger, "k1", "", false, claims("pkjwt", nil))},
		{"unknown key without kid", "pkjwt", sign(t, jose.RS256, k.stranger, "", "", false, claims("pkjwt", nil))},
		{"unknown kid", "pkjwt", sign(t, jose.RS256, k.client, "k9", "", false, claims("pkjwt", nil))},
		{"HS256", "pkjwt", sign(t, jose.HS256, []byte(strings.Repeat("k", 32)), "", "", false, claims("pkjwt", nil))},
		{"iss is not sub", "pkjwt", e.assertion(t, "pkjwt", func(c map[string]any) { c["sub"] = "conf" })},
		{"unknown client", "pkjwt", e.assertion(t, "ghost", nil)},
		{"secret client", "conf", e.assertion(t, "conf", nil)},
		{"garbage", "pkjwt", "not.a.jwt"},
	}
	for _, tc := range bad {
		a := exchange(tc.client, tc.a)
		if a.status != http.StatusUnauthorized || a.str("error") != "invalid_client" {
			t.Errorf("%s: %v, want 401 invalid_client", tc.name, a)
		}
	}
	// The wrong client_assertion_type, a client_id that is not the
	// assertion's, a secret beside an assertion, and a secret alone.
	code, verifier := e.grant(t, "pkjwt")
	f := assertionForm(codeForm(code, verifier), e.assertion(t, "pkjwt", nil))
	f.Set("client_assertion_type", "urn:other")
	if a := e.post(PathToken, f, ""); a.status != 401 {
		t.Errorf("wrong assertion type: %v", a)
	}
	f = assertionForm(codeForm(code, verifier), e.assertion(t, "pkjwt", nil))
	f.Set("client_id", "conf")
	if a := e.post(PathToken, f, ""); a.status != 401 {
		t.Errorf("client_id of another client: %v", a)
	}
	if a := e.post(PathToken, assertionForm(codeForm(code, verifier), e.assertion(t, "pkjwt", nil)), "conf"); a.status != 400 {
		t.Errorf("assertion and basic: %v", a)
	}
	if a := e.post(PathToken, codeForm(code, verifier), "pkjwt"); a.status != 401 {
		t.Errorf("a private_key_jwt client with a secret: %v", a)
	}
	// The assertion also authenticates at introspection and revocation,
	// with their endpoint as audience.
	tok := exchange("pkjwt", e.assertion(t, "pkjwt", nil))
	ia := e.post(PathIntrospect, assertionForm(url.Values{"token": {tok.str("access_token")}},
		e.assertion(t, "pkjwt", func(c map[string]any) { c["aud"] = fapiIssuer + PathIntrospect })), "")
	if ia.status != 200 || ia.body["active"] != true {
		t.Fatalf("introspection with an assertion: %v", ia)
	}
	if a := e.post(PathIntrospect, url.Values{"token": {tok.str("access_token")}}, "pkjwt"); a.status != 401 {
		t.Fatalf("introspection with a secret for a private_key_jwt client: %v", a)
	}
	ra := e.post(PathRevoke, assertionForm(url.Values{"token": {tok.str("access_token")}}, e.assertion(t, "pkjwt", nil)), "")
	if ra.status != 200 {
		t.Fatalf("revocation with an assertion: %v", ra)
	}
	if a := e.post(PathIntrospect, assertionForm(url.Values{"token": {tok.str("access_token")}}, e.assertion(t, "pkjwt", nil)), ""); a.body["active"] != false {
		t.Fatalf("introspection after revocation: %v", a)
	}
}

// TestPrivateKeyJWTReplayAcrossReplicas: two providers over one database
// (two replicas) refuse the second use of one assertion.
func TestPrivateKeyJWTReplayAcrossReplicas(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	second, err := New(Options{Issuer: fapiIssuer, Store: e.db, Keys: e.p.server.opts.Keys, MasterKey: make([]byte, 32), Now: e.clock.Now,
		Lifetimes: e.p.server.opts.Lifetimes, Screens: noScreens{}, Logger: e.p.server.opts.Logger})
	if err != nil {
		t.Fatal(err)
	}
	a := e.assertion(t, "pkjwt", nil)
	code, verifier := e.grant(t, "pkjwt")
	if got := e.post(PathToken, assertionForm(codeForm(code, verifier), a), ""); got.status != 200 {
		t.Fatalf("first replica: %v", got)
	}
	code, verifier = e.grant(t, "pkjwt")
	other := &fapiEnv{p: second, db: e.db, clock: e.clock}
	if got := other.post(PathToken, assertionForm(codeForm(code, verifier), a), ""); got.status != 401 {
		t.Fatalf("second replica accepted the replay: %v", got)
	}
}

// --- DPoP ---

// TestDPoPBoundTokens: a code exchange with a proof yields DPoP tokens
// bound to the key; userinfo and introspection then need a proof of that
// key; a public client's refresh token is bound too.
func TestDPoPBoundTokens(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	k := fapiKeys()
	tokenURL := fapiIssuer + PathToken
	code, verifier := e.grant(t, "pub")
	f := codeForm(code, verifier)
	f.Set("client_id", "pub")
	tok := e.post(PathToken, f, "", "DPoP: "+e.proof(t, k.ec, "POST", tokenURL, "", nil))
	if tok.status != 200 || tok.str("token_type") != "DPoP" {
		t.Fatalf("code exchange with a proof: %v", tok)
	}
	at := tok.str("access_token")
	stored, err := e.db.GetRefreshToken(context.Background(), storage.HashToken(tok.str("refresh_token")))
	if err != nil || stored.JKT != thumbprint(t, &k.ec.PublicKey) {
		t.Fatalf("refresh token of a public client not bound: %+v %v", stored, err)
	}
	userinfo := func(scheme, proof string) answer {
		req := httptest.NewRequest(http.MethodGet, fapiIssuer+PathUserinfo, nil)
		req.Header.Set("Authorization", scheme+" "+at)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		return e.send(req)
	}
	uiURL := fapiIssuer + PathUserinfo
	if a := userinfo("DPoP", e.proof(t, k.ec, "GET", uiURL, at, nil)); a.status != 200 || a.str("sub") != e.userID {
		t.Fatalf("userinfo with its proof: %v", a)
	}
	tests := []struct {
		name   string
		scheme string
		proof  string
		oauth  string
	}{
		{"as a bearer token", "Bearer", "", "invalid_token"},
		{"bearer with a proof", "Bearer", e.proof(t, k.ec, "GET", uiURL, at, nil), "invalid_token"},
		{"DPoP without a proof", "DPoP", "", "invalid_dpop_proof"},
		{"another key", "DPoP", e.proof(t, k.ec2, "GET", uiURL, at, nil), "invalid_token"},
		{"no ath", "DPoP", e.proof(t, k.ec, "GET", uiURL, "", nil), "invalid_dpop_proof"},
		{"ath of another token", "DPoP", e.proof(t, k.ec, "GET", uiURL, "other", nil), "invalid_dpop_proof"},
		{"other method", "DPoP", e.proof(t, k.ec, "POST", uiURL, at, nil), "invalid_dpop_proof"},
		{"other URL", "DPoP", e.proof(t, k.ec, "GET", tokenURL, at, nil), "invalid_dpop_proof"},
	}
	for _, tc := range tests {
		a := userinfo(tc.scheme, tc.proof)
		if a.status != http.StatusUnauthorized || a.str("error") != tc.oauth || !strings.Contains(strings.Join(a.header.Values("WWW-Authenticate"), ","), "DPoP") {
			t.Errorf("userinfo %s: %v %v, want 401 %s with a DPoP challenge", tc.name, a, a.header.Values("WWW-Authenticate"), tc.oauth)
		}
	}
	// Introspection (by a confidential client of its own token).
	code, verifier = e.grant(t, "conf")
	ctok := e.post(PathToken, codeForm(code, verifier), "conf", "DPoP: "+e.proof(t, k.ec, "POST", tokenURL, "", nil))
	if ctok.str("token_type") != "DPoP" {
		t.Fatalf("confidential code exchange with a proof: %v", ctok)
	}
	if rt, _ := e.db.GetRefreshToken(context.Background(), storage.HashToken(ctok.str("refresh_token"))); rt.JKT != "" {
		t.Fatalf("a confidential client's refresh token is bound: %+v", rt)
	}
	cat := ctok.str("access_token")
	intro := e.post(PathIntrospect, url.Values{"token": {cat}}, "conf", "DPoP: "+e.proof(t, k.ec, "POST", fapiIssuer+PathIntrospect, cat, nil))
	cnf, _ := intro.body["cnf"].(map[string]any)
	if intro.body["active"] != true || intro.str("token_type") != "DPoP" || cnf["jkt"] != thumbprint(t, &k.ec.PublicKey) {
		t.Fatalf("introspection with the proof: %v", intro)
	}
	if a := e.post(PathIntrospect, url.Values{"token": {cat}}, "conf"); a.body["active"] != false {
		t.Fatalf("introspection of a bound token without a proof: %v", a)
	}
	if a := e.post(PathIntrospect, url.Values{"token": {cat}}, "conf", "DPoP: "+e.proof(t, k.ec2, "POST", fapiIssuer+PathIntrospect, cat, nil)); a.body["active"] != false {
		t.Fatalf("introspection of a bound token with another key: %v", a)
	}

	// Refresh of the public client: its key, and only its key.
	refresh := func(rt string, proof string) answer {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"pub"}}
		if proof == "" {
			return e.post(PathToken, f, "")
		}
		return e.post(PathToken, f, "", "DPoP: "+proof)
	}
	rt := tok.str("refresh_token")
	if a := refresh(rt, ""); a.status != 400 || a.str("error") != "invalid_dpop_proof" {
		t.Fatalf("refresh without a proof: %v", a)
	}
	if a := refresh(rt, e.proof(t, k.ec2, "POST", tokenURL, "", nil)); a.status != 400 || a.str("error") != "invalid_dpop_proof" {
		t.Fatalf("refresh with another key: %v", a)
	}
	a := refresh(rt, e.proof(t, k.ec, "POST", tokenURL, "", nil))
	if a.status != 200 || a.str("token_type") != "DPoP" {
		t.Fatalf("refresh with its key: %v", a)
	}
	if next, _ := e.db.GetRefreshToken(context.Background(), storage.HashToken(a.str("refresh_token"))); next.JKT != stored.JKT {
		t.Fatalf("rotated refresh token lost its binding: %+v", next)
	}
}

// TestDPoPProofRefusals: every bad proof at the token endpoint is 400
// invalid_dpop_proof; a --require-dpop client gets nothing without one.
func TestDPoPProofRefusals(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	k := fapiKeys()
	tokenURL := fapiIssuer + PathToken
	now := e.clock.Now()
	replayed := e.proof(t, k.ec, "POST", tokenURL, "", nil)
	code, verifier := e.grant(t, "conf")
	if a := e.post(PathToken, codeForm(code, verifier), "conf", "DPoP: "+replayed); a.status != 200 {
		t.Fatalf("first use of the proof: %v", a)
	}
	withPrivate := sign(t, jose.ES256, jose.JSONWebKey{Key: k.ec}, "", "dpop+jwt", false,
		map[string]any{"jti": "x", "htm": "POST", "htu": tokenURL, "iat": now.Unix()})
	tests := []struct {
		name    string
		headers []string
	}{
		{"replayed", []string{replayed}},
		{"other URL", []string{e.proof(t, k.ec, "POST", fapiIssuer+PathUserinfo, "", nil)}},
		{"other method", []string{e.proof(t, k.ec, "GET", tokenURL, "", nil)}},
		{"too old", []string{e.proof(t, k.ec, "POST", tokenURL, "", func(c map[string]any) { c["iat"] = now.Add(-2 * time.Minute).Unix() })}},
		{"ahead", []string{e.proof(t, k.ec, "POST", tokenURL, "", func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() })}},
		{"no iat", []string{e.proof(t, k.ec, "POST", tokenURL, "", func(c map[string]any) { delete(c, "iat") })}},
		{"no jti", []string{e.proof(t, k.ec, "POST", tokenURL, "", func(c map[string]any) { delete(c, "jti") })}},
		{"wrong typ", []string{sign(t, jose.ES256, k.ec, "", "JWT", true, map[string]any{"jti": "y", "htm": "POST", "htu": tokenURL, "iat": now.Unix()})}},
		{"no jwk", []string{sign(t, jose.ES256, k.ec, "", "dpop+jwt", false, map[string]any{"jti": "z", "htm": "POST", "htu": tokenURL, "iat": now.Unix()})}},
		{"private jwk", []string{withPrivate}},
		{"HS256", []string{sign(t, jose.HS256, []byte(strings.Repeat("k", 32)), "", "dpop+jwt", false, map[string]any{"jti": "h", "htm": "POST", "htu": tokenURL, "iat": now.Unix()})}},
		{"two proofs", []string{e.proof(t, k.ec, "POST", tokenURL, "", nil), e.proof(t, k.ec, "POST", tokenURL, "", nil)}},
		{"garbage", []string{"garbage"}},
		{"oversized", []string{strings.Repeat("a", dpopMaxSize+1)}},
	}
	for _, tc := range tests {
		code, verifier := e.grant(t, "conf")
		var headers []string
		for _, h := range tc.headers {
			headers = append(headers, "DPoP: "+h)
		}
		a := e.post(PathToken, codeForm(code, verifier), "conf", headers...)
		if a.status != 400 || a.str("error") != "invalid_dpop_proof" {
			t.Errorf("%s: %v, want 400 invalid_dpop_proof", tc.name, a)
		}
	}
	// --require-dpop.
	code, verifier = e.grant(t, "dpop")
	if a := e.post(PathToken, codeForm(code, verifier), "dpop"); a.status != 400 || a.str("error") != "invalid_dpop_proof" {
		t.Fatalf("--require-dpop without a proof: %v", a)
	}
	if a := e.post(PathToken, codeForm(code, verifier), "dpop", "DPoP: "+e.proof(t, k.ec, "POST", tokenURL, "", nil)); a.status != 200 || a.str("token_type") != "DPoP" {
		t.Fatalf("--require-dpop with a proof: %v", a)
	}
}

// TestDiscoveryAdvertisesTheExtensions: every new endpoint and value.
func TestDiscoveryAdvertisesTheExtensions(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	a := e.send(httptest.NewRequest(http.MethodGet, fapiIssuer+PathDiscovery, nil))
	has := func(name, value string) bool {
		list, _ := a.body[name].([]any)
		for _, v := range list {
			if v == value {
				return true
			}
		}
		return false
	}
	switch {
	case a.str("pushed_authorization_request_endpoint") != fapiIssuer+PathPAR:
		t.Errorf("PAR endpoint: %v", a.body["pushed_authorization_request_endpoint"])
	case !has("token_endpoint_auth_methods_supported", "private_key_jwt"), !has("introspection_endpoint_auth_methods_supported", "private_key_jwt"),
		!has("revocation_endpoint_auth_methods_supported", "private_key_jwt"):
		t.Errorf("private_key_jwt: %v", a.body)
	case !has("token_endpoint_auth_signing_alg_values_supported", "ES256"), !has("token_endpoint_auth_signing_alg_values_supported", "EdDSA"):
		t.Errorf("assertion algorithms: %v", a.body["token_endpoint_auth_signing_alg_values_supported"])
	case !has("dpop_signing_alg_values_supported", "ES256"):
		t.Errorf("DPoP algorithms: %v", a.body["dpop_signing_alg_values_supported"])
	case a.body["request_uri_parameter_supported"] != true:
		t.Errorf("request_uri: %v", a.body["request_uri_parameter_supported"])
	case !has("acr_values_supported", vocab.ACRMFA), !has("acr_values_supported", vocab.ACRPasskey):
		t.Errorf("acr values: %v", a.body["acr_values_supported"])
	}
}

// TestDiscoveryWithoutPasskeys: where passkeys are off (an issuer WebAuthn
// cannot serve), discovery does not offer the passkey level a relying party
// could never get.
func TestDiscoveryWithoutPasskeys(t *testing.T) {
	t.Parallel()
	e := newFAPI(t, func(o *Options) { o.PasskeysOff = true })
	a := e.send(httptest.NewRequest(http.MethodGet, fapiIssuer+PathDiscovery, nil))
	list, _ := a.body["acr_values_supported"].([]any)
	if len(list) != 2 || list[0] != vocab.ACRPassword || list[1] != vocab.ACRMFA {
		t.Fatalf("acr_values_supported = %v, want password and MFA only", list)
	}
}

// --- JWT access tokens ---

// TestJWTAccessTokens: a --access-token-format jwt client gets RFC 9068
// tokens (typ at+jwt, signed with the published keys, every claim), which
// userinfo and introspection accept, and revocation ends.
func TestJWTAccessTokens(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	k := fapiKeys()
	code, verifier := e.grant(t, "api", "openid", "email", "offline_access")
	tok := e.post(PathToken, codeForm(code, verifier), "api", "DPoP: "+e.proof(t, k.ec, "POST", fapiIssuer+PathToken, "", nil))
	at := tok.str("access_token")
	if tok.status != 200 || strings.Count(at, ".") != 2 {
		t.Fatalf("token response: %v", tok)
	}
	// The ID token's at_hash is the JWT's (relying parties check it).
	idt, err := jose.ParseSigned(tok.str("id_token"), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var idc map[string]any
	json.Unmarshal(idt.UnsafePayloadWithoutVerification(), &idc)
	if want, _ := oidc.ClaimHash(at, jose.RS256); idc["at_hash"] != want {
		t.Fatalf("at_hash %v, want %s", idc["at_hash"], want)
	}
	keys := e.send(httptest.NewRequest(http.MethodGet, fapiIssuer+PathKeys, nil))
	raw, _ := json.Marshal(keys.body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(at, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != "at+jwt" || len(set.Key(h.KeyID)) != 1 {
		t.Fatalf("header %+v", h)
	}
	payload, err := jws.Verify(set.Key(h.KeyID)[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var c map[string]any
	json.Unmarshal(payload, &c)
	now := float64(e.clock.Now().Unix())
	cnf, _ := c["cnf"].(map[string]any)
	if c["iss"] != fapiIssuer || c["sub"] != e.userID || c["aud"] != "https://api.example" || c["client_id"] != "api" ||
		c["scope"] != "openid email offline_access" || c["iat"] != now || c["exp"] != now+3600 || c["jti"] == "" ||
		c["auth_time"] != now || c["acr"] != "urn:sesame:loa:1" || cnf["jkt"] != thumbprint(t, &k.ec.PublicKey) {
		t.Fatalf("claims: %v", c)
	}
	ui := func() answer {
		req := httptest.NewRequest(http.MethodGet, fapiIssuer+PathUserinfo, nil)
		req.Header.Set("Authorization", "DPoP "+at)
		req.Header.Set("DPoP", e.proof(t, k.ec, "GET", fapiIssuer+PathUserinfo, at, nil))
		return e.send(req)
	}
	if a := ui(); a.status != 200 || a.str("email") != "ada@acme.example" {
		t.Fatalf("userinfo with a JWT access token: %v", a)
	}
	intro := func() answer {
		return e.post(PathIntrospect, url.Values{"token": {at}}, "api", "DPoP: "+e.proof(t, k.ec, "POST", fapiIssuer+PathIntrospect, at, nil))
	}
	if a := intro(); a.body["active"] != true || a.str("jti") != c["jti"] {
		t.Fatalf("introspection: %v", a)
	}
	// A token with a changed claim no longer verifies.
	parts := strings.Split(at, ".")
	c["scope"] = "openid email profile organization"
	forged, _ := json.Marshal(c)
	req := httptest.NewRequest(http.MethodGet, fapiIssuer+PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+parts[0]+"."+base64.RawURLEncoding.EncodeToString(forged)+"."+parts[2])
	if a := e.send(req); a.status != 401 {
		t.Fatalf("forged JWT access token: %v", a)
	}
	if a := e.post(PathRevoke, url.Values{"token": {at}}, "api"); a.status != 200 {
		t.Fatalf("revocation: %v", a)
	}
	if a := intro(); a.body["active"] != false {
		t.Fatalf("introspection after revocation: %v", a)
	}
	if a := ui(); a.status != 401 {
		t.Fatalf("userinfo after revocation: %v", a)
	}
	// Refresh: a JWT again; other clients keep opaque tokens.
	r := e.post(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}, "api")
	if r.status != 200 || strings.Count(r.str("access_token"), ".") != 2 || r.str("token_type") != "Bearer" {
		t.Fatalf("refresh: %v", r)
	}
	code, verifier = e.grant(t, "conf")
	if o := e.post(PathToken, codeForm(code, verifier), "conf"); strings.Contains(o.str("access_token"), ".") {
		t.Fatalf("an opaque client got %v", o)
	}
}

// --- allowed origins ---

// TestAllowedOrigins: the token, userinfo and revocation endpoints answer
// CORS to the origins of the request's client only; introspection to none.
func TestAllowedOrigins(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	const app, evil = "https://app.example", "https://evil.example"
	preflight := func(path, origin string) answer {
		req := httptest.NewRequest(http.MethodOptions, fapiIssuer+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, dpop")
		return e.send(req)
	}
	for _, tc := range []struct {
		path, origin string
		allowed      bool
	}{
		{PathToken, app, true}, {PathUserinfo, app, true}, {PathRevoke, app, true},
		{PathToken, evil, false}, {PathUserinfo, evil, false}, {PathRevoke, evil, false},
		{PathIntrospect, app, false},
	} {
		a := preflight(tc.path, tc.origin)
		got := a.header.Get("Access-Control-Allow-Origin")
		if a.status != http.StatusNoContent || (got == tc.origin) != tc.allowed || (!tc.allowed && got != "") ||
			(tc.allowed && !strings.Contains(a.header.Get("Access-Control-Allow-Headers"), "DPoP")) {
			t.Errorf("preflight %s from %s: %d %v, allowed %v", tc.path, tc.origin, a.status, a.header, tc.allowed)
		}
	}
	withOrigin := func(origin string, req *http.Request) answer {
		req.Header.Set("Origin", origin)
		return e.send(req)
	}
	exchange := func(client, origin string) answer {
		code, verifier := e.grant(t, client)
		f := codeForm(code, verifier)
		f.Set("client_id", client)
		req := httptest.NewRequest(http.MethodPost, fapiIssuer+PathToken, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if client != "pub" {
			req.SetBasicAuth(client, fapiSecret)
		}
		return withOrigin(origin, req)
	}
	acao := func(a answer) string { return a.header.Get("Access-Control-Allow-Origin") }
	tok := exchange("pub", app)
	if tok.status != 200 || acao(tok) != app {
		t.Fatalf("token from an allowed origin: %v %v", tok, tok.header)
	}
	if a := exchange("pub", evil); a.status != 200 || acao(a) != "" {
		t.Fatalf("token from a disallowed origin: %v", a.header)
	}
	if a := exchange("conf", app); acao(a) != "" {
		t.Fatalf("token of a client without that origin: %v", a.header)
	}
	userinfo := func(origin string) answer {
		req := httptest.NewRequest(http.MethodGet, fapiIssuer+PathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+tok.str("access_token"))
		return withOrigin(origin, req)
	}
	if a := userinfo(app); a.status != 200 || acao(a) != app {
		t.Fatalf("userinfo from the allowed origin: %v %v", a, a.header)
	}
	if a := userinfo(evil); a.status != 200 || acao(a) != "" {
		t.Fatalf("userinfo from a disallowed origin: %v", a.header)
	}
	intro := httptest.NewRequest(http.MethodPost, fapiIssuer+PathIntrospect, strings.NewReader("token=x"))
	intro.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	intro.SetBasicAuth("conf", fapiSecret)
	if a := withOrigin(app, intro); acao(a) != "" {
		t.Fatalf("introspection answered CORS: %v", a.header)
	}
	rev := httptest.NewRequest(http.MethodPost, fapiIssuer+PathRevoke, strings.NewReader(url.Values{"token": {tok.str("access_token")}, "client_id": {"pub"}}.Encode()))
	rev.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a := withOrigin(app, rev); a.status != 200 || acao(a) != app {
		t.Fatalf("revocation from the allowed origin: %v %v", a, a.header)
	}
	// Discovery and keys stay open to all.
	if a := withOrigin(evil, httptest.NewRequest(http.MethodGet, fapiIssuer+PathKeys, nil)); acao(a) != "*" {
		t.Fatalf("keys: %v", a.header)
	}
}

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://App.Example": "https://app.example", "https://app.example/": "https://app.example", "http://localhost:3000": "http://localhost:3000",
		"https://app.example/path": "", "https://app.example?x": "", "ftp://app.example": "", "app.example": "", "https://u@app.example": "",
		"https://app.example#f": "",
	} {
		got, ok := NormalizeOrigin(raw)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeOrigin(%q) = %q %v, want %q", raw, got, ok, want)
		}
	}
}
