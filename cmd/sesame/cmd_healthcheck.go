package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/config"
)

// healthcheck asks the server the configuration describes (the same
// --config, SESAME_CONFIG and SESAME_* variables as serve) whether it is
// ready: 0 when its /readyz answers 200, 1 otherwise. It opens no database
// and writes nothing: a container's HEALTHCHECK runs it.
func healthcheck(fs *cliflag.Set) action {
	timeout := fs.Duration("timeout", 5*time.Second, "DURATION", "how long to wait for the answer")
	return func(ctx context.Context, c *cli, _ []string) error {
		path := c.configPath
		if path == "" {
			path = c.getenv("SESAME_CONFIG")
		}
		cfg, err := config.Load(path, c.env)
		if err != nil {
			return err
		}
		u := "http://" + dialable(cfg.Listen) + "/readyz"
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("healthcheck: %s: %w", u, unwrapURL(err))
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthcheck: %s answered %s", u, resp.Status)
		}
		if !c.json {
			fmt.Fprintln(c.stdout, "ready")
		}
		return nil
	}
}

// dialable is the listen address as a client reaches it: an unspecified
// host (":8080", "0.0.0.0:8080", "[::]:8080") is this machine.
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}

func unwrapURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
