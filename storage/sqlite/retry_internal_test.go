package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

type codedError int

func (e codedError) Error() string { return fmt.Sprintf("code %d", int(e)) }
func (e codedError) Code() int     { return int(e) }

// Only SQLITE_BUSY is tried again, and not past the patience.
func TestRetryBusy(t *testing.T) {
	busy, snapshot, other := codedError(sqlite3.SQLITE_BUSY), codedError(sqlite3.SQLITE_BUSY_SNAPSHOT), codedError(sqlite3.SQLITE_CONSTRAINT_UNIQUE)
	cases := []struct {
		name      string
		answers   []error
		patience  time.Duration
		wantCalls int
		want      error
	}{
		{"busy twice, then done", []error{busy, fmt.Errorf("migrations: %w", snapshot), nil}, time.Minute, 3, nil},
		{"another error is not retried", []error{other, nil}, time.Minute, 1, other},
		{"no patience left", []error{busy, nil}, 0, 1, busy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := retryBusy(context.Background(), tc.patience, func() error {
				calls++
				return tc.answers[calls-1]
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.want) {
				t.Fatalf("%d calls, %v; want %d, %v", calls, err, tc.wantCalls, tc.want)
			}
		})
	}
}
