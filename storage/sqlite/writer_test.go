package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlite"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

// The writes run on the writer goroutine (sqlstore/writer.go); these are
// the ways a write can end there. CreateClient is one statement; in Atomic,
// a transaction.
func TestWriterGoroutine(t *testing.T) {
	ctx := context.Background()
	client := func(id string) storage.Client {
		return storage.Client{ID: id, RedirectURIs: []string{"https://rp.example/cb"}, CreatedAt: time.Unix(1_700_000_000, 0)}
	}
	create := func(db *sqlite.DB, ctx context.Context, id string) error {
		return db.Atomic(ctx, func(tx storage.Tx) error { return tx.CreateClient(ctx, client(id)) })
	}
	stored := func(t *testing.T, db *sqlite.DB, id string) bool {
		t.Helper()
		_, err := db.GetClient(ctx, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	open := func(t *testing.T) *sqlite.DB {
		db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sesame.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}

	// hold runs a transaction that waits until release is called, so that
	// the writes asked meanwhile queue for the writer goroutine.
	hold := func(t *testing.T, db *sqlite.DB) (release func()) {
		holding, done := make(chan struct{}), make(chan struct{})
		ended := make(chan error, 1)
		go func() {
			ended <- db.Atomic(ctx, func(tx storage.Tx) error {
				close(holding)
				<-done
				return tx.CreateClient(ctx, client("holder"))
			})
		}()
		<-holding
		return func() {
			close(done)
			if err := <-ended; err != nil {
				t.Fatal(err)
			}
		}
	}
	// waitQueued returns once a write waits for the writer goroutine.
	waitQueued := func(db *sqlite.DB) {
		for db.QueuedWrites() == 0 {
			runtime.Gosched()
		}
	}
	panicking := func(db *sqlite.DB) (recovered any) {
		defer func() { recovered = recover() }()
		_ = db.Atomic(ctx, func(tx storage.Tx) error {
			if err := tx.CreateClient(ctx, client("half")); err != nil {
				return err
			}
			panic("boom")
		})
		return nil
	}

	for _, queued := range []bool{false, true} {
		t.Run(fmt.Sprintf("a panic reaches the caller, rolled back, and writes go on (queued %v)", queued), func(t *testing.T) {
			db := open(t)
			var p any
			if queued {
				release := hold(t, db)
				got := make(chan any, 1)
				go func() { got <- panicking(db) }()
				waitQueued(db)
				release()
				p = <-got
			} else {
				p = panicking(db)
			}
			if p != "boom" {
				t.Fatalf("recovered %v, want the transaction's own panic", p)
			}
			if stored(t, db, "half") {
				t.Error("the panicking transaction was committed")
			}
			if err := create(db, ctx, "after"); err != nil || !stored(t, db, "after") {
				t.Fatalf("a write after the panic: %v", err)
			}
		})
	}

	t.Run("an error rolls back every write of the transaction", func(t *testing.T) {
		db := open(t)
		refused := errors.New("refused")
		err := db.Atomic(ctx, func(tx storage.Tx) error {
			if err := tx.CreateClient(ctx, client("first")); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) || stored(t, db, "first") {
			t.Fatalf("err %v, stored %v", err, stored(t, db, "first"))
		}
	})

	t.Run("a caller that gives up while queued gets its error and writes nothing", func(t *testing.T) {
		db := open(t)
		release := hold(t, db)
		queued, cancel := context.WithCancel(ctx)
		second := make(chan error, 1)
		go func() { second <- create(db, queued, "second") }()
		waitQueued(db)
		cancel()
		if err := <-second; !errors.Is(err, context.Canceled) {
			t.Fatalf("queued and cancelled: %v, want context.Canceled", err)
		}
		release()
		if !stored(t, db, "holder") || stored(t, db, "second") {
			t.Errorf("holder stored %v (want true), second stored %v (want false)", stored(t, db, "holder"), stored(t, db, "second"))
		}
	})

	t.Run("concurrent statements and transactions all commit", func(t *testing.T) {
		db := open(t)
		const n = 64
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			id := fmt.Sprintf("c%02d", i)
			if i%2 == 0 {
				wg.Go(func() { errs <- create(db, ctx, id) })
			} else {
				wg.Go(func() { errs <- db.CreateClient(ctx, client(id)) })
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		cs, err := db.ListClients(ctx)
		if err != nil || len(cs) != n {
			t.Fatalf("%d clients (%v), want %d", len(cs), err, n)
		}
	})

	t.Run("after Close a write fails at once", func(t *testing.T) {
		db := open(t)
		db.Close()
		if err := create(db, ctx, "late"); !errors.Is(err, sqlstore.ErrClosed) {
			t.Errorf("transaction after Close: %v, want ErrClosed", err)
		}
		if err := db.CreateClient(ctx, client("late")); !errors.Is(err, sqlstore.ErrClosed) {
			t.Errorf("statement after Close: %v, want ErrClosed", err)
		}
	})
}
