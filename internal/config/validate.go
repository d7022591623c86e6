package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-idp/sesame/login/company"
	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// reporter collects the problems of every section.
type reporter struct{ p Problems }

func (r *reporter) add(key, format string, args ...any) {
	r.p = append(r.p, key+": "+fmt.Sprintf(format, args...))
}

// within reports key unless lo <= v <= hi.
func within[T int | time.Duration](r *reporter, key string, v, lo, hi T, msg string) {
	if v < lo || v > hi {
		r.add(key, "%s", msg)
	}
}

// positive reports key unless 0 < d <= max.
func positive(r *reporter, key string, d, max time.Duration) {
	if d <= 0 || d > max {
		r.add(key, "must be more than 0 and at most %s", max)
	}
}

// oneOf reports key unless v is one of the allowed values.
func oneOf(r *reporter, key, v, msg string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	r.add(key, "%s", msg)
}

// validators check one section each; Validate runs them all, so that
// every problem is reported at once.
var validators = []func(*Config, *reporter){
	validateServer, validateStorage, validateSecrets, validateTokens, validateSessions, validateKeys,
	validateAccounts, validateRateLimit, validateSignup, validateMail, validateAudit, validatePassword, validateLog,
	validateBranding,
	validateWebAuthn,
	validateDomains,
}

// validateWebAuthn checks the passkeys' extra origins: each an origin
// alone (scheme and host, a port at most) of the issuer's host or a
// subdomain of it, which is all a browser accepts for the RP id.
func validateWebAuthn(c *Config, r *reporter) {
	iss, err := url.Parse(c.Issuer)
	if err != nil {
		return // validateServer reports it
	}
	for _, o := range c.WebAuthn.OriginList() {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			r.add("webauthn.origins", "%q is not an origin (write https://host or https://host:port)", o)
			continue
		}
		h := u.Hostname()
		if h != iss.Hostname() && !strings.HasSuffix(h, "."+iss.Hostname()) {
			r.add("webauthn.origins", "%q is not the issuer's host %s or a subdomain of it", o, iss.Hostname())
		}
	}
}

// Validate lists every problem of the configuration as `section.key: problem`.
func (c *Config) Validate() Problems {
	r := &reporter{}
	for _, v := range validators {
		v(c, r)
	}
	return r.p
}

// validateServer checks the top-level keys: where Sesame is and listens.
func validateServer(c *Config, r *reporter) {
	validateIssuer(c.Issuer, r)
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		r.add("listen", "must be host:port, such as 127.0.0.1:8080")
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.add("listen", "port must be a number from 0 to 65535")
	}
	if c.OpsListen != "" {
		if _, _, err := net.SplitHostPort(c.OpsListen); err != nil || c.OpsListen == c.Listen {
			r.add("ops_listen", "must be host:port, other than listen")
		}
	}
	if c.OpsPprof && c.OpsListen == "" {
		r.add("ops_pprof", "needs ops_listen: profiles are never served on the public listener")
	}
	if _, err := web.ParsePrefixes(c.TrustedProxies); err != nil {
		r.add("trusted_proxies", "%v", err)
	}
	if c.DataDir == "" {
		r.add("data_dir", "must not be empty")
	}
}

func validateIssuer(issuer string, r *reporter) {
	u, err := url.Parse(issuer)
	switch {
	case err != nil || issuer == "":
		r.add("issuer", "must be an absolute URL such as https://id.example.com")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		r.add("issuer", "must be an absolute http(s) URL")
	case u.RawQuery != "" || u.Fragment != "":
		r.add("issuer", "must not have a query or a fragment")
	case strings.HasSuffix(u.Path, "/"):
		r.add("issuer", "must not end with a slash")
	case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
		r.add("issuer", "must use https (http is only for localhost)")
	}
}

func validateStorage(c *Config, r *reporter) {
	s := c.Storage
	switch s.Driver {
	case "sqlite":
		// The path defaults to data_dir/sesame.db.
	case "postgres":
		dsn := s.Postgres.DSN
		if dsn == "" {
			r.add("storage.postgres.dsn", "is required with the postgres driver (or SESAME_STORAGE_POSTGRES_DSN_FILE)")
		} else if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") && !strings.Contains(dsn, "=") {
			r.add("storage.postgres.dsn", "must be a postgres:// URL or key=value connection string")
		}
	case "":
		r.add("storage.driver", "must be set (sqlite or postgres)")
	default:
		r.add("storage.driver", "unknown driver %q (supported: sqlite, postgres)", s.Driver)
	}
	within(r, "storage.postgres.max_conns", s.Postgres.MaxConns, 1, 1000, "must be from 1 to 1000")
	positive(r, "storage.gc_interval", s.GCInterval, 24*time.Hour)
}

func validateSecrets(c *Config, r *reporter) {
	if c.Secrets.Key == "" {
		return
	}
	if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.Secrets.Key)); err != nil || len(k) != secretbox.KeySize {
		r.add("secrets.key", "must be %d random bytes in base64 (openssl rand -base64 32)", secretbox.KeySize)
	}
}

func validateTokens(c *Config, r *reporter) {
	t := c.Tokens
	positive(r, "tokens.access_token_lifetime", t.AccessTokenLifetime, 24*time.Hour)
	positive(r, "tokens.id_token_lifetime", t.IDTokenLifetime, 24*time.Hour)
	positive(r, "tokens.refresh_token_lifetime", t.RefreshTokenLifetime, 365*24*time.Hour)
	positive(r, "tokens.auth_code_lifetime", t.AuthCodeLifetime, 10*time.Minute)
	positive(r, "tokens.auth_request_lifetime", t.AuthRequestLifetime, 24*time.Hour)
}

func validateSessions(c *Config, r *reporter) {
	s := c.Sessions
	positive(r, "sessions.idle_timeout", s.IdleTimeout, 90*24*time.Hour)
	positive(r, "sessions.absolute_lifetime", s.AbsoluteLifetime, 365*24*time.Hour)
	if s.IdleTimeout > s.AbsoluteLifetime {
		r.add("sessions.idle_timeout", "must not exceed sessions.absolute_lifetime")
	}
}

func validateKeys(c *Config, r *reporter) {
	positive(r, "keys.cache_refresh", c.Keys.CacheRefresh, time.Hour)
}

const perHour = "must be from 1 to 1000000 per hour"

func validateAccounts(c *Config, r *reporter) {
	a := c.Accounts
	within(r, "accounts.set_password_link_lifetime", a.SetPasswordLinkLifetime, time.Minute, 30*24*time.Hour, "must be from 1m to 720h")
	within(r, "accounts.reset_link_lifetime", a.ResetLinkLifetime, time.Minute, 24*time.Hour, "must be from 1m to 24h")
	within(r, "accounts.reauth_after", a.ReauthAfter, 0, 24*time.Hour, "must be from 0 to 24h")
	if a.TOTPIssuer == "" || strings.ContainsAny(a.TOTPIssuer, ":") {
		r.add("accounts.totp_issuer", "must be a name without a colon")
	}
	within(r, "accounts.signin_per_ip", a.SignInPerIP, 1, 1000000, perHour)
	within(r, "accounts.code_per_ip", a.CodePerIP, 1, 1000000, perHour)
	within(r, "accounts.reset_per_ip", a.ResetPerIP, 1, 1000000, perHour)
	within(r, "accounts.reset_per_email", a.ResetPerEmail, 1, 1000000, perHour)
	within(r, "accounts.pending_invites_per_hour", a.PendingInvitesPerHour, 1, 1000000, perHour)
	within(r, "accounts.pending_members", a.PendingMembers, 1, 1000, "must be from 1 to 1000")
}

func validateRateLimit(c *Config, r *reporter) {
	within(r, "ratelimit.client_auth_per_ip", c.RateLimit.ClientAuthPerIP, 1, 1000000, perHour)
	within(r, "ratelimit.ipv6_prefix", c.RateLimit.IPv6Prefix, 32, 128,
		"must be from 32 to 128 (bits of an IPv6 address counted as one address; 64 by default)")
	within(r, "ratelimit.api_per_client_per_minute", c.RateLimit.APIPerClient, 1, 1000000, "must be from 1 to 1000000 (requests per minute)")
}

func validateSignup(c *Config, r *reporter) {
	s := c.Signup
	validateCloudAccount(s, r)
	validateDirectory(s, r)
	within(r, "signup.rate_limit", s.RateLimit, 1, 100000, "must be from 1 to 100000 attempts per hour")
}

// validateCloudAccount checks signup's cloud-account verifier.
func validateCloudAccount(s SignupConfig, r *reporter) {
	switch s.CloudAccount {
	case "static":
		for i, a := range s.StaticAccounts {
			if !strings.Contains(a.Email, "@") || !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
				r.add(fmt.Sprintf("signup.static_accounts[%d]", i), "needs an email and an argon2id password_hash")
			}
		}
	case "outscale":
		if s.Outscale.AccessKey == "" || s.Outscale.SecretKey == "" {
			r.add("signup.outscale.access_key", "the outscale backend needs access_key and secret_key")
		}
		if e := s.Outscale.Endpoint; e != "" && !strings.HasPrefix(e, "https://") && !strings.HasPrefix(e, "http://") {
			r.add("signup.outscale.endpoint", "must be an http(s) URL")
		}
	default:
		r.add("signup.cloud_account", "must be static or outscale")
	}
}

// validateDirectory checks signup's company directory.
func validateDirectory(s SignupConfig, r *reporter) {
	switch s.Directory {
	case "static":
		for i, co := range s.StaticCompanies {
			if _, err := company.ParseSIRET(co.SIRET); err != nil || co.Name == "" {
				r.add(fmt.Sprintf("signup.static_companies[%d]", i), "needs a valid siret and a name")
			}
		}
	case "recherche-entreprises":
		if u, err := url.Parse(s.RechercheEntreprises.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.add("signup.recherche_entreprises.base_url", "must be an http(s) URL")
		}
	default:
		r.add("signup.directory", "must be static or recherche-entreprises")
	}
	if t := s.RechercheEntreprises.Timeout; t <= 0 || t > time.Minute {
		r.add("signup.recherche_entreprises.timeout", "must be more than 0 and at most 1m")
	}
	within(r, "signup.recherche_entreprises.cache_ttl", s.RechercheEntreprises.CacheTTL, 0, 30*24*time.Hour, "must be from 0 to 720h")
}

func validateMail(c *Config, r *reporter) {
	m := c.Mail
	if _, err := mail.ParseAddress(m.From); err != nil {
		r.add("mail.from", "must be an address such as Sesame <no-reply@example.com>")
	}
	within(r, "mail.poll_interval", m.PollInterval, 100*time.Millisecond, time.Hour, "must be from 100ms to 1h")
	within(r, "mail.lease", m.Lease, time.Second, time.Hour, "must be from 1s to 1h")
	within(r, "mail.smtp.port", m.SMTP.Port, 1, 65535, "must be from 1 to 65535")
	oneOf(r, "mail.smtp.tls", m.SMTP.TLS, "must be none, starttls or tls", "none", "starttls", "tls")
}

func validateAudit(c *Config, r *reporter) {
	within(r, "audit.retention", c.Audit.Retention, 24*time.Hour, 10*365*24*time.Hour, "must be from 24h to 87600h (10 years)")
}

func validatePassword(c *Config, r *reporter) {
	p := c.Password
	within(r, "password.min_length", p.MinLength, 8, 128, "must be from 8 to 128")
	within(r, "password.max_concurrent_hashes", p.MaxConcurrentHashes, 0, 1024, "must be from 0 (one per CPU) to 1024")
	within(r, "password.argon2.memory_kib", p.Argon2.MemoryKiB, 8*1024, 4*1024*1024, "must be from 8192 (8 MiB) to 4194304 (4 GiB)")
	within(r, "password.argon2.iterations", p.Argon2.Iterations, 1, 100, "must be from 1 to 100")
	within(r, "password.argon2.parallelism", p.Argon2.Parallelism, 1, 255, "must be from 1 to 255")
}

func validateLog(c *Config, r *reporter) {
	oneOf(r, "log.level", c.Log.Level, "must be debug, info, warn or error", "debug", "info", "warn", "error")
	oneOf(r, "log.format", c.Log.Format, "must be text or json", "text", "json")
}

func validateDomains(c *Config, r *reporter) {
	d := c.Domains
	if d.Resolver != "" {
		host, port, err := net.SplitHostPort(d.Resolver)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			r.add("domains.resolver", "must be host:port, such as 127.0.0.53:53 or [2001:db8::53]:53")
		}
	}
	within(r, "domains.recheck", d.Recheck, time.Minute, 30*24*time.Hour, "must be from 1m to 720h (30 days)")
	within(r, "domains.timeout", d.Timeout, 100*time.Millisecond, time.Minute, "must be from 100ms to 1m")
}
