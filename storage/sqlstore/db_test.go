package sqlstore

// What the conformance suite cannot see: it runs the storage.Storage
// methods against each backend, and each backend's dialect is one fixed
// set of choices. These tests take the machinery apart: placeholder
// rewriting, the statement cache and its bound, the writer (with and
// without one writer connection), and the escape guard.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/sesame-idp/sesame/storage"
)

// testDialect is SQLite's dialect with the switches the test asks for; the
// constraint classifiers read the driver's message, which is enough here.
func testDialect(prepare, oneWriter bool) *Dialect {
	has := func(s string) func(error) bool {
		return func(err error) bool { return strings.Contains(err.Error(), s) }
	}
	return &Dialect{Name: "sqlite-test", Prepare: prepare, OneWriter: oneWriter,
		IsUnique: has("UNIQUE"), IsForeignKey: has("FOREIGN KEY"), IsCheck: has("CHECK")}
}

// openTest opens a SQLite file with the real schema (the SQLite backend's
// migration files, read from the source tree: that package imports this
// one) on a one-connection writer pool and a reader pool, as the backend
// does.
func openTest(t *testing.T, d *Dialect) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyMigrations(context.Background(), write, *d, os.DirFS("../sqlite"), "migrations"); err != nil {
		t.Fatal(err)
	}
	db := New(write, read, d)
	t.Cleanup(func() { db.Close() })
	return db
}

func testClient(id string) storage.Client {
	return storage.Client{ID: id, RedirectURIs: []string{"https://rp.example/cb"}, CreatedAt: time.Unix(1_700_000_000, 0)}
}

func TestRebind(t *testing.T) {
	numbered := &DB{shared: &shared{d: &Dialect{Numbered: true}}}
	plain := &DB{shared: &shared{d: &Dialect{}}}
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c IN (?, ?)", "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"},
		{"UPDATE t SET a=?,b=? WHERE c=?", "UPDATE t SET a=$1,b=$2 WHERE c=$3"},
		{"SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?", "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11"},
		// Text, not placeholders: in a string literal, in a quoted
		// identifier, with a doubled quote inside.
		{"SELECT '?' FROM t WHERE a = ?", "SELECT '?' FROM t WHERE a = $1"},
		{`SELECT "odd?name" FROM t WHERE a = ?`, `SELECT "odd?name" FROM t WHERE a = $1`},
		{"SELECT 'it''s ?' WHERE a = ? AND b = 'x?'", "SELECT 'it''s ?' WHERE a = $1 AND b = 'x?'"},
		{"SELECT 'é?ü' || ? -- ok", "SELECT 'é?ü' || $1 -- ok"},
	} {
		if got := numbered.rebind(c.in); got != c.want {
			t.Errorf("numbered rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := plain.rebind(c.in); got != c.in {
			t.Errorf("? dialect rebind(%q) = %q, want it unchanged", c.in, got)
		}
	}
	// The rewrite is kept: the second call reads the cache.
	q := "SELECT x FROM cached WHERE y = ?"
	numbered.rebind(q)
	if v, ok := numbered.cache.Load(q); !ok || v != "SELECT x FROM cached WHERE y = $1" {
		t.Errorf("cache holds %v %v", v, ok)
	}
	if _, ok := plain.cache.Load(q); ok {
		t.Error("a ? dialect caches rewrites it does not make")
	}
}

func TestPreparedStatements(t *testing.T) {
	ctx := context.Background()
	count := func(db *DB) int64 { return db.stmtCount.Load() }
	selectOne := func(t *testing.T, db *DB, q string, arg int) {
		t.Helper()
		var got int
		if err := db.reader().QueryRowContext(ctx, q, arg).Scan(&got); err != nil || got != arg {
			t.Fatalf("%s with %d: %d %v", q, arg, got, err)
		}
	}

	t.Run("a query is prepared once, on its first use outside a transaction", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		before := count(db)
		for i := range 3 {
			selectOne(t, db, "SELECT ? + 0", i)
		}
		if got := count(db) - before; got != 1 {
			t.Fatalf("%d statements prepared for one query run three times", got)
		}
		if _, ok := db.stmts.Load(stmtKey{db.read, "SELECT ? + 0"}); !ok {
			t.Fatal("the statement is not kept for the reader pool")
		}
	})

	t.Run("a query first met in a transaction is prepared after it", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		const q = "SELECT count(*) FROM clients WHERE id = ?"
		key := stmtKey{db.write, q}
		err := db.Atomic(ctx, func(tx storage.Tx) error {
			var n int
			if err := tx.(*DB).reader().QueryRowContext(ctx, q, "x").Scan(&n); err != nil {
				return err
			}
			if _, ok := db.stmts.Load(key); ok {
				t.Error("prepared inside the transaction (SQLite's writer connection is held by it)")
			}
			if _, ok := db.pending.Load(key); !ok {
				t.Error("not remembered to prepare after the transaction")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := db.stmts.Load(key); !ok {
			t.Error("not prepared after the transaction")
		}
		// And a transaction that meets it again uses the statement.
		if err := db.Atomic(ctx, func(tx storage.Tx) error {
			var n int
			return tx.(*DB).reader().QueryRowContext(ctx, q, "x").Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("past maxStmts queries run unprepared", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		for i := range maxStmts + 20 {
			selectOne(t, db, fmt.Sprintf("SELECT ? + 0 AS c%d", i), i)
		}
		if got := count(db); got != maxStmts {
			t.Fatalf("%d statements kept, want the bound %d", got, maxStmts)
		}
		n := 0
		db.stmts.Range(func(_, _ any) bool { n++; return true })
		if n != maxStmts {
			t.Fatalf("%d statements in the cache, the count says %d", n, maxStmts)
		}
	})

	t.Run("a query that fails to prepare reports its error and is not kept", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		before := count(db)
		err := db.reader().QueryRowContext(ctx, "SELECT a FROM no_such_table WHERE a = ?", 1).Scan(new(int))
		if err == nil || !strings.Contains(err.Error(), "no_such_table") {
			t.Fatalf("got %v, want the driver's error", err)
		}
		if count(db) != before {
			t.Fatal("a failed statement was counted")
		}
	})

	t.Run("a dialect that does not prepare keeps nothing", func(t *testing.T) {
		db := openTest(t, testDialect(false, true))
		selectOne(t, db, "SELECT ? + 0", 7)
		if err := db.CreateClient(ctx, testClient("c")); err != nil {
			t.Fatal(err)
		}
		if count(db) != 0 {
			t.Fatalf("%d statements kept", count(db))
		}
	})
}

// The writer (writer.go), seen from inside: which goroutine runs a write,
// that two never run at once, and what a caller who gives up learns.
// storage/sqlite's TestWriterGoroutine covers panics, rollbacks, a caller
// that gives up while queued, and Close, through the public methods.
func TestWriter(t *testing.T) {
	ctx := context.Background()

	// hold runs a write on the writer that lasts until release is called.
	hold := func(db *DB) (release func()) {
		started, done, ended := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(ended)
			db.onWriter(ctx, func() error { close(started); <-done; return nil })
		}()
		<-started
		return func() { close(done); <-ended }
	}
	waitQueued := func(db *DB, n int) {
		for db.QueuedWrites() != n {
			runtime.Gosched()
		}
	}

	t.Run("a write that finds the writer free runs on the caller's goroutine", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		caller := goroutineID()
		var ran uint64
		if err := db.onWriter(ctx, func() error { ran = goroutineID(); return nil }); err != nil {
			t.Fatal(err)
		}
		if ran != caller {
			t.Fatalf("ran on goroutine %d, the caller is %d", ran, caller)
		}
	})

	t.Run("a write asked while another runs is queued and runs on the writer goroutine", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		release := hold(db)
		type result struct {
			caller, ran uint64
			err         error
		}
		got := make(chan result, 1)
		go func() {
			r := result{caller: goroutineID()}
			r.err = db.onWriter(ctx, func() error { r.ran = goroutineID(); return nil })
			got <- r
		}()
		waitQueued(db, 1)
		release()
		r := <-got
		if r.err != nil || r.ran == 0 || r.ran == r.caller {
			t.Fatalf("queued write: ran on %d, caller %d, err %v: want another goroutine", r.ran, r.caller, r.err)
		}
		if db.QueuedWrites() != 0 {
			t.Fatalf("%d writes still queued", db.QueuedWrites())
		}
	})

	t.Run("two writes never run at once", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		var running, most atomic.Int32
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				err := db.onWriter(ctx, func() error {
					n := running.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					runtime.Gosched()
					running.Add(-1)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if most.Load() != 1 {
			t.Fatalf("%d writes ran at once", most.Load())
		}
	})

	t.Run("a write already begun is waited for, even when its caller gives up", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		release := hold(db)
		callerCtx, cancel := context.WithCancel(ctx)
		begun, finish := make(chan struct{}), make(chan struct{})
		answer := make(chan error, 1)
		go func() {
			answer <- db.onWriter(callerCtx, func() error { close(begun); <-finish; return errors.New("the write's own answer") })
		}()
		waitQueued(db, 1)
		release()
		<-begun
		cancel()
		select {
		case err := <-answer:
			t.Fatalf("the caller left before its write ended: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		close(finish)
		if err := <-answer; err == nil || err.Error() != "the write's own answer" {
			t.Fatalf("got %v, want the write's own answer (it may have committed)", err)
		}
	})

	t.Run("without one writer, writes run on their callers and side by side", func(t *testing.T) {
		db := openTest(t, testDialect(true, false))
		if db.writes != nil || db.QueuedWrites() != 0 {
			t.Fatal("a writer goroutine for a dialect without OneWriter")
		}
		// Each write waits for the other to have begun: on one writer
		// this would never end.
		a, b := make(chan struct{}), make(chan struct{})
		errs := make(chan error, 2)
		go func() { errs <- db.onWriter(ctx, func() error { close(a); <-b; return nil }) }()
		go func() { errs <- db.onWriter(ctx, func() error { close(b); <-a; return nil }) }()
		for range 2 {
			select {
			case err := <-errs:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the writes ran one after the other")
			}
		}
	})
}

// The escape guard (escape.go): a call on the store from inside an Atomic
// function panics; the same call on the transaction, or on the store from
// another goroutine, or outside Atomic, does not.
func TestEscapeGuard(t *testing.T) {
	ctx := context.Background()
	escaped := func(t *testing.T, db *DB, call func(storage.Tx) error) (recovered any) {
		t.Helper()
		defer func() { recovered = recover() }()
		_ = db.Atomic(ctx, func(tx storage.Tx) error {
			if err := tx.CreateClient(ctx, testClient("inside")); err != nil {
				return err
			}
			return call(tx)
		})
		return nil
	}
	if !GuardEscapes.Load() {
		t.Fatal("the guard is off under go test")
	}

	for name, call := range map[string]func(db *DB) func(storage.Tx) error{
		"a read": func(db *DB) func(storage.Tx) error {
			return func(storage.Tx) error { _, err := db.GetClient(ctx, "inside"); return err }
		},
		"a write": func(db *DB) func(storage.Tx) error {
			return func(storage.Tx) error { return db.CreateClient(ctx, testClient("outside")) }
		},
		"an Atomic": func(db *DB) func(storage.Tx) error {
			return func(storage.Tx) error { return db.Atomic(ctx, func(storage.Tx) error { return nil }) }
		},
	} {
		t.Run(name+" on the store inside Atomic panics, and the transaction rolls back", func(t *testing.T) {
			db := openTest(t, testDialect(true, true))
			if p := escaped(t, db, call(db)); p != errEscaped {
				t.Fatalf("recovered %v, want the escape panic", p)
			}
			if _, err := db.GetClient(ctx, "inside"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("the transaction's write: %v, want rolled back", err)
			}
			if db.txRunning.Load() != 0 {
				t.Fatal("the goroutine is still known as running a transaction")
			}
			// Outside Atomic, the store is the right one to call.
			if err := db.CreateClient(ctx, testClient("after")); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("calls on the transaction, nested Atomic included, do not panic", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		p := escaped(t, db, func(tx storage.Tx) error {
			if _, err := tx.GetClient(ctx, "inside"); err != nil {
				return err
			}
			return tx.(storage.Storage).Atomic(ctx, func(inner storage.Tx) error {
				return inner.CreateClient(ctx, testClient("nested"))
			})
		})
		if p != nil {
			t.Fatalf("panicked: %v", p)
		}
		if _, err := db.GetClient(ctx, "nested"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("another goroutine may read the store while a transaction runs", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		p := escaped(t, db, func(storage.Tx) error {
			got := make(chan error, 1)
			go func() { _, err := db.GetClient(ctx, "inside"); got <- err }()
			if err := <-got; !errors.Is(err, storage.ErrNotFound) { // not committed yet
				return fmt.Errorf("a read from another goroutine: %v", err)
			}
			return nil
		})
		if p != nil {
			t.Fatalf("panicked: %v", p)
		}
	})

	t.Run("the package's own transactions are not watched", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		err := db.tx(ctx, func(conn) error {
			db.mustNotEscape() // would panic inside an Atomic function
			if db.txRunning.Load() != 0 {
				return errors.New("db.tx registered its goroutine")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("with the guard off, nothing is watched", func(t *testing.T) {
		db := openTest(t, testDialect(true, true))
		GuardEscapes.Store(false)
		defer GuardEscapes.Store(true)
		p := escaped(t, db, func(storage.Tx) error { _, err := db.GetClient(ctx, "x"); return ignore(err, storage.ErrNotFound) })
		if p != nil {
			t.Fatalf("panicked with the guard off: %v", p)
		}
	})
}

func ignore(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	return err
}
