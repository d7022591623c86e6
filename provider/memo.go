package provider

import (
	"context"
	"sync"

	"github.com/sesame-idp/sesame/storage"
)

// memo keeps the clients and people one request has read. The library asks
// storage for the same rows several times per request (a token request
// reads its client to authenticate it and again to check the secret; a
// refresh reads the person to refuse a disabled one and again for the
// claims); with the memo each row is read once per request, and never
// kept beyond it, so a change is seen by the next request.
type memo struct {
	// clientAuth marks the endpoints where a client authenticates (token,
	// introspection, revocation): there a failure is a 401.
	clientAuth bool

	mu      sync.Mutex
	clients map[string]storage.Client
	users   map[string]storage.User
}

type memoKey struct{}

func withMemo(ctx context.Context, clientAuth bool) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{clientAuth: clientAuth, clients: map[string]storage.Client{}, users: map[string]storage.User{}})
}

func memoFrom(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// getClient reads a client through the request's memo, if it has one.
func getClient(ctx context.Context, store storage.Clients, id string) (storage.Client, error) {
	return memoized(ctx, func(m *memo) map[string]storage.Client { return m.clients }, id, store.GetClient)
}

// getUser reads a person through the request's memo, if it has one.
func getUser(ctx context.Context, store storage.Users, id string) (storage.User, error) {
	return memoized(ctx, func(m *memo) map[string]storage.User { return m.users }, id, store.GetUser)
}

// memoized returns what the memo's table holds for id, else loads it and,
// when found, keeps it for the rest of the request.
func memoized[T any](ctx context.Context, table func(*memo) map[string]T, id string,
	load func(context.Context, string) (T, error)) (T, error) {
	m := memoFrom(ctx)
	if m == nil {
		return load(ctx, id)
	}
	m.mu.Lock()
	v, ok := table(m)[id]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load(ctx, id)
	if err == nil {
		m.mu.Lock()
		table(m)[id] = v
		m.mu.Unlock()
	}
	return v, err
}
