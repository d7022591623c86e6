package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sesame-idp/sesame/login/company"
	"github.com/sesame-idp/sesame/login/web"

	"github.com/sesame-idp/sesame/storage/secretbox"
)

// Config is Sesame's configuration. Each leaf's yaml tag is its key; a
// `secret` tag allows SESAME_<PATH>_FILE.
type Config struct {
	Issuer string `yaml:"issuer"`
	Listen string `yaml:"listen"`
	// TrustedProxies lists the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies string `yaml:"trusted_proxies"`
	// OpsListen, when set, serves /metrics, /healthz and /readyz apart.
	OpsListen string `yaml:"ops_listen"`
	// MetricsPublic also serves /metrics on the public listener. Off by
	// default: the metrics tell anyone who asks the traffic, the sign-in
	// outcomes and the queues, which are the operator's business.
	MetricsPublic bool `yaml:"metrics_public"`
	// OpsPprof adds Go's /debug/pprof/ profiles to the ops listener (only
	// there: a profile shows memory, and costs CPU while it runs).
	OpsPprof bool           `yaml:"ops_pprof"`
	DataDir  string         `yaml:"data_dir"`
	Storage  StorageConfig  `yaml:"storage"`
	Secrets  SecretsConfig  `yaml:"secrets"`
	Tokens   TokensConfig   `yaml:"tokens"`
	Sessions SessionsConfig `yaml:"sessions"`
	Password PasswordConfig `yaml:"password"`
	Keys     KeysConfig     `yaml:"keys"`
	Log      LogConfig      `yaml:"log"`
	Accounts AccountsConfig `yaml:"accounts"`
	Signup   SignupConfig   `yaml:"signup"`
	Mail     MailConfig     `yaml:"mail"`
	Audit    AuditConfig    `yaml:"audit"`

	// RateLimit holds the per-IP budgets that are not the screens'.
	RateLimit RateLimitConfig `yaml:"ratelimit"`
}

type AuditConfig struct {
	Retention time.Duration `yaml:"retention"`
}

type AccountsConfig struct {
	SetPasswordLinkLifetime time.Duration `yaml:"set_password_link_lifetime"`
	ResetLinkLifetime       time.Duration `yaml:"reset_link_lifetime"`
	ReauthAfter             time.Duration `yaml:"reauth_after"`
	TOTPIssuer              string        `yaml:"totp_issuer"`
	SignInPerIP             int           `yaml:"signin_per_ip"`
	// An organization not yet validated invites at most PendingMembers
	// members, PendingInvitesPerHour invitations an hour.
	PendingMembers        int `yaml:"pending_members"`
	PendingInvitesPerHour int `yaml:"pending_invites_per_hour"`
	CodePerIP             int `yaml:"code_per_ip"`
	ResetPerIP            int `yaml:"reset_per_ip"`
	ResetPerEmail         int `yaml:"reset_per_email"`
}

type RateLimitConfig struct {
	ClientAuthPerIP int `yaml:"client_auth_per_ip"`
	// IPv6Prefix: every per-IP budget counts an IPv6 address's network of
	// this many bits as one address.
	IPv6Prefix int `yaml:"ipv6_prefix"`
}

type SignupConfig struct {
	CloudAccount         string               `yaml:"cloud_account"`
	Outscale             OutscaleConfig       `yaml:"outscale"`
	StaticAccounts       []StaticAccount      `yaml:"static_accounts"`
	Directory            string               `yaml:"directory"`
	RechercheEntreprises RechercheEntreprises `yaml:"recherche_entreprises"`
	StaticCompanies      []StaticCompany      `yaml:"static_companies"`
	RateLimit            int                  `yaml:"rate_limit"`
}

type OutscaleConfig struct {
	Region    string `yaml:"region"`
	Endpoint  string `yaml:"endpoint"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key" secret:"true"`
}

type StaticAccount struct {
	Email        string `yaml:"email"`
	PasswordHash string `yaml:"password_hash"`
}

type RechercheEntreprises struct {
	BaseURL  string        `yaml:"base_url"`
	Timeout  time.Duration `yaml:"timeout"`
	CacheTTL time.Duration `yaml:"cache_ttl"`
}

type StaticCompany struct {
	SIRET     string `yaml:"siret"`
	Name      string `yaml:"name"`
	LegalName string `yaml:"legal_name"`
	Address   string `yaml:"address"`
	Activity  string `yaml:"activity"`
}

type MailConfig struct {
	From         string        `yaml:"from"`
	PollInterval time.Duration `yaml:"poll_interval"`
	Lease        time.Duration `yaml:"lease"`
	SMTP         SMTPConfig    `yaml:"smtp"`
}

type SMTPConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
}

// demoCloudPasswordHash is the argon2id hash of "demo-cloud-password", the
// password of the development cloud account shipped in the defaults.
const demoCloudPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$9U8fxGEOdLSWXtYG1nYVJQ$YsbqKbEJ89efNuOP3ZtKMaQ87n8kvzg15ksiOLbXx/I"

type StorageConfig struct {
	Driver     string         `yaml:"driver"`
	SQLite     SQLiteConfig   `yaml:"sqlite"`
	Postgres   PostgresConfig `yaml:"postgres"`
	GCInterval time.Duration  `yaml:"gc_interval"`
}

type PostgresConfig struct {
	DSN      string `yaml:"dsn" secret:"true"`
	MaxConns int    `yaml:"max_conns"`
}

type SQLiteConfig struct {
	Path string `yaml:"path"`
}

type SecretsConfig struct {
	Key     string `yaml:"key" secret:"true"`
	KeyFile string `yaml:"key_file"`
}

type TokensConfig struct {
	AccessTokenLifetime  time.Duration `yaml:"access_token_lifetime"`
	IDTokenLifetime      time.Duration `yaml:"id_token_lifetime"`
	RefreshTokenLifetime time.Duration `yaml:"refresh_token_lifetime"`
	AuthCodeLifetime     time.Duration `yaml:"auth_code_lifetime"`
	AuthRequestLifetime  time.Duration `yaml:"auth_request_lifetime"`
}

type SessionsConfig struct {
	IdleTimeout      time.Duration `yaml:"idle_timeout"`
	AbsoluteLifetime time.Duration `yaml:"absolute_lifetime"`
}

type PasswordConfig struct {
	MinLength           int          `yaml:"min_length"`
	MaxConcurrentHashes int          `yaml:"max_concurrent_hashes"`
	Argon2              Argon2Config `yaml:"argon2"`
}

type Argon2Config struct {
	MemoryKiB   int `yaml:"memory_kib"`
	Iterations  int `yaml:"iterations"`
	Parallelism int `yaml:"parallelism"`
}

type KeysConfig struct {
	CacheRefresh time.Duration `yaml:"cache_refresh"`
}

type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// DefaultConfig is what `sesame serve` runs with and no file.
func DefaultConfig() Config {
	return Config{
		Issuer:  "http://localhost:8080",
		Listen:  "127.0.0.1:8080",
		DataDir: "./data",
		Storage: StorageConfig{Driver: "sqlite", GCInterval: 5 * time.Minute, Postgres: PostgresConfig{MaxConns: 20}},
		Tokens: TokensConfig{AccessTokenLifetime: 15 * time.Minute, IDTokenLifetime: time.Hour,
			RefreshTokenLifetime: 30 * 24 * time.Hour, AuthCodeLifetime: time.Minute, AuthRequestLifetime: 30 * time.Minute},
		Sessions: SessionsConfig{IdleTimeout: 24 * time.Hour, AbsoluteLifetime: 7 * 24 * time.Hour},
		Password: PasswordConfig{MinLength: 12, Argon2: Argon2Config{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}},
		Keys:     KeysConfig{CacheRefresh: 10 * time.Second},
		Log:      LogConfig{Level: "info", Format: "text"},
		Accounts: AccountsConfig{SetPasswordLinkLifetime: 24 * time.Hour, ResetLinkLifetime: 5 * time.Minute, ReauthAfter: 5 * time.Minute,
			TOTPIssuer: "Sesame", SignInPerIP: 300, CodePerIP: 100, ResetPerIP: 20, ResetPerEmail: 5,
			PendingMembers: 5, PendingInvitesPerHour: 5},
		Signup: SignupConfig{
			CloudAccount:   "static",
			Outscale:       OutscaleConfig{Region: "cloudgouv-eu-west-1"},
			StaticAccounts: []StaticAccount{{Email: "demo@cloud.example", PasswordHash: demoCloudPasswordHash}},
			Directory:      "static",
			RechercheEntreprises: RechercheEntreprises{BaseURL: "https://recherche-entreprises.api.gouv.fr",
				Timeout: 5 * time.Second, CacheTTL: time.Hour},
			StaticCompanies: []StaticCompany{
				{SIRET: "73282932000074", Name: "NUAGE SOUVERAIN", LegalName: "NUAGE SOUVERAIN SAS",
					Address: "12 RUE DE LA REPUBLIQUE 13100 AIX-EN-PROVENCE", Activity: "63.11Z"},
				{SIRET: "44306184100013", Name: "ATELIER NUMERIQUE DU RHONE", LegalName: "ATELIER NUMERIQUE DU RHONE SARL",
					Address: "5 QUAI DU RHONE 69002 LYON", Activity: "62.01Z"},
			},
			RateLimit: 20,
		},
		Audit:     AuditConfig{Retention: 365 * 24 * time.Hour},
		RateLimit: RateLimitConfig{ClientAuthPerIP: 100, IPv6Prefix: web.DefaultIPv6Prefix},
		Mail: MailConfig{From: "Sesame <no-reply@localhost>", PollInterval: 5 * time.Second, Lease: 2 * time.Minute,
			SMTP: SMTPConfig{Port: 587, TLS: "starttls"}},
	}
}

// Problems lists every configuration problem as `section.key: problem`.
type Problems []string

func (p Problems) Error() string { return "invalid configuration:\n  " + strings.Join(p, "\n  ") }

// LoadConfig reads the YAML file at path (none when ""), then the
// environment, then validates. env is os.Environ() in production.
func LoadConfig(path string, env []string) (Config, error) {
	c := DefaultConfig()
	var probs Problems
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, Problems{fmt.Sprintf("config: %v", err)}
		}
		probs = append(probs, decodeYAML(raw, &c)...)
	}
	probs = append(probs, applyEnv(&c, env)...)
	probs = append(probs, c.validate()...)
	if len(probs) > 0 {
		return c, probs
	}
	return c, nil
}

func decodeYAML(raw []byte, c *Config) Problems {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file is the defaults
		}
		return Problems{fmt.Sprintf("config: %v", err)}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Problems{"config: the file must be a mapping of keys"}
	}
	var probs Problems
	walkYAML(root, reflect.ValueOf(c).Elem(), "", &probs)
	return probs
}

func walkYAML(n *yaml.Node, v reflect.Value, prefix string, probs *Problems) {
	fields := map[string]int{}
	for i := 0; i < v.NumField(); i++ {
		fields[v.Type().Field(i).Tag.Get("yaml")] = i
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		idx, ok := fields[key]
		if !ok {
			*probs = append(*probs, path+": unknown key")
			continue
		}
		f := v.Field(idx)
		if f.Kind() == reflect.Struct {
			if val.Kind != yaml.MappingNode {
				*probs = append(*probs, path+": must be a mapping")
				continue
			}
			walkYAML(val, f, path, probs)
			continue
		}
		if f.Kind() == reflect.Slice {
			if val.Kind != yaml.SequenceNode {
				*probs = append(*probs, path+": must be a list")
				continue
			}
			fresh := reflect.New(f.Type())
			if err := val.Decode(fresh.Interface()); err != nil {
				*probs = append(*probs, path+": "+err.Error())
				continue
			}
			f.Set(fresh.Elem())
			continue
		}
		if val.Kind != yaml.ScalarNode {
			*probs = append(*probs, path+": must be a single value")
			continue
		}
		if err := setLeaf(f, val.Value); err != nil {
			*probs = append(*probs, path+": "+err.Error())
		}
	}
}

func setLeaf(f reflect.Value, s string) error {
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("not a duration (%q; write 90s, 15m, 24h)", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("not a whole number (%q)", s)
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("not true or false (%q)", s)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// leaf is one settable key of the configuration.
type leaf struct {
	path   string
	value  reflect.Value
	secret bool
}

func leaves(v reflect.Value, prefix string) []leaf {
	var out []leaf
	for i := 0; i < v.NumField(); i++ {
		sf := v.Type().Field(i)
		path := sf.Tag.Get("yaml")
		if prefix != "" {
			path = prefix + "." + path
		}
		if sf.Type.Kind() == reflect.Struct {
			out = append(out, leaves(v.Field(i), path)...)
			continue
		}
		out = append(out, leaf{path: path, value: v.Field(i), secret: sf.Tag.Get("secret") == "true"})
	}
	return out
}

// EnvName is the environment variable that overrides a key.
func EnvName(path string) string {
	return "SESAME_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// ConfigKeys lists every key, for documentation tests.
func ConfigKeys() []string {
	c := DefaultConfig()
	var out []string
	for _, l := range leaves(reflect.ValueOf(&c).Elem(), "") {
		out = append(out, l.path)
	}
	sort.Strings(out)
	return out
}

func applyEnv(c *Config, env []string) Problems {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var probs Problems
	all := leaves(reflect.ValueOf(c).Elem(), "")
	exact := map[string]bool{}
	for _, l := range all {
		exact[EnvName(l.path)] = true
	}
	for _, l := range all {
		if l.value.Kind() == reflect.Slice {
			continue // lists come from the file only
		}
		name := EnvName(l.path)
		if v, ok := vars[name]; ok {
			if err := setLeaf(l.value, v); err != nil {
				probs = append(probs, l.path+": "+name+" is "+err.Error())
			}
		}
		if !l.secret || exact[name+"_FILE"] {
			continue // an exact key wins over the _FILE form
		}
		if file, ok := vars[name+"_FILE"]; ok {
			raw, err := os.ReadFile(file)
			if err != nil {
				probs = append(probs, fmt.Sprintf("%s: %s_FILE: %v", l.path, name, err))
				continue
			}
			l.value.SetString(strings.TrimSpace(string(raw)))
		}
	}
	return probs
}

func (c *Config) validate() Problems {
	var p Problems
	add := func(key, format string, args ...any) { p = append(p, key+": "+fmt.Sprintf(format, args...)) }

	if u, err := url.Parse(c.Issuer); err != nil || c.Issuer == "" {
		add("issuer", "must be an absolute URL such as https://id.example.com")
	} else {
		switch {
		case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
			add("issuer", "must be an absolute http(s) URL")
		case u.RawQuery != "" || u.Fragment != "":
			add("issuer", "must not have a query or a fragment")
		case strings.HasSuffix(u.Path, "/"):
			add("issuer", "must not end with a slash")
		case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
			add("issuer", "must use https (http is only for localhost)")
		}
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "must be host:port, such as 127.0.0.1:8080")
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add("listen", "port must be a number from 0 to 65535")
	}
	if c.OpsListen != "" {
		if _, _, err := net.SplitHostPort(c.OpsListen); err != nil || c.OpsListen == c.Listen {
			add("ops_listen", "must be host:port, other than listen")
		}
	}
	if c.OpsPprof && c.OpsListen == "" {
		add("ops_pprof", "needs ops_listen: profiles are never served on the public listener")
	}
	if _, err := web.ParsePrefixes(c.TrustedProxies); err != nil {
		add("trusted_proxies", "%v", err)
	}
	if c.DataDir == "" {
		add("data_dir", "must not be empty")
	}
	switch c.Storage.Driver {
	case "sqlite":
		// The path defaults to data_dir/sesame.db.
	case "postgres":
		if c.Storage.Postgres.DSN == "" {
			add("storage.postgres.dsn", "is required with the postgres driver (or SESAME_STORAGE_POSTGRES_DSN_FILE)")
		} else if !strings.HasPrefix(c.Storage.Postgres.DSN, "postgres://") && !strings.HasPrefix(c.Storage.Postgres.DSN, "postgresql://") &&
			!strings.Contains(c.Storage.Postgres.DSN, "=") {
			add("storage.postgres.dsn", "must be a postgres:// URL or key=value connection string")
		}
	case "":
		add("storage.driver", "must be set (sqlite or postgres)")
	default:
		add("storage.driver", "unknown driver %q (supported: sqlite, postgres)", c.Storage.Driver)
	}
	if c.Storage.Postgres.MaxConns < 1 || c.Storage.Postgres.MaxConns > 1000 {
		add("storage.postgres.max_conns", "must be from 1 to 1000")
	}
	if c.Secrets.Key != "" {
		if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.Secrets.Key)); err != nil || len(k) != secretbox.KeySize {
			add("secrets.key", "must be %d random bytes in base64 (openssl rand -base64 32)", secretbox.KeySize)
		}
	}
	positive := []struct {
		key string
		d   time.Duration
		max time.Duration
	}{
		{"storage.gc_interval", c.Storage.GCInterval, 24 * time.Hour},
		{"tokens.access_token_lifetime", c.Tokens.AccessTokenLifetime, 24 * time.Hour},
		{"tokens.id_token_lifetime", c.Tokens.IDTokenLifetime, 24 * time.Hour},
		{"tokens.refresh_token_lifetime", c.Tokens.RefreshTokenLifetime, 365 * 24 * time.Hour},
		{"tokens.auth_code_lifetime", c.Tokens.AuthCodeLifetime, 10 * time.Minute},
		{"tokens.auth_request_lifetime", c.Tokens.AuthRequestLifetime, 24 * time.Hour},
		{"sessions.idle_timeout", c.Sessions.IdleTimeout, 90 * 24 * time.Hour},
		{"sessions.absolute_lifetime", c.Sessions.AbsoluteLifetime, 365 * 24 * time.Hour},
		{"keys.cache_refresh", c.Keys.CacheRefresh, time.Hour},
	}
	for _, d := range positive {
		if d.d <= 0 || d.d > d.max {
			add(d.key, "must be more than 0 and at most %s", d.max)
		}
	}
	if c.Sessions.IdleTimeout > c.Sessions.AbsoluteLifetime {
		add("sessions.idle_timeout", "must not exceed sessions.absolute_lifetime")
	}
	if d := c.Accounts.SetPasswordLinkLifetime; d < time.Minute || d > 30*24*time.Hour {
		add("accounts.set_password_link_lifetime", "must be from 1m to 720h")
	}
	if d := c.Accounts.ResetLinkLifetime; d < time.Minute || d > 24*time.Hour {
		add("accounts.reset_link_lifetime", "must be from 1m to 24h")
	}
	if d := c.Accounts.ReauthAfter; d < 0 || d > 24*time.Hour {
		add("accounts.reauth_after", "must be from 0 to 24h")
	}
	if c.Accounts.TOTPIssuer == "" || strings.ContainsAny(c.Accounts.TOTPIssuer, ":") {
		add("accounts.totp_issuer", "must be a name without a colon")
	}
	for _, l := range []struct {
		key string
		n   int
	}{{"accounts.signin_per_ip", c.Accounts.SignInPerIP}, {"accounts.code_per_ip", c.Accounts.CodePerIP},
		{"accounts.reset_per_ip", c.Accounts.ResetPerIP}, {"accounts.reset_per_email", c.Accounts.ResetPerEmail},
		{"accounts.pending_invites_per_hour", c.Accounts.PendingInvitesPerHour},
		{"ratelimit.client_auth_per_ip", c.RateLimit.ClientAuthPerIP}} {
		if l.n < 1 || l.n > 1000000 {
			add(l.key, "must be from 1 to 1000000 per hour")
		}
	}
	if c.Accounts.PendingMembers < 1 || c.Accounts.PendingMembers > 1000 {
		add("accounts.pending_members", "must be from 1 to 1000")
	}
	if p := c.RateLimit.IPv6Prefix; p < 32 || p > 128 {
		add("ratelimit.ipv6_prefix", "must be from 32 to 128 (bits of an IPv6 address counted as one address; 64 by default)")
	}
	switch c.Signup.CloudAccount {
	case "static":
		for i, a := range c.Signup.StaticAccounts {
			if !strings.Contains(a.Email, "@") || !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
				add(fmt.Sprintf("signup.static_accounts[%d]", i), "needs an email and an argon2id password_hash")
			}
		}
	case "outscale":
		if c.Signup.Outscale.AccessKey == "" || c.Signup.Outscale.SecretKey == "" {
			add("signup.outscale.access_key", "the outscale backend needs access_key and secret_key")
		}
		if e := c.Signup.Outscale.Endpoint; e != "" && !strings.HasPrefix(e, "https://") && !strings.HasPrefix(e, "http://") {
			add("signup.outscale.endpoint", "must be an http(s) URL")
		}
	default:
		add("signup.cloud_account", "must be static or outscale")
	}
	switch c.Signup.Directory {
	case "static":
		for i, co := range c.Signup.StaticCompanies {
			if _, err := company.ParseSIRET(co.SIRET); err != nil || co.Name == "" {
				add(fmt.Sprintf("signup.static_companies[%d]", i), "needs a valid siret and a name")
			}
		}
	case "recherche-entreprises":
		if u, err := url.Parse(c.Signup.RechercheEntreprises.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("signup.recherche_entreprises.base_url", "must be an http(s) URL")
		}
	default:
		add("signup.directory", "must be static or recherche-entreprises")
	}
	if t := c.Signup.RechercheEntreprises.Timeout; t <= 0 || t > time.Minute {
		add("signup.recherche_entreprises.timeout", "must be more than 0 and at most 1m")
	}
	if t := c.Signup.RechercheEntreprises.CacheTTL; t < 0 || t > 30*24*time.Hour {
		add("signup.recherche_entreprises.cache_ttl", "must be from 0 to 720h")
	}
	if c.Signup.RateLimit < 1 || c.Signup.RateLimit > 100000 {
		add("signup.rate_limit", "must be from 1 to 100000 attempts per hour")
	}
	if _, err := mail.ParseAddress(c.Mail.From); err != nil {
		add("mail.from", "must be an address such as Sesame <no-reply@example.com>")
	}
	if c.Mail.PollInterval < 100*time.Millisecond || c.Mail.PollInterval > time.Hour {
		add("mail.poll_interval", "must be from 100ms to 1h")
	}
	if c.Mail.Lease < time.Second || c.Mail.Lease > time.Hour {
		add("mail.lease", "must be from 1s to 1h")
	}
	if c.Mail.SMTP.Port < 1 || c.Mail.SMTP.Port > 65535 {
		add("mail.smtp.port", "must be from 1 to 65535")
	}
	switch c.Mail.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		add("mail.smtp.tls", "must be none, starttls or tls")
	}
	if c.Audit.Retention < 24*time.Hour || c.Audit.Retention > 10*365*24*time.Hour {
		add("audit.retention", "must be from 24h to 87600h (10 years)")
	}
	if c.Password.MinLength < 8 || c.Password.MinLength > 128 {
		add("password.min_length", "must be from 8 to 128")
	}
	if c.Password.MaxConcurrentHashes < 0 || c.Password.MaxConcurrentHashes > 1024 {
		add("password.max_concurrent_hashes", "must be from 0 (one per CPU) to 1024")
	}
	a := c.Password.Argon2
	if a.MemoryKiB < 8*1024 || a.MemoryKiB > 4*1024*1024 {
		add("password.argon2.memory_kib", "must be from 8192 (8 MiB) to 4194304 (4 GiB)")
	}
	if a.Iterations < 1 || a.Iterations > 100 {
		add("password.argon2.iterations", "must be from 1 to 100")
	}
	if a.Parallelism < 1 || a.Parallelism > 255 {
		add("password.argon2.parallelism", "must be from 1 to 255")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "must be debug, info, warn or error")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "must be text or json")
	}
	return p
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// SQLitePath is where the database lives.
func (c *Config) SQLitePath() string {
	if c.Storage.SQLite.Path != "" {
		return c.Storage.SQLite.Path
	}
	return filepath.Join(c.DataDir, "sesame.db")
}

// defaultKeyFile is where the secret-encryption key is created when none
// is configured.
func (c *Config) defaultKeyFile() string { return filepath.Join(c.DataDir, "secret.key") }
