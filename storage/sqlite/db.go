package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite backend: the shared SQL store on two pools of one file.
type DB struct {
	*sqlstore.DB
	path string
	dsn  string
	read *sql.DB

	ckpt      *sql.DB       // the checkpointer's own connection
	stopCkpt  chan struct{} // closed by Close
	ckptDone  chan struct{} // closed when the checkpointer has stopped
	closeOnce sync.Once
}

// Checkpoints copy the WAL back into the database file and fsync both. Left
// to SQLite, the commit that crosses wal_autocheckpoint does it while it
// holds the only writer connection, and every other write waits (under a
// refresh load: ~8 % of the CPU idle, and the slowest requests). A goroutine
// does it instead, every checkpointEvery, on a connection of its own;
// PASSIVE never blocks the writer. SQLite's own checkpoint stays as a
// backstop should the WAL outgrow autoCheckpointPages (about 40 MiB).
const (
	checkpointEvery     = time.Second
	autoCheckpointPages = 10000
	walSizeLimit        = 64 << 20 // the WAL file is truncated to this after a reset
)

var _ storage.Storage = (*DB)(nil)

// dialect is SQLite's: ? placeholders, one writer (so no row locks), the
// constraint errors of modernc.org/sqlite.
var dialect = &sqlstore.Dialect{Name: "sqlite", IsUnique: isUnique, IsForeignKey: isForeignKey, IsCheck: isCheck, Prepare: true, OneWriter: true,
	Tables: `SELECT m.name, coalesce(f."table", '') FROM sqlite_master AS m
		LEFT JOIN pragma_foreign_key_list(m.name) AS f
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`}

// Open opens (creating if needed) the database at path and applies pending
// migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
	}
	// Create the file ourselves so that it is private from the first byte;
	// SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}
	f.Close()

	// busy_timeout comes first so that every later pragma already waits
	// rather than failing on a lock.
	pragmas := []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"}
	dsn := func(extra ...string) string {
		v := url.Values{}
		for _, p := range append(pragmas, extra...) {
			v.Add("_pragma", p)
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
	}
	write, err := sql.Open("sqlite", dsn(fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages),
		fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, 2*runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)

	ckpt, err := sql.Open("sqlite", dsn())
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	ckpt.SetMaxOpenConns(1)
	db := &DB{DB: sqlstore.New(write, read, dialect), path: path, dsn: dsn(), read: read, ckpt: ckpt,
		stopCkpt: make(chan struct{}), ckptDone: make(chan struct{})}
	if err := migrate(ctx, write); err != nil {
		close(db.ckptDone)
		db.Close()
		return nil, err
	}
	go db.checkpointer()
	return db, nil
}

// checkpointer runs PASSIVE checkpoints until Close.
func (db *DB) checkpointer() {
	defer close(db.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-db.stopCkpt:
			return
		case <-t.C:
			// An error (a busy database, a full disk) is retried at the next
			// tick; the writer's own autocheckpoint remains the backstop.
			_, _, _ = db.checkpoint(context.Background())
		}
	}
}

// checkpoint copies what it can of the WAL into the database file without
// waiting for anyone, and returns the WAL's frames and those now copied.
func (db *DB) checkpoint(ctx context.Context) (walFrames, copied int, err error) {
	var busy int
	err = db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walFrames, &copied)
	return walFrames, copied, err
}

// Close stops the checkpointer, then closes the connections. Later calls
// return nil.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.stopCkpt)
		<-db.ckptDone
		err = errors.Join(db.DB.Close(), db.ckpt.Close())
	})
	return err
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// IntegrityCheck runs PRAGMA integrity_check and returns its verdict.
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var res string
	err := db.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res)
	return res, err
}

// migrate applies the pending migrations. Commands started at once on a
// brand-new file can get SQLITE_BUSY at once, without SQLite's busy handler
// waiting (seen about once in ten loaded runs of
// TestCommandsStartedAtOnceOnAFreshDataDir, likely while another process
// switches the new file to WAL): that is retried for as long as the busy
// timeout would have waited.
func migrate(ctx context.Context, write *sql.DB) error {
	return retryBusy(ctx, busyTimeout, func() error {
		return sqlstore.ApplyMigrations(ctx, write, *dialect, migrations, "migrations")
	})
}

// busyTimeout is how long a statement waits for a lock (busy_timeout).
const busyTimeout = 10 * time.Second

// retryBusy runs fn until it ends with anything but SQLITE_BUSY, waiting a
// little longer each time, for at most patience.
func retryBusy(ctx context.Context, patience time.Duration, fn func() error) error {
	deadline := time.Now().Add(patience)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		err := fn()
		if !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLITE_BUSY (any of its extended codes).
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKey reports whether err is a FOREIGN KEY violation.
func isForeignKey(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// isCheck reports whether err is a CHECK constraint violation.
func isCheck(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_CHECK
	}
	return false
}

// Backup writes a consistent copy of the database to path while it is in
// use (VACUUM INTO: a snapshot of one read transaction, compacted). The
// file is created 0600 and must not exist yet.
func (db *DB) Backup(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	// VACUUM INTO wants to create the file itself.
	if err := os.Remove(path); err != nil {
		return err
	}
	// A connection of its own, not query_only, so that the backup neither
	// waits for nor blocks the writer (WAL: it reads one snapshot).
	conn, err := sql.Open("sqlite", db.dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return err
	}
	return os.Chmod(path, 0o600)
}
