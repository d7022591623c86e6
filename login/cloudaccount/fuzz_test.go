package cloudaccount

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// FuzzOutscaleAnswer: whatever the API answers, through the SDK, Verify
// returns an account or one of its three errors; never a panic.
func FuzzOutscaleAnswer(f *testing.F) {
	f.Add(401, []byte(`{"Errors":[{"Type":"AccessDenied","Details":"","Code":"1"}],"ResponseContext":{"RequestId":"r"}}`))
	f.Add(503, []byte(`{"Errors":[{"Code":"6"}]}`))
	f.Add(200, []byte(`{"ResponseContext":{"RequestId":"r"}}`))
	f.Add(500, []byte(`not json`))
	var status atomic.Int64
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		w.Write(body.Load().([]byte))
	}))
	defer srv.Close()
	o := &Outscale{Endpoint: srv.URL + "/api/v1", AccessKey: "AK", SecretKey: "SK"}
	f.Fuzz(func(t *testing.T, code int, b []byte) {
		if code < 200 || code > 599 {
			return
		}
		status.Store(int64(code))
		body.Store(b)
		id, err := o.Verify(context.Background(), "a@b.example", "pw")
		switch {
		case err == nil && id != "a@b.example":
			t.Fatalf("account %q", id)
		case err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrLocked) && !errors.Is(err, ErrUnavailable):
			t.Fatalf("status %d body %q: %v", code, b, err)
		}
	})
}
