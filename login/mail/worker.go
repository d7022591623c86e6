package mail

import (
	"context"
	"log/slog"
	"time"

	"github.com/sesame-idp/sesame/internal/queue"
	"github.com/sesame-idp/sesame/storage"
)

// Worker delivers the outbox.
type Worker struct {
	Store     storage.Outbox
	Transport Transport
	Now       func() time.Time
	Logger    *slog.Logger
	// Poll is how often the outbox is looked at without a Wake (default 5 s).
	Poll time.Duration
	// Lease is how long a claimed mail is left to this worker (default 2 min).
	Lease time.Duration
	// Sent, when set, is called after each delivery attempt (for metrics).
	Sent func(kind string, err error)
	// Sealer opens the sealed bodies of the outbox.
	Sealer *Sealer

	waker *queue.Waker
}

// NewWorker returns a worker with its wake-up channel.
func NewWorker(store storage.Outbox, t Transport, now func() time.Time, logger *slog.Logger) *Worker {
	return &Worker{Store: store, Transport: t, Now: now, Logger: logger, waker: queue.NewWaker()}
}

// Wake asks the worker to look at the outbox now (after an enqueue).
func (w *Worker) Wake() { w.waker.Wake() }

// backoff is the wait before attempt n+1: 30 s, 1 min, 2 min… at most 1 h.
func backoff(attempts int) time.Duration { return queue.Backoff(30*time.Second, attempts) }

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	w.waker.Run(ctx, w.Poll, w.Logger, "mail outbox", func(ctx context.Context) error {
		_, err := w.Deliver(ctx)
		return err
	})
}

// Deliver sends every mail due now and returns how many were sent.
func (w *Worker) Deliver(ctx context.Context) (int, error) {
	lease := w.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	sent := 0
	for {
		batch, err := w.Store.ClaimMails(ctx, w.Now(), lease, 20)
		if err != nil || len(batch) == 0 {
			return sent, err
		}
		for _, m := range batch {
			plain, err := w.Sealer.Open(m)
			if l, ok := w.Transport.(Log); ok {
				if err := w.hold(ctx, l, m, plain, err); err != nil {
					return sent, err
				}
				continue
			}
			if err == nil {
				sendCtx, cancel := context.WithTimeout(ctx, time.Minute)
				err = w.Transport.Send(sendCtx, plain)
				cancel()
			}
			if w.Sent != nil {
				w.Sent(m.Kind, err)
			}
			if err != nil {
				next := w.Now().Add(backoff(m.Attempts))
				w.Logger.WarnContext(ctx, "mail not accepted, will retry", "mail", m.ID, "kind", m.Kind, "attempt", m.Attempts,
					"retry_at", next.Format(time.RFC3339), "err", err)
				if err := w.Store.MarkMailFailed(ctx, m.ID, err.Error(), next); err != nil {
					return sent, err
				}
				continue
			}
			if err := w.Store.MarkMailSent(ctx, m.ID, w.Now()); err != nil {
				return sent, err
			}
			sent++
			w.Logger.InfoContext(ctx, "mail sent", "mail", m.ID, "kind", m.Kind)
		}
	}
}
