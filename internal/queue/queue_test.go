package queue

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		first    time.Duration
		attempts int
		want     time.Duration
	}{
		{30 * time.Second, 1, 30 * time.Second},
		{30 * time.Second, 2, time.Minute},
		{30 * time.Second, 7, 32 * time.Minute},
		{30 * time.Second, 8, time.Hour},
		{30 * time.Second, 30, time.Hour},
		{10 * time.Second, 1, 10 * time.Second},
		{10 * time.Second, 3, 40 * time.Second},
		{10 * time.Second, 0, 10 * time.Second},
	} {
		if got := Backoff(tc.first, tc.attempts); got != tc.want {
			t.Errorf("Backoff(%s, %d) = %s, want %s", tc.first, tc.attempts, got, tc.want)
		}
	}
}

// Run delivers at once, again at each wake (an hour-long poll never comes),
// and stops with its context.
func TestRunDeliversAtOnceAndOnWake(t *testing.T) {
	w := NewWaker()
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		w.Run(ctx, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", func(context.Context) error {
			calls <- struct{}{}
			return nil
		})
		close(done)
	}()
	<-calls // at once
	w.Wake()
	<-calls // on the wake
	cancel()
	<-done
	var nilWaker *Waker
	nilWaker.Wake() // harmless
}
