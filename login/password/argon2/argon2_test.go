package argon2

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"runtime"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

// TestSameAsUpstream hashes with one Memory, reused and so dirty from the
// hashes before, and compares each key with x/crypto's.
func TestSameAsUpstream(t *testing.T) {
	var m Memory
	tests := []struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}{
		{1, 8, 1, 32},
		{1, 64, 1, 16},
		{2, 64, 1, 32},
		{3, 64, 2, 32},
		{1, 1024, 1, 32},
		{2, 1024, 4, 64},
		{1, 37, 3, 32},   // not a multiple of 4×threads: rounded down
		{2, 5, 2, 32},    // below the minimum of 8×threads: raised
		{2, 8192, 1, 32}, // the size Sesame's tests use
		{1, 1024, 1, 32}, // back to a size met before
	}
	for i, tc := range tests {
		for _, pw := range []string{"", "correct horse battery staple", "é\x00 password"} {
			t.Run(fmt.Sprintf("%d/t=%d,m=%d,p=%d/%q", i, tc.time, tc.memory, tc.threads, pw), func(t *testing.T) {
				salt := []byte(fmt.Sprintf("salt-%02d-salt-%02d", i, len(pw)))
				got := m.IDKey([]byte(pw), salt, tc.time, tc.memory, tc.threads, tc.keyLen)
				want := upstream.IDKey([]byte(pw), salt, tc.time, tc.memory, tc.threads, tc.keyLen)
				if !bytes.Equal(got, want) {
					t.Fatalf("key %x, upstream %x", got, want)
				}
			})
		}
	}
}

// TestRFC9106 is the Argon2id test vector of RFC 9106 §5.3 (it has a
// secret and associated data, which IDKey does not take).
func TestRFC9106(t *testing.T) {
	var m Memory
	m.IDKey([]byte("dirty the memory first"), []byte("saltsaltsalt"), 1, 64, 1, 32)
	got := m.deriveKey(argon2id, bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16),
		bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12), 3, 32, 4, 32)
	want := "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
	if hex.EncodeToString(got) != want {
		t.Fatalf("tag %x, want %s", got, want)
	}
}

func TestMemoryKeptAndReleased(t *testing.T) {
	var m Memory
	m.IDKey([]byte("pw"), []byte("saltsalt"), 1, 64, 1, 32)
	if m.Size() != 64 {
		t.Fatalf("size %d after a 64 KiB hash", m.Size())
	}
	first := &m.blocks[0]
	m.IDKey([]byte("pw2"), []byte("saltsalt"), 1, 64, 1, 32)
	if &m.blocks[0] != first {
		t.Fatal("a hash of the same size allocated a new work area")
	}
	m.Release()
	if m.Size() != 0 {
		t.Fatalf("size %d after Release", m.Size())
	}
}

func BenchmarkIDKey(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	b.Run("upstream-19MiB-t2", func(b *testing.B) {
		for b.Loop() {
			upstream.IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
	b.Run("memory-19MiB-t2", func(b *testing.B) {
		var m Memory
		for b.Loop() {
			m.IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
}

// A Memory dropped without Release is unmapped by its cleanup, never while
// it hashes: the hash of a Memory nothing else refers to is still right.
func TestDroppedMemory(t *testing.T) {
	pw, salt := []byte("pw"), []byte("saltsaltsalt")
	want := upstream.IDKey(pw, salt, 3, 4096, 1, 32)
	for range 20 {
		done := make(chan []byte)
		go func() { done <- new(Memory).IDKey(pw, salt, 3, 4096, 1, 32) }()
		runtime.GC() // collects the Memories of the hashes before, maybe this one's
		if got := <-done; !bytes.Equal(got, want) {
			t.Fatalf("key %x, want %x", got, want)
		}
	}
	runtime.GC()
}
