package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/sesame-idp/sesame/storage"
)

// Dialect is what differs between the SQL databases Sesame speaks.
type Dialect struct {
	Name string
	// Numbered rewrites ? placeholders as $1, $2… (PostgreSQL).
	Numbered bool
	// ForUpdate is appended to the select of a read-modify-write, so that
	// two writers of one row wait for each other ("" where the database has
	// one writer anyway).
	ForUpdate string
	// SkipLocked is appended to the select of a claim, so that workers
	// never take the same row.
	SkipLocked string
	// IsUnique, IsForeignKey and IsCheck classify constraint violations.
	IsUnique, IsForeignKey, IsCheck func(error) bool
}

// DB is a storage.Storage over database/sql.
type DB struct {
	write *sql.DB
	read  *sql.DB
	d     *Dialect
	cache sync.Map // rebound queries, by source text
}

// New wraps two pools (they may be the same) in a DB.
func New(write, read *sql.DB, d *Dialect) *DB {
	return &DB{write: write, read: read, d: d}
}

var _ storage.Storage = (*DB)(nil)

// Close closes the pools.
func (db *DB) Close() error {
	if db.read == db.write {
		return db.write.Close()
	}
	return errors.Join(db.read.Close(), db.write.Close())
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// rebind turns ? placeholders into the dialect's.
func (db *DB) rebind(q string) string {
	if !db.d.Numbered {
		return q
	}
	if v, ok := db.cache.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	db.cache.Store(q, out)
	return out
}

// querier is what a pool and a transaction share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written with ? placeholders on a pool or a transaction.
type conn struct {
	q  querier
	db *DB
}

func (c conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.db.rebind(query), args...)
}

func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.db.rebind(query), args...)
}

func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.db.rebind(query), args...)
}

type txKey struct{}

func txFrom(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txKey{}).(*sql.Tx)
	return tx
}

// reader is the transaction of an Atomic call, else the reader pool.
func (db *DB) reader(ctx context.Context) conn {
	if tx := txFrom(ctx); tx != nil {
		return conn{tx, db}
	}
	return conn{db.read, db}
}

// writer is the transaction of an Atomic call, else the writer pool.
func (db *DB) writer(ctx context.Context) conn {
	if tx := txFrom(ctx); tx != nil {
		return conn{tx, db}
	}
	return conn{db.write, db}
}

// Atomic runs fn in one write transaction: every storage call fn makes with
// the context it is given joins it, and an error rolls all of them back.
func (db *DB) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if txFrom(ctx) != nil {
		return fn(ctx)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// tx runs fn in a write transaction, or in the transaction of the Atomic
// call ctx carries.
func (db *DB) tx(ctx context.Context, fn func(conn) error) error {
	if tx := txFrom(ctx); tx != nil {
		return fn(conn{tx, db})
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(conn{tx, db}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (db *DB) isUnique(err error) bool     { return err != nil && db.d.IsUnique(err) }
func (db *DB) isForeignKey(err error) bool { return err != nil && db.d.IsForeignKey(err) }
func (db *DB) isCheck(err error) bool      { return err != nil && db.d.IsCheck(err) }

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}
