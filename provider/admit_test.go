package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Token requests beyond the slots wait in turn; one whose client goes away
// while it waits gets a 503 with Retry-After, and a freed slot admits the next.
func TestTokenAdmission(t *testing.T) {
	bp := newBenchProvider(t)
	s := bp.p.server
	for range cap(s.grants) {
		s.grants <- struct{}{} // every slot busy
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPost, "https://id.example.com/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}.Encode())).WithContext(ctx)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	bp.p.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("waiting request whose client left: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	<-s.grants // one slot frees
	code, verifier := bp.grant(t, 1)
	out := bp.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://rp.example/cb"},
		"code_verifier": {verifier}})
	if out["id_token"] == nil {
		t.Fatalf("admitted request: %v", out)
	}
	if len(s.grants) != cap(s.grants)-1 {
		t.Fatalf("the admitted request kept its slot: %d of %d busy", len(s.grants), cap(s.grants))
	}
}
