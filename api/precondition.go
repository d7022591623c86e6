package api

import (
	"context"

	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// If-Match is checked inside the transaction of the change it guards: the
// domain layer (login.Accounts) is given a store whose transactions run
// the precondition first — with the resource's row (or its
// organization's) held — so that of two requests carrying the same ETag,
// the second waits for the first to commit, then finds another ETag and
// is refused (412) before it changes anything. The rules themselves are
// the domain layer's, unchanged: the API adds a precondition, never a
// rule.

// precondition runs first in the change's transaction; an error refuses
// the change (and rolls it back).
type precondition func(ctx context.Context, tx storage.Tx) error

// guarded is a store whose every transaction runs check first.
type guarded struct {
	login.Store
	check precondition
}

func (g guarded) Atomic(ctx context.Context, fn func(tx storage.Tx) error) error {
	return g.Store.Atomic(ctx, func(tx storage.Tx) error {
		if err := g.check(ctx, tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// accIf is the domain layer with check run inside each change's
// transaction, or as it is when the request has no If-Match.
func (h *handlers) accIf(ifMatch *string, check precondition) *login.Accounts {
	if ifMatch == nil {
		return h.acc()
	}
	acc := *h.acc()
	acc.Store = guarded{Store: acc.Store, check: check}
	return &acc
}
