package login

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestRateLimitRefusalsLoggedOnceAMinute: a client over its sign-in budget
// is refused every time, but the log gets one line a minute for its key,
// with the count of refusals. (Failed before: one line per refusal.)
func TestRateLimitRefusalsLoggedOnceAMinute(t *testing.T) {
	t.Parallel()
	hx := newHarness(t)
	// Budgets count in clock hours: the test's minute must not straddle
	// one (it failed when run at 14:59, the budget renewed at 15:00).
	now := hx.Clock.Now()
	hx.Clock.Add(now.Truncate(time.Hour).Add(time.Hour + time.Minute).Sub(now))
	logs := &lockedBuffer{}
	s := hx.H.build()
	s.shared.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s.signIn.SignInPerHour = 2
	b := hx.Browser()
	form := url.Values{"email": {"who@acme.example"}, "password": {"wrong password here"}}
	refused := 0
	for range 60 {
		if p := b.Post(PathLogin, form); p.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 58 {
		t.Fatalf("%d refused, want 58", refused)
	}
	if n := strings.Count(logs.String(), `msg="rate limited"`); n != 1 || !strings.Contains(logs.String(), "refused=1") {
		t.Fatalf("%d lines for 58 refusals, want 1:\n%s", n, logs.String())
	}
	hx.Clock.Add(30 * time.Second)
	b.Post(PathLogin, form).Shows(http.StatusTooManyRequests, "")
	if n := strings.Count(logs.String(), `msg="rate limited"`); n != 1 {
		t.Fatalf("a second line within the minute:\n%s", logs.String())
	}
	hx.Clock.Add(30 * time.Second)
	b.Post(PathLogin, form).Shows(http.StatusTooManyRequests, "")
	if n := strings.Count(logs.String(), `msg="rate limited"`); n != 2 || !strings.Contains(logs.String(), "refused=59") {
		t.Fatalf("after a minute, want a second line counting 59:\n%s", logs.String())
	}
}
