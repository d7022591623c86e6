package provider

import (
	"encoding/json"
	"net/http"
	"reflect"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

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
	if a, ok := oauthOfKey[fail.KeyOf(err)]; ok && fail.Refusal(err) {
		return a
	}
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

// The refusals of the protocol's extensions (PAR, private_key_jwt, DPoP),
// whose RFCs name their own error values: the code says what kind of
// refusal it is, the key which RFC answer it gets (oauthOfKey).
var (
	// RFC 9126 §2.3, RFC 9101 §7: a request_uri unknown, used, expired or
	// another client's.
	errRequestURI = fail.E(fail.Gone, "Errors.Protocol.RequestURI")
	// RFC 9449 §5: a DPoP proof refused at the token endpoint.
	errDPoPProof = fail.E(fail.Invalid, "Errors.Protocol.DPoPProof")
	// RFC 9449 §7.1: a DPoP proof refused by a protected resource.
	errDPoPResource = fail.E(fail.Unauthorized, "Errors.Protocol.DPoPResource")
	// RFC 9126 §2.3: a pushed request that could not be accepted.
	errPushed = fail.E(fail.Invalid, "Errors.Protocol.Pushed")
	// RFC 9126 §5: a client that must push its requests did not.
	errPARRequired = fail.E(fail.Forbidden, "Errors.Protocol.PARRequired")
)

// oauthOfKey answers the refusals above with their RFC's error value.
var oauthOfKey = map[string]OAuthAnswer{
	errRequestURI.Key:   {http.StatusBadRequest, "invalid_request_uri", "the request_uri is unknown, expired or already used"},
	errDPoPProof.Key:    {http.StatusBadRequest, "invalid_dpop_proof", "the DPoP proof is missing or invalid"},
	errDPoPResource.Key: {http.StatusUnauthorized, "invalid_dpop_proof", "the DPoP proof is missing or invalid"},
	errPushed.Key:       {http.StatusBadRequest, "invalid_request", "the pushed authorization request is invalid"},
	errPARRequired.Key:  {http.StatusBadRequest, "invalid_request", "this client must push its authorization requests (PAR)"},
}

// asOIDC hands a fail error to the library, which answers it: the status
// and error value the OAuth door gives it, and the description of the
// refusal (a fixed sentence; the cause stays for the log).
func asOIDC(err error, description string) error {
	a := OAuthError(err)
	if description == "" {
		description = a.Description
	}
	e := &oidc.Error{Description: description, Parent: err}
	// The library's error type is unexported: the value is set as a string.
	reflect.ValueOf(&e.ErrorType).Elem().SetString(a.Error)
	return op.NewStatusError(e, a.Status)
}
