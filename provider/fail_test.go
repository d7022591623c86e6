package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sesame-idp/sesame/internal/fail"
)

// TestWriteError is the OAuth/JSON door's table: every code of
// internal/fail, a wrapped one and a plain error.
func TestWriteError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err        error
		status     int
		oauth      string
		desc       string
		retryAfter string
	}{
		{fail.E(fail.Invalid, "Errors.Request.Invalid"), 400, "invalid_request", "the request is invalid", ""},
		{fail.E(fail.Unauthorized, ""), 401, "invalid_client", "client authentication failed", ""},
		{fail.E(fail.Forbidden, ""), 403, "access_denied", "the request is not allowed", ""},
		{fail.E(fail.NotFound, ""), 400, "invalid_request", "the request is invalid", ""},
		{fail.E(fail.Conflict, ""), 400, "invalid_request", "the request is invalid", ""},
		{fail.E(fail.Gone, ""), 400, "invalid_grant", "the grant is no longer valid", ""},
		{fmt.Errorf("parse: %w", fail.E(fail.TooLarge, "")), 413, "invalid_request", "the request body is too large", ""},
		{fail.E(fail.TooMany, ""), 429, "slow_down", "too many requests: retry later", "5"},
		{errBusy, 503, "temporarily_unavailable", "the service is busy", "5"},
		{fail.Wrap(fail.Internal, "", errors.New("secret detail")), 503, "temporarily_unavailable", "the service is temporarily unavailable", "5"},
		{errors.New("database is locked"), 503, "temporarily_unavailable", "the service is temporarily unavailable", "5"},
		{fail.E("no such code", ""), 503, "temporarily_unavailable", "the service is temporarily unavailable", "5"},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		WriteError(w, tc.err)
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: %v", tc.err, err)
		}
		if w.Code != tc.status || body.Error != tc.oauth || body.Description != tc.desc ||
			w.Header().Get("Retry-After") != tc.retryAfter || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("WriteError(%v) = %d %+v Retry-After %q, want %d %s %q %q", tc.err, w.Code, body,
				w.Header().Get("Retry-After"), tc.status, tc.oauth, tc.desc, tc.retryAfter)
		}
	}
	for _, c := range fail.Codes {
		if _, ok := oauthOf[c]; !ok {
			t.Errorf("code %q has no OAuth answer", c)
		}
	}
	// A Retry-After already chosen (admit's 1 s) is kept.
	w := httptest.NewRecorder()
	w.Header().Set("Retry-After", "1")
	WriteError(w, errBusy)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Errorf("busy: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
}
