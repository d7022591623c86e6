package provider

import (
	"context"
	"sync"

	"github.com/sesame-idp/sesame/storage"
)

// memo keeps the clients and people one request has read. The library asks
// storage for the same rows several times per request (a token request
// reads its client to authenticate it and again to check the secret; a
// refresh reads the person to refuse a disabled one and again, with their
// organization, for the claims); with the memo each row is read once per
// request, and never kept beyond it, so a change is seen by the next request.
type memo struct {
	// clientAuth marks the endpoints where a client authenticates (token,
	// introspection, revocation): there a failure is a 401.
	clientAuth bool
	// budgetKey is the address whose budget a failed client
	// authentication spends (see clientBudget).
	budgetKey string
	// The protocol's extensions (fapi.go): the client a private_key_jwt
	// assertion authenticated and the one-request secret that stands for
	// it in the form; the DPoP key the request proved (its thumbprint),
	// and whether the token came with the DPoP scheme; whether the
	// authorization request was pushed (PAR).
	assertedClient, assertedSecret string
	jkt                            string
	dpopScheme                     bool
	pushed                         bool
	// tokenClient is the client the userinfo request's access token was
	// issued to (for its allowed origins, origins.go).
	tokenClient string

	mu      sync.Mutex
	clients map[string]storage.Client
	persons map[string]storage.Person
	refresh map[string]storage.RefreshToken // by hash
	codes   map[string]storage.AuthRequest  // by code hash
}

type memoKey struct{}

func withMemo(ctx context.Context, clientAuth bool) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{clientAuth: clientAuth, clients: map[string]storage.Client{}, persons: map[string]storage.Person{},
		refresh: map[string]storage.RefreshToken{}, codes: map[string]storage.AuthRequest{}})
}

func memoFrom(ctx context.Context) *memo {
	m, _ := ctx.Value(memoKey{}).(*memo)
	return m
}

// The memo's tables, for memoized and keep.
var (
	clientsOf = func(m *memo) map[string]storage.Client { return m.clients }
	personsOf = func(m *memo) map[string]storage.Person { return m.persons }
	refreshOf = func(m *memo) map[string]storage.RefreshToken { return m.refresh }
	codesOf   = func(m *memo) map[string]storage.AuthRequest { return m.codes }
)

// getClient reads a client through the request's memo, if it has one.
func getClient(ctx context.Context, store storage.Clients, id string) (storage.Client, error) {
	return memoized(ctx, clientsOf, id, store.GetClient)
}

// getPerson reads a person, with their organization, through the
// request's memo, if it has one.
func getPerson(ctx context.Context, store persons, id string) (storage.Person, error) {
	return memoized(ctx, personsOf, id, store.GetPerson)
}

// getRefreshToken reads a refresh token by its hash through the request's
// memo, if it has one.
func getRefreshToken(ctx context.Context, store storage.Tokens, hash string) (storage.RefreshToken, error) {
	return memoized(ctx, refreshOf, hash, store.GetRefreshToken)
}

// getAuthRequestByCode reads an authorization request by its code's hash
// through the request's memo, if it has one.
func getAuthRequestByCode(ctx context.Context, store storage.AuthRequests, codeHash string) (storage.AuthRequest, error) {
	return memoized(ctx, codesOf, codeHash, store.GetAuthRequestByCode)
}

// keep puts a row read elsewhere (a grant's one read) where memoized will
// find it.
func keep[T any](ctx context.Context, table func(*memo) map[string]T, id string, v T) {
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		table(m)[id] = v
		m.mu.Unlock()
	}
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
