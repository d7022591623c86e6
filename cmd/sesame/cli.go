package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/templates"
)

// usageError is bad input: one line on stderr, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func badFlag(flag, format string, args ...any) error {
	return &usageError{msg: (&cliflag.Error{Flag: flag, Problem: fmt.Sprintf(format, args...)}).Error()}
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

// run executes a command and returns its exit status (see exitStatus).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env []string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	status, line := exitStatus(c.dispatch(ctx, args), english)
	if line != "" {
		fmt.Fprintln(stderr, line)
	}
	return status
}

// exitStatus is the CLI door of internal/fail: the one place where a
// command's error becomes an exit status and the one line on stderr. 0
// when it succeeded; 2 when it was refused (bad input, a flag, or an
// application error the person can do something about: a conflict, a
// missing thing, a refusal), nothing written; 1 when it failed (a bug, a
// database down). An application error a command did not rephrase is
// shown as its message key's sentence, translated by t.
func exitStatus(err error, t func(key string) string) (int, string) {
	var ue *usageError
	var fe *cliflag.Error
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &ue), errors.As(err, &fe):
		return 2, "sesame: " + err.Error()
	case fail.Refusal(err):
		msg := err.Error()
		if e, ok := fail.As(err); ok && e.Key != "" {
			if s := t(e.Key); s != e.Key {
				msg = s
			}
		}
		return 2, "sesame: " + msg
	default:
		return 1, "sesame: " + err.Error()
	}
}

// english translates a message key with the English catalog.
func english(key string) string {
	r, err := templates.New()
	if err != nil {
		return key
	}
	return r.T("en", key)
}

// commonFlags are every command's: they may come before the command too.
func (c *cli) commonFlags(fs *cliflag.Set) {
	fs.StringVar(&c.configPath, "config", "FILE", "the configuration file (default: SESAME_CONFIG, or the embedded defaults)")
	fs.BoolVar(&c.json, "json", "print JSON")
}

// dispatch finds the command in the table, parses its flags, counts its
// arguments and runs it.
func (c *cli) dispatch(ctx context.Context, args []string) error {
	global := cliflag.New()
	c.commonFlags(global)
	if err := global.Parse(args, false); errors.Is(err, cliflag.ErrHelp) {
		return c.usage()
	} else if err != nil {
		return err
	}
	args = global.Args()
	if len(args) == 0 {
		return badArg("missing command (try: sesame serve)")
	}
	if args[0] == "help" {
		return c.help(args[1:])
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return err
	}
	fs := cliflag.New()
	act := cmd.flags(fs)
	c.commonFlags(fs)
	if err := fs.Parse(rest, true); errors.Is(err, cliflag.ErrHelp) {
		return c.commandHelp(cmd)
	} else if err != nil {
		return err
	}
	pos := fs.Args()
	switch {
	case len(pos) < len(cmd.args):
		return badArg("%s: missing %s", cmd.name, cmd.args[len(pos)])
	case len(pos) > len(cmd.args):
		return badArg("%s: unexpected argument %q", cmd.name, pos[len(cmd.args)])
	}
	return act(ctx, c, pos)
}

// lookup finds the command that args start with: one word, or a group and
// a word, or a group, a subgroup and a word ("org domain add").
func lookup(args []string) (*command, []string, error) {
	for n := min(len(args), 3); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		for _, cmd := range commands {
			if cmd.name == name {
				return cmd, args[n:], nil
			}
		}
	}
	// No command: say how far the words went.
	for n := min(len(args), 2); n >= 1; n-- {
		prefix := strings.Join(args[:n], " ")
		for _, cmd := range commands {
			if strings.HasPrefix(cmd.name, prefix+" ") {
				if len(args) == n {
					return nil, nil, badArg("%s: missing subcommand", prefix)
				}
				return nil, nil, badArg("unknown command %q", prefix+" "+args[n])
			}
		}
	}
	return nil, nil, badArg("unknown command %q", args[0])
}

// line is a command's synopsis: its name, arguments and main flags.
func (cmd *command) line() string {
	s := cmd.name
	for _, a := range cmd.args {
		s += " " + strings.ToUpper(strings.ReplaceAll(a, " ", "_"))
	}
	if cmd.synopsis != "" {
		s += " " + cmd.synopsis
	}
	return s
}

// usage prints `sesame help`: every command of the table.
func (c *cli) usage() error {
	const col = 40 // where the one-line help starts
	fmt.Fprint(c.stdout, "usage: sesame [--config FILE] [--json] COMMAND [flags]\n\ncommands:\n")
	for _, cmd := range commands {
		if l := cmd.line(); len(l) < col-3 {
			fmt.Fprintf(c.stdout, "  %-*s%s\n", col-2, l, cmd.help)
		} else {
			fmt.Fprintf(c.stdout, "  %s\n%*s%s\n", l, col, "", cmd.help)
		}
	}
	_, err := fmt.Fprint(c.stdout, `
Every command reads --config FILE, or SESAME_CONFIG, or the embedded defaults.
Commands that create something print the new id; --json prints JSON.
sesame help COMMAND, or sesame COMMAND --help, describes a command and its flags.
`)
	return err
}

// help prints `sesame help [COMMAND]`.
func (c *cli) help(args []string) error {
	if len(args) == 0 {
		return c.usage()
	}
	if len(args) == 1 {
		// A group: its commands.
		var in []*command
		for _, cmd := range commands {
			if strings.HasPrefix(cmd.name, args[0]+" ") {
				in = append(in, cmd)
			}
		}
		if len(in) > 0 {
			for _, cmd := range in {
				fmt.Fprintf(c.stdout, "sesame %s\n    %s\n", cmd.line(), cmd.help)
			}
			return nil
		}
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return badArg("help: unexpected argument %q", rest[0])
	}
	return c.commandHelp(cmd)
}

// commandHelp prints a command's synopsis, what it does and its flags.
func (c *cli) commandHelp(cmd *command) error {
	fs := cliflag.New()
	cmd.flags(fs)
	c.commonFlags(fs)
	fmt.Fprintf(c.stdout, "usage: sesame %s\n\n%s\n\nflags:\n", cmd.line(), cmd.help)
	fs.PrintFlags(c.stdout)
	return nil
}

func (c *cli) getenv(k string) string {
	for _, kv := range c.env {
		if key, v, ok := strings.Cut(kv, "="); ok && key == k {
			return v
		}
	}
	return ""
}

// open loads the configuration and opens storage. Commands call it only
// after their flags were checked, so that bad input writes nothing.
func (c *cli) open(ctx context.Context, ensureKeys bool, logger *slog.Logger) (*Main, error) {
	path := c.configPath
	if path == "" {
		path = c.getenv("SESAME_CONFIG")
	}
	cfg, err := config.Load(path, c.env)
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

// quiet is the logger of administrative commands: only problems.
func (c *cli) quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

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

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
