package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// Migrator is what ApplyMigrations needs: a pool, or a connection pinned
// while the caller holds a migration lock.
type Migrator interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// ApplyMigrations applies, in name order, the *.sql files of dir in files that
// schema_migrations does not record yet, all in one transaction with their
// records, so that a failed migration leaves neither half a schema nor a
// record of it (nor the migrations of the same upgrade before it: an
// upgrade is whole or not at all). The SQL itself stays native to each
// backend.
//
// What is applied is read first, without taking the write lock: every
// command opens the database, and on SQLite a command that asked for the
// one write lock merely to learn that nothing was pending failed with
// SQLITE_BUSY behind a server that writes all the time. Only a pending
// migration takes the lock, once for all of them; what is pending is read
// again under it, so that of several processes starting at once one
// applies the migrations and the others find them done. (Each migration
// once took the lock on its own: six commands started at once on a fresh
// data directory then queued ninety write transactions, and on a loaded
// machine one waited past SQLite's busy timeout.) The transaction must take
// the write lock when it begins (SQLite: BEGIN IMMEDIATE, the writer pool's
// _txlock) so that the check and the apply see the same database.
func ApplyMigrations(ctx context.Context, db Migrator, d Dialect, files fs.FS, dir string) error {
	names, err := fs.Glob(files, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	if len(pending(names, appliedVersions(ctx, db))) == 0 {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", d.Name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("%s: migrations table: %w", d.Name, err)
	}
	record := "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"
	if d.Numbered {
		record = "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)"
	}
	for _, name := range pending(names, appliedVersions(ctx, tx)) {
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("%s: apply %s: %w", d.Name, version(name), err)
		}
		if _, err := tx.ExecContext(ctx, record, version(name), time.Now().UnixNano()); err != nil {
			return fmt.Errorf("%s: record %s: %w", d.Name, version(name), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: migrations: %w", d.Name, err)
	}
	return nil
}

func version(name string) string { return strings.TrimSuffix(path.Base(name), ".sql") }

// pending is the names that applied does not record, in order.
func pending(names []string, applied map[string]bool) []string {
	var out []string
	for _, name := range names {
		if !applied[version(name)] {
			out = append(out, name)
		}
	}
	return out
}

// versionReader is a pool, a pinned connection or a transaction.
type versionReader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// appliedVersions reads what schema_migrations records. It returns none
// when it cannot tell (a new database has no such table): outside the
// transaction, the locked path then decides; inside, every migration is
// pending and the table is new.
func appliedVersions(ctx context.Context, db versionReader) map[string]bool {
	applied := map[string]bool{}
	rows, err := db.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return applied
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if rows.Scan(&v) != nil {
			return map[string]bool{}
		}
		applied[v] = true
	}
	if rows.Err() != nil {
		return map[string]bool{}
	}
	return applied
}
