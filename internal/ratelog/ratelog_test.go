package ratelog

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/internal/testclock"
)

// TestOneLineAMinutePerKeyWithACount: a flood writes one line a minute per
// key, each counting the refusals since the previous one; keys are apart.
func TestOneLineAMinutePerKeyWithACount(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	var l Log
	type line struct {
		key string
		n   int
	}
	var lines []line
	refuse := func(key string) {
		if n, ok := l.Refused(key, clk.Now()); ok {
			lines = append(lines, line{key, n})
		}
	}
	// 15 s of 600 refusals a second from one key, 1 a second from another.
	for range 15 {
		for range 600 {
			refuse("signin:192.0.2.1")
		}
		refuse("code:198.51.100.7")
		clk.Add(time.Second)
	}
	if want := []line{{"signin:192.0.2.1", 1}, {"code:198.51.100.7", 1}}; fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("15 s of flood: %v, want %v", lines, want)
	}
	// A minute after the first line, the next refusal writes the count.
	clk.Add(45*time.Second - time.Nanosecond)
	refuse("signin:192.0.2.1")
	if len(lines) != 2 {
		t.Fatalf("a line before the minute: %v", lines)
	}
	clk.Add(time.Nanosecond)
	refuse("signin:192.0.2.1")
	if got := lines[len(lines)-1]; len(lines) != 3 || got != (line{"signin:192.0.2.1", 15*600 - 1 + 2}) {
		t.Fatalf("after the minute: %v", lines)
	}
	// Then silence again for a minute.
	refuse("signin:192.0.2.1")
	if len(lines) != 3 {
		t.Fatalf("%v", lines)
	}
}

// TestManyKeysAreForgotten: memory stays bounded under refusals from
// ever new keys.
func TestManyKeysAreForgotten(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	var l Log
	for i := range 5 * maxKeys {
		if _, ok := l.Refused(fmt.Sprint("k", i), clk.Now()); !ok {
			t.Fatal("a new key's first refusal is not written")
		}
		if i%1000 == 0 {
			clk.Add(Every)
		}
	}
	if len(l.keys) > maxKeys+1000 {
		t.Fatalf("%d keys kept", len(l.keys))
	}
}

func TestConcurrentRefusals(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var l Log
	var wg sync.WaitGroup
	var mu sync.Mutex
	written := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if _, ok := l.Refused("k", now); ok {
					mu.Lock()
					written++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if written != 1 {
		t.Fatalf("%d lines for one key in one instant", written)
	}
}
