package queue

import (
	"context"
	"log/slog"
	"time"
)

// Waker runs deliveries when woken or when the poll interval passes. Its
// zero value is not usable: make one with NewWaker.
type Waker struct{ wake chan struct{} }

// NewWaker returns a Waker.
func NewWaker() *Waker { return &Waker{wake: make(chan struct{}, 1)} }

// Wake asks Run to deliver now. It never blocks: a wake already pending
// covers this one, since the next delivery sees everything committed before.
func (w *Waker) Wake() {
	if w == nil {
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run calls deliver at once, then after each wake and each poll (default
// 5 s), until ctx ends. A delivery error is logged with what and retried at
// the next turn.
func (w *Waker) Run(ctx context.Context, poll time.Duration, logger *slog.Logger, what string, deliver func(context.Context) error) {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := deliver(ctx); err != nil && ctx.Err() == nil {
			logger.Warn(what, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// Backoff is the wait before attempt n+1 after n failed ones: first, then
// twice as long each time, at most an hour.
func Backoff(first time.Duration, attempts int) time.Duration {
	d := first
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}
