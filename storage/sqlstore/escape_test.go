package sqlstore

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// goroutineID reads the id the stack trace names; another goroutine has
// another.
func TestGoroutineID(t *testing.T) {
	var buf [64]byte
	head := strings.Fields(string(buf[:runtime.Stack(buf[:], false)]))
	id := goroutineID()
	if len(head) < 2 || strconv.FormatUint(id, 10) != head[1] {
		t.Fatalf("goroutineID %d, the stack says %v", id, head)
	}
	other := make(chan uint64)
	go func() { other <- goroutineID() }()
	if got := <-other; got == id || got == 0 {
		t.Fatalf("another goroutine's id: %d (this one's %d)", got, id)
	}
}

func BenchmarkGoroutineID(b *testing.B) {
	for b.Loop() {
		goroutineID()
	}
}
