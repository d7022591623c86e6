package provider

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/sesame-idp/sesame/storage"
)

// countingClients counts GetClient calls; only "known" exists.
type countingClients struct {
	storage.Clients
	calls int
}

func (c *countingClients) GetClient(_ context.Context, id string) (storage.Client, error) {
	c.calls++
	if id != "known" {
		return storage.Client{}, storage.ErrNotFound
	}
	return storage.Client{ID: id}, nil
}

// A request reads each client once; the next request, and a context
// without a memo, read again; a missing client is not remembered.
func TestMemoReadsOncePerRequest(t *testing.T) {
	store := &countingClients{}
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		id        string
		reads     int
		wantCalls int
	}{
		{"one request", withMemo(context.Background(), false), "known", 3, 1},
		{"another request", withMemo(context.Background(), false), "known", 1, 1},
		{"no memo", context.Background(), "known", 2, 2},
		{"missing client", withMemo(context.Background(), true), "missing", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store.calls = 0
			for range tc.reads {
				c, err := getClient(tc.ctx, store, tc.id)
				if tc.id == "known" && (err != nil || c.ID != "known") {
					t.Fatalf("got %+v %v", c, err)
				}
				if tc.id != "known" && !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("missing client: %v", err)
				}
			}
			if store.calls != tc.wantCalls {
				t.Fatalf("%d reads of the store, want %d", store.calls, tc.wantCalls)
			}
		})
	}
}

// readCounter counts the reads of a token request.
type readCounter struct {
	storage.Storage
	mu    sync.Mutex
	reads map[string]int
}

func (c *readCounter) count(name string) {
	c.mu.Lock()
	c.reads[name]++
	c.mu.Unlock()
}

func (c *readCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reads
	c.reads = map[string]int{}
	return r
}

func (c *readCounter) GetClient(ctx context.Context, id string) (storage.Client, error) {
	c.count("GetClient")
	return c.Storage.GetClient(ctx, id)
}

func (c *readCounter) GetPerson(ctx context.Context, id string) (storage.Person, error) {
	c.count("GetPerson")
	return c.Storage.GetPerson(ctx, id)
}

func (c *readCounter) GetRefreshToken(ctx context.Context, hash string) (storage.RefreshToken, error) {
	c.count("GetRefreshToken")
	return c.Storage.GetRefreshToken(ctx, hash)
}

func (c *readCounter) GetAuthRequestByCode(ctx context.Context, hash string) (storage.AuthRequest, error) {
	c.count("GetAuthRequestByCode")
	return c.Storage.GetAuthRequestByCode(ctx, hash)
}

func (c *readCounter) GetCodeGrant(ctx context.Context, hash string) (storage.CodeGrant, error) {
	c.count("GetCodeGrant")
	return c.Storage.GetCodeGrant(ctx, hash)
}

func (c *readCounter) GetRefreshGrant(ctx context.Context, hash string) (storage.RefreshGrant, error) {
	c.count("GetRefreshGrant")
	return c.Storage.GetRefreshGrant(ctx, hash)
}

// A code exchange and a refresh read their rows in one query each; an
// unknown code or token falls back to the ordinary reads and is refused as
// before.
func TestGrantReadsOnce(t *testing.T) {
	counter := &readCounter{reads: map[string]int{}}
	bp := newBenchProvider(t, func(s storage.Storage) storage.Storage { counter.Storage = s; return counter })
	code, verifier := bp.grant(t, 0)
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://rp.example/cb"},
		"code_verifier": {verifier}}
	unknownCode := url.Values{"grant_type": {"authorization_code"}, "code": {"unknown"}, "redirect_uri": {"https://rp.example/cb"},
		"code_verifier": {verifier}}
	counter.take()
	var rt string
	for _, tc := range []struct {
		name      string
		form      func() url.Values
		wantCode  int
		wantReads map[string]int
	}{
		{"code exchange", func() url.Values { return exchange }, http.StatusOK, map[string]int{"GetCodeGrant": 1}},
		{"unknown code", func() url.Values { return unknownCode }, http.StatusBadRequest,
			map[string]int{"GetCodeGrant": 1, "GetClient": 1, "GetAuthRequestByCode": 1}},
		{"refresh", func() url.Values { return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}} },
			http.StatusOK, map[string]int{"GetRefreshGrant": 1}},
		{"unknown refresh token", func() url.Values { return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_unknown"}} },
			http.StatusBadRequest, map[string]int{"GetRefreshGrant": 1, "GetClient": 1, "GetRefreshToken": 1}},
	} {
		code, out := bp.post(tc.form())
		if code != tc.wantCode {
			t.Fatalf("%s: %d %v", tc.name, code, out)
		}
		if code == http.StatusOK {
			next, _ := out["refresh_token"].(string)
			if out["id_token"] == nil || next == "" || next == rt {
				t.Fatalf("%s: no new tokens: %v", tc.name, out)
			}
			rt = next
		}
		if got := counter.take(); !maps.Equal(got, tc.wantReads) {
			t.Fatalf("%s: reads %v, want %v", tc.name, got, tc.wantReads)
		}
	}
}

// failingTokens fails the next CreateTokens calls it is told to.
type failingTokens struct {
	storage.Storage
	fail int
}

func (f *failingTokens) CreateTokens(ctx context.Context, a storage.AccessToken, r *storage.RefreshToken) error {
	return f.createTokens(ctx, f.Storage, a, r)
}

func (f *failingTokens) createTokens(ctx context.Context, tx storage.Tx, a storage.AccessToken, r *storage.RefreshToken) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("disk full")
	}
	return tx.CreateTokens(ctx, a, r)
}

// Atomic hands fn a transaction whose CreateTokens fails the same way.
func (f *failingTokens) Atomic(ctx context.Context, fn func(storage.Tx) error) error {
	return f.Storage.Atomic(ctx, func(tx storage.Tx) error { return fn(failingTx{tx, f}) })
}

type failingTx struct {
	storage.Tx
	f *failingTokens
}

func (t failingTx) CreateTokens(ctx context.Context, a storage.AccessToken, r *storage.RefreshToken) error {
	return t.f.createTokens(ctx, t.Tx, a, r)
}

// A code is consumed with its tokens, in one transaction: when they cannot
// be stored the code stays unused and the client may try again; once
// exchanged, a replay is refused and revokes what the code yielded.
func TestCodeConsumedWithItsTokens(t *testing.T) {
	failing := &failingTokens{}
	bp := newBenchProvider(t, func(s storage.Storage) storage.Storage { failing.Storage = s; return failing })
	code, verifier := bp.grant(t, 0)
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://rp.example/cb"},
		"code_verifier": {verifier}}
	failing.fail = 1
	if status, out := bp.post(exchange); status < 500 {
		t.Fatalf("tokens not stored: %d %v, want a 5xx the client retries", status, out)
	}
	ar, err := bp.store.GetAuthRequestByCode(context.Background(), storage.HashToken(code))
	if err != nil || !ar.ConsumedAt.IsZero() {
		t.Fatalf("after a failed exchange the code is consumed: %+v %v", ar, err)
	}
	status, out := bp.post(exchange)
	if status != http.StatusOK {
		t.Fatalf("retry: %d %v", status, out)
	}
	grant, err := bp.store.GetAuthRequestByCode(context.Background(), storage.HashToken(code))
	if err != nil || grant.ConsumedAt.IsZero() {
		t.Fatalf("after the exchange the code is not consumed: %+v %v", grant, err)
	}
	refresh, _ := out["refresh_token"].(string)
	if status, out := bp.post(exchange); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("replay: %d %v", status, out)
	}
	if _, err := bp.store.GetRefreshToken(context.Background(), storage.HashToken(refresh)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the replayed code's refresh token survives: %v", err)
	}
}
