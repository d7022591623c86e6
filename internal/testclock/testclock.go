// Package testclock is the clock tests move instead of sleeping: Now
// returns the time it was set to, until the test moves it with Add. It is
// safe for the goroutines of the server under test.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only when the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock showing start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time; it fits a Now func() time.Time field.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
