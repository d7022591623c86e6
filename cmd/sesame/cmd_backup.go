package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/storage/sqlite"
)

// The backup command.

func backup(fs *cliflag.Set) action {
	out := fs.String("out", "", "FILE", "the new file to write")
	return func(ctx context.Context, c *cli, args []string) error {
		if *out == "" {
			return badFlag("out", "is required (the file to write)")
		}
		if _, err := os.Stat(*out); err == nil {
			return badFlag("out", "%s exists: choose a new file", *out)
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		db, ok := m.Store.(*sqlite.DB)
		if !ok {
			return badArg("backup copies the SQLite database; for PostgreSQL use pg_dump (see docs/deployment.md)")
		}
		if err := db.Backup(ctx, *out); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, *out)
		fmt.Fprintln(c.stderr, "backup written; keep secrets.key with it, apart")
		return nil
	}
}
