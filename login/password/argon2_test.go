package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cheap keeps the tests fast; the encoding is the same at any cost.
var cheap = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestHashVerify(t *testing.T) {
	h := NewHasher(cheap, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("encoding %q", enc)
	}
	other, _ := h.Hash(ctx, "correct horse battery staple")
	if other == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name    string
		encoded string
		pw      string
		want    error
	}{
		{"right password", enc, "correct horse battery staple", nil},
		{"wrong password", enc, "correct horse battery stapler", ErrMismatch},
		{"empty password", enc, "", ErrMismatch},
		{"no hash", "", "anything", ErrMismatch},
		{"not phc", "plain", "x", ErrMalformed},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", "x", ErrMalformed},
		{"bad params", "$argon2id$v=19$m=x,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", ErrMalformed},
		{"absurd memory", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := h.Verify(ctx, tc.encoded, tc.pw); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(cheap, 1)
	enc, _ := old.Hash(ctx, "pw")
	if old.NeedsRehash(enc) {
		t.Fatal("same parameters need no rehash")
	}
	stronger := NewHasher(Params{MemoryKiB: 128, Iterations: 2, Parallelism: 1}, 1)
	if !stronger.NeedsRehash(enc) {
		t.Fatal("changed parameters need a rehash")
	}
	// The old hash still verifies under the new configuration.
	if err := stronger.Verify(ctx, enc, "pw"); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrencyBound(t *testing.T) {
	h := NewHasher(Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}, 2)
	var waited atomic.Int64
	h.Wait = func(d time.Duration) { waited.Add(1) }
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Observe the semaphore directly: len(slots) never exceeds its cap.
			if n := int32(len(h.slots)); n > peak.Load() {
				peak.Store(n)
			}
			running.Add(1)
			_, _ = h.Hash(context.Background(), "pw")
		}()
	}
	wg.Wait()
	if cap(h.slots) != 2 || peak.Load() > 2 || waited.Load() != 8 {
		t.Fatalf("cap %d, peak %d, waits %d", cap(h.slots), peak.Load(), waited.Load())
	}
	// A cancelled context gives up instead of queueing forever.
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	enc, _ := h.Hash(context.Background(), "correct horse battery staple")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := h.Verify(context.Background(), enc, "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
