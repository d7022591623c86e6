package login

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// throttle counts failed proofs and pauses guessing (see below); the
// gate, the security settings and the set-password link use it.
type throttle struct {
	*shared
	DeviceBox *secretbox.Box // seals the device cookie
}

// Guessing is throttled without letting anyone lock the owner out, after
// OWASP's "device cookie" scheme: a browser that completed a sign-in holds
// a sealed device token naming the account. Failures are counted against
// a throttle key chosen per request:
//   - a browser presenting the account's device token counts against that
//     token alone, so failures made elsewhere never lock it out;
//   - any other browser counts against the account, as before: after 4
//     failures the account is paused for untrusted browsers (lockFor).
//
// Every proof's failure counts (the password and the second step alike),
// and only a complete sign-in clears the key it used: a right password
// followed by wrong codes still locks.

// deviceCookie holds the sealed device token.
const deviceCookie = "sesame_device"

// deviceLifetime is how long a browser stays trusted after a sign-in.
const deviceLifetime = 180 * 24 * time.Hour

type deviceToken struct {
	ID      string `json:"d"`
	Account string `json:"a"` // the hash of the account's normalised email
	Exp     int64  `json:"x"`
}

func accountHash(email string) string { return storage.HashToken(storage.NormalizeEmail(email)) }

// throttleKey is the key the failures of this browser count against for
// this email address, known account or not (the choice tells nothing).
func (h *throttle) throttleKey(r *http.Request, email string) string {
	if d, ok := h.device(r); ok && d.Account == accountHash(email) {
		return "device:" + d.ID
	}
	return loginFailureKey(email)
}

// device opens the browser's device token.
func (h *throttle) device(r *http.Request) (deviceToken, bool) {
	var d deviceToken
	c, err := r.Cookie(deviceCookie)
	if err != nil || !unseal(h.DeviceBox, c.Value, &d) || h.now().Unix() > d.Exp || d.ID == "" {
		return d, false
	}
	return d, true
}

// trustDevice gives the browser a new device token for the account it has
// just signed in to (a new id each time: a token that failures locked is
// not renewed by them).
func (h *throttle) trustDevice(w http.ResponseWriter, email string) {
	d := deviceToken{ID: storage.NewSecret(), Account: accountHash(email), Exp: h.now().Add(deviceLifetime).Unix()}
	sealed, err := seal(h.DeviceBox, d)
	if err != nil {
		h.Logger.Warn("seal device token", "err", err)
		return
	}
	http.SetCookie(w, h.cookie(deviceCookie, sealed, int(deviceLifetime.Seconds())))
}

// locked reports whether the key is paused now.
func (h *throttle) locked(ctx context.Context, key string) (bool, error) {
	f, err := h.Store.GetLoginFailures(ctx, key)
	return err == nil && f.LockedUntil.After(h.now()), err
}

// clearFailures forgets the key's failures after a complete sign-in, in
// its transaction.
func (h *throttle) clearFailures(ctx context.Context, tx storage.Tx, key string) error {
	if key == "" {
		return nil
	}
	// Inside the transaction the writer is held already: deleting a row
	// that is not there costs what reading it first would.
	return tx.ClearLoginFailures(ctx, key)
}

// lockFor is the cloud console's policy: after 4 failures one minute, one
// more minute per 4 further failures, at most 10 minutes.
func lockFor(failures int) time.Duration {
	if failures < 4 || failures%4 != 0 {
		return 0
	}
	return min(time.Duration(failures/4)*time.Minute, 10*time.Minute)
}

// recordFailure counts a failed proof against key; a lock it starts is
// logged and audited against the account of email, when there is one.
func (h *throttle) recordFailure(ctx context.Context, key, email string) {
	f, err := h.Store.RecordLoginFailure(ctx, key, h.now(), lockFor)
	if err != nil {
		h.Logger.WarnContext(ctx, "record failed sign-in", "err", err)
		return
	}
	if !f.LockedUntil.IsZero() && f.LockedUntil.After(h.now()) && lockFor(f.Failures) > 0 {
		h.Logger.WarnContext(ctx, "sign-in locked after repeated failures", "failures", f.Failures, "until", f.LockedUntil.Format(time.RFC3339))
		target := ""
		if u, err := h.Store.GetUserByEmail(ctx, email); err == nil {
			target = u.ID
		}
		h.audit(ctx, h.Store, "", "signin.locked", target, fmt.Sprintf("failures=%d until=%s device=%v",
			f.Failures, f.LockedUntil.UTC().Format(time.RFC3339), key != loginFailureKey(email)))
	}
}
