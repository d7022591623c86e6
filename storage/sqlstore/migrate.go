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
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// ApplyMigrations applies, in name order, the *.sql files of dir in files that
// schema_migrations does not record yet, each in one transaction with its
// record, so that a failed migration leaves neither half a schema nor a
// record of it. The SQL itself stays native to each backend.
func ApplyMigrations(ctx context.Context, db Migrator, d Dialect, files fs.FS, dir string) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("%s: migrations table: %w", d.Name, err)
	}
	names, err := fs.Glob(files, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	query, record := "SELECT count(*) FROM schema_migrations WHERE version = ?",
		"INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"
	if d.Numbered {
		query, record = strings.Replace(query, "?", "$1", 1), "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)"
	}
	for _, name := range names {
		version := strings.TrimSuffix(path.Base(name), ".sql")
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		if err := applyOne(ctx, db, query, record, version, string(body)); err != nil {
			return fmt.Errorf("%s: apply %s: %w", d.Name, version, err)
		}
	}
	return nil
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
