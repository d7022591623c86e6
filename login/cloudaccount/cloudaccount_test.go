package cloudaccount

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeOutscale speaks the OUTSCALE API's JSON for CheckAuthentication.
func fakeOutscale(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/CheckAuthentication" || r.Method != http.MethodPost {
			http.Error(w, `{"Errors":[{"Code":"0","Type":"DefaultError"}]}`, 400)
			return
		}
		// The SDK signs with the operator's access key (AWS Signature v4).
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=AKOPERATOR/") {
			w.WriteHeader(401)
			io.WriteString(w, `{"Errors":[{"Type":"AccessDenied","Details":"","Code":"1"}],"ResponseContext":{"RequestId":"r0"}}`)
			return
		}
		var req struct{ Login, Password string }
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case req.Login == "locked@cloud.example":
			w.WriteHeader(401)
			io.WriteString(w, `{"Errors":[{"Type":"AccessDenied","Details":"","Code":"13"}],"ResponseContext":{"RequestId":"r1"}}`)
		case req.Login == "busy@cloud.example":
			w.WriteHeader(503)
			io.WriteString(w, `{"Errors":[{"Type":"AccessDenied","Details":"","Code":"6"}],"ResponseContext":{"RequestId":"r2"}}`)
		case req.Login == "Founder@Cloud.example" && req.Password == "right password":
			io.WriteString(w, `{"ResponseContext":{"RequestId":"r3"}}`)
		default:
			w.WriteHeader(401)
			io.WriteString(w, `{"Errors":[{"Type":"AccessDenied","Details":"","Code":"1"}],"ResponseContext":{"RequestId":"r4"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOutscale(t *testing.T) {
	srv := fakeOutscale(t)
	o := &Outscale{Endpoint: srv.URL + "/api/v1", AccessKey: "AKOPERATOR", SecretKey: "secret"}
	tests := []struct {
		email, password string
		id              string
		err             error
	}{
		{"Founder@Cloud.example", "right password", "founder@cloud.example", nil},
		{"Founder@Cloud.example", "wrong password", "", ErrInvalid},
		{"nobody@cloud.example", "x", "", ErrInvalid},
		{"locked@cloud.example", "x", "", ErrLocked},
		{"busy@cloud.example", "x", "", ErrUnavailable},
	}
	for _, tc := range tests {
		id, err := o.Verify(context.Background(), tc.email, tc.password)
		if id != tc.id || !errors.Is(err, tc.err) {
			t.Errorf("%s: got %q %v, want %q %v", tc.email, id, err, tc.id, tc.err)
		}
	}
	// A wrong operator key is the operator's problem, but still refuses.
	bad := &Outscale{Endpoint: srv.URL + "/api/v1", AccessKey: "AKOTHER", SecretKey: "x"}
	if _, err := bad.Verify(context.Background(), "Founder@Cloud.example", "right password"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad operator key: %v", err)
	}
	down := &Outscale{Endpoint: "http://127.0.0.1:1/api/v1", AccessKey: "AKOPERATOR"}
	if _, err := down.Verify(context.Background(), "a@b.example", "x"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("down: %v", err)
	}
}

func TestStatic(t *testing.T) {
	check := func(_ context.Context, hash, pw string) error {
		if hash != "" && hash == "h:"+pw {
			return nil
		}
		return errors.New("mismatch")
	}
	s := Static{Accounts: map[string]string{"demo@cloud.example": "h:demo"}, Check: check}
	if id, err := s.Verify(context.Background(), " Demo@Cloud.example ", "demo"); err != nil || id != "demo@cloud.example" {
		t.Fatalf("%q %v", id, err)
	}
	for _, c := range [][2]string{{"demo@cloud.example", "nope"}, {"other@cloud.example", "demo"}} {
		if _, err := s.Verify(context.Background(), c[0], c[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: %v", c, err)
		}
	}
}
