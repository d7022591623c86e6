package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/company"
	sesamemail "github.com/sesame-idp/sesame/login/mail"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/sqlite"
	"github.com/sesame-idp/sesame/storage/sqlstore"
)

// usageError is bad input: one line on stderr, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func badFlag(flag, format string, args ...any) error {
	return &usageError{msg: "--" + flag + ": " + fmt.Sprintf(format, args...)}
}

func badArg(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// cli is one invocation.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            []string
	configPath     string
	json           bool
}

const usage = `usage: sesame [--config FILE] COMMAND [flags]

commands:
  serve                                   run the OpenID provider
  migrate                                 create or update the database schema, then exit
  loadtest [--setup] [--target URL ...] [--scenario S] [-c N] [-d DURATION] [--pid PID] [--op sesame|zitadel-example]
                                          measure a running Sesame (loopback only)
  client add --id ID (--secret S | --public) --redirect-uri URI [...] [--backchannel-logout-uri URI]
  client list | client remove ID
  org create --name NAME [--siret SIRET] [--country CC] [--validated]
  org list [--status S] | org validate ID | org reject ID --reason TEXT
  user add --email EMAIL (--org ORG_ID [--role admin] [--role user] | --operator) [--name NAME] [--password-stdin]
  user list [--org ID] | user disable ID | user reset-2fa ID
  member roles ORG_ID USER_ID --role admin|user [--role ...]
                                          set a member's roles (the operator repairs an organization)
  keys list | keys rotate
  mail list [--limit N]                   recent mail, sent or queued, with its links (tokens hidden)
  storage copy --from FILE --to FILE      copy every record between two configured backends
  backup --out FILE                       a consistent copy of the SQLite database, while it runs
  audit list [--org ID] [--since TIME] [--limit N]
  version                                 the module version, VCS revision and Go release of this build

Every command reads --config FILE, or SESAME_CONFIG, or the embedded defaults.
Commands that create something print the new id; --json prints JSON.
`

// run executes a command and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	err := c.dispatch(ctx, args)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "sesame: "+ue.msg)
		return 2
	default:
		fmt.Fprintln(stderr, "sesame: "+err.Error())
		return 1
	}
}

func (c *cli) getenv(k string) string {
	for _, kv := range c.env {
		if key, v, ok := strings.Cut(kv, "="); ok && key == k {
			return v
		}
	}
	return ""
}

// newFlags makes a flag set with the flags every command shares.
func (c *cli) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.configPath, "config", c.configPath, "configuration file")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	return fs
}

var flagErr = regexp.MustCompile(`^(?:flag provided but not defined: -+(\S+)|invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^\s:]+): (.*)|flag needs an argument: -+(\S+))$`)

// parse parses flags, which may come before or after the positional
// arguments, and turns the flag package's errors into ours. The positional
// arguments are left in fs.Args().
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := parseOnce(fs, args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			positional = append(positional, rest[1:]...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

func parseOnce(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	m := flagErr.FindStringSubmatch(err.Error())
	switch {
	case m == nil:
		return badArg("%v", err)
	case m[1] != "":
		return badFlag(m[1], "unknown flag")
	case m[3] != "":
		return badFlag(m[3], "invalid value %q", m[2])
	default:
		return badFlag(m[5], "needs a value")
	}
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	// Global flags come before the command; the command's own flag set
	// takes them too, anywhere.
	global := c.newFlags("sesame")
	if err := parseOnce(global, args); err != nil {
		return err
	}
	args = global.Args()
	if len(args) == 0 {
		return badArg("missing command (try: sesame serve)")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve", "help", "migrate", "loadtest", "backup", "client", "org", "user", "member", "keys", "mail", "storage", "audit", "version":
	default:
		return badArg("unknown command %q", cmd)
	}
	sub := ""
	if cmd != "serve" && cmd != "help" && cmd != "migrate" && cmd != "loadtest" && cmd != "backup" && cmd != "version" {
		if len(rest) == 0 {
			return badArg("%s: missing subcommand", cmd)
		}
		sub, rest = rest[0], rest[1:]
	}
	switch cmd + " " + sub {
	case "serve ":
		return c.serve(ctx, rest)
	case "help ":
		return flag.ErrHelp
	case "migrate ":
		return c.migrate(ctx, rest)
	case "loadtest ":
		return c.loadtest(ctx, rest)
	case "backup ":
		return c.backup(ctx, rest)
	case "version ":
		return c.version(ctx, rest)
	case "audit list":
		return c.auditList(ctx, rest)
	case "client add":
		return c.clientAdd(ctx, rest)
	case "client list":
		return c.clientList(ctx, rest)
	case "client remove":
		return c.clientRemove(ctx, rest)
	case "org create":
		return c.orgCreate(ctx, rest)
	case "org list":
		return c.orgList(ctx, rest)
	case "org validate":
		return c.orgValidate(ctx, rest)
	case "org reject":
		return c.orgReject(ctx, rest)
	case "user add":
		return c.userAdd(ctx, rest)
	case "user list":
		return c.userList(ctx, rest)
	case "user disable":
		return c.userDisable(ctx, rest)
	case "user reset-2fa":
		return c.userReset2FA(ctx, rest)
	case "member roles":
		return c.memberRoles(ctx, rest)
	case "keys list":
		return c.keysList(ctx, rest)
	case "keys rotate":
		return c.keysRotate(ctx, rest)
	case "mail list":
		return c.mailList(ctx, rest)
	case "storage copy":
		return c.storageCopy(ctx, rest)
	}
	if sub == "" {
		return badArg("unknown command %q", cmd)
	}
	return badArg("unknown command %q", cmd+" "+sub)
}

// open loads the configuration and opens storage. Commands call it only
// after their flags were checked, so that bad input writes nothing.
func (c *cli) open(ctx context.Context, ensureKeys bool, logger *slog.Logger) (*Main, error) {
	path := c.configPath
	if path == "" {
		path = c.getenv("SESAME_CONFIG")
	}
	cfg, err := LoadConfig(path, c.env)
	if err != nil {
		return nil, err
	}
	m := &Main{Config: cfg, Logger: logger}
	if err := m.Open(ctx, ensureKeys); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.newFlags("serve")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return badArg("serve: unexpected argument %q", fs.Arg(0))
	}
	path := c.configPath
	if path == "" {
		path = c.getenv("SESAME_CONFIG")
	}
	cfg, err := LoadConfig(path, c.env)
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
	return serve(ctx, m)
}

func newLogger(lc LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(lc.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if lc.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(clientGone{h})
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

// quiet is the logger of administrative commands: only problems.
func (c *cli) quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func (c *cli) printCreated(id string, obj any) error {
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(obj)
	}
	_, err := fmt.Fprintln(c.stdout, id)
	return err
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) table(header string, rows [][]string) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func oneArg(fs *flag.FlagSet, what string) (string, error) {
	switch fs.NArg() {
	case 0:
		return "", badArg("missing %s", what)
	case 1:
		return fs.Arg(0), nil
	default:
		return "", badArg("unexpected argument %q", fs.Arg(1))
	}
}

// parseNoArgs parses a command that takes flags only.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	return noArgs(fs)
}

// parseOneArg parses a command that takes one positional argument.
func parseOneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := parse(fs, args); err != nil {
		return "", err
	}
	return oneArg(fs, what)
}

func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return badArg("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// --- clients ---

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkRedirectURI applies the registration policy: absolute, no fragment,
// https, or http on a loopback host, or a custom scheme for public (native)
// clients.
func checkRedirectURI(flagName, raw string, public bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return badFlag(flagName, "%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return badFlag(flagName, "%q must not have a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return badFlag(flagName, "%q has no host", raw)
		}
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return badFlag(flagName, "%q must use https (http is only for localhost)", raw)
		}
	default:
		if !public {
			return badFlag(flagName, "%q: custom schemes are only for public (native) clients", raw)
		}
	}
	return nil
}

type clientJSON struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name"`
	Public                 bool     `json:"public"`
	Secret                 string   `json:"secret,omitempty"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	AllowNoPKCE            bool     `json:"allow_no_pkce"`
	IDTokenSignedAlg       string   `json:"id_token_signed_response_alg,omitempty"`
	CreatedAt              string   `json:"created_at"`
}

func toClientJSON(cl storage.Client) clientJSON {
	return clientJSON{ID: cl.ID, Name: cl.Name, Public: cl.Public, RedirectURIs: cl.RedirectURIs,
		PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs, AllowNoPKCE: cl.AllowNoPKCE, IDTokenSignedAlg: cl.IDTokenSignedAlg,
		CreatedAt: ts(cl.CreatedAt)}
}

func (c *cli) clientAdd(ctx context.Context, args []string) error {
	fs := c.newFlags("client add")
	id := fs.String("id", "", "")
	secret := fs.String("secret", "", "")
	public := fs.Bool("public", false, "")
	name := fs.String("name", "", "")
	allowNoPKCE := fs.Bool("allow-no-pkce", false, "")
	alg := fs.String("id-token-signed-response-alg", "", "")
	bcl := fs.String("backchannel-logout-uri", "", "")
	var redirects, postLogout multi
	fs.Var(&redirects, "redirect-uri", "")
	fs.Var(&postLogout, "post-logout-redirect-uri", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *id == "":
		return badFlag("id", "is required")
	case !clientIDPattern.MatchString(*id):
		return badFlag("id", "use 1 to 64 letters, digits, dots, dashes or underscores")
	case *public && *secret != "":
		return badFlag("public", "cannot be combined with --secret")
	case *public && *allowNoPKCE:
		return badFlag("allow-no-pkce", "is only for confidential clients (public clients always use PKCE)")
	case *secret != "" && len(*secret) < provider.MinClientSecretLength:
		// It is verified with a fast keyed hash, as the generated ones
		// (256 random bits) are: it must not be guessable.
		return badFlag("secret", "must be at least %d characters (or leave it out: one is generated)", provider.MinClientSecretLength)
	case len(redirects) == 0:
		return badFlag("redirect-uri", "is required")
	case *alg != "" && !slices.Contains(provider.Algorithms, jose.SignatureAlgorithm(*alg)):
		return badFlag("id-token-signed-response-alg", "must be RS256, ES256 or EdDSA")
	}
	for _, u := range redirects {
		if err := checkRedirectURI("redirect-uri", u, *public); err != nil {
			return err
		}
	}
	for _, u := range postLogout {
		if err := checkRedirectURI("post-logout-redirect-uri", u, *public); err != nil {
			return err
		}
	}
	if *bcl != "" {
		if err := checkRedirectURI("backchannel-logout-uri", *bcl, false); err != nil {
			return err
		}
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	generated := ""
	if !*public && *secret == "" {
		generated = storage.NewSecret()
		*secret = generated
	}
	cl := storage.Client{ID: *id, Name: *name, Public: *public, RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout,
		AllowNoPKCE: *allowNoPKCE, IDTokenSignedAlg: *alg, BackchannelLogoutURI: *bcl, CreatedAt: m.Now()}
	if cl.Name == "" {
		cl.Name = cl.ID
	}
	if !*public {
		if cl.SecretHash, err = provider.HashClientSecret(m.MasterKey, *secret); err != nil {
			return err
		}
	}
	if err := m.Store.CreateClient(ctx, cl); errors.Is(err, storage.ErrConflict) {
		return badFlag("id", "a client %q already exists", *id)
	} else if err != nil {
		return err
	}
	cliAudit(ctx, m, "client.created", "client", cl.ID, "redirect_uris="+strings.Join(cl.RedirectURIs, " "))
	out := toClientJSON(cl)
	out.Secret = generated
	if generated != "" && !c.json {
		fmt.Fprintf(c.stderr, "client secret (shown once, store it now): %s\n", generated)
	}
	return c.printCreated(cl.ID, out)
}

func (c *cli) clientList(ctx context.Context, args []string) error {
	fs := c.newFlags("client list")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	list, err := m.Store.ListClients(ctx)
	if err != nil {
		return err
	}
	if c.json {
		out := []clientJSON{}
		for _, cl := range list {
			out = append(out, toClientJSON(cl))
		}
		return c.printJSON(out)
	}
	var rows [][]string
	for _, cl := range list {
		kind := "confidential"
		if cl.Public {
			kind = "public"
		}
		rows = append(rows, []string{cl.ID, cl.Name, kind, strings.Join(cl.RedirectURIs, " ")})
	}
	return c.table("ID\tNAME\tTYPE\tREDIRECT URIS", rows)
}

func (c *cli) clientRemove(ctx context.Context, args []string) error {
	fs := c.newFlags("client remove")
	id, err := parseOneArg(fs, args, "client id")
	if err != nil {
		return err
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Store.DeleteClient(ctx, id); errors.Is(err, storage.ErrNotFound) {
		return badArg("no client %q", id)
	} else if err != nil {
		return err
	}
	cliAudit(ctx, m, "client.removed", "client", id, "")
	return nil
}

// --- organizations ---

type orgJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Domicile     string `json:"domicile"`
	Country      string `json:"country"`
	SIRET        string `json:"siret,omitempty"`
	SIREN        string `json:"siren,omitempty"`
	Status       string `json:"status"`
	RejectReason string `json:"reject_reason,omitempty"`
	CreatedAt    string `json:"created_at"`
	ValidatedAt  string `json:"validated_at,omitempty"`
	ValidatedBy  string `json:"validated_by,omitempty"`
}

func toOrgJSON(o storage.Organization) orgJSON {
	j := orgJSON{ID: o.ID, Name: o.Name, Domicile: o.Domicile, Country: o.Country, SIRET: o.SIRET, SIREN: o.SIREN,
		Status: o.Status, RejectReason: o.RejectReason, CreatedAt: ts(o.CreatedAt), ValidatedBy: o.ValidatedBy}
	if !o.ValidatedAt.IsZero() {
		j.ValidatedAt = ts(o.ValidatedAt)
	}
	return j
}

func (c *cli) orgCreate(ctx context.Context, args []string) error {
	fs := c.newFlags("org create")
	name := fs.String("name", "", "")
	siret := fs.String("siret", "", "")
	cc := fs.String("country", "", "")
	validated := fs.Bool("validated", false, "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	*name = strings.TrimSpace(*name)
	if *name == "" {
		return badFlag("name", "is required")
	}
	if len(*name) > 200 {
		return badFlag("name", "is longer than 200 characters")
	}
	if !login.OneLine(*name) {
		return badFlag("name", "must be one line, without control characters")
	}
	o := storage.Organization{ID: storage.NewID("org"), Name: *name, Status: storage.OrgPending}
	if *siret != "" {
		s, err := company.ParseSIRET(*siret)
		if err != nil {
			return badFlag("siret", "%v", err)
		}
		if *cc != "" && strings.ToUpper(*cc) != "FR" {
			return badFlag("country", "a SIRET is French: the country is FR")
		}
		o.Domicile, o.Country, o.SIRET, o.SIREN = storage.DomicileFrance, "FR", s, s[:9]
	} else {
		if *cc == "" {
			return badFlag("country", "is required without --siret (ISO 3166-1 code such as DE)")
		}
		code, err := login.AbroadCountry(*cc)
		if errors.Is(err, login.ErrCountryFrench) {
			msg := "is required for a French organization"
			if code != "FR" {
				msg += " (" + code + " is France)"
			}
			return badFlag("siret", "%s", msg)
		} else if err != nil {
			return badFlag("country", "%q is not a current ISO 3166-1 country code", *cc)
		}
		o.Domicile, o.Country = storage.DomicileAbroad, code
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	o.CreatedAt = m.Now()
	if *validated {
		o.Status, o.ValidatedAt, o.ValidatedBy = storage.OrgValidated, o.CreatedAt, "cli"
	}
	if err := m.Store.CreateOrganization(ctx, o); errors.Is(err, storage.ErrConflict) {
		return badFlag("siret", "an organization with SIRET %s already exists", o.SIRET)
	} else if err != nil {
		return err
	}
	return c.printCreated(o.ID, toOrgJSON(o))
}

func (c *cli) orgList(ctx context.Context, args []string) error {
	fs := c.newFlags("org list")
	status := fs.String("status", "", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *status != "" && !slices.Contains(storage.OrgStatuses, *status) {
		return badFlag("status", "must be one of %s", strings.Join(storage.OrgStatuses, ", "))
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	list, err := m.Store.ListOrganizations(ctx, *status)
	if err != nil {
		return err
	}
	if c.json {
		out := []orgJSON{}
		for _, o := range list {
			out = append(out, toOrgJSON(o))
		}
		return c.printJSON(out)
	}
	var rows [][]string
	for _, o := range list {
		siret := o.SIRET
		if siret == "" {
			siret = "-"
		}
		rows = append(rows, []string{o.ID, o.Name, o.Country, siret, o.Status, ts(o.CreatedAt)})
	}
	return c.table("ID\tNAME\tCOUNTRY\tSIRET\tSTATUS\tCREATED", rows)
}

func (c *cli) orgDecide(ctx context.Context, args []string, name string, withReason bool) error {
	fs := c.newFlags(name)
	reason := fs.String("reason", "", "")
	id, err := parseOneArg(fs, args, "organization id")
	if err != nil {
		return err
	}
	*reason = strings.TrimSpace(*reason)
	if withReason && *reason == "" {
		return badFlag("reason", "is required")
	}
	if !withReason && *reason != "" {
		return badFlag("reason", "only applies to org reject")
	}
	if !login.OneLine(*reason) {
		return badFlag("reason", "must be one line, without control characters")
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	org, err := m.Store.GetOrganization(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return badArg("no organization %q", id)
	} else if err != nil {
		return err
	}
	actor := login.Actor{ID: "cli", Operator: true}
	if withReason {
		err = m.Accounts.RejectOrganization(ctx, actor, id, *reason)
	} else {
		err = m.Accounts.ValidateOrganization(ctx, actor, id)
	}
	switch {
	case errors.Is(err, login.ErrNotPending) && !withReason:
		return badArg("organization %s is already validated", id)
	case errors.Is(err, login.ErrNotPending):
		return badArg("organization %s is %s: only a pending organization can be rejected", id, org.Status)
	}
	return err
}

func (c *cli) orgValidate(ctx context.Context, args []string) error {
	return c.orgDecide(ctx, args, "org validate", false)
}

func (c *cli) orgReject(ctx context.Context, args []string) error {
	return c.orgDecide(ctx, args, "org reject", true)
}

// --- users ---

type userJSON struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	Name     string   `json:"name,omitempty"`
	OrgID    string   `json:"org_id,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Disabled bool     `json:"disabled"`
	Password bool     `json:"password_set"`
	Operator bool     `json:"operator,omitempty"`
	Created  string   `json:"created_at"`
}

func (c *cli) userAdd(ctx context.Context, args []string) error {
	fs := c.newFlags("user add")
	email := fs.String("email", "", "")
	org := fs.String("org", "", "")
	name := fs.String("name", "", "")
	pwStdin := fs.Bool("password-stdin", false, "")
	operator := fs.Bool("operator", false, "")
	lang := fs.String("lang", "fr", "")
	var roles multi
	fs.Var(&roles, "role", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	addr, err := mail.ParseAddress(*email)
	switch {
	case *email == "":
		return badFlag("email", "is required")
	case err != nil || addr.Address != strings.TrimSpace(*email) || !strings.Contains(addr.Address, "."):
		return badFlag("email", "%q is not an email address", *email)
	case *org == "" && !*operator:
		return badFlag("org", "is required (or --operator)")
	case *operator && (*org != "" || len(roles) > 0):
		return badFlag("operator", "an operator belongs to no organization: drop --org and --role")
	case *lang != "fr" && *lang != "en":
		return badFlag("lang", "must be fr or en")
	case !login.OneLine(*name):
		return badFlag("name", "must be one line, without control characters")
	}
	if len(roles) == 0 && !*operator {
		roles = multi{storage.RoleUser}
	}
	for _, r := range roles {
		if r != storage.RoleAdmin && r != storage.RoleUser {
			return badFlag("role", "%q: must be admin or user", r)
		}
	}
	var pw string
	if *pwStdin {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return badFlag("password-stdin", "cannot read the password: %v", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if pw == "" {
			return badFlag("password-stdin", "no password on standard input")
		}
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	if pw != "" {
		if problem := (password.Policy{MinLength: m.Config.Password.MinLength}).Check(pw, addr.Address); problem != "" {
			return badFlag("password-stdin", "the password is refused: %s", strings.ReplaceAll(problem, "_", " "))
		}
	}
	if !*operator {
		if _, err := m.Store.GetOrganization(ctx, *org); errors.Is(err, storage.ErrNotFound) {
			return badFlag("org", "no organization %q", *org)
		} else if err != nil {
			return err
		}
	}
	if pw == "" && !*operator {
		// No password: the person gets the set-password mail, as when an admin invites them.
		u, err := m.Accounts.Invite(ctx, login.Actor{ID: "cli", Operator: true}, *org, addr.Address, *name, *lang, storage.NormalizeRoles(roles))
		if errors.Is(err, login.ErrEmailTaken) {
			return badFlag("email", "an account with %s already exists", addr.Address)
		} else if err != nil {
			return err
		}
		return c.printCreated(u.ID, userJSON{ID: u.ID, Email: u.Email, Name: u.Name, OrgID: *org, Roles: storage.NormalizeRoles(roles), Created: ts(u.CreatedAt)})
	}
	now := m.Now()
	u := storage.User{ID: storage.NewID("usr"), Email: addr.Address, Name: strings.TrimSpace(*name), Locale: *lang, CreatedAt: now, UpdatedAt: now,
		IsOperator: *operator}
	if pw != "" {
		if u.PasswordHash, err = m.Hasher.Hash(ctx, pw); err != nil {
			return err
		}
		u.PasswordSetAt = now
	}
	var mem *storage.Membership
	if !*operator {
		mem = &storage.Membership{OrgID: *org, Roles: storage.NormalizeRoles(roles)}
	}
	if *operator && pw == "" {
		return badFlag("password-stdin", "an operator needs a password: pass it on standard input")
	}
	if err := m.Accounts.AddAccount(ctx, login.Actor{ID: "cli", Operator: true}, u, mem); errors.Is(err, login.ErrEmailTaken) {
		return badFlag("email", "an account with %s already exists", addr.Address)
	} else if err != nil {
		return err
	}
	out := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Password: pw != "", Operator: *operator, Created: ts(now)}
	if mem != nil {
		out.OrgID, out.Roles = mem.OrgID, mem.Roles
	}
	return c.printCreated(u.ID, out)
}

func (c *cli) userList(ctx context.Context, args []string) error {
	fs := c.newFlags("user list")
	org := fs.String("org", "", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	list, err := m.Store.ListUsers(ctx, *org)
	if err != nil {
		return err
	}
	out := []userJSON{}
	var rows [][]string
	for _, u := range list {
		j := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Disabled: u.Disabled, Password: u.PasswordHash != "", Created: ts(u.CreatedAt)}
		if mem, err := m.Store.GetMembership(ctx, u.ID); err == nil {
			j.OrgID, j.Roles = mem.OrgID, mem.Roles
		}
		out = append(out, j)
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		rows = append(rows, []string{u.ID, u.Email, j.OrgID, strings.Join(j.Roles, ","), state})
	}
	if c.json {
		return c.printJSON(out)
	}
	return c.table("ID\tEMAIL\tORGANIZATION\tROLES\tSTATE", rows)
}

func (c *cli) userDisable(ctx context.Context, args []string) error {
	fs := c.newFlags("user disable")
	id, err := parseOneArg(fs, args, "user id")
	if err != nil {
		return err
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	// A disabled person is signed out everywhere (relying parties that asked
	// are told) and their tokens stop working.
	if err := m.Accounts.DisableUser(ctx, login.Actor{ID: "cli", Operator: true}, id); errors.Is(err, storage.ErrNotFound) {
		return badArg("no user %q", id)
	} else if err != nil {
		return err
	}
	_, _ = m.Backchannel.Deliver(ctx)
	return nil
}

func (c *cli) userReset2FA(ctx context.Context, args []string) error {
	fs := c.newFlags("user reset-2fa")
	id, err := parseOneArg(fs, args, "user id")
	if err != nil {
		return err
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Accounts.ResetSecondFactor(ctx, login.Actor{ID: "cli", Operator: true}, "", id); errors.Is(err, storage.ErrNotFound) {
		return badArg("no user %q", id)
	} else if err != nil {
		return err
	}
	return nil
}

// memberRoles sets a member's roles: the operator's way to give an
// organization back an admin (the last active admin still cannot be
// demoted).
func (c *cli) memberRoles(ctx context.Context, args []string) error {
	fs := c.newFlags("member roles")
	var roles multi
	fs.Var(&roles, "role", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return badArg("member roles: want ORG_ID USER_ID, got %d arguments", fs.NArg())
	}
	orgID, userID := fs.Arg(0), fs.Arg(1)
	if len(roles) == 0 {
		return badFlag("role", "is required (admin, user, or both)")
	}
	if !storage.ValidRoles(storage.NormalizeRoles(roles)) {
		return badFlag("role", "%v: each must be admin or user, once", []string(roles))
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	err = m.Accounts.SetRoles(ctx, login.Actor{ID: "cli", Operator: true}, orgID, userID, storage.NormalizeRoles(roles))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return badArg("no organization %q", orgID)
	case errors.Is(err, login.ErrNotMember):
		return badArg("%s is not a member of %s", userID, orgID)
	case errors.Is(err, login.ErrLastAdmin):
		return badArg("%s is the last active admin of %s: give another member the admin role first", userID, orgID)
	}
	return err
}

// --- keys ---

func (c *cli) keysList(ctx context.Context, args []string) error {
	fs := c.newFlags("keys list")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
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

func (c *cli) keysRotate(ctx context.Context, args []string) error {
	fs := c.newFlags("keys rotate")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
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

// --- mail ---

type mailJSON struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	To        string   `json:"to"`
	Subject   string   `json:"subject"`
	Status    string   `json:"status"`
	Attempts  int      `json:"attempts"`
	LastError string   `json:"last_error,omitempty"`
	Created   string   `json:"created_at"`
	Sent      string   `json:"sent_at,omitempty"`
	Links     []string `json:"links"`
}

func (c *cli) mailList(ctx context.Context, args []string) error {
	fs := c.newFlags("mail list")
	limit := fs.Int("limit", 20, "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 10000 {
		return badFlag("limit", "must be from 1 to 10000")
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	list, err := m.Store.ListMails(ctx, *limit)
	if err != nil {
		return err
	}
	out := []mailJSON{}
	var rows [][]string
	for _, x := range list {
		// A queued mail's body is sealed, a sent one's erased; the links
		// are shown for what they are for, never with their tokens.
		body, _ := m.Mail.Sealer.Open(x)
		j := mailJSON{ID: x.ID, Kind: x.Kind, To: x.To, Subject: x.Subject, Status: "queued", Attempts: x.Attempts,
			LastError: x.LastError, Created: ts(x.CreatedAt)}
		if !sesamemail.Sealed(body) {
			j.Links = sesamemail.RedactedLinks(body.Text)
		}
		if !x.SentAt.IsZero() {
			j.Status, j.Sent = "sent", ts(x.SentAt)
		} else if x.LastError != "" {
			j.Status = "retrying"
		}
		if j.Links == nil {
			j.Links = []string{}
		}
		out = append(out, j)
		rows = append(rows, []string{j.Created, j.To, j.Kind, j.Status, strings.Join(j.Links, " ")})
	}
	if c.json {
		return c.printJSON(out)
	}
	return c.table("CREATED\tTO\tKIND\tSTATUS\tLINKS", rows)
}

// migrate applies the schema migrations (Open does) and reports.
func (c *cli) migrate(ctx context.Context, args []string) error {
	fs := c.newFlags("migrate")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintf(c.stdout, "%s schema is up to date\n", m.Config.Storage.Driver)
	return nil
}

// --- storage ---

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
func (c *cli) storageCopy(ctx context.Context, args []string) error {
	fs := c.newFlags("storage copy")
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *from == "":
		return badFlag("from", "is required (the configuration file of the source)")
	case *to == "":
		return badFlag("to", "is required (the configuration file of the target)")
	case *from == *to:
		return badFlag("to", "must differ from --from")
	}
	open := func(path, flagName string) (*Main, error) {
		cfg, err := LoadConfig(path, nil)
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

// --- backup and audit ---

func (c *cli) backup(ctx context.Context, args []string) error {
	fs := c.newFlags("backup")
	out := fs.String("out", "", "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
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
		return badArg("backup copies the SQLite database; for PostgreSQL use pg_dump (see README)")
	}
	if err := db.Backup(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, *out)
	fmt.Fprintln(c.stderr, "backup written; keep secrets.key with it, apart")
	return nil
}

type auditJSON struct {
	At      string `json:"at"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Target  string `json:"target"`
	OrgID   string `json:"org_id,omitempty"`
	IP      string `json:"ip,omitempty"`
	Details string `json:"details,omitempty"`
}

func (c *cli) auditList(ctx context.Context, args []string) error {
	fs := c.newFlags("audit list")
	org := fs.String("org", "", "")
	since := fs.String("since", "", "")
	limit := fs.Int("limit", 100, "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			d, derr := time.ParseDuration(*since)
			if derr != nil {
				return badFlag("since", "%q is neither a time (2026-11-25T10:00:00Z) nor a duration (24h)", *since)
			}
			t = time.Now().Add(-d)
		}
		from = t
	}
	if *limit < 1 || *limit > 100000 {
		return badFlag("limit", "must be from 1 to 100000")
	}
	m, err := c.open(ctx, false, c.quiet())
	if err != nil {
		return err
	}
	defer m.Close()
	events, err := m.Store.ListEvents(ctx, storage.AuditFilter{OrgID: *org, Since: from, Limit: *limit})
	if err != nil {
		return err
	}
	out := []auditJSON{}
	var rows [][]string
	for _, e := range events {
		j := auditJSON{At: ts(e.At), Actor: e.ActorID, Action: e.Action, Target: strings.Trim(e.TargetType+":"+e.TargetID, ":"),
			OrgID: e.OrgID, IP: e.IP, Details: e.Details}
		out = append(out, j)
		rows = append(rows, []string{j.At, orDash(j.Actor), j.Action, orDash(j.Target), orDash(j.OrgID), orDash(j.IP), j.Details})
	}
	if c.json {
		return c.printJSON(out)
	}
	return c.table("AT\tACTOR\tACTION\tTARGET\tORGANIZATION\tIP\tDETAILS", rows)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliAudit records what the command line changed.
func cliAudit(ctx context.Context, m *Main, action, targetType, targetID, details string) {
	_ = m.Store.RecordEvent(ctx, storage.AuditEvent{ID: storage.NewID("evt"), At: m.Now(), ActorID: "cli", Action: action,
		TargetType: targetType, TargetID: targetID, Details: details})
}
