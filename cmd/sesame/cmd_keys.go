package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/sesame-idp/sesame/internal/cliflag"
)

// The keys commands: the signing keys.

func keysList(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		keys, err := m.Keys.List(ctx)
		if err != nil {
			return err
		}
		if c.json {
			if keys == nil {
				return c.printJSON([]any{})
			}
			return c.printJSON(keys)
		}
		var rows [][]string
		for _, k := range keys {
			state := "signing"
			if !k.Active {
				state = "retired, published until " + ts(k.PublishUntil)
			}
			rows = append(rows, []string{k.ID, k.Algorithm, ts(k.CreatedAt), state})
		}
		return c.table("KID\tALG\tCREATED\tSTATE", rows)
	}
}

func keysRotate(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		ids, err := m.Keys.Rotate(ctx)
		if err != nil {
			return err
		}
		cliAudit(ctx, m, "keys.rotated", "key", strings.Join(ids, ","), "")
		if c.json {
			return c.printJSON(map[string][]string{"created": ids})
		}
		for _, id := range ids {
			fmt.Fprintln(c.stdout, id)
		}
		return nil
	}
}
