package login

import (
	"context"
	"sync"
	"time"
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

// offers holds each CompanySignIn's offerCache, keyed by its Accounts: a
// copy of a CompanySignIn (api/ makes one per request, to guard its store)
// shares its original's cache, so that a change made through the copy is
// seen at once too.
var offers sync.Map // *Accounts → *offerCache

func (c *CompanySignIn) offerCache() *offerCache {
	o, _ := offers.LoadOrStore(c.Accounts, &offerCache{})
	return o.(*offerCache)
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
	o := c.offerCache()
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
