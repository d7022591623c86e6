// Command sesame-load measures a running Sesame: it signs in through the
// hosted form exactly as a browser and a relying party would (a fresh cookie
// jar per flow, PKCE), then exchanges, refreshes or calls, and prints
// requests/s, latency percentiles and CPU per operation. It is apart from
// the sesame binary: production does not ship a load generator.
//
//	sesame-load --setup --users 200 -d 1s   # the client and people, through storage
//	sesame-load --users 200 --scenario signin -c 16 -d 10s --pid $(pgrep -n sesame)
//
// --setup reads Sesame's configuration as `sesame` does (--config,
// SESAME_CONFIG, SESAME_* variables) and writes through storage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/loadgen"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/sqlite"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
}

const synopsis = `usage: sesame-load [--setup] [--target URL ...] [--scenario S] [-c N] [-d DURATION] [--pid PID] [--op sesame|zitadel-example]

Measures a running Sesame (loopback only unless --allow-remote).

flags:
`

// usageError is bad input: one line, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func badFlag(flag, format string, args ...any) error {
	return &usageError{msg: (&cliflag.Error{Flag: flag, Problem: fmt.Sprintf(format, args...)}).Error()}
}

// options are the command line's flags.
type options struct {
	config                string
	targets               *[]string
	setup, remote         *bool
	users, conc, maxReq   *int
	orgs                  *int
	pid                   *int
	scenario, alg, opName *string
	dur                   *time.Duration
}

func flags() (*cliflag.Set, *options) {
	fs := cliflag.New()
	o := &options{}
	fs.StringVar(&o.config, "config", "FILE", "Sesame's configuration file, for --setup (or SESAME_CONFIG)")
	o.targets = fs.Strings("target", "URL", "a Sesame to load (default http://127.0.0.1:8080)")
	o.setup = fs.Bool("setup", "first create the load-test client and people through storage")
	o.users = fs.Int("users", 100, "N", "people signing in (load00000@loadtest.example, ...)")
	o.orgs = fs.Int("orgs", 0, "N", "with --setup: also the management API's client and N organizations (for --scenario api-orgs)")
	o.scenario = fs.String("scenario", "signin", "S", "signin, token, refresh, userinfo, jwks, discovery or api-orgs (the management API's organization list)")
	o.conc = fs.Int("c", 16, "N", "concurrent clients")
	o.dur = fs.Duration("d", 10*time.Second, "DURATION", "how long to measure")
	o.maxReq = fs.Int("max-requests", 1000000, "N", "stop after this many operations")
	o.pid = fs.Int("pid", 0, "PID", "the server's process, for its CPU and memory")
	o.remote = fs.Bool("allow-remote", "allow targets off this machine")
	o.alg = fs.String("id-token-alg", "", "ALG", "with --setup: the client's ID token algorithm (RS256, ES256, EdDSA)")
	o.opName = fs.String("op", "sesame", "OP", "sesame, or zitadel-example for comparison")
	return fs, o
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) int {
	fs, o := flags()
	err := fs.Parse(args, true)
	if errors.Is(err, cliflag.ErrHelp) {
		fmt.Fprint(stdout, synopsis)
		fs.PrintFlags(stdout)
		return 0
	}
	if err == nil {
		err = o.check(fs.Args())
	}
	if err == nil {
		err = o.run(ctx, stdout, env)
	}
	var ue *usageError
	var fe *cliflag.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.As(err, &fe):
		fmt.Fprintln(stderr, "sesame-load: "+err.Error())
		return 2
	default:
		fmt.Fprintln(stderr, "sesame-load: "+err.Error())
		return 1
	}
}

// check refuses bad input before anything is opened or sent.
func (o *options) check(args []string) error {
	if len(args) > 0 {
		return &usageError{msg: fmt.Sprintf("unexpected argument %q", args[0])}
	}
	if len(*o.targets) == 0 {
		*o.targets = []string{"http://127.0.0.1:8080"}
	}
	if err := checkTargets(*o.targets, *o.remote); err != nil {
		return err
	}
	switch {
	case !slices.Contains(loadgen.Scenarios, *o.scenario):
		return badFlag("scenario", "must be signin, token, refresh, userinfo, jwks, discovery or api-orgs")
	case *o.conc < 1 || *o.conc > 1024:
		return badFlag("c", "must be from 1 to 1024")
	case *o.dur <= 0 || *o.dur > 10*time.Minute:
		return badFlag("d", "must be more than 0 and at most 10m")
	case *o.orgs < 0 || *o.orgs > 1000000:
		return badFlag("orgs", "must be from 0 to 1000000")
	case *o.orgs > 0 && !*o.setup:
		return badFlag("orgs", "only with --setup")
	case *o.users < 1 || *o.users > 100000:
		return badFlag("users", "must be from 1 to 100000")
	case *o.maxReq < 1 || *o.maxReq > 10000000:
		return badFlag("max-requests", "must be from 1 to 10000000")
	case *o.alg != "" && !slices.Contains(provider.Algorithms, jose.SignatureAlgorithm(*o.alg)):
		return badFlag("id-token-alg", "must be RS256, ES256 or EdDSA")
	case *o.alg != "" && !*o.setup:
		return badFlag("id-token-alg", "only with --setup (it sets the load-test client's algorithm)")
	case !knownOP(*o.opName):
		return badFlag("op", "must be sesame or zitadel-example")
	case *o.opName != "sesame" && *o.setup:
		return badFlag("setup", "only for --op sesame (the example OP has its own user and clients)")
	}
	return nil
}

// checkTargets refuses what is not an http(s) URL, or not on this machine
// unless remote.
func checkTargets(targets []string, remote bool) error {
	for _, t := range targets {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badFlag("target", "%q is not an http(s) URL", t)
		}
		if !remote && !config.IsLoopbackHost(u.Hostname()) {
			return badFlag("target", "%q is not on this machine (loopback only; --allow-remote to override)", t)
		}
	}
	return nil
}

func (o *options) run(ctx context.Context, stdout io.Writer, env []string) error {
	if *o.setup {
		if err := o.doSetup(ctx, stdout, env); err != nil {
			return err
		}
	}
	r := loadgen.New(*o.targets, *o.users, *o.scenario, loadgen.OPs[*o.opName])
	return r.Measure(ctx, stdout, *o.conc, *o.dur, *o.maxReq, *o.pid)
}

// doSetup opens Sesame's storage as the sesame command would and creates
// the client and the people.
func (o *options) doSetup(ctx context.Context, stdout io.Writer, env []string) error {
	path := o.config
	if path == "" {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "SESAME_CONFIG="); ok {
				path = v
			}
		}
	}
	cfg, err := config.Load(path, env)
	if err != nil {
		return err
	}
	key, _, err := cfg.MasterKey()
	if err != nil {
		return err
	}
	var db storage.Storage
	if cfg.Storage.Driver == "postgres" {
		db, err = postgres.Open(ctx, cfg.Storage.Postgres.DSN, postgres.Options{MaxConns: cfg.Storage.Postgres.MaxConns})
	} else {
		db, err = sqlite.Open(ctx, cfg.SQLitePath())
	}
	if err != nil {
		return err
	}
	defer db.Close()
	a := cfg.Password.Argon2
	hasher := password.NewHasher(password.Params{MemoryKiB: uint32(a.MemoryKiB), Iterations: uint32(a.Iterations),
		Parallelism: uint8(a.Parallelism)}, cfg.Password.MaxConcurrentHashes)
	hashSecret := func(s string) (string, error) { return provider.HashClientSecret(key, s) }
	if err := loadgen.Setup(ctx, db, hashSecret, hasher.Hash, *o.users, *o.alg, time.Now(), stdout); err != nil {
		return err
	}
	if *o.orgs > 0 {
		return loadgen.SetupAPI(ctx, db, hashSecret, *o.orgs, time.Now(), stdout)
	}
	return nil
}

func knownOP(name string) bool {
	_, ok := loadgen.OPs[name]
	return ok
}
