package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzForms: any body gets 204 (handled), 400 or 413; never a 5xx or a panic.
func FuzzForms(f *testing.F) {
	for _, s := range []string{"a=b", "a=%ff", "%zz", "a=%00", strings.Repeat("a=b&", 100), ""} {
		f.Add(s, "application/x-www-form-urlencoded")
	}
	f.Add("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--", "multipart/form-data; boundary=x")
	h := Forms(func(w http.ResponseWriter, r *http.Request, err error) {
		status, _ := Status(err)
		w.WriteHeader(status)
	})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	f.Fuzz(func(t *testing.T, body, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.URL.RawQuery = body // a raw query, however malformed
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 204 && w.Code != 400 && w.Code != 413 {
			t.Fatalf("%q (%q): %d", body, contentType, w.Code)
		}
	})
}
