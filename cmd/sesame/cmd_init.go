package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/sesame-idp/sesame/internal/cliflag"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/storage"
)

// The init command: the first operator and the first application, asked
// for on a terminal (or given as flags, for scripts), and the next steps
// `serve` prints on an empty database.

func initCmd(fs *cliflag.Set) action {
	email := fs.String("operator-email", "", "EMAIL", "the first operator's email address (asked when left out)")
	name := fs.String("operator-name", "", "NAME", "their name")
	lang := fs.String("lang", "", "LANG", "their language, fr or en (default: their browser's)")
	pwStdin := fs.Bool("password-stdin", "read their password from the first line of standard input (default: asked twice)")
	clientID := fs.String("client-id", "", "ID", "the first application's client id (asked when left out)")
	clientName := fs.String("client-name", "", "NAME", "its name shown to people (default: the id)")
	public := fs.Bool("public", "a public (native or browser) client: no secret, always PKCE (default: confidential, a secret is generated and shown once)")
	var redirects []string
	fs.StringsVar(&redirects, "redirect-uri", "URI", "its redirect URI (asked when left out)")
	return func(ctx context.Context, c *cli, _ []string) error {
		in := newPrompter(c)
		askedClient := *clientID == ""
		if *email == "" {
			*email = in.ask("The first operator's email address: ")
		}
		operator, noOrg := true, ""
		p := &newPerson{email: email, org: &noOrg, name: name, lang: lang, pwStdin: pwStdin, operator: &operator}
		if err := p.check(); err != nil {
			return renameFlags(err, "--email:", "--operator-email:", "--name:", "--operator-name:")
		}
		if *pwStdin {
			p.password = in.line()
		} else {
			p.password = in.secret("Their password (at least 12 characters): ")
			if again := in.secret("The same password again: "); again != p.password {
				return badFlag("password-stdin", "the two passwords differ")
			}
		}
		if p.password == "" {
			return badFlag("password-stdin", "no password given")
		}
		if askedClient {
			*clientID = in.ask("The first application's client id (letters, digits, . - _): ")
		}
		if len(redirects) == 0 {
			if r := in.ask("Its redirect URI (https://…/callback; http only on localhost): "); r != "" {
				redirects = []string{r}
			}
		}
		if askedClient && *clientName == "" {
			*clientName = in.ask("Its name shown to people (Enter: the client id): ")
		}
		cl := storage.Client{ID: *clientID, Name: strings.TrimSpace(*clientName), Public: *public, RedirectURIs: redirects}
		if err := flagError(login.CheckClient(cl, "")); err != nil {
			return renameFlags(err, "--id:", "--client-id:", "--name:", "--client-name:")
		}
		m, err := c.open(ctx, false, c.quiet())
		if err != nil {
			return err
		}
		defer m.Close()
		if done, err := initialized(ctx, m); err != nil {
			return err
		} else if done {
			return badArg("init: this Sesame has an operator already; add people with `sesame user add` and applications with `sesame client add`")
		}
		if _, err := m.Store.GetClient(ctx, cl.ID); err == nil {
			return badFlag("client-id", "a client %q already exists", cl.ID)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := p.checkWith(ctx, m); err != nil {
			return err
		}
		if err := p.create(ctx, c, m); err != nil {
			return err
		}
		return registerClient(ctx, c, m, cl, "")
	}
}

// renameFlags names init's own flags in the refusals of the checks it
// shares with user add and client add (old, new pairs).
func renameFlags(err error, oldNew ...string) error {
	var ue *usageError
	if errors.As(err, &ue) && strings.HasPrefix(ue.msg, "--") {
		return &usageError{msg: strings.NewReplacer(oldNew...).Replace(ue.msg)}
	}
	return err
}

// initialized reports whether the database has an operator.
func initialized(ctx context.Context, m *Main) (bool, error) {
	users, err := m.Store.ListUsers(ctx, "")
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if u.IsOperator {
			return true, nil
		}
	}
	return false, nil
}

// prompter asks on stderr and reads standard input line by line; on a
// terminal a password is read without echo.
type prompter struct {
	r     *bufio.Reader
	w     io.Writer
	fd    int
	isTTY bool
}

func newPrompter(c *cli) *prompter {
	p := &prompter{r: bufio.NewReader(c.stdin), w: c.stderr, fd: -1}
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.fd, p.isTTY = int(f.Fd()), true
	}
	return p
}

// line reads one line, without its end.
func (p *prompter) line() string {
	s, _ := p.r.ReadString('\n')
	return strings.TrimRight(s, "\r\n")
}

func (p *prompter) ask(q string) string {
	fmt.Fprint(p.w, q)
	return strings.TrimSpace(p.line())
}

func (p *prompter) secret(q string) string {
	fmt.Fprint(p.w, q)
	if p.isTTY {
		b, err := term.ReadPassword(p.fd)
		fmt.Fprintln(p.w)
		if err == nil {
			return string(b)
		}
	}
	return p.line()
}

// nextSteps is what `serve` prints on a database with neither an operator
// nor an application: the exact commands that make them. config is the
// --config the server was started with ("" for none).
func nextSteps(config string) string {
	sesame := "sesame"
	if config != "" {
		sesame += " --config " + shellQuote(config)
	}
	return `
Sesame has no operator and no application yet. Next steps, in another terminal:

  ` + sesame + ` init

asks for the first operator (who validates organizations) and the first
application (relying party), and creates both. For a script:

  echo 'A-LONG-PASSPHRASE' | ` + sesame + ` init --operator-email you@example.com --password-stdin \
      --client-id my-app --redirect-uri https://app.example.com/callback

or one at a time:

  echo 'A-LONG-PASSPHRASE' | ` + sesame + ` user add --operator --email you@example.com --password-stdin
  ` + sesame + ` client add --id my-app --redirect-uri https://app.example.com/callback --name "My app"

(client add prints the generated client secret once.) Then sign in as the
operator at /login.

`
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printNextStepsIfEmpty prints nextSteps once, at start, when the
// database has neither an application nor an operator (a fresh install).
func printNextStepsIfEmpty(ctx context.Context, m *Main, c *cli) {
	if clients, err := m.Store.ListClients(ctx); err != nil || len(clients) > 0 {
		return
	}
	if done, err := initialized(ctx, m); err != nil || done {
		return
	}
	if m.Config.Log.Format == "json" {
		m.Logger.Info("no operator and no application yet: run `sesame init`", "next_steps", nextSteps(c.configPath))
		return
	}
	fmt.Fprint(c.stderr, nextSteps(c.configPath))
}
