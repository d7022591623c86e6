package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/sesame-idp/sesame/api"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/internal/reqlog"
	"github.com/sesame-idp/sesame/login"
	"github.com/sesame-idp/sesame/login/cloudaccount"
	"github.com/sesame-idp/sesame/login/company"
	"github.com/sesame-idp/sesame/login/domains"
	"github.com/sesame-idp/sesame/login/mail"
	"github.com/sesame-idp/sesame/login/password"
	"github.com/sesame-idp/sesame/login/sso"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/provider"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/postgres"
	"github.com/sesame-idp/sesame/storage/secretbox"
	"github.com/sesame-idp/sesame/storage/sqlite"
	"github.com/sesame-idp/sesame/templates"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// Main is Sesame wired together. Open prepares storage and keys (every
// command needs them); Run serves HTTP until Close.
type Main struct {
	Config config.Config
	Logger *slog.Logger
	// Listener, when set, is served instead of listening on Config.Listen.
	Listener net.Listener
	Now      func() time.Time

	// Store is the whole storage: Main is its owner (it opens, migrates,
	// collects garbage and closes it) and hands each part the narrow view
	// it declares: login.Store, provider.Store, storage.SigningKeys,
	// storage.LogoutNotices, the mail worker's storage.Outbox.
	Store       storage.Storage
	Keys        *provider.KeyManager
	MasterKey   []byte
	Hasher      *password.Hasher
	Handler     http.Handler
	Pages       *templates.Renderer
	Accounts    *login.Accounts
	Companies   *login.CompanySignIn // company sign-in: domains and upstream connections
	Mail        *mail.Worker
	Backchannel *provider.Backchannel
	// Cloud and Directory, when set before Run, replace the configured ones
	// (tests point them at fakes that speak the real wire format).
	Cloud     cloudaccount.Verifier
	Directory company.Directory

	server  *http.Server
	ops     *http.Server
	metrics *metrics
	stopGC  context.CancelFunc
	wg      sync.WaitGroup
	closeMu sync.Once
}

// Open opens the database and the secret-encryption key, creating them on
// first use, and makes sure signing keys exist when ensureKeys is set.
func (m *Main) Open(ctx context.Context, ensureKeys bool) error {
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	key, created, err := m.Config.MasterKey()
	if err != nil {
		return err
	}
	if created != "" {
		m.Logger.Info("created the secret-encryption key", "path", created, "mode", "0600")
	}
	m.MasterKey = key
	box, err := secretbox.New(key, "signing-keys")
	if err != nil {
		return err
	}

	db, err := m.openStorage(ctx)
	if err != nil {
		return err
	}
	m.Store = db

	c := m.Config
	m.Keys = &provider.KeyManager{Store: db, Box: box, Now: m.Now, RefreshEvery: c.Keys.CacheRefresh,
		// A retired key stays published as long as an ID token it signed
		// can be valid, plus a margin for clock skew and caches.
		PublishFor: c.Tokens.IDTokenLifetime + time.Hour}
	if ensureKeys {
		ids, err := m.Keys.EnsureKeys(ctx)
		if err != nil {
			return fmt.Errorf("signing keys: %w", err)
		}
		for _, id := range ids {
			m.Logger.Info("created a signing key", "kid", id)
		}
		// Keys sealed under another key would keep /readyz failing
		// forever: refuse to start instead, saying what to do.
		if err := m.Keys.Ready(ctx); errors.Is(err, secretbox.ErrDecrypt) {
			return &usageError{msg: m.Config.KeySource() + " does not open the stored signing keys (they were sealed under " +
				"another secret-encryption key): restore the key they were sealed with, or, if it is lost, run " +
				"`sesame keys rotate` to make new signing keys (what else was sealed under the lost key, such as " +
				"two-factor secrets, stays unreadable)"}
		} else if err != nil {
			return fmt.Errorf("signing keys: %w", err)
		}
	}
	a := c.Password.Argon2
	m.Hasher = password.NewHasher(password.Params{MemoryKiB: uint32(a.MemoryKiB), Iterations: uint32(a.Iterations),
		Parallelism: uint8(a.Parallelism)}, c.Password.MaxConcurrentHashes)
	if m.Pages, err = templates.New(); err != nil {
		return err
	}
	if err := applyBranding(c.Branding, m.Pages); err != nil {
		return err
	}
	var transport mail.Transport = mail.Log{Logger: m.Logger}
	if s := c.Mail.SMTP; s.Host != "" {
		transport = &mail.SMTP{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username, Password: s.Password, From: c.Mail.From}
	}
	sealer, err := mail.NewSealer(key)
	if err != nil {
		return err
	}
	m.Mail = mail.NewWorker(db, transport, m.Now, m.Logger)
	m.Mail.Poll, m.Mail.Lease, m.Mail.Sealer = c.Mail.PollInterval, c.Mail.Lease, sealer
	m.Backchannel = provider.NewBackchannel(db, m.Keys, c.Issuer, m.Now, m.Logger)
	m.Backchannel.Poll = c.Mail.PollInterval
	m.Accounts = &login.Accounts{Store: db, Pages: m.Pages, Issuer: c.Issuer, Now: m.Now,
		LinkLifetime: c.Accounts.SetPasswordLinkLifetime, ResetLifetime: c.Accounts.ResetLinkLifetime, Wake: m.Mail.Wake,
		SessionEnded: m.Backchannel.SessionEnded, Sealer: sealer,
		HashClientSecret: func(secret string) (string, error) { return provider.HashClientSecret(key, secret) },
		ParseClientKeys: func(raw []byte) (string, error) {
			set, err := provider.ParseClientJWKS(raw)
			if err != nil {
				return "", err
			}
			compact, err := json.Marshal(set)
			return string(compact), err
		},
		NormalizeOrigin: provider.NormalizeOrigin,
		PendingMembers:  c.Accounts.PendingMembers, PendingInvitesPerHour: c.Accounts.PendingInvitesPerHour}
	ssoBox, err := secretbox.New(key, "sso-client-secrets")
	if err != nil {
		return err
	}
	m.Companies = &login.CompanySignIn{Store: db, Accounts: m.Accounts, Box: ssoBox, Now: m.Now, Recheck: c.Domains.Recheck,
		Resolver: &domains.Resolver{Addr: c.Domains.Resolver, Timeout: c.Domains.Timeout},
		Upstream: &sso.Client{Now: m.Now, AllowPrivate: c.Domains.PrivateIssuers}, Loopback: config.IsLoopbackHost}
	return nil
}

// signupBackends builds the cloud account verifier and the company
// directory the configuration names, unless the caller set them.
func (m *Main) signupBackends() {
	c := m.Config.Signup
	if m.Cloud == nil {
		switch c.CloudAccount {
		case "outscale":
			m.Cloud = &cloudaccount.Outscale{Region: c.Outscale.Region, Endpoint: c.Outscale.Endpoint,
				AccessKey: c.Outscale.AccessKey, SecretKey: c.Outscale.SecretKey}
		default:
			accounts := map[string]string{}
			for _, a := range c.StaticAccounts {
				accounts[strings.ToLower(a.Email)] = a.PasswordHash
			}
			m.Cloud = cloudaccount.Static{Accounts: accounts, Check: m.Hasher.Verify}
			m.Logger.Warn("sign-up checks cloud accounts against the static list of the configuration (development only)",
				"accounts", len(accounts))
		}
	}
	if m.Directory == nil {
		switch c.Directory {
		case "recherche-entreprises":
			m.Directory = &company.RechercheEntreprises{BaseURL: c.RechercheEntreprises.BaseURL, CacheTTL: c.RechercheEntreprises.CacheTTL,
				Client: &http.Client{Timeout: c.RechercheEntreprises.Timeout}, Now: m.Now,
				UserAgent: "Sesame identity provider (organization sign-up; " + m.Config.Issuer + ")"}
		default:
			dir := company.Static{}
			for _, co := range c.StaticCompanies {
				siret, _ := company.ParseSIRET(co.SIRET)
				dir[siret] = company.Company{Name: co.Name, LegalName: co.LegalName, Address: co.Address, Activity: co.Activity}
			}
			m.Directory = dir
			m.Logger.Warn("sign-up finds companies in the static list of the configuration (development only)", "companies", len(dir))
		}
	}
}

// openStorage opens the configured backend, creating and migrating it.
func (m *Main) openStorage(ctx context.Context) (storage.Storage, error) {
	c := m.Config.Storage
	if c.Driver == "postgres" {
		openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		db, err := postgres.Open(openCtx, c.Postgres.DSN, postgres.Options{MaxConns: c.Postgres.MaxConns})
		if err != nil {
			return nil, err // the DSN may hold a password: the error does not repeat it
		}
		m.Logger.Info("connected to PostgreSQL; migrations applied")
		return db, nil
	}
	dbPath := m.Config.SQLitePath()
	_, statErr := os.Stat(dbPath)
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dbPath, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		m.Logger.Info("created the database", "path", dbPath, "mode", "0600")
	}
	return db, nil
}

// Run builds the HTTP handler and serves it in the background.
func (m *Main) Run(ctx context.Context) error {
	if m.Store == nil {
		if err := m.Open(ctx, true); err != nil {
			return err
		}
	}
	h, err := m.handler()
	if err != nil {
		return err
	}
	m.Handler = h
	ln := m.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", m.Config.Listen); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		m.Listener = ln
	}
	m.server = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("serve", "err", err)
		}
	}()
	if m.ops != nil {
		opsLn, err := net.Listen("tcp", m.ops.Addr)
		if err != nil {
			return fmt.Errorf("ops_listen: %w", err)
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			if err := m.ops.Serve(opsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Logger.Error("serve ops", "err", err)
			}
		}()
		m.Logger.Info("health and metrics are served apart", "addr", opsLn.Addr().String())
	}
	gcCtx, stop := context.WithCancel(context.Background())
	m.stopGC = stop
	m.wg.Add(4)
	go func() { defer m.wg.Done(); m.recheckDomains(gcCtx) }()
	go func() { defer m.wg.Done(); m.collectGarbage(gcCtx) }()
	go func() { defer m.wg.Done(); m.Mail.Run(gcCtx) }()
	go func() { defer m.wg.Done(); m.Backchannel.Run(gcCtx) }()
	if m.Config.Mail.SMTP.Host == "" {
		m.Logger.Info("no SMTP server is configured (mail.smtp.host): mail is queued, its links are logged, and `sesame mail list` shows it")
	}
	where := m.Config.SQLitePath()
	if m.Config.Storage.Driver == "postgres" {
		where = "postgres"
	}
	m.Logger.Info("sesame is listening", "addr", ln.Addr().String(), "issuer", m.Config.Issuer, "storage", where)
	return nil
}

func (m *Main) collectGarbage(ctx context.Context) {
	t := time.NewTicker(m.Config.Storage.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.endExpiredSessions(ctx)
			if n, err := m.Store.PruneEvents(ctx, m.Now().Add(-m.Config.Audit.Retention)); err != nil {
				m.Logger.Warn("audit retention", "err", err)
			} else if n > 0 {
				m.Logger.Info("audit events past their retention deleted", "events", n)
			}
			res, err := m.Store.GarbageCollect(ctx, m.Now())
			if err != nil {
				m.Logger.Warn("garbage collection", "err", err)
				continue
			}
			if res != (storage.GCResult{}) {
				m.Logger.Info("garbage collected", "auth_requests", res.AuthRequests, "access_tokens", res.AccessTokens,
					"refresh_tokens", res.RefreshTokens, "sessions", res.Sessions, "signing_keys", res.SigningKeys)
			}
		}
	}
}

// recheckDomains looks verified domains' records up again, every
// domains.recheck (at least hourly, for the domains that come due).
func (m *Main) recheckDomains(ctx context.Context) {
	t := time.NewTicker(min(m.Config.Domains.Recheck, time.Hour))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := m.Companies.RecheckDue(ctx, 100); err != nil {
				m.Logger.Warn("domain re-check", "err", err)
			} else if n > 0 {
				m.Logger.Warn("domains whose record is gone are no longer verified", "domains", n)
			}
		}
	}
}

// endExpiredSessions ends the sessions that expired, so that the relying
// parties that asked are told (back-channel logout) before the rows go.
func (m *Main) endExpiredSessions(ctx context.Context) {
	for range 100 { // bounded: at most 10 000 sessions per pass
		list, err := m.Store.ListExpiredSessions(ctx, m.Now(), 100)
		if err != nil || len(list) == 0 {
			if err != nil {
				m.Logger.Warn("expired sessions", "err", err)
			}
			return
		}
		for _, s := range list {
			if err := m.Accounts.EndSession(ctx, s); err != nil {
				m.Logger.Warn("end an expired session", "err", err)
				return
			}
		}
	}
}

// Close stops serving, letting requests in flight finish for up to 15 s,
// then closes the database.
func (m *Main) Close() error {
	var err error
	m.closeMu.Do(func() {
		if m.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			err = m.server.Shutdown(ctx)
			if m.ops != nil {
				err = errors.Join(err, m.ops.Shutdown(ctx))
			}
			cancel()
		}
		if m.stopGC != nil {
			m.stopGC()
		}
		m.wg.Wait()
		if m.Store != nil {
			err = errors.Join(err, m.Store.Close())
		}
	})
	return err
}

// handler wires the provider and the login screens into one router.
func (m *Main) handler() (http.Handler, error) {
	c := m.Config
	m.signupBackends()
	m.metrics = newMetrics(m.Store)
	m.Hasher.Wait = func(d time.Duration) { m.metrics.hashWait.Observe(d.Seconds()) }
	m.Mail.Sent = func(kind string, err error) {
		result := "sent"
		if err != nil {
			result = "failed"
		}
		m.metrics.mailSent.WithLabelValues(kind, result).Inc()
	}
	drafts, err := secretbox.New(m.MasterKey, "signup-drafts")
	if err != nil {
		return nil, err
	}
	totpBox, err := secretbox.New(m.MasterKey, "totp-secrets")
	if err != nil {
		return nil, err
	}
	mfaBox, err := secretbox.New(m.MasterKey, "second-step")
	if err != nil {
		return nil, err
	}
	https := strings.HasPrefix(c.Issuer, "https://")
	wa, passkeysOff, err := login.NewWebAuthn(c.Issuer, c.WebAuthn.OriginList())
	if err != nil {
		return nil, err
	}
	if passkeysOff != "" {
		m.Logger.Warn("passkeys are off", "reason", passkeysOff)
	}
	screens := &login.Handler{
		WebAuthn: wa,
		Store:    m.Store, Pages: m.Pages, Hasher: m.Hasher, Now: m.Now, Logger: m.Logger,
		SecureCookies: https, SessionIdle: c.Sessions.IdleTimeout, SessionAbsolute: c.Sessions.AbsoluteLifetime,
		Accounts: m.Accounts, Cloud: m.Cloud, Directory: m.Directory, Drafts: drafts,
		Policy: password.Policy{MinLength: c.Password.MinLength}, SignupPerHour: c.Signup.RateLimit,
		TOTPBox: totpBox, MFABox: mfaBox, TOTPIssuer: c.Accounts.TOTPIssuer, ReauthAfter: c.Accounts.ReauthAfter,
		SignInPerHour: c.Accounts.SignInPerIP, CodePerHour: c.Accounts.CodePerIP, ResetPerHour: c.Accounts.ResetPerIP,
		ResetPerEmail: c.Accounts.ResetPerEmail,
		SignIns:       func(result string) { m.metrics.signIns.WithLabelValues(result).Inc() },
		Companies:     m.Companies,
	}
	// The device page finds requests by the provider's hash of their user code.
	if screens.DeviceCodeKey, err = provider.UserCodeKey(m.MasterKey); err != nil {
		return nil, err
	}
	op, err := provider.New(provider.Options{
		Issuer: c.Issuer, Store: m.Store, Keys: m.Keys, Secrets: m.Hasher, MasterKey: m.MasterKey, Now: m.Now,
		Lifetimes: provider.Lifetimes{AuthRequest: c.Tokens.AuthRequestLifetime, Code: c.Tokens.AuthCodeLifetime,
			AccessToken: c.Tokens.AccessTokenLifetime, IDToken: c.Tokens.IDTokenLifetime, RefreshToken: c.Tokens.RefreshTokenLifetime},
		Screens: screens, Logger: m.Logger, // the screens' pages and browser session (provider.Screens)
		TokensIssued:      func(grant string) { m.metrics.tokens.WithLabelValues(grant).Inc() },
		ClientAuthPerHour: c.RateLimit.ClientAuthPerIP, BudgetKey: web.BudgetKey, PasskeysOff: passkeysOff != "",
	})
	if err != nil {
		return nil, err
	}
	screens.Answer = op.Answer // the last form's response carries the code
	mgmt, err := api.New(api.Options{Accounts: m.Accounts, Companies: m.Companies, Store: m.Store, MasterKey: m.MasterKey, Now: m.Now, Logger: m.Logger,
		RatePerMinute: c.RateLimit.APIPerClient, T: m.Pages.T,
		Authenticate: func(ctx context.Context, token string) (api.Caller, error) {
			g, err := op.ClientToken(ctx, token)
			return api.Caller{ClientID: g.ClientID, Scopes: g.Scopes}, err
		}})
	if err != nil {
		return nil, err
	}

	jsonPaths := map[string]bool{provider.PathToken: true, provider.PathIntrospect: true, provider.PathRevoke: true,
		provider.PathUserinfo: true, provider.PathKeys: true, provider.PathDiscovery: true}
	formError := func(w http.ResponseWriter, r *http.Request, err error) {
		if jsonPaths[r.URL.Path] {
			provider.WriteError(w, err)
			return
		}
		screens.Fail(w, r, err)
	}

	r := chi.NewRouter()
	trusted, _ := web.ParsePrefixes(c.TrustedProxies) // validated with the configuration
	r.Use(reqlog.Middleware(reqlog.Options{Logger: m.Logger, Log: c.Log.Requests}), middleware.Recoverer, m.metrics.observe, web.RealIP(trusted), web.BudgetKeys(c.RateLimit.IPv6Prefix), web.SecurityHeaders(https), web.Deadline(15*time.Second), web.Forms(formError))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		screens.Fail(w, r, fail.E(fail.NotFound, "Errors.Request.NotFound"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		screens.Fail(w, r, fail.E(fail.Method, "Errors.Request.Method"))
	})
	health := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	}
	ready := func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := op.Ready(ctx); err != nil {
			m.Logger.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	}
	r.Get("/healthz", health)
	r.Get("/readyz", ready)
	// /metrics is on the public listener only when asked for: without
	// ops_listen and metrics_public, it is not served at all.
	if c.MetricsPublic {
		r.Handle("/metrics", m.metrics.handler())
	}
	if c.OpsListen != "" {
		ops := chi.NewRouter()
		ops.Get("/healthz", health)
		ops.Get("/readyz", ready)
		ops.Handle("/metrics", m.metrics.handler())
		if c.OpsPprof {
			ops.HandleFunc("/debug/pprof/*", pprof.Index)
			ops.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
			ops.HandleFunc("/debug/pprof/profile", pprof.Profile)
			ops.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			ops.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		m.ops = &http.Server{Addr: c.OpsListen, Handler: ops, ReadHeaderTimeout: 10 * time.Second}
	}
	for _, p := range provider.Paths {
		r.Handle(p, op)
	}
	// The management API: bearer tokens, no cookie, no form (api/doc.go).
	r.Handle(api.Prefix+"*", mgmt)
	// Cross-origin protection for the screens' forms, on top of their CSRF
	// tokens. The OAuth endpoints are called cross-origin on purpose.
	cop := http.NewCrossOriginProtection()
	if u, err := urlOrigin(c.Issuer); err == nil {
		_ = cop.AddTrustedOrigin(u)
	}
	r.Group(func(r chi.Router) {
		r.Use(cop.Handler)
		screens.Routes(r)
	})
	return r, nil
}

func urlOrigin(issuer string) (string, error) {
	i := strings.Index(issuer, "://")
	if i < 0 {
		return "", errors.New("no scheme")
	}
	rest := issuer[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return issuer[:i+3] + rest, nil
}

// serve runs `sesame serve` until SIGINT or SIGTERM.
func serve(ctx context.Context, m *Main) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}
