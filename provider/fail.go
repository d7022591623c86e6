package provider

import (
	"encoding/json"
	"net/http"

	"github.com/sesame-idp/sesame/internal/fail"
)

// OAuthAnswer is how an application error is answered on an endpoint that
// speaks OAuth/JSON: its HTTP status, its OAuth error code (RFC 6749 §5.2,
// RFC 8628 §3.5) and the description given when the error has no other.
type OAuthAnswer struct {
	Status      int
	Error       string
	Description string
}

// oauthOf is the OAuth/JSON door's table. Internal is answered as
// Unavailable: a storage failure (the database is unreachable) gets a
// retryable 503 with Retry-After, not a 500, so that clients retry.
var oauthOf = map[fail.Code]OAuthAnswer{
	fail.Invalid:      {http.StatusBadRequest, "invalid_request", "the request is invalid"},
	fail.Unauthorized: {http.StatusUnauthorized, "invalid_client", "client authentication failed"},
	fail.Forbidden:    {http.StatusForbidden, "access_denied", "the request is not allowed"},
	fail.NotFound:     {http.StatusBadRequest, "invalid_request", "the request is invalid"},
	fail.Conflict:     {http.StatusBadRequest, "invalid_request", "the request is invalid"},
	fail.Gone:         {http.StatusBadRequest, "invalid_grant", "the grant is no longer valid"},
	fail.Stale:        {http.StatusBadRequest, "invalid_request", "the request is invalid"},
	fail.Reused:       {http.StatusBadRequest, "invalid_request", "the request is invalid"},
	fail.TooLarge:     {http.StatusRequestEntityTooLarge, "invalid_request", "the request body is too large"},
	fail.Method:       {http.StatusMethodNotAllowed, "invalid_request", "this endpoint takes POST"},
	fail.TooMany:      {http.StatusTooManyRequests, "slow_down", "too many requests: retry later"},
	fail.Unavailable:  {http.StatusServiceUnavailable, "temporarily_unavailable", "the service is busy"},
	fail.Internal:     {http.StatusServiceUnavailable, "temporarily_unavailable", "the service is temporarily unavailable"},
}

// OAuthError is the OAuth/JSON door of internal/fail: the one place where
// an application error's code becomes an HTTP status and an OAuth error on
// the endpoints that answer JSON (token, introspection, revocation,
// userinfo, keys, discovery). Any error that is not a *fail.Error is
// Internal.
func OAuthError(err error) OAuthAnswer {
	a, ok := oauthOf[fail.CodeOf(err)]
	if !ok {
		a = oauthOf[fail.Internal]
	}
	return a
}

// WriteError answers err as an OAuth/JSON error: the status and error of
// its code, the code's description (never the cause, which is for the
// log), and Retry-After on a 503 or a 429 when none was set.
func WriteError(w http.ResponseWriter, err error) {
	a := OAuthError(err)
	h := w.Header()
	if (a.Status == http.StatusServiceUnavailable || a.Status == http.StatusTooManyRequests) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(a.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": a.Error, "error_description": a.Description})
}
