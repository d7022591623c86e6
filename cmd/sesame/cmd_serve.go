package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/reqlog"
)

// The serve and migrate commands, and the server's logger.

func serveCmd(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		path := c.configPath
		if path == "" {
			path = c.getenv("SESAME_CONFIG")
		}
		cfg, err := config.Load(path, c.env)
		if err != nil {
			return err
		}
		logger := newLogger(cfg.Log, c.stderr)
		// The OpenID library logs through slog's default logger.
		slog.SetDefault(logger)
		m := &Main{Config: cfg, Logger: logger}
		if err := m.Open(ctx, true); err != nil {
			m.Close()
			return err
		}
		printNextStepsIfEmpty(ctx, m, c)
		return serve(ctx, m)
	}
}

// migrate applies the schema migrations (Open does) and reports.
func migrate(fs *cliflag.Set) action {
	return func(ctx context.Context, c *cli, args []string) error {
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		fmt.Fprintf(c.stdout, "%s schema is up to date\n", m.Config.Storage.Driver)
		return nil
	}
}

func newLogger(lc config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(lc.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if lc.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(reqlog.Handler{Handler: clientGone{h}})
}

// clientGone logs at INFO, not ERROR, what failed because the client went
// away: its request's context was canceled (the OIDC library reports such a
// request as a server error). Nothing is wrong on the server's side.
type clientGone struct{ slog.Handler }

func (c clientGone) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && ctx != nil && errors.Is(ctx.Err(), context.Canceled) {
		r = r.Clone()
		r.Level = slog.LevelInfo
		r.AddAttrs(slog.Bool("client_gone", true))
		if !c.Enabled(ctx, r.Level) {
			return nil
		}
	}
	return c.Handler.Handle(ctx, r)
}

func (c clientGone) WithAttrs(attrs []slog.Attr) slog.Handler {
	return clientGone{c.Handler.WithAttrs(attrs)}
}
func (c clientGone) WithGroup(name string) slog.Handler { return clientGone{c.Handler.WithGroup(name)} }
