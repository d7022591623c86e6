package sqlstore

import (
	"bytes"
	"runtime"
	"strconv"
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
// (the forgotten call is precisely the one made with another context). The
// look-up is made only while some transaction runs.

// errEscaped is the panic of a call that escaped its transaction.
const errEscaped = "sqlstore: storage call on the store from inside a transaction's function; " +
	"make it on the storage.Tx that Atomic passed (it would run outside the transaction and, on SQLite, wait for its writer)"

// mustNotEscape panics when the calling goroutine is running an Atomic
// function of this database.
func (db *DB) mustNotEscape() {
	if db.txRunning.Load() == 0 {
		return
	}
	if _, inside := db.txGoroutines.Load(goroutineID()); inside {
		panic(errEscaped)
	}
}

// enterTx records that this goroutine runs a transaction's function until
// the returned function is called.
func (db *DB) enterTx() (leave func()) {
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
