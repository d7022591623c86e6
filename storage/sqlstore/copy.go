package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// NotCopied names the tables that Copy deliberately leaves alone, each with
// its reason. Every other table of the source's schema is copied: Copy
// reads the list from the database's catalog (Dialect.Tables), so a table
// added by a migration is copied without anyone remembering to, and a test
// (TestCopyPlanCoversTheSchema) fails when the schema has a table that is
// neither copied nor named here.
var NotCopied = map[string]string{
	// Each side records the migrations applied to it, by its own Open;
	// Copy checks that both record the same ones instead.
	"schema_migrations": "each database records its own migrations; Copy requires both to record the same",
}

// TableCount is a table's row count on each side after a copy.
type TableCount struct {
	Table          string
	Source, Target int64
}

// Copy copies every row of every table from src to dst, skipping rows dst
// already has (by primary key), so that running it again is harmless. Both
// must be migrated to the same schema: Copy refuses when their
// schema_migrations differ. The tables are those of the source's schema but
// NotCopied, parents before the tables that reference them (Plan). It
// returns the counts of both sides, and an error when they differ.
func Copy(ctx context.Context, src, dst *DB) ([]TableCount, error) {
	if err := sameMigrations(ctx, src, dst); err != nil {
		return nil, err
	}
	tables, err := Plan(ctx, src)
	if err != nil {
		return nil, err
	}
	var counts []TableCount
	for _, table := range tables {
		if err := copyTable(ctx, src, dst, table); err != nil {
			return counts, fmt.Errorf("copy %s: %w", table, err)
		}
		c := TableCount{Table: table}
		if err := src.read.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&c.Source); err != nil {
			return counts, err
		}
		if err := dst.read.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&c.Target); err != nil {
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

// Plan lists the tables Copy copies from db, in the order it copies them:
// every table of the schema but NotCopied, each after the tables its
// foreign keys reference (ties in name order). A cycle of foreign keys
// between tables is an error: no order of whole tables satisfies it. A
// table referencing itself is copied in the source's row order.
func Plan(ctx context.Context, db *DB) ([]string, error) {
	parents, err := SchemaTables(ctx, db)
	if err != nil {
		return nil, err
	}
	remaining := map[string][]string{}
	for table, refs := range parents {
		if _, skip := NotCopied[table]; skip {
			continue
		}
		remaining[table] = refs
	}
	var order []string
	for len(remaining) > 0 {
		var ready []string
		for table, refs := range remaining {
			waits := func(p string) bool {
				_, pending := remaining[p] // a parent not in the schema, or NotCopied, is not waited for
				return p != table && pending
			}
			if !slices.ContainsFunc(refs, waits) {
				ready = append(ready, table)
			}
		}
		if len(ready) == 0 {
			var stuck []string
			for table := range remaining {
				stuck = append(stuck, table)
			}
			slices.Sort(stuck)
			return nil, fmt.Errorf("copy: the foreign keys of %s form a cycle", strings.Join(stuck, ", "))
		}
		slices.Sort(ready)
		for _, table := range ready {
			delete(remaining, table)
		}
		order = append(order, ready...)
	}
	return order, nil
}

// SchemaTables reads the tables of db's schema from its catalog, each with
// the tables its foreign keys reference (Dialect.Tables).
func SchemaTables(ctx context.Context, db *DB) (map[string][]string, error) {
	if db.d.Tables == "" {
		return nil, fmt.Errorf("%s: the dialect cannot list its tables", db.d.Name)
	}
	rows, err := db.read.QueryContext(ctx, db.d.Tables)
	if err != nil {
		return nil, fmt.Errorf("%s: list tables: %w", db.d.Name, err)
	}
	defer rows.Close()
	tables := map[string][]string{}
	for rows.Next() {
		var table, parent string
		if err := rows.Scan(&table, &parent); err != nil {
			return nil, err
		}
		refs := tables[table]
		if parent != "" && !slices.Contains(refs, parent) {
			refs = append(refs, parent)
		}
		tables[table] = refs
	}
	return tables, rows.Err()
}

// sameMigrations refuses a copy between databases whose schemas differ.
func sameMigrations(ctx context.Context, src, dst *DB) error {
	versions := func(db *DB) ([]string, error) {
		rows, err := db.read.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			return nil, fmt.Errorf("%s: read schema_migrations: %w", db.d.Name, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
	a, err := versions(src)
	if err != nil {
		return err
	}
	b, err := versions(dst)
	if err != nil {
		return err
	}
	if !slices.Equal(a, b) {
		return fmt.Errorf("copy: the source (%s) applied migrations %v, the target (%s) %v: run both at the same version",
			src.d.Name, a, dst.d.Name, b)
	}
	return nil
}

func copyTable(ctx context.Context, src, dst *DB, table string) error {
	rows, err := src.read.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	insert := "INSERT INTO " + quoteIdent(table) + " (" + strings.Join(quoted, ", ") + ") VALUES (" +
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

// quoteIdent quotes a name read from the catalog as an SQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
