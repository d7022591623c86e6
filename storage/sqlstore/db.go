package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	// Prepare keeps each statement prepared on each connection, for drivers
	// that parse the SQL at every call otherwise (modernc SQLite: about a
	// fifth of a refresh grant's CPU outside the signature). pgx caches
	// statements itself.
	Prepare bool
	// OneWriter says that writes share one connection (SQLite): they then
	// run one after the other on a goroutine of their own (see writer.go).
	OneWriter bool
	// Tables is the catalog query that lists the schema's tables, one row
	// per table and table it references by a foreign key: (table, parent),
	// parent '' for a table that references none. Copy derives its plan
	// from it.
	Tables string
}

// DB is a storage.Storage over database/sql. A DB made by New runs each
// call on its own; the DB that Atomic hands its function (tx set) runs
// every call in that transaction. The transaction is the receiver's, never
// the context's: a call cannot join or leave a transaction by the context
// it happens to be given.
type DB struct {
	*shared
	txn *sql.Tx // the transaction of an Atomic call, nil outside one
}

// shared is what every DB of one database shares: the pools, the dialect,
// the prepared statements and the writer.
type shared struct {
	write *sql.DB
	read  *sql.DB
	d     *Dialect
	cache sync.Map // rebound queries, by source text

	stmts     sync.Map // *sql.Stmt by stmtKey, when d.Prepare
	stmtCount atomic.Int64
	pending   sync.Map // stmtKey first met in a transaction, to prepare after it

	writes     chan writeJob // to the writer goroutine, when d.OneWriter
	stop       chan struct{} // closed by Close: the writer goroutine returns
	writerDone chan struct{} // closed when it has
	writing    chan struct{} // the lock (capacity 1) of the write running, on the writer goroutine or its own
	queued     atomic.Int32  // writes sent to the writer goroutine and not yet begun

	txGoroutines sync.Map     // goroutine id → struct{}: the goroutines running a transaction's function
	txRunning    atomic.Int32 // how many do, so that most calls skip the look-up
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// maxStmts bounds the prepared statements: the queries are the package's
// own constants, far fewer than this; past it, queries run unprepared.
const maxStmts = 512

// New wraps two pools (they may be the same) in a DB.
func New(write, read *sql.DB, d *Dialect) *DB {
	db := &DB{shared: &shared{write: write, read: read, d: d}}
	if d.OneWriter {
		db.writes, db.stop, db.writerDone = make(chan writeJob), make(chan struct{}), make(chan struct{})
		db.writing = make(chan struct{}, 1)
		go db.runWriter()
	}
	return db
}

var _ storage.Storage = (*DB)(nil)

// Close stops the writer goroutine, then closes the statements and the
// pools. It is called once.
func (db *DB) Close() error {
	if db.txn != nil {
		return nil // the transaction's handle; its DB is closed by its owner
	}
	if db.stop != nil {
		close(db.stop)
		<-db.writerDone
	}
	db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
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

// rebind turns ? placeholders into the dialect's. A ? inside a string
// literal ('…') or a quoted identifier ("…") is text, not a placeholder; a
// quote doubled inside either (an escaped quote) ends it and opens it again,
// which comes to the same.
func (db *DB) rebind(q string) string {
	if !db.d.Numbered {
		return q
	}
	if v, ok := db.cache.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	var quote rune // the quote of the literal or identifier being read, 0 outside one
	for _, r := range q {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '?':
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

// conn runs queries written with ? placeholders on a pool, or on a
// transaction of the writer pool.
type conn struct {
	pool *sql.DB
	tx   *sql.Tx
	db   *DB
}

// querier is the prepared statement for query where the dialect prepares,
// else the pool or the transaction itself.
func (c conn) querier(ctx context.Context, query string) (querier, string) {
	query = c.db.rebind(query)
	var q querier = c.pool
	if c.tx != nil {
		q = c.tx
	}
	if !c.db.d.Prepare {
		return q, query
	}
	key := stmtKey{c.pool, query}
	v, ok := c.db.stmts.Load(key)
	switch {
	case ok && c.tx != nil:
		// Reuses the statement already prepared on the transaction's connection.
		return stmtQuerier{c.tx.StmtContext(ctx, v.(*sql.Stmt))}, ""
	case ok:
		return stmtQuerier{v.(*sql.Stmt)}, ""
	case c.tx != nil:
		// Preparing on the pool now could wait for the very connection
		// this transaction holds (SQLite has one writer): run it as it is,
		// and prepare it once the transaction is over.
		c.db.pending.Store(key, struct{}{})
		return q, query
	}
	if st := c.db.prepare(ctx, key); st != nil {
		return stmtQuerier{st}, ""
	}
	return q, query // the unprepared call reports the error, if any
}

// prepare prepares and keeps a statement, or returns nil.
func (db *DB) prepare(ctx context.Context, key stmtKey) *sql.Stmt {
	if db.stmtCount.Load() >= maxStmts {
		return nil
	}
	st, err := key.pool.PrepareContext(ctx, key.query)
	if err != nil {
		return nil
	}
	if v, loaded := db.stmts.LoadOrStore(key, st); loaded {
		st.Close()
		return v.(*sql.Stmt)
	}
	db.stmtCount.Add(1)
	return st
}

// preparePending prepares the statements first met inside a transaction.
func (db *DB) preparePending(ctx context.Context) {
	db.pending.Range(func(k, _ any) bool {
		db.pending.Delete(k)
		if _, ok := db.stmts.Load(k); !ok {
			db.prepare(ctx, k.(stmtKey))
		}
		return true
	})
}

// stmtQuerier adapts a statement to querier; the query text is ignored.
type stmtQuerier struct{ st *sql.Stmt }

func (s stmtQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, args...)
}

func (s stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, args...)
}

func (s stmtQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return s.st.QueryRowContext(ctx, args...)
}

func (c conn) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	q, query := c.querier(ctx, query)
	if c.tx == nil && c.pool == c.db.write {
		err = c.db.onWriter(ctx, func() error {
			res, err = q.ExecContext(ctx, query, args...)
			return err
		})
		return res, err
	}
	return q.ExecContext(ctx, query, args...)
}

func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, query := c.querier(ctx, query)
	return q.QueryContext(ctx, query, args...)
}

func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q, query := c.querier(ctx, query)
	return q.QueryRowContext(ctx, query, args...)
}

// writeRow runs a write that returns one row (… RETURNING) and scans it
// with scan: in the receiver's transaction, or else as one statement on
// the writer, by way of onWriter as ExecContext goes, the row read before
// the writer is let go. One statement needs no transaction around it.
func (db *DB) writeRow(ctx context.Context, scan func(*sql.Row) error, query string, args ...any) error {
	c := db.writer()
	if c.tx != nil {
		return scan(c.QueryRowContext(ctx, query, args...))
	}
	return db.onWriter(ctx, func() error { return scan(c.QueryRowContext(ctx, query, args...)) })
}

// reader is the transaction of an Atomic call, else the reader pool.
func (db *DB) reader() conn {
	if db.txn != nil {
		return conn{db.write, db.txn, db}
	}
	db.mustNotEscape()
	return conn{db.read, nil, db}
}

// writer is the transaction of an Atomic call, else the writer pool.
func (db *DB) writer() conn {
	if db.txn != nil {
		return conn{db.write, db.txn, db}
	}
	db.mustNotEscape()
	return conn{db.write, nil, db}
}

// Atomic runs fn in one write transaction: every call fn makes on tx joins
// it, and an error rolls all of them back. Called on a transaction's DB, it
// runs fn in that same transaction.
func (db *DB) Atomic(ctx context.Context, fn func(tx storage.Tx) error) error {
	if db.txn != nil {
		return fn(db)
	}
	db.mustNotEscape()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		defer db.enterTx()() // known as running fn until it returns or panics (escape.go)
		return fn(&DB{shared: db.shared, txn: tx})
	})
}

// tx runs fn in a write transaction, or in the receiver's transaction.
func (db *DB) tx(ctx context.Context, fn func(conn) error) error {
	if db.txn != nil {
		return fn(conn{db.write, db.txn, db})
	}
	db.mustNotEscape()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		return fn(conn{db.write, tx, db})
	})
}

// queryAll runs a select on c and scans every row with scan.
func queryAll[T any](ctx context.Context, c conn, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
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
