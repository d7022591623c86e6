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
// schema_migrations does not record yet, each in one transaction with its
// record, so that a failed migration leaves neither half a schema nor a
// record of it. The SQL itself stays native to each backend.
//
// What is applied is read first, without taking the write lock: every
// command opens the database, and on SQLite a command that asked for the
// one write lock merely to learn that nothing was pending failed with
// SQLITE_BUSY behind a server that writes all the time. Only a pending
// migration takes the lock; it is checked again under it, so that of
// several processes starting at once one applies it and the others skip it.
// The transaction must take the write lock when it begins (SQLite: BEGIN
// IMMEDIATE, the writer pool's _txlock) so that the check and the apply
// see the same database.
func ApplyMigrations(ctx context.Context, db Migrator, d Dialect, files fs.FS, dir string) error {
	names, err := fs.Glob(files, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	applied := appliedVersions(ctx, db)
	var pending []string
	for _, name := range names {
		if !applied[version(name)] {
			pending = append(pending, name)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("%s: migrations table: %w", d.Name, err)
	}
	query, record := "SELECT count(*) FROM schema_migrations WHERE version = ?",
		"INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"
	if d.Numbered {
		query, record = strings.Replace(query, "?", "$1", 1), "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)"
	}
	for _, name := range pending {
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		if err := applyOne(ctx, db, query, record, version(name), string(body)); err != nil {
			return fmt.Errorf("%s: apply %s: %w", d.Name, version(name), err)
		}
	}
	return nil
}

func version(name string) string { return strings.TrimSuffix(path.Base(name), ".sql") }

// appliedVersions reads what schema_migrations records, outside any
// transaction. It returns none when it cannot tell (a new database has no
// such table): the locked path then decides.
func appliedVersions(ctx context.Context, db Migrator) map[string]bool {
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

func applyOne(ctx context.Context, db Migrator, query, record, version, body string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op after Commit
	var applied int
	if err := tx.QueryRowContext(ctx, query, version).Scan(&applied); err != nil || applied > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, record, version, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}
