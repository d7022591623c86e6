package conformance

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// testProtocol: a client's protocol options round-trip; a pushed request is
// taken once and not after it expires; a single-use id is refused until it
// expires, also when two replicas race for it; tokens keep their DPoP key.
func testProtocol(t *testing.T, s storage.Storage) {
	c := newClient("fapi")
	c.Protocol = storage.ClientProtocol{AuthMethod: "private_key_jwt", JWKS: `{"keys":[]}`, RequirePAR: true, RequireDPoP: true,
		AccessTokenFormat: "jwt", Resource: "https://api.example",
		ThirdParty: true, AllowedOrigins: []string{"https://app.example"}}
	must(t, s.CreateClient(ctx(), c))
	got, err := s.GetClient(ctx(), c.ID)
	must(t, err)
	if !reflect.DeepEqual(got.Protocol, c.Protocol) {
		t.Fatalf("protocol round trip: %+v, want %+v", got.Protocol, c.Protocol)
	}
	plain := newClient("plain")
	must(t, s.CreateClient(ctx(), plain))
	if got, _ := s.GetClient(ctx(), "plain"); !reflect.DeepEqual(got.Protocol, storage.ClientProtocol{}) {
		t.Fatalf("a client without options: %+v", got.Protocol)
	}

	// Pushed requests: once, before expiry, and for a known client only.
	p := storage.PushedRequest{Hash: "h1", ClientID: c.ID, Params: "a=b", CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	must(t, s.CreatePushedRequest(ctx(), p))
	wantErr(t, s.CreatePushedRequest(ctx(), p), storage.ErrConflict)
	wantErr(t, s.CreatePushedRequest(ctx(), storage.PushedRequest{Hash: "h0", ClientID: "nobody", CreatedAt: base, ExpiresAt: base.Add(time.Minute)}), storage.ErrNotFound)
	wantErr(t, s.CreatePushedRequest(ctx(), storage.PushedRequest{Hash: "", ClientID: c.ID, ExpiresAt: base}), storage.ErrInvalid)
	// Another client's request_uri is not found, and stays.
	_, err = s.TakePushedRequest(ctx(), "plain", "h1", base)
	wantErr(t, err, storage.ErrNotFound)
	taken, err := s.TakePushedRequest(ctx(), c.ID, "h1", base.Add(59*time.Second))
	must(t, err)
	if taken.ClientID != c.ID || taken.Params != "a=b" || !taken.ExpiresAt.Equal(p.ExpiresAt) || !taken.CreatedAt.Equal(base) {
		t.Fatalf("taken: %+v", taken)
	}
	_, err = s.TakePushedRequest(ctx(), c.ID, "h1", base)
	wantErr(t, err, storage.ErrNotFound)
	p.Hash = "h2"
	must(t, s.CreatePushedRequest(ctx(), p))
	_, err = s.TakePushedRequest(ctx(), c.ID, "h2", base.Add(time.Minute))
	wantErr(t, err, storage.ErrNotFound)
	_, err = s.TakePushedRequest(ctx(), c.ID, "h2", base) // an expired one is gone for good
	wantErr(t, err, storage.ErrNotFound)
	// Two replicas taking one request_uri: exactly one gets it.
	p.Hash = "h3"
	must(t, s.CreatePushedRequest(ctx(), p))
	var wins sync.WaitGroup
	results := make(chan error, 8)
	for range 8 {
		wins.Add(1)
		go func() {
			defer wins.Done()
			_, err := s.TakePushedRequest(ctx(), c.ID, "h3", base)
			results <- err
		}()
	}
	wins.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, storage.ErrNotFound):
			t.Fatalf("concurrent take: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent takes got the request, want 1", ok)
	}
	// Deleting the client deletes its pushed requests.
	p.Hash = "h4"
	must(t, s.CreatePushedRequest(ctx(), p))
	must(t, s.DeleteClient(ctx(), c.ID))
	_, err = s.TakePushedRequest(ctx(), c.ID, "h4", base)
	wantErr(t, err, storage.ErrNotFound)

	// Single-use ids.
	must(t, s.UseOnce(ctx(), "jti:a", base.Add(time.Minute), base))
	wantErr(t, s.UseOnce(ctx(), "jti:a", base.Add(2*time.Minute), base.Add(30*time.Second)), storage.ErrAlreadyUsed)
	must(t, s.UseOnce(ctx(), "jti:b", base.Add(time.Minute), base))
	// Once expired, the id may be recorded again (its token expired too).
	must(t, s.UseOnce(ctx(), "jti:a", base.Add(3*time.Minute), base.Add(time.Minute)))
	wantErr(t, s.UseOnce(ctx(), "jti:a", base.Add(3*time.Minute), base.Add(2*time.Minute)), storage.ErrAlreadyUsed)
	used := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); used <- s.UseOnce(ctx(), "jti:race", base.Add(time.Minute), base) }()
	}
	wg.Wait()
	close(used)
	ok = 0
	for err := range used {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, storage.ErrAlreadyUsed):
			t.Fatalf("concurrent use: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent uses of one id succeeded, want 1", ok)
	}
	// Garbage collection removes what expired.
	must(t, s.CreateClient(ctx(), newClient("fapi2")))
	must(t, s.CreatePushedRequest(ctx(), storage.PushedRequest{Hash: "h5", ClientID: "fapi2", CreatedAt: base, ExpiresAt: base.Add(time.Minute)}))
	res, err := s.GarbageCollect(ctx(), base.Add(time.Hour))
	must(t, err)
	if res.Protocol < 3 {
		t.Fatalf("garbage collected %d pushed requests and ids, want at least 3", res.Protocol)
	}

	// Tokens keep the key they are bound to.
	a, r := tokens("grant-dpop", "", 1)
	a.JKT, r.JKT = "thumb-a", "thumb-r"
	must(t, s.CreateTokens(ctx(), a, &r))
	gotA, err := s.GetAccessToken(ctx(), a.ID)
	must(t, err)
	gotR, err := s.GetRefreshToken(ctx(), r.Hash)
	must(t, err)
	if gotA.JKT != "thumb-a" || gotR.JKT != "thumb-r" {
		t.Fatalf("jkt: access %q refresh %q", gotA.JKT, gotR.JKT)
	}
}
