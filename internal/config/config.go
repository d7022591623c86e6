// Package config is Sesame's configuration: the embedded defaults, then a
// YAML file, then SESAME_<PATH> environment variables (storage.sqlite.path
// is SESAME_STORAGE_SQLITE_PATH), then, for secrets, SESAME_<PATH>_FILE
// naming a file that holds the value. Load reports every problem at once as
// `section.key: problem`; each section has its own validator (validate.go).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sesame-idp/sesame/login/web"
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
	Domains  DomainsConfig  `yaml:"domains"`
	// Branding is how the pages and mails look: name, logo, colour, help.
	Branding BrandingConfig `yaml:"branding"`

	// RateLimit holds the per-IP budgets that are not the screens'.
	RateLimit RateLimitConfig `yaml:"ratelimit"`

	WebAuthn WebAuthnConfig `yaml:"webauthn"`
}

// WebAuthnConfig is the passkeys' relying party: its id is the issuer's
// host, and the issuer's origin is always allowed.
type WebAuthnConfig struct {
	// Origins lists, comma-separated, the other origins (scheme://host[:port])
	// that serve this Sesame under the same host or a subdomain of it.
	Origins string `yaml:"origins"`
}

// OriginList is Origins as a list.
func (w WebAuthnConfig) OriginList() []string {
	var out []string
	for _, o := range strings.Split(w.Origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// DomainsConfig is company sign-in's: the proof of domains (DNS TXT
// look-ups) and the upstream providers Sesame may reach.
type DomainsConfig struct {
	// Resolver is the DNS server asked, host:port; "" is the system's
	// (the first nameserver of /etc/resolv.conf).
	Resolver string `yaml:"resolver"`
	// Recheck is how often a verified domain's record is looked up again.
	Recheck time.Duration `yaml:"recheck"`
	// Timeout bounds one look-up.
	Timeout time.Duration `yaml:"timeout"`
	// PrivateIssuers lets organizations' upstream providers be on loopback
	// or private addresses (tests, closed networks); off, Sesame refuses
	// to reach them. Link-local addresses are refused always.
	PrivateIssuers bool `yaml:"private_issuers"`
}

// BrandingConfig is the operator's branding (internal/brand); every key is
// optional, and without any the pages look as Sesame's own.
type BrandingConfig struct {
	Name         string `yaml:"name"`
	Logo         string `yaml:"logo"` // a file: PNG, SVG, JPEG or WebP
	PrimaryColor string `yaml:"primary_color"`
	SupportURL   string `yaml:"support_url"`
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
	// APIPerClient bounds each management API client's requests per minute.
	APIPerClient int `yaml:"api_per_client_per_minute"`
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

// DemoCloudPasswordHash is the argon2id hash of "demo-cloud-password", the
// password of the development cloud account shipped in the defaults.
const DemoCloudPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$9U8fxGEOdLSWXtYG1nYVJQ$YsbqKbEJ89efNuOP3ZtKMaQ87n8kvzg15ksiOLbXx/I"

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
	// Requests writes one INFO line per HTTP request (method, path with
	// its query's secrets redacted, status, duration, request id).
	Requests bool `yaml:"requests"`
}

// Default is what `sesame serve` runs with and no file.
func Default() Config {
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
		Log:      LogConfig{Level: "info", Format: "text", Requests: true},
		Accounts: AccountsConfig{SetPasswordLinkLifetime: 24 * time.Hour, ResetLinkLifetime: 5 * time.Minute, ReauthAfter: 5 * time.Minute,
			TOTPIssuer: "Sesame", SignInPerIP: 300, CodePerIP: 100, ResetPerIP: 20, ResetPerEmail: 5,
			PendingMembers: 5, PendingInvitesPerHour: 5},
		Signup: SignupConfig{
			CloudAccount:   "static",
			Outscale:       OutscaleConfig{Region: "cloudgouv-eu-west-1"},
			StaticAccounts: []StaticAccount{{Email: "demo@cloud.example", PasswordHash: DemoCloudPasswordHash}},
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
		Domains:   DomainsConfig{Recheck: 24 * time.Hour, Timeout: 5 * time.Second},
		RateLimit: RateLimitConfig{ClientAuthPerIP: 100, IPv6Prefix: web.DefaultIPv6Prefix, APIPerClient: 600},
		Mail: MailConfig{From: "Sesame <no-reply@localhost>", PollInterval: 5 * time.Second, Lease: 2 * time.Minute,
			SMTP: SMTPConfig{Port: 587, TLS: "starttls"}},
	}
}

// Problems lists every configuration problem as `section.key: problem`.
type Problems []string

func (p Problems) Error() string { return "invalid configuration:\n  " + strings.Join(p, "\n  ") }

// Load reads the YAML file at path (none when ""), then the
// environment, then validates. env is os.Environ() in production.
func Load(path string, env []string) (Config, error) {
	c := Default()
	var probs Problems
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, Problems{fmt.Sprintf("config: %v", err)}
		}
		probs = append(probs, decodeYAML(raw, &c)...)
	}
	probs = append(probs, applyEnv(&c, env)...)
	probs = append(probs, c.Validate()...)
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

// Keys lists every key, for documentation tests.
func Keys() []string {
	c := Default()
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

// IsLoopbackHost reports whether h names this machine.
func IsLoopbackHost(h string) bool {
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

// DefaultKeyFile is where the secret-encryption key is created when none
// is configured.
func (c *Config) DefaultKeyFile() string { return filepath.Join(c.DataDir, "secret.key") }
