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
	var peak atomic.Int32
	// Wait is called while the hash holds its slot: the slots taken then
	// are the hashes running.
	h.Wait = func(time.Duration) {
		waited.Add(1)
		n := int32(cap(h.slots) - len(h.slots))
		for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
		}
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if cap(h.slots) != 2 || peak.Load() > 2 || peak.Load() < 1 || waited.Load() != 8 || failed.Load() != 0 {
		t.Fatalf("cap %d, peak %d, waits %d, failed %d", cap(h.slots), peak.Load(), waited.Load(), failed.Load())
	}
	// A cancelled context gives up instead of queueing forever.
	a, b := <-h.slots, <-h.slots
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	h.slots <- a
	h.slots <- b
}

// The slots keep their work areas from one hash to the next, until
// releaseMemory (which the idle timer calls) drops them; a hash made with
// other parameters does not change their size.
func TestWorkAreas(t *testing.T) {
	p := Params{MemoryKiB: 256, Iterations: 1, Parallelism: 1}
	h := NewHasher(p, 2)
	h.KeepMemory = time.Hour // the timer is checked, not waited for
	ctx := context.Background()
	if got := h.retained(); got != 0 {
		t.Fatalf("retained %d KiB before any hash", got)
	}
	enc, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.retained(); got != 256 {
		t.Fatalf("retained %d KiB after one hash, want 256", got)
	}
	if !h.idle.Stop() {
		t.Fatal("no idle timer pending after a hash")
	}
	old := NewHasher(Params{MemoryKiB: 512, Iterations: 1, Parallelism: 1}, 1)
	oldEnc, _ := old.Hash(ctx, "pw")
	for _, tc := range []struct{ enc, pw string }{{enc, "pw"}, {oldEnc, "pw"}, {enc, "pw"}} {
		if err := h.Verify(ctx, tc.enc, tc.pw); err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
	if err := h.Verify(ctx, enc, "wrong"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password on a reused work area: %v", err)
	}
	// Both slots have hashed by now, each keeping 256 KiB; the 512 KiB
	// hash's work area was its own.
	if got := h.retained(); got != 512 {
		t.Fatalf("retained %d KiB after hashes of both sizes, want 2×256", got)
	}
	h.releaseMemory()
	if got := h.retained(); got != 0 || len(h.slots) != 2 {
		t.Fatalf("retained %d KiB, %d slots free after releaseMemory", got, len(h.slots))
	}
	if err := h.Verify(ctx, enc, "pw"); err != nil {
		t.Fatalf("verify after release: %v", err)
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
