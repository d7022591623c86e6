package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// deviceKey is the harness's key of user codes.
var deviceKey = []byte("device-user-code-key-for-tests-0")

func withDevice(hx *harness) { hx.H.DeviceCodeKey = deviceKey }

// deviceRequest stores a pending device authorization of a client named
// "Outil CLI" for code (8 letters), as the provider does.
func (hx *harness) deviceRequest(code string, scopes ...string) storage.DeviceAuthorization {
	hx.t.Helper()
	ctx := context.Background()
	if _, err := hx.Store.GetClient(ctx, "cli"); err != nil {
		if err := hx.Store.CreateClient(ctx, storage.Client{ID: "cli", Name: "Outil CLI", Public: true,
			Grants: []string{storage.GrantDeviceCode}, CreatedAt: hx.Clock.Now()}); err != nil {
			hx.t.Fatal(err)
		}
	}
	return hx.deviceRequestFor("cli", code, scopes...)
}

// deviceRequestFor stores a pending device authorization of clientID (which
// must exist) for code.
func (hx *harness) deviceRequestFor(clientID, code string, scopes ...string) storage.DeviceAuthorization {
	hx.t.Helper()
	now := hx.Clock.Now()
	d := storage.DeviceAuthorization{ID: storage.NewID("dv"), DeviceHash: storage.HashToken("device-" + code), UserHash: storage.HashUserCode(deviceKey, code),
		ClientID: clientID, Scopes: scopes, Interval: 5, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := hx.Store.CreateDeviceAuthorization(context.Background(), d); err != nil {
		hx.t.Fatal(err)
	}
	return d
}

func (hx *harness) deviceState(code string) storage.DeviceAuthorization {
	hx.t.Helper()
	d, err := hx.Store.GetDeviceAuthorizationByUserCode(context.Background(), storage.HashUserCode(deviceKey, code))
	if err != nil {
		hx.t.Fatal(err)
	}
	return d
}

// TestDevicePage: from verification_uri_complete without a session, through
// the gate (with the second factor) and back, the form filled; the
// application named with what it will receive; approved with the
// session's person and proofs; audited.
func TestDevicePage(t *testing.T) {
	t.Parallel()
	hx := newHarness(t, withDevice)
	org := hx.Org("ACME", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, "user")
	secret, _ := hx.TOTP(u)
	hx.deviceRequest("BCDFGHJK", "openid", "email", "offline_access")
	b := hx.Browser()

	p := b.Get("/device?user_code=bcdf-ghjk").Redirects(PathLogin)
	if p.Location != "/login?next=%2Fdevice%3Fuser_code%3Dbcdf-ghjk" {
		t.Fatalf("sign-in link: %s", p.Location)
	}
	login := b.Get(p.Location)
	if login.Field("next") != "/device?user_code=bcdf-ghjk" {
		t.Fatalf("the form does not carry the way back")
	}
	b.Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}, "next": {login.Field("next")}}).Redirects(PathLoginCode)
	back := b.Post(PathLoginCode, url.Values{"code": {hx.Code(secret)}}).Redirects(PathDevice)
	if back.Location != "/device?user_code=bcdf-ghjk" {
		t.Fatalf("back to %s", back.Location)
	}
	form := b.Get(back.Location).Shows(http.StatusOK, "Device.Intro")
	if form.Field("user_code") != "BCDF-GHJK" {
		t.Fatalf("prefilled %q", form.Field("user_code"))
	}
	if d := hx.deviceState("BCDFGHJK"); d.State != storage.DevicePending {
		t.Fatalf("a GET answered: %+v", d)
	}

	confirm := b.Post(PathDevice, url.Values{"user_code": {"bcdf ghjk"}}).Shows(http.StatusOK, "Device.Warning")
	for _, key := range []string{"Device.Scope.openid", "Device.Scope.email", "Device.Scope.offline_access"} {
		if !confirm.Says(key) {
			t.Errorf("the confirmation does not say %s", key)
		}
	}
	if confirm.Says("Device.Scope.organization") || !strings.Contains(confirm.Body, "Outil CLI") || confirm.Field("user_code") != "BCDF-GHJK" {
		t.Fatalf("confirmation: %s", excerpt(confirm.Body))
	}
	if d := hx.deviceState("BCDFGHJK"); d.State != storage.DevicePending {
		t.Fatalf("looking the code up answered it: %+v", d)
	}
	b.Post(PathDeviceDecide, url.Values{"user_code": {confirm.Field("user_code")}, "decision": {"approve"}}).Shows(http.StatusOK, "Device.ApprovedHint")
	d := hx.deviceState("BCDFGHJK")
	if d.State != storage.DeviceApproved || d.UserID != u.ID || d.SessionID == "" || !slices.Contains(d.AMR, "mfa") || d.AuthTime.IsZero() {
		t.Fatalf("approved: %+v", d)
	}
	if ev := hx.Events(); !slices.Contains(ev, "device.approved") {
		t.Fatalf("audit: %v", ev)
	}
	// Answered once: a second answer, or a second look, is refused.
	b.Post(PathDeviceDecide, url.Values{"user_code": {"BCDF-GHJK"}, "decision": {"deny"}}).Shows(http.StatusConflict, "Errors.Device.Answered")
	b.Post(PathDevice, url.Values{"user_code": {"BCDF-GHJK"}}).Shows(http.StatusConflict, "Errors.Device.Answered")
	if d := hx.deviceState("BCDFGHJK"); d.State != storage.DeviceApproved {
		t.Fatalf("changed by a second answer: %+v", d)
	}
}

// TestDevicePageRefusals: every error path of the page.
func TestDevicePageRefusals(t *testing.T) {
	t.Parallel()
	hx := newHarness(t, withDevice)
	org := hx.Org("ACME", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, "user")
	b := hx.Browser()
	b.SignIn(u.Email, "")

	t.Run("anonymous posts go to the sign-in", func(t *testing.T) {
		a := hx.Browser()
		a.Post(PathDevice, url.Values{"user_code": {"BCDFGHJK"}}).Redirects(PathLogin)
		a.Post(PathDeviceDecide, url.Values{"user_code": {"BCDFGHJK"}, "decision": {"approve"}}).Redirects(PathLogin)
	})
	t.Run("CSRF", func(t *testing.T) {
		hx.deviceRequest("CDFGHJKL")
		b.PostRaw(PathDevice, url.Values{"user_code": {"CDFGHJKL"}}).Shows(http.StatusForbidden, "Errors.Request.CSRF")
		b.PostRaw(PathDeviceDecide, url.Values{"user_code": {"CDFGHJKL"}, "decision": {"approve"}, "csrf_token": {strings.Repeat("x", 43)}}).
			Shows(http.StatusForbidden, "Errors.Request.CSRF")
		if d := hx.deviceState("CDFGHJKL"); d.State != storage.DevicePending {
			t.Fatalf("answered without CSRF: %+v", d)
		}
	})
	t.Run("malformed codes cost nothing", func(t *testing.T) {
		for _, typed := range []string{"", "ABC", "BCDF-GHJK-L", "AEIOUAEI", "bcdf-ghj1", strings.Repeat("B", 10000), "ВСDFGHJK", "BCDF_GHJK"} {
			b.Post(PathDevice, url.Values{"user_code": {typed}}).Shows(http.StatusBadRequest, "Errors.Device.Format")
		}
		// Control characters are refused by the forms' door (web.Forms), before the page.
		if p := b.Post(PathDevice, url.Values{"user_code": {"BCDF\x00GHJK"}}); p.Status != http.StatusBadRequest {
			t.Fatalf("NUL: %d", p.Status)
		}
		if f, _ := hx.Store.GetLoginFailures(context.Background(), deviceUserKey(u.ID)); f.Failures != 0 {
			t.Fatalf("%d failures counted for malformed codes", f.Failures)
		}
	})
	t.Run("bad decision", func(t *testing.T) {
		hx.deviceRequest("DFGHJKLM")
		for _, decision := range []string{"", "yes", "approve,deny"} {
			b.Post(PathDeviceDecide, url.Values{"user_code": {"DFGHJKLM"}, "decision": {decision}}).Shows(http.StatusBadRequest, "Errors.Request.Invalid")
		}
		if d := hx.deviceState("DFGHJKLM"); d.State != storage.DevicePending {
			t.Fatalf("answered: %+v", d)
		}
	})
	t.Run("denied", func(t *testing.T) {
		hx.deviceRequest("FGHJKLMN")
		b.Post(PathDeviceDecide, url.Values{"user_code": {"fghj-klmn"}, "decision": {"deny"}}).Shows(http.StatusOK, "Device.Denied")
		if d := hx.deviceState("FGHJKLMN"); d.State != storage.DeviceDenied || d.UserID != "" {
			t.Fatalf("denied: %+v", d)
		}
		if ev := hx.Events(); !slices.Contains(ev, "device.denied") {
			t.Fatalf("audit: %v", ev)
		}
	})
	t.Run("expired", func(t *testing.T) {
		hx2 := newHarness(t, withDevice)
		o := hx2.Org("ACME", storage.OrgValidated)
		v := hx2.User("bob@acme.example", &o, "user")
		c := hx2.Browser()
		c.SignIn(v.Email, "")
		hx2.deviceRequest("GHJKLMNP")
		hx2.Clock.Add(10 * time.Minute)
		c.Post(PathDevice, url.Values{"user_code": {"GHJKLMNP"}}).Shows(http.StatusGone, "Errors.Device.Expired")
		c.Post(PathDeviceDecide, url.Values{"user_code": {"GHJKLMNP"}, "decision": {"approve"}}).Shows(http.StatusGone, "Errors.Device.Expired")
		if d := hx2.deviceState("GHJKLMNP"); d.State != storage.DevicePending {
			t.Fatalf("an expired request was answered: %+v", d)
		}
	})
}

// TestDeviceCodeGuessing: wrong codes pause the guesser (person, then
// address), never the code nor its owner; the pause ends.
func TestDeviceCodeGuessing(t *testing.T) {
	t.Parallel()
	hx := newHarness(t, withDevice)
	org := hx.Org("ACME", storage.OrgValidated)
	mallory := hx.User("mallory@acme.example", &org, "user")
	owner := hx.User("ada@acme.example", &org, "user")
	hx.deviceRequest("HJKLMNPQ")
	m := hx.Browser()
	m.SignIn(mallory.Email, "")

	wrong := []string{"BBBBBBBB", "CCCCCCCC", "DDDDDDDD", "FFFFFFFF"}
	for _, c := range wrong {
		m.Post(PathDevice, url.Values{"user_code": {c}}).Shows(http.StatusBadRequest, "Errors.Device.Unknown")
	}
	// Paused: even the right code is not looked up, at either step.
	p := m.Post(PathDevice, url.Values{"user_code": {"HJKLMNPQ"}}).Shows(http.StatusTooManyRequests, "Errors.Device.TooMany")
	if p.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	m.Post(PathDeviceDecide, url.Values{"user_code": {"HJKLMNPQ"}, "decision": {"approve"}}).Shows(http.StatusTooManyRequests, "Errors.Device.TooMany")
	// The owner, from the same address, is not paused, and the code works.
	o := hx.Browser()
	o.SignIn(owner.Email, "")
	o.Post(PathDevice, url.Values{"user_code": {"HJKL-MNPQ"}}).Shows(http.StatusOK, "Device.Warning")
	// The pause ends after a minute.
	hx.Clock.Add(time.Minute)
	m.Post(PathDevice, url.Values{"user_code": {"GGGGGGGG"}}).Shows(http.StatusBadRequest, "Errors.Device.Unknown")

	// An address that fails 20 times is paused for every account on it
	// (5 failures so far: Mallory's).
	for n, i := 5, 0; n < 20; i++ {
		u := hx.User("helper"+strconv.Itoa(i)+"@acme.example", &org, "user")
		x := hx.Browser()
		x.SignIn(u.Email, "")
		for j := 0; j < 4 && n < 20; j, n = j+1, n+1 {
			x.Post(PathDevice, url.Values{"user_code": {wrong[j]}}).Shows(http.StatusBadRequest, "Errors.Device.Unknown")
		}
	}
	o.Post(PathDevice, url.Values{"user_code": {"HJKL-MNPQ"}}).Shows(http.StatusTooManyRequests, "Errors.Device.TooMany")
	hx.Clock.Add(10 * time.Minute)
	hx.deviceRequest("KLMNPQRS")
	o.Post(PathDevice, url.Values{"user_code": {"KLMN-PQRS"}}).Shows(http.StatusOK, "Device.Warning")
}

// TestDeviceAfterPolicyChange: a session that began before the
// organization required the second factor goes through the gate again
// (enrolment) before it may approve a device.
func TestDeviceAfterPolicyChange(t *testing.T) {
	t.Parallel()
	hx := newHarness(t, withDevice)
	org := hx.Org("ACME", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, "user")
	b := hx.Browser()
	b.SignIn(u.Email, "")
	b.Get(PathDevice).Shows(http.StatusOK, "Device.Intro")
	if err := hx.Store.UpdateOrganization(context.Background(), org.ID, func(o *storage.Organization) error { o.RequireMFA = true; return nil }); err != nil {
		t.Fatal(err)
	}
	p := b.Get("/device?user_code=BCDFGHJK").Redirects(PathLogin)
	login := b.Get(p.Location).Shows(http.StatusOK, "")
	if login.Field("next") != "/device?user_code=BCDFGHJK" {
		t.Fatalf("the sign-in form does not bring back to the device page")
	}
	b.Post(PathDevice, url.Values{"user_code": {"BCDFGHJK"}}).Redirects(PathLogin)
	b.Post(PathLogin, url.Values{"email": {u.Email}, "password": {testPassword}, "next": {login.Field("next")}}).Redirects(PathLoginEnrol)
}

// TestConsoleRegistersDeviceClient: the operator's console offers the
// device_code grant; a public device client needs no redirect URI and
// gets refresh tokens with it; a redirect URI without the code grant is
// refused as on the CLI.
func TestConsoleRegistersDeviceClient(t *testing.T) {
	t.Parallel()
	hx := newHarness(t, withDevice)
	op := hx.User("operator@sesame.example", nil)
	b := hx.Browser()
	b.SignIn(op.Email, "")
	b.Get(PathApplications).Shows(http.StatusOK, "Applications.GrantDevice")
	b.Post(PathApplications, url.Values{"id": {"tv"}, "name": {"TV"}, "kind": {"public"}, "grant_device_code": {"1"},
		"redirect_uris": {"https://tv.example/cb"}}).Shows(http.StatusBadRequest, "Errors.Clients.RedirectURI")
	b.Post(PathApplications, url.Values{"id": {"tv"}, "name": {"TV"}, "kind": {"public"}, "grant_device_code": {"1"}}).
		Shows(http.StatusOK, "Applications.Notice.Registered")
	c, err := hx.Store.GetClient(context.Background(), "tv")
	if err != nil || !c.Public || !slices.Equal(c.Grants, []string{storage.GrantDeviceCode, storage.GrantRefreshToken}) {
		t.Fatalf("registered: %+v %v", c, err)
	}
}

// TestDeviceApprovalOfAThirdPartyIsItsConsent: approving a third-party
// application on the device page records the person's consent with the
// scopes it asked (listed in the security settings, where it can be
// withdrawn); a denial records none, nor does approving a first-party
// application.
func TestDeviceApprovalOfAThirdPartyIsItsConsent(t *testing.T) {
	t.Parallel()
	hx := newHarness(t, withDevice)
	ctx := context.Background()
	org := hx.Org("ACME", storage.OrgValidated)
	u := hx.User("ada@acme.example", &org, "user")
	if err := hx.Store.CreateClient(ctx, storage.Client{ID: "tv", Name: "Télé du salon", Public: true, Grants: []string{storage.GrantDeviceCode},
		Protocol: storage.ClientProtocol{ThirdParty: true}, CreatedAt: hx.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	b := hx.Browser()
	b.SignIn(u.Email, "")
	decide := func(code, decision string) {
		b.Post(PathDevice, url.Values{"user_code": {code}}).Shows(http.StatusOK, "Device.Warning")
		b.Post(PathDeviceDecide, url.Values{"user_code": {code}, "decision": {decision}}).Shows(http.StatusOK, "")
	}

	hx.deviceRequestFor("tv", "BCDFGHJK", "openid", "profile")
	decide("BCDFGHJK", "deny")
	if _, err := hx.Store.GetConsent(ctx, u.ID, "tv"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a denial recorded a consent: %v", err)
	}
	hx.deviceRequestFor("tv", "CDFGHJKL", "openid", "profile")
	decide("CDFGHJKL", "approve")
	c, err := hx.Store.GetConsent(ctx, u.ID, "tv")
	if err != nil || !slices.Equal(c.Scopes, []string{"openid", "profile"}) {
		t.Fatalf("the approval's consent: %+v %v", c, err)
	}
	if p := b.Get(PathSecurity).Shows(http.StatusOK, "Consent.Section"); !strings.Contains(p.Body, "Télé du salon") {
		t.Fatalf("the security settings do not list the application: %s", excerpt(p.Body))
	}
	hx.deviceRequest("DFGHJKLM", "openid")
	decide("DFGHJKLM", "approve")
	if _, err := hx.Store.GetConsent(ctx, u.ID, "cli"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a first-party application's approval recorded a consent: %v", err)
	}
}
