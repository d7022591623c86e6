package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/sqlite"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

// The storage command: moving between backends.

// sqlStore is what both backends are made of.
func sqlStore(s storage.Storage) (*sqlstore.DB, bool) {
	switch db := s.(type) {
	case *sqlite.DB:
		return db.DB, true
	case *postgres.DB:
		return db.DB, true
	}
	return nil, false
}

// storageCopy copies every record from one configured backend to another.
func storageCopy(fs *cliflag.Set) action {
	from := fs.String("from", "", "FILE", "the configuration file of the source")
	to := fs.String("to", "", "FILE", "the configuration file of the target")
	return func(ctx context.Context, c *cli, args []string) error {
		switch {
		case *from == "":
			return badFlag("from", "is required (the configuration file of the source)")
		case *to == "":
			return badFlag("to", "is required (the configuration file of the target)")
		case *from == *to:
			return badFlag("to", "must differ from --from")
		}
		open := func(path, flagName string) (*Main, error) {
			cfg, err := config.Load(path, nil)
			if err != nil {
				return nil, badFlag(flagName, "%s: %v", path, strings.ReplaceAll(err.Error(), "\n", "; "))
			}
			m := &Main{Config: cfg, Logger: c.quiet(), Now: time.Now}
			s, err := m.openStorage(ctx)
			if err != nil {
				return nil, err
			}
			m.Store = s
			return m, nil
		}
		src, err := open(*from, "from")
		if err != nil {
			return err
		}
		defer src.Store.Close()
		dst, err := open(*to, "to")
		if err != nil {
			return err
		}
		defer dst.Store.Close()
		a, _ := sqlStore(src.Store)
		b, _ := sqlStore(dst.Store)
		counts, err := sqlstore.Copy(ctx, a, b)
		if c.json {
			if jerr := c.printJSON(counts); jerr != nil {
				return jerr
			}
		} else {
			var rows [][]string
			for _, x := range counts {
				rows = append(rows, []string{x.Table, strconv.FormatInt(x.Source, 10), strconv.FormatInt(x.Target, 10)})
			}
			c.table("TABLE\tSOURCE\tTARGET", rows)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stderr, "copied; the target needs the source's secrets.key to read the signing keys")
		return nil
	}
}
