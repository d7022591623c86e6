package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/sesame-idp/sesame/storage"
)

// newDevice is the FAPI environment with device clients: tv (public,
// device_code, hence refresh tokens), tv2 (public, device_code), tvconf
// (confidential, device_code).
func newDevice(t *testing.T) *fapiEnv {
	t.Helper()
	e := newFAPI(t)
	hash, _ := HashClientSecret(make([]byte, 32), fapiSecret)
	for _, c := range []storage.Client{
		{ID: "tv", Name: "Outil en ligne de commande", Public: true, Grants: []string{storage.GrantDeviceCode, storage.GrantRefreshToken}},
		{ID: "tv2", Public: true, Grants: []string{storage.GrantDeviceCode}},
		{ID: "tvconf", SecretHash: hash, Grants: []string{storage.GrantDeviceCode}},
	} {
		c.CreatedAt = e.clock.Now()
		if err := e.db.CreateClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// start asks for a device authorization as client (public: client_id in the form).
func (e *fapiEnv) startDevice(t *testing.T, clientID, scope string) answer {
	t.Helper()
	form := url.Values{"scope": {scope}}
	basic := ""
	if clientID == "tvconf" {
		basic = clientID
	} else {
		form.Set("client_id", clientID)
	}
	a := e.post(PathDeviceAuthorization, form, basic)
	if a.status != http.StatusOK {
		t.Fatalf("device authorization: %v", a)
	}
	return a
}

func (e *fapiEnv) poll(clientID, deviceCode string) answer {
	form := url.Values{"grant_type": {string(oidc.GrantTypeDeviceCode)}, "device_code": {deviceCode}}
	basic := ""
	if clientID == "tvconf" {
		basic = clientID
	} else {
		form.Set("client_id", clientID)
	}
	return e.post(PathToken, form, basic)
}

// decide answers the request of userCode as the login screens do.
func (e *fapiEnv) decide(t *testing.T, userCode string, approve bool) {
	t.Helper()
	code, ok := storage.NormalizeUserCode(userCode)
	if !ok {
		t.Fatalf("user code %q", userCode)
	}
	d, err := e.db.GetDeviceAuthorizationByUserCode(context.Background(), storage.HashUserCode(e.p.server.store.userCodeKey, code))
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if err := e.db.DecideDeviceAuthorization(context.Background(), d.ID, approve, storage.DeviceAuthorization{UserID: e.userID,
		SessionID: "ses_phone", AuthTime: now.Add(-time.Minute), AMR: []string{"pwd", "otp", "mfa"}, DecidedAt: now}); err != nil {
		t.Fatal(err)
	}
}

func wantOAuth(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.str("error") != code {
		t.Fatalf("got %v, want %d %s", a, status, code)
	}
}

// TestDeviceFlow: the endpoint's answer (RFC 8628 §3.2), polling pending,
// slow_down with the interval raised by 5 s each time, the tokens once
// approved, the device code spent, the refresh token usable.
func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	e := newDevice(t)
	a := e.startDevice(t, "tv", "openid email offline_access organization")
	dc, uc := a.str("device_code"), a.str("user_code")
	if len(dc) < 22 || !userCodeShape.MatchString(uc) || a.str("verification_uri") != fapiIssuer+"/device" ||
		a.str("verification_uri_complete") != fapiIssuer+"/device?user_code="+uc || a.body["expires_in"] != 600.0 || a.body["interval"] != 5.0 {
		t.Fatalf("device authorization: %v", a)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", a.header.Get("Cache-Control"))
	}
	// Only hashes at rest: the device code's plain hash, the user code's keyed one.
	code, _ := storage.NormalizeUserCode(uc)
	if _, err := e.db.GetDeviceAuthorizationByUserCode(context.Background(), storage.HashToken(code)); err == nil {
		t.Fatal("the user code is stored under an unkeyed hash")
	}
	d, err := e.db.GetDeviceAuthorizationByUserCode(context.Background(), storage.HashUserCode(e.p.server.store.userCodeKey, code))
	if err != nil || d.DeviceHash != storage.HashToken(dc) || d.ClientID != "tv" || d.State != storage.DevicePending {
		t.Fatalf("stored: %+v %v", d, err)
	}

	wantOAuth(t, e.poll("tv", dc), http.StatusBadRequest, "authorization_pending")
	e.clock.Add(time.Second)
	wantOAuth(t, e.poll("tv", dc), http.StatusBadRequest, "slow_down") // interval now 10 s
	e.clock.Add(9 * time.Second)
	wantOAuth(t, e.poll("tv", dc), http.StatusBadRequest, "slow_down") // 9 s < 10 s: now 15 s
	e.clock.Add(15 * time.Second)
	wantOAuth(t, e.poll("tv", dc), http.StatusBadRequest, "authorization_pending")
	e.clock.Add(14 * time.Second)
	wantOAuth(t, e.poll("tv", dc), http.StatusBadRequest, "slow_down") // now 20 s
	if d, _ := e.db.GetDeviceAuthorizationByUserCode(context.Background(), d.UserHash); d.Interval != 20 {
		t.Fatalf("interval %d, want 20", d.Interval)
	}

	e.decide(t, uc, true)
	e.clock.Add(20 * time.Second)
	tok := e.poll("tv", dc)
	if tok.status != http.StatusOK || tok.str("access_token") == "" || tok.str("refresh_token") == "" || tok.str("id_token") == "" ||
		tok.str("token_type") != "Bearer" {
		t.Fatalf("tokens: %v", tok)
	}
	claims := decodeJWT(t, tok.str("id_token"))
	if claims["sub"] != e.userID || fmt.Sprint(claims["aud"]) != "[tv]" || claims["acr"] != "urn:sesame:loa:2" || claims["sid"] != nil || claims["email"] != "ada@acme.example" {
		t.Fatalf("ID token claims: %v", claims)
	}
	// Spent: a second use of the device code gets nothing.
	e.clock.Add(time.Minute)
	wantOAuth(t, e.poll("tv", dc), http.StatusBadRequest, "invalid_grant")
	// The access token works at userinfo; the refresh token refreshes.
	req := httptest.NewRequest(http.MethodGet, fapiIssuer+PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+tok.str("access_token"))
	if u := e.send(req); u.status != http.StatusOK || u.str("sub") != e.userID {
		t.Fatalf("userinfo: %v", u)
	}
	r := e.post(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "client_id": {"tv"}}, "")
	if r.status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("refresh: %v", r)
	}
	if acr := decodeJWT(t, r.str("id_token"))["acr"]; acr != "urn:sesame:loa:2" {
		t.Fatalf("refreshed ID token acr %v, want the device grant's loa:2", acr)
	}
}

// TestDevicePollingRefusals: denied, expired, another client's device
// code, an unknown or oversized one, a client without the grant, a person
// disabled after approving, a confidential client that does not
// authenticate; none is a 5xx.
func TestDevicePollingRefusals(t *testing.T) {
	t.Parallel()
	e := newDevice(t)

	t.Run("denied", func(t *testing.T) {
		a := e.startDevice(t, "tv", "openid")
		e.decide(t, a.str("user_code"), false)
		wantOAuth(t, e.poll("tv", a.str("device_code")), http.StatusBadRequest, "access_denied")
	})
	t.Run("expired", func(t *testing.T) {
		a := e.startDevice(t, "tv2", "openid")
		e.clock.Add(DeviceCodeLifetime)
		wantOAuth(t, e.poll("tv2", a.str("device_code")), http.StatusBadRequest, "expired_token")
	})
	t.Run("approved too late", func(t *testing.T) {
		a := e.startDevice(t, "tv2", "openid")
		e.decide(t, a.str("user_code"), true)
		e.clock.Add(DeviceCodeLifetime)
		wantOAuth(t, e.poll("tv2", a.str("device_code")), http.StatusBadRequest, "expired_token")
	})
	t.Run("another client's device code", func(t *testing.T) {
		a := e.startDevice(t, "tv", "openid")
		e.decide(t, a.str("user_code"), true)
		wantOAuth(t, e.poll("tv2", a.str("device_code")), http.StatusBadRequest, "invalid_grant")
		wantOAuth(t, e.poll("tvconf", a.str("device_code")), http.StatusBadRequest, "invalid_grant")
		if tok := e.poll("tv", a.str("device_code")); tok.status != http.StatusOK { // the owner still can
			t.Fatalf("owner: %v", tok)
		}
	})
	t.Run("unknown and oversized device codes", func(t *testing.T) {
		wantOAuth(t, e.poll("tv", "nope"), http.StatusBadRequest, "invalid_grant")
		wantOAuth(t, e.poll("tv", strings.Repeat("x", 300)), http.StatusBadRequest, "invalid_grant")
		wantOAuth(t, e.poll("tv", ""), http.StatusBadRequest, "invalid_request")
	})
	t.Run("client without the grant", func(t *testing.T) {
		a := e.post(PathDeviceAuthorization, url.Values{"scope": {"openid"}}, "conf")
		wantOAuth(t, a, http.StatusBadRequest, "unauthorized_client")
		a = e.post(PathDeviceAuthorization, url.Values{"scope": {"openid"}, "client_id": {"pub"}}, "")
		wantOAuth(t, a, http.StatusBadRequest, "unauthorized_client")
		wantOAuth(t, e.post(PathToken, url.Values{"grant_type": {string(oidc.GrantTypeDeviceCode)}, "device_code": {"x"}}, "conf"),
			http.StatusBadRequest, "unauthorized_client")
	})
	t.Run("bad requests", func(t *testing.T) {
		wantOAuth(t, e.post(PathDeviceAuthorization, url.Values{"scope": {"openid admin"}, "client_id": {"tv"}}, ""), http.StatusBadRequest, "invalid_scope")
		a := e.post(PathDeviceAuthorization, url.Values{"scope": {"openid"}, "client_id": {"nobody"}}, "")
		if a.status != http.StatusUnauthorized || a.str("error") != "invalid_client" {
			t.Fatalf("unknown client: %v", a)
		}
		a = e.post(PathDeviceAuthorization, url.Values{"scope": {"openid"}}, "")
		if a.status/100 != 4 {
			t.Fatalf("no client: %v", a)
		}
		// A confidential client must authenticate, at both endpoints.
		a = e.post(PathDeviceAuthorization, url.Values{"scope": {"openid"}, "client_id": {"tvconf"}}, "")
		if a.status != http.StatusUnauthorized {
			t.Fatalf("confidential client without secret: %v", a)
		}
		c := e.startDevice(t, "tvconf", "openid")
		e.decide(t, c.str("user_code"), true)
		a = e.post(PathToken, url.Values{"grant_type": {string(oidc.GrantTypeDeviceCode)}, "device_code": {c.str("device_code")}, "client_id": {"tvconf"}}, "")
		if a.status != http.StatusUnauthorized {
			t.Fatalf("confidential poll without secret: %v", a)
		}
		if tok := e.poll("tvconf", c.str("device_code")); tok.status != http.StatusOK || tok.str("refresh_token") != "" {
			t.Fatalf("confidential client: tokens, no refresh token without offline_access: %v", tok)
		}
		get := e.send(httptest.NewRequest(http.MethodGet, fapiIssuer+PathDeviceAuthorization+"?client_id=tv", nil))
		if get.status != http.StatusMethodNotAllowed {
			t.Fatalf("GET: %v", get)
		}
	})
	t.Run("person disabled after approving", func(t *testing.T) {
		e := newDevice(t)
		a := e.startDevice(t, "tv", "openid")
		e.decide(t, a.str("user_code"), true)
		if err := e.db.UpdateUser(context.Background(), e.userID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		wantOAuth(t, e.poll("tv", a.str("device_code")), http.StatusBadRequest, "invalid_grant")
	})
}

// TestDiscoveryAdvertisesDeviceAuthorization: RFC 8628 §4.
func TestDiscoveryAdvertisesDeviceAuthorization(t *testing.T) {
	t.Parallel()
	e := newFAPI(t)
	a := e.send(httptest.NewRequest(http.MethodGet, fapiIssuer+PathDiscovery, nil))
	if a.str("device_authorization_endpoint") != fapiIssuer+PathDeviceAuthorization {
		t.Fatalf("device_authorization_endpoint: %v", a.body["device_authorization_endpoint"])
	}
	found := false
	for _, g := range a.body["grant_types_supported"].([]any) {
		found = found || g == string(oidc.GrantTypeDeviceCode)
	}
	if !found {
		t.Fatalf("grant_types_supported: %v", a.body["grant_types_supported"])
	}
}

// decodeJWT reads a JWT's claims without checking it (the signature is
// the library's business, tested elsewhere).
func decodeJWT(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeviceFlowWithDPoP: a device client registered with --require-dpop
// gets nothing without a proof, and DPoP-bound tokens with one.
func TestDeviceFlowWithDPoP(t *testing.T) {
	t.Parallel()
	e := newDevice(t)
	if err := e.db.CreateClient(context.Background(), storage.Client{ID: "tvdpop", Public: true, Grants: []string{storage.GrantDeviceCode},
		Protocol: storage.ClientProtocol{RequireDPoP: true}, CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	a := e.startDevice(t, "tvdpop", "openid")
	e.decide(t, a.str("user_code"), true)
	form := url.Values{"grant_type": {string(oidc.GrantTypeDeviceCode)}, "device_code": {a.str("device_code")}, "client_id": {"tvdpop"}}
	wantOAuth(t, e.post(PathToken, form, ""), http.StatusBadRequest, "invalid_dpop_proof")
	key := fapiKeys().ec
	tok := e.post(PathToken, form, "", "DPoP: "+e.proof(t, key, http.MethodPost, fapiIssuer+PathToken, "", nil))
	if tok.status != http.StatusOK || tok.str("token_type") != "DPoP" {
		t.Fatalf("with a proof: %v", tok)
	}
}
