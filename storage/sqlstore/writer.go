package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
)

// Where writes share one connection (SQLite), the writes (transactions and
// single statements) run on one goroutine of their own, the writer, rather
// than on the goroutines that ask for them.
//
// Why: when a request's goroutine ran its transaction itself, database/sql
// handed the connection to the next waiting request by making that
// goroutine runnable on the current processor, behind the current goroutine,
// which usually went on with a millisecond or more of CPU (an ID token's
// signature). Every other write waited meanwhile: under a refresh load (16
// clients, 2 cores) one core idled 6–7 % of the time while requests queued
// for the connection. A goroutine that sends its transaction to the writer
// and waits for the answer lets the writer run at once on its processor,
// and the writer runs the queued transactions back to back: the machine is
// then idle 1 % of the time, and refreshes and code exchanges gain 8–10 %.
//
// A write that finds no write running and none queued runs at once on its
// own goroutine, holding the same lock as the writer (db.writing): sending
// it to the writer and back costs two goroutine wake-ups, each of which,
// with a core idle, wakes a thread (a sequential code exchange took 5–8 %
// more CPU that way). When such a write ends while writes are queued, its
// goroutine yields, so that the writer runs before it goes on.

// ErrClosed is returned for a write asked of a closed DB.
var ErrClosed = errors.New("sqlstore: closed")

// writeJob is one write for the writer goroutine.
type writeJob struct {
	ctx    context.Context
	run    func() error
	answer chan writeAnswer // buffered: the writer never waits for the asker
}

type writeAnswer struct {
	err      error
	panicked any // run's panic, raised again on the asker's goroutine
}

// inTx runs fn in a write transaction, by way of onWriter.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.onWriter(ctx, func() error { return db.runTx(ctx, fn) })
}

// onWriter runs a write: here where there is no writer goroutine or where
// the writer is free and nothing is queued, else on the writer goroutine.
func (db *DB) onWriter(ctx context.Context, run func() error) error {
	if db.writes == nil {
		return run()
	}
	select {
	case <-db.stop:
		return ErrClosed
	default:
	}
	if db.queued.Load() == 0 {
		select {
		case db.writing <- struct{}{}:
			defer db.endHere()
			return run()
		default:
		}
	}
	db.queued.Add(1)
	w := writeJob{ctx: ctx, run: run, answer: make(chan writeAnswer, 1)}
	select {
	case db.writes <- w:
	case <-ctx.Done():
		db.queued.Add(-1)
		return ctx.Err()
	case <-db.stop:
		db.queued.Add(-1)
		return ErrClosed
	}
	// Once taken, the write is waited for even if ctx ends: it may be
	// committing, and the caller must learn whether it did.
	a := <-w.answer
	if a.panicked != nil {
		panic(a.panicked)
	}
	return a.err
}

// QueuedWrites reports how many writes wait for the writer goroutine: a
// sign of a saturated writer when it stays above zero, and what tests wait
// for to know that a write is queued.
func (db *DB) QueuedWrites() int { return int(db.queued.Load()) }

// runWriter is the writer goroutine: it runs the writes it is sent, one at a
// time, until Close.
func (db *DB) runWriter() {
	defer close(db.writerDone)
	for {
		select {
		case w := <-db.writes:
			// A write running on its own goroutine holds the lock; a caller
			// that gives up meanwhile is answered at once.
			select {
			case db.writing <- struct{}{}:
				db.queued.Add(-1)
				w.answer <- db.runQueued(w)
				<-db.writing
			case <-w.ctx.Done():
				db.queued.Add(-1)
				w.answer <- writeAnswer{err: w.ctx.Err()}
			}
		case <-db.stop:
			return
		}
	}
}

// endHere ends a write run on its own goroutine; if the writer goroutine
// waits for the lock, this goroutine yields to it, so that the writer runs
// before this goroutine goes on.
func (db *DB) endHere() {
	<-db.writing
	if db.queued.Load() > 0 {
		runtime.Gosched()
	}
}

// runQueued runs w, unless its asker has given up while it was queued, and
// catches its panic so that the writer goroutine survives it.
func (db *DB) runQueued(w writeJob) (a writeAnswer) {
	defer func() {
		if p := recover(); p != nil {
			a = writeAnswer{panicked: p}
		}
	}()
	if err := w.ctx.Err(); err != nil {
		return writeAnswer{err: err}
	}
	return writeAnswer{err: w.run()}
}

// runTx runs fn in a transaction on the writer pool: committed if fn
// returns nil, rolled back if it fails or panics.
func (db *DB) runTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer db.preparePending(context.WithoutCancel(ctx))
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	committed = true
	return tx.Commit()
}
