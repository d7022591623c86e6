package login

import (
	"context"
	"sync"
	"time"

	"github.com/sesame-idp/sesame/storage"
)

// offerTTL is how long the login page trusts what it last read about
// whether any organization has a company sign-in connection. A change made
// through this process (SetConnection, RemoveConnection) is seen at once;
// one made by another replica, within offerTTL.
const offerTTL = time.Minute

// offerCache remembers whether any connection exists: the login page
// offers the company button only then, at the cost of one indexed probe
// (storage.AnySSOConnection) per offerTTL and process, not per page view.
type offerCache struct {
	mu    sync.Mutex
	any   bool
	known bool
	at    time.Time
}

// offerInit guards the lazy making of a CompanySignIn's offerCache.
var offerInit sync.Mutex

// offers is c's offerCache, made at first use. It is a pointer so that a
// copy of c (WithStore) shares it.
func (c *CompanySignIn) offers() *offerCache {
	offerInit.Lock()
	defer offerInit.Unlock()
	if c.offer == nil {
		c.offer = &offerCache{}
	}
	return c.offer
}

// WithStore is c with its reads and writes going through store (the API
// guards a change's transaction with its If-Match). It shares c's memory
// of the login page's offer, so a connection set through it is offered at
// once.
func (c *CompanySignIn) WithStore(store storage.Storage) *CompanySignIn {
	c.offers()
	cp := *c
	cp.Store = store
	return &cp
}

func (o *offerCache) forget() {
	o.mu.Lock()
	o.known = false
	o.mu.Unlock()
}

// Offered reports whether the login page offers company sign-in: whether
// any organization has a connection. A failed read keeps the last answer
// (none before the first), and is retried at the next page view.
func (c *CompanySignIn) Offered(ctx context.Context) bool {
	now := c.Now()
	o := c.offers()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.known && now.Sub(o.at) < offerTTL && !now.Before(o.at) {
		return o.any
	}
	got, err := c.Store.AnySSOConnection(ctx)
	if err != nil {
		return o.any
	}
	o.any, o.known, o.at = got, true, now
	return got
}
