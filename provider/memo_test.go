package provider

import (
	"context"
	"errors"
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
