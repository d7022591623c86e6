package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key that serialises migrations.
const migrationLock = 0x5e5a3e // "sesame"

// DB is the PostgreSQL backend.
type DB struct {
	*sqlstore.DB
	pool *sql.DB
}

var _ storage.Storage = (*DB)(nil)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

var dialect = &sqlstore.Dialect{
	Name:         "postgres",
	Numbered:     true,
	ForUpdate:    " FOR UPDATE",
	SkipLocked:   " FOR UPDATE SKIP LOCKED",
	IsUnique:     func(err error) bool { return pgCode(err) == "23505" },
	IsForeignKey: func(err error) bool { return pgCode(err) == "23503" },
	IsCheck:      func(err error) bool { return pgCode(err) == "23514" },
	// The tables of the schema in use (the search_path's first), each with
	// the tables its foreign keys reference.
	Tables: `SELECT c.relname::text, coalesce(p.relname::text, '') FROM pg_class AS c
		JOIN pg_namespace AS n ON n.oid = c.relnamespace
		LEFT JOIN pg_constraint AS k ON k.conrelid = c.oid AND k.contype = 'f'
		LEFT JOIN pg_class AS p ON p.oid = k.confrelid
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
}

// Options tune the pool.
type Options struct {
	MaxConns int // default 20
}

// Open connects, checks the server answers, and applies pending migrations.
func Open(ctx context.Context, dsn string, o Options) (*DB, error) {
	if dsn == "" {
		return nil, errors.New("postgres: empty DSN")
	}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	n := o.MaxConns
	if n <= 0 {
		n = 20
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pool.SetConnMaxLifetime(time.Hour)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{DB: sqlstore.New(pool, pool, dialect), pool: pool}, nil
}

// Migrate applies the pending migrations under an advisory lock.
func Migrate(ctx context.Context, pool *sql.DB) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	return sqlstore.ApplyMigrations(ctx, conn, *dialect, migrations, "migrations")
}
