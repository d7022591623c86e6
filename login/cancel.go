package login

import "net/http"

// PathLoginCancel is "Annuler" / "Cancel" on the code step (and the
// enrolment at sign-in): the sign-in in progress ends; when a relying
// party waits for it, it is answered access_denied (OpenID Connect Core
// 3.1.2.6: the person declined), else the browser goes back to the form.
const PathLoginCancel = "/login/cancel"

func (h *signInFlow) handleLoginCancel(w http.ResponseWriter, r *http.Request) {
	if !h.csrfValid(r) {
		h.fail(w, r, errCSRF)
		return
	}
	var at attempt
	c, err := r.Cookie(attemptCookie)
	open := err == nil && unseal(h.AttemptBox, c.Value, &at) && h.now().Unix() <= at.Exp
	http.SetCookie(w, h.cookie(attemptCookie, "", -1))
	if open && at.AuthRequestID != "" {
		if ar, err := h.authRequest(r.Context(), at.AuthRequestID); err == nil {
			h.Logger.InfoContext(r.Context(), "sign-in cancelled", "user", at.UserID, "auth_request", ar.ID)
			h.failRequest(w, r, ar, "access_denied")
			return
		}
	}
	to := PathLogin
	if open && at.AuthRequestID == "" {
		if next := safeReturn(at.Return); next != "" {
			to = loginFor(&http.Request{Method: http.MethodGet, URL: mustURL(next)})
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
