package login

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// The device page (RFC 8628 §3.3): where a person types the user code a
// command-line tool or a television shows, and approves or refuses its
// request. The provider answers the device's polls; this page only
// records the person's answer.
//
//   - GET /device[?user_code=…] needs a session from the gate (signedIn
//     sends the browser to sign in and back here, the code kept in the
//     return path), and one at the level the person's organization
//     requires now (a session older than its 2FA or passkey rule is sent
//     through the gate again: sessionBelowPolicy). It shows the form,
//     filled from verification_uri_complete; a GET never looks the code
//     up, so it neither approves anything nor tells whether a code exists.
//   - POST /device (CSRF) looks the code up and shows which application
//     asks and for what, with two buttons; POST /device/decide (CSRF)
//     records the answer, with the session's person, amr and auth_time.
//   - Guessing: every lookup of a code that is not a live request counts a
//     failure against the person (their own account: 4 free, then paused
//     1 minute, one more per 4 failures, at most 10: lockFor) and against
//     the address (20 free, then 10 minutes per 10: deviceAddressLock).
//     Nobody but the guesser is paused: the code's owner types from their
//     own account, and a code is never locked itself (a code that failures
//     locked would be a weapon against the device waiting for it).

// PathDevice is the device page; PathDeviceDecide records the answer.
const (
	PathDevice       = vocab.PathDevice
	PathDeviceDecide = vocab.PathDevice + "/decide"
)

// deviceFlow is the device page.
type deviceFlow struct {
	*shared
	// Key hashes user codes (storage.HashUserCode), as the provider does.
	Key []byte
}

func (h *deviceFlow) routes(r chi.Router) {
	r.Get(PathDevice, h.handleDevice)
	r.Post(PathDevice, h.handleDeviceCode)
	r.Post(PathDeviceDecide, h.handleDeviceDecide)
}

// The refusals of the device page.
var (
	errDeviceFormat   = fail.E(fail.Invalid, "Errors.Device.Format")
	errDeviceUnknown  = fail.E(fail.Invalid, "Errors.Device.Unknown")
	errDeviceExpired  = fail.E(fail.Gone, "Errors.Device.Expired")
	errDeviceAnswered = fail.E(fail.Conflict, "Errors.Device.Answered")
	errDeviceTooMany  = fail.E(fail.TooMany, "Errors.Device.TooMany")
	errDeviceDecision = fail.E(fail.Invalid, "Errors.Request.Invalid")
)

type devicePage struct {
	templates.Base
	Code string // what the form shows: the code typed, or ABCD-EFGH
	// Confirm: the request found, to approve or refuse.
	Confirm bool
	App     string
	Scopes  []string // message keys, one sentence per scope
	// Done: the answer recorded (Approved or not).
	Done     bool
	Approved bool
}

func (h *deviceFlow) render(w http.ResponseWriter, r *http.Request, v viewer, problem error, p *devicePage) {
	status, key := h.problemOf(r, problem)
	p.Base = h.spaceBase(w, r, v, "Device.Title")
	p.Error = key
	if key != "" && !p.Confirm {
		p.ErrorFields = []string{"user_code"}
	}
	if errors.Is(problem, errDeviceTooMany) {
		w.Header().Set("Retry-After", strconv.Itoa(int(deviceRetryAfter.Seconds())))
	}
	h.shared.render(w, status, "device", p)
}

// viewerAtPolicy is the signed-in person when their session is at the
// level their organization requires now; otherwise the browser is sent
// through the gate (and back here, for a GET).
func (h *deviceFlow) viewerAtPolicy(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return v, false
	}
	below, err := h.sessionBelowPolicy(r.Context(), v.session)
	if err != nil {
		h.fail(w, r, err)
		return v, false
	}
	if below {
		http.Redirect(w, r, loginFor(r), http.StatusSeeOther)
		return v, false
	}
	return v, true
}

// sessionBelowPolicy says whether a session is below the level its
// person's organization requires now (a rule turned on after it began):
// such a session goes through the gate again for what needs the rule.
func (h *shared) sessionBelowPolicy(ctx context.Context, s storage.Session) (bool, error) {
	p, err := h.Store.GetPerson(ctx, s.UserID)
	if err != nil {
		return false, err
	}
	return (orgRequiresMFA(p) && !slices.Contains(s.AMR, vocab.AMRMFA)) || (orgRequiresPasskey(p) && !hasPasskeyAMR(s.AMR)), nil
}

// belowPolicy is sessionBelowPolicy, a failed read counting as not below
// (the page that needs the rule checks it again).
func (h *shared) belowPolicy(ctx context.Context, s storage.Session) bool {
	below, err := h.sessionBelowPolicy(ctx, s)
	return err == nil && below
}

// showCode is what a form shows of a typed code: ABCD-EFGH when it is
// one, else what was typed (bounded).
func showCode(typed string) string {
	if code, ok := storage.NormalizeUserCode(typed); ok {
		return storage.FormatUserCode(code)
	}
	return truncate(strings.TrimSpace(typed), 32)
}

func (h *deviceFlow) handleDevice(w http.ResponseWriter, r *http.Request) {
	v, ok := h.viewerAtPolicy(w, r)
	if !ok {
		return
	}
	h.render(w, r, v, nil, &devicePage{Code: showCode(r.URL.Query().Get("user_code"))})
}

// The throttle keys of the device page.
func deviceUserKey(userID string) string { return "device-code:user:" + userID }
func deviceAddressKey(r *http.Request) string {
	return "device-code:ip:" + storage.HashToken(web.BudgetKey(r))
}

// deviceAddressLock: an address may fail 20 times, then 10 more per 10
// minutes.
func deviceAddressLock(failures int) time.Duration {
	if failures < 20 || failures%10 != 0 {
		return 0
	}
	return 10 * time.Minute
}

// deviceRetryAfter is what a paused guesser is told to wait (at most).
const deviceRetryAfter = 10 * time.Minute

// find looks the typed code up for v: the request, live and pending, and
// its client. A code that is not one (format) costs nothing; a lookup that
// finds no live request counts a failure against the person and the
// address; a paused person or address gets errDeviceTooMany before any
// lookup.
func (h *deviceFlow) find(r *http.Request, v viewer, typed string) (storage.DeviceAuthorization, storage.Client, error) {
	ctx := r.Context()
	code, ok := storage.NormalizeUserCode(typed)
	if !ok {
		return storage.DeviceAuthorization{}, storage.Client{}, errDeviceFormat
	}
	userKey, addrKey := deviceUserKey(v.user.ID), deviceAddressKey(r)
	for _, k := range []string{userKey, addrKey} {
		f, err := h.Store.GetLoginFailures(ctx, k)
		if err != nil {
			return storage.DeviceAuthorization{}, storage.Client{}, err
		}
		if f.LockedUntil.After(h.now()) {
			return storage.DeviceAuthorization{}, storage.Client{}, errDeviceTooMany
		}
	}
	d, err := h.Store.GetDeviceAuthorizationByUserCode(ctx, storage.HashUserCode(h.Key, code))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.deviceFailure(ctx, v, userKey, addrKey)
		return d, storage.Client{}, errDeviceUnknown
	case err != nil:
		return d, storage.Client{}, err
	case !h.now().Before(d.ExpiresAt):
		return d, storage.Client{}, errDeviceExpired
	case d.State != storage.DevicePending:
		return d, storage.Client{}, errDeviceAnswered
	}
	c, err := h.Store.GetClient(ctx, d.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return d, c, errDeviceUnknown
	}
	return d, c, err
}

// deviceFailure counts a wrong code against the person and the address.
func (h *deviceFlow) deviceFailure(ctx context.Context, v viewer, userKey, addrKey string) {
	f, err := h.Store.RecordLoginFailure(ctx, userKey, h.now(), lockFor)
	if err != nil {
		h.Logger.WarnContext(ctx, "record a wrong device code", "err", err)
	}
	a, err := h.Store.RecordLoginFailure(ctx, addrKey, h.now(), deviceAddressLock)
	if err != nil {
		h.Logger.WarnContext(ctx, "record a wrong device code", "err", err)
	}
	if lockFor(f.Failures) > 0 || deviceAddressLock(a.Failures) > 0 {
		h.Logger.WarnContext(ctx, "device codes paused after wrong codes", "user", v.user.ID, "failures", f.Failures, "address_failures", a.Failures)
	}
}

// scopeKeys are the sentences of what the application will receive.
func scopeKeys(scopes []string) []string {
	out := []string{"Device.Scope.openid"}
	for _, s := range []string{"profile", "email", "organization", "offline_access"} {
		if slices.Contains(scopes, s) {
			out = append(out, "Device.Scope."+s)
		}
	}
	return out
}

// posted begins both posts of the page: the person, signed in at their
// organization's policy, the code they typed, and the page to answer with;
// false when it has answered already (no session yet, or a forged form).
func (h *deviceFlow) posted(w http.ResponseWriter, r *http.Request) (viewer, string, *devicePage, bool) {
	v, ok := h.viewerAtPolicy(w, r)
	if !ok {
		return v, "", nil, false
	}
	typed := r.PostFormValue("user_code")
	p := &devicePage{Code: showCode(typed)}
	if !h.csrfValid(r) {
		h.render(w, r, v, errCSRF, p)
		return v, "", nil, false
	}
	return v, typed, p, true
}

func (h *deviceFlow) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	v, typed, p, ok := h.posted(w, r)
	if !ok {
		return
	}
	d, c, err := h.find(r, v, typed)
	if err != nil {
		if h.refused(w, r, err) {
			h.render(w, r, v, err, p)
		}
		return
	}
	p.Confirm, p.App, p.Scopes = true, c.Name, scopeKeys(d.Scopes)
	h.render(w, r, v, nil, p)
}

func (h *deviceFlow) handleDeviceDecide(w http.ResponseWriter, r *http.Request) {
	v, typed, p, ok := h.posted(w, r)
	if !ok {
		return
	}
	decision := r.PostFormValue("decision")
	if decision != "approve" && decision != "deny" {
		h.render(w, r, v, errDeviceDecision, p)
		return
	}
	d, c, err := h.find(r, v, typed)
	if err != nil {
		if h.refused(w, r, err) {
			h.render(w, r, v, err, p)
		}
		return
	}
	approve := decision == "approve"
	ctx := r.Context()
	err = h.Store.Atomic(ctx, func(tx storage.Tx) error {
		answer := storage.DeviceAuthorization{DecidedAt: h.now()}
		if approve {
			answer.UserID, answer.SessionID, answer.AuthTime, answer.AMR = v.user.ID, v.session.ID, v.session.AuthTime, v.session.AMR
		}
		if err := tx.DecideDeviceAuthorization(ctx, d.ID, approve, answer); err != nil {
			return err
		}
		// The approval of a third-party application is its consent: it is
		// listed, and withdrawn, with the others in the security settings.
		if approve && c.Protocol.ThirdParty {
			if err := h.recordConsent(ctx, tx, v.user.ID, c.ID, d.Scopes); err != nil {
				return err
			}
		}
		action := map[bool]string{true: "device.approved", false: "device.denied"}[approve]
		h.audit(ctx, tx, v.user.ID, action, v.user.ID, "client="+c.ID)
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.render(w, r, v, errDeviceAnswered, p) // answered or expired meanwhile
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(ctx, "device authorization answered", "user", v.user.ID, "client", c.ID, "approved", approve)
	h.render(w, r, v, nil, &devicePage{Done: true, Approved: approve, App: c.Name})
}
