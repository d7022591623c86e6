package sqlstore

import (
	"context"
	"fmt"
	"strings"
)

// Tables in an order that respects foreign keys: parents first.
var Tables = []string{
	"organizations", "users", "memberships", "clients", "auth_requests", "access_tokens", "refresh_tokens",
	"sessions", "signing_keys", "action_tokens", "mail_outbox", "audit_events", "rate_limits",
	"totp_credentials", "recovery_codes", "login_failures", "logout_notices",
}

// TableCount is a table's row count on each side after a copy.
type TableCount struct {
	Table          string
	Source, Target int64
}

// Copy copies every row of every table from src to dst, skipping rows dst
// already has (by primary key), so that running it again is harmless. Both
// must be migrated to the same schema. It returns the counts of both
// sides, and an error when they differ.
func Copy(ctx context.Context, src, dst *DB) ([]TableCount, error) {
	var counts []TableCount
	for _, table := range Tables {
		if err := copyTable(ctx, src, dst, table); err != nil {
			return counts, fmt.Errorf("copy %s: %w", table, err)
		}
		c := TableCount{Table: table}
		if err := src.read.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&c.Source); err != nil {
			return counts, err
		}
		if err := dst.read.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&c.Target); err != nil {
			return counts, err
		}
		counts = append(counts, c)
	}
	for _, c := range counts {
		if c.Target < c.Source {
			return counts, fmt.Errorf("copy %s: %d rows in the source, %d in the target", c.Table, c.Source, c.Target)
		}
	}
	return counts, nil
}

func copyTable(ctx context.Context, src, dst *DB, table string) error {
	rows, err := src.read.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	insert := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ") ON CONFLICT DO NOTHING"
	return dst.tx(ctx, func(tx conn) error {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
