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

func (c *readCounter) GetRefreshGrant(ctx context.Context, hash string) (storage.RefreshGrant, error) {
	c.count("GetRefreshGrant")
	return c.Storage.GetRefreshGrant(ctx, hash)
}

// A refresh reads its token, client and person in one query; an unknown
// token falls back to the library's own reads and is refused as before.
func TestRefreshReadsOnce(t *testing.T) {
	counter := &readCounter{reads: map[string]int{}}
	bp := newBenchProvider(t, func(s storage.Storage) storage.Storage { counter.Storage = s; return counter })
	code, verifier := bp.grant(t, 0)
	out := bp.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://rp.example/cb"},
		"code_verifier": {verifier}})
	rt, _ := out["refresh_token"].(string)
	counter.take()

	for _, tc := range []struct {
		name      string
		token     string
		wantCode  int
		wantReads map[string]int
	}{
		{"refresh", rt, http.StatusOK, map[string]int{"GetRefreshGrant": 1}},
		{"unknown token", "rt_unknown", http.StatusBadRequest,
			map[string]int{"GetRefreshGrant": 1, "GetClient": 1, "GetRefreshToken": 1}},
	} {
		code, out := bp.post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tc.token}})
		if code != tc.wantCode {
			t.Fatalf("%s: %d %v", tc.name, code, out)
		}
		if code == http.StatusOK && (out["id_token"] == nil || out["refresh_token"] == rt) {
			t.Fatalf("%s: no new tokens: %v", tc.name, out)
		}
		if got := counter.take(); !maps.Equal(got, tc.wantReads) {
			t.Fatalf("%s: reads %v, want %v", tc.name, got, tc.wantReads)
		}
	}
}
