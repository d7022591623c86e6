package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/storage"
)

// clientAuth posts client credentials to path and returns the status and
// the JSON body.
func (bp *benchProvider) clientAuth(path, id, secret string) (int, map[string]any) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_unknown"}, "token": {"unknown"}}
	req := httptest.NewRequest(http.MethodPost, "https://id.example.com"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	req.ParseForm()
	w := httptest.NewRecorder()
	bp.p.ServeHTTP(w, req)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

// The bench client is stored with an argon2id hash, as Sesame made them
// before keyed hashes: its first success rehashes it, and from then on no
// request, failed or not, unknown client or wrong secret, runs argon2id.
func TestFailedClientAuthRunsNoArgon2(t *testing.T) {
	bp := newBenchProvider(t)
	for i, tc := range []struct {
		path, id, secret string
		status           int
		argon2           int64 // verifications so far
	}{
		{PathIntrospect, "bench", benchSecret, 200, 1}, // the legacy hash, once
		{PathIntrospect, "bench", benchSecret, 200, 1},
		{PathIntrospect, "bench", "wrong-" + benchSecret, 401, 1},
		{PathToken, "bench", "wrong-" + benchSecret, 401, 1},
		{PathToken, "nobody", benchSecret, 401, 1},
		{PathIntrospect, "nobody", benchSecret, 401, 1},
		{PathToken, "bench", "", 401, 1},
	} {
		status, body := bp.clientAuth(tc.path, tc.id, tc.secret)
		if status != tc.status || bp.argon2.calls.Load() != tc.argon2 {
			t.Fatalf("request %d (%s %s): %d %v, %d argon2id verifications, want %d and %d", i, tc.path, tc.id, status, body,
				bp.argon2.calls.Load(), tc.status, tc.argon2)
		}
	}
	c, err := bp.store.GetClient(context.Background(), "bench")
	if err != nil || strings.HasPrefix(c.SecretHash, "$argon2id$") {
		t.Fatalf("after a success the stored hash is still argon2id (%v)", err)
	}
}

// BenchmarkFailedClientAuth: the CPU a wrong client secret costs at the
// token endpoint (a refresh grant), for a client whose secret is stored as
// `sesame client add` stores it (a keyed hash), for one stored as it did
// before (argon2id with the default parameters, until its first success),
// and for an unknown client. No budget: every request is checked.
func BenchmarkFailedClientAuth(b *testing.B) {
	bp := newBenchProvider(b)
	ctx := context.Background()
	keyed, err := HashClientSecret(make([]byte, 32), benchSecret) // newBenchProvider's master key
	if err != nil {
		b.Fatal(err)
	}
	legacy, err := password.NewHasher(password.DefaultParams, 0).Hash(ctx, benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	for id, hash := range map[string]string{"keyed": keyed, "legacy": legacy} {
		err = bp.store.CreateClient(ctx, storage.Client{ID: id, SecretHash: hash, RedirectURIs: []string{"https://rp.example/cb"},
			CreatedAt: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, id string }{{"wrong secret", "keyed"}, {"wrong secret legacy argon2id", "legacy"},
		{"unknown client", "nobody"}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if status, body := bp.clientAuth(PathToken, tc.id, "wrong-"+benchSecret); status != 401 {
					b.Fatalf("%d %v", status, body)
				}
			}
		})
	}
}
