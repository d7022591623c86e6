package login

import (
	"errors"
	"github.com/sesame-idp/sesame/internal/fail"
	"net/http"
	"strconv"
	"time"

	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
)

// viewer is the signed-in person of a request.
type viewer struct {
	user       storage.User
	session    storage.Session
	membership storage.Membership // zero for operators
	hasOrg     bool
}

var errForbidden = fail.E(fail.Forbidden, "Errors.Request.Forbidden")

// signedIn returns the viewer, or sends the browser to the sign-in page.
func (h *shared) signedIn(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	s, ok := h.currentSession(r)
	if !ok {
		http.Redirect(w, r, loginFor(r), http.StatusSeeOther)
		return viewer{}, false
	}
	u, err := h.Store.GetUser(r.Context(), s.UserID)
	if err != nil || u.Disabled {
		http.Redirect(w, r, loginFor(r), http.StatusSeeOther)
		return viewer{}, false
	}
	v := viewer{user: u, session: s}
	m, err := h.Store.GetMembership(r.Context(), u.ID)
	switch {
	case err == nil:
		v.membership, v.hasOrg = m, true
	case !errors.Is(err, storage.ErrNotFound):
		h.fail(w, r, err)
		return viewer{}, false
	}
	return v, true
}

// orgAdmin returns the viewer when they administer an organization, and
// answers 403 otherwise.
func (h *shared) orgAdmin(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return v, false
	}
	if !v.hasOrg || !isAdmin(v.membership) {
		h.fail(w, r, errForbidden)
		return v, false
	}
	return v, true
}

// operator returns the viewer when they are an operator, 403 otherwise.
func (h *shared) operator(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return v, false
	}
	if !v.user.IsOperator {
		h.fail(w, r, errForbidden)
		return v, false
	}
	return v, true
}

// limit counts a request against a per-key budget and answers 429 with
// Retry-After when it is spent. The counters are in the database, so they
// hold across replicas.
func (h *shared) limit(w http.ResponseWriter, r *http.Request, key string, perHour int) bool {
	n, reset, err := h.Store.Hit(r.Context(), key, time.Hour, h.now())
	if err != nil {
		h.fail(w, r, err)
		return false
	}
	if n > perHour {
		wait := max(int(reset.Sub(h.now()).Seconds()), 1)
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		// At most one line a minute per key, counting the refusals since
		// its previous line: a flood must not flood the log.
		if n, write := h.refusals.Refused(key, h.now()); write {
			h.Logger.WarnContext(r.Context(), "rate limited", "key", key, "refused", n)
		}
		h.showError(w, r, fail.E(fail.TooMany, "Errors.Request.TooMany"))
		return false
	}
	return true
}

func actorOf(v viewer, r *http.Request) Actor { return Actor{ID: v.user.ID, IP: web.ClientIP(r)} }
