package sqlstore

import (
	"bytes"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
)

// A call made on the DB itself from inside an Atomic function, instead of
// on the transaction it was handed, would run outside that transaction: its
// write would not roll back with it, and on SQLite it would wait for the one
// writer connection that the transaction holds, until its context ends (a
// request's 503). Such a call is a bug in the caller, never a condition of
// the data, so it panics at once with a message that names it, and the
// tests that reach it fail; nothing waits.
//
// The goroutines running a transaction's function are known by their id:
// Go gives goroutines no identity of their own, and the context cannot tell
// (the forgotten call is precisely the one made with another context).
// Reading the id walks the goroutine's stack (2 µs, 50 µs at an HTTP
// handler's depth: 3 % of a code exchange), so the guard is on under
// `go test` only, where it turns every escape that a test reaches into a
// failure; the explicit storage.Tx is what prevents escapes, the guard is
// what proves there are none. Only Atomic's functions are watched: the
// package's own multi-statement writes never call the DB.
//
// GuardEscapes is that switch; benchmarks that measure what production
// pays turn it off (WithoutEscapeGuard).
var GuardEscapes atomic.Bool

func init() { GuardEscapes.Store(testing.Testing()) }

// WithoutEscapeGuard turns the guard off until the benchmark ends.
func WithoutEscapeGuard(b *testing.B) {
	was := GuardEscapes.Swap(false)
	b.Cleanup(func() { GuardEscapes.Store(was) })
}

// errEscaped is the panic of a call that escaped its transaction.
const errEscaped = "sqlstore: storage call on the store from inside a transaction's function; " +
	"make it on the storage.Tx that Atomic passed (it would run outside the transaction and, on SQLite, wait for its writer)"

// mustNotEscape panics when the calling goroutine is running an Atomic
// function of this database.
func (db *DB) mustNotEscape() {
	if !GuardEscapes.Load() || db.txRunning.Load() == 0 {
		return
	}
	if _, inside := db.txGoroutines.Load(goroutineID()); inside {
		panic(errEscaped)
	}
}

// enterTx records that this goroutine runs a transaction's function until
// the returned function is called.
func (db *DB) enterTx() (leave func()) {
	if !GuardEscapes.Load() {
		return func() {}
	}
	id := goroutineID()
	db.txGoroutines.Store(id, struct{}{})
	db.txRunning.Add(1)
	return func() {
		db.txRunning.Add(-1)
		db.txGoroutines.Delete(id)
	}
}

// goroutineID reads the calling goroutine's id from the first line of its
// stack trace ("goroutine 42 [running]:").
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
