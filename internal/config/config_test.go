package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigLoadsAndDocumentsEveryKey(t *testing.T) {
	path := filepath.Join("..", "..", "config.example.yaml") // from internal/config
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Fatalf("config.example.yaml differs from the defaults:\n%+v\n%+v", cfg, Default())
	}
	raw, _ := os.ReadFile(path)
	text := string(raw)
	// Every key appears in the example, preceded by a comment.
	for _, key := range Keys() {
		parts := strings.Split(key, ".")
		last := parts[len(parts)-1]
		re := regexp.MustCompile(`(?m)^\s*#.*\n\s*` + regexp.QuoteMeta(last) + `:`)
		if !re.MatchString(text) {
			t.Errorf("config.example.yaml does not document %s with a comment", key)
		}
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sesame.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigEnvironmentOverrides(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600)
	path := writeFile(t, "issuer: https://id.example.com\nlisten: 0.0.0.0:9000\ntokens:\n  access_token_lifetime: 5m\n")
	cfg, err := Load(path, []string{
		"SESAME_LISTEN=127.0.0.1:9100",
		"SESAME_STORAGE_SQLITE_PATH=/tmp/x.db",
		"SESAME_TOKENS_ID_TOKEN_LIFETIME=30m",
		"SESAME_PASSWORD_ARGON2_ITERATIONS=3",
		"SESAME_SECRETS_KEY_FILE=" + keyFile, // the key_file key itself
		"SESAME_UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mail.SMTP.Password != "" {
		t.Fatal("smtp password set from nowhere")
	}
	if cfg.Issuer != "https://id.example.com" || cfg.Listen != "127.0.0.1:9100" || cfg.Storage.SQLite.Path != "/tmp/x.db" ||
		cfg.Tokens.AccessTokenLifetime != 5*time.Minute || cfg.Tokens.IDTokenLifetime != 30*time.Minute ||
		cfg.Password.Argon2.Iterations != 3 || cfg.Secrets.KeyFile != keyFile {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
	if cfg.SQLitePath() != "/tmp/x.db" {
		t.Fatal(cfg.SQLitePath())
	}
}

func TestConfigListsEveryProblemAtOnce(t *testing.T) {
	path := writeFile(t, `issuer: http://id.example.com/
listen: nowhere
storage:
  driver: mysql
  sqlit:
    path: x
tokens:
  access_token_lifetime: forever
  id_token_lifetime: -1h
password:
  argon2:
    memory_kib: 12
colour: blue
ops_pprof: true
`)
	_, err := Load(path, []string{"SESAME_LOG_LEVEL=loud", "SESAME_SESSIONS_IDLE_TIMEOUT=soon", "SESAME_SECRETS_KEY=short"})
	probs, ok := err.(Problems)
	if !ok {
		t.Fatalf("got %v", err)
	}
	want := []string{
		"storage.sqlit: unknown key",
		"colour: unknown key",
		`tokens.access_token_lifetime: not a duration ("forever"; write 90s, 15m, 24h)`,
		"issuer: must not end with a slash",
		"listen: must be host:port, such as 127.0.0.1:8080",
		`storage.driver: unknown driver "mysql" (supported: sqlite, postgres)`,
		"tokens.id_token_lifetime: must be more than 0 and at most 24h0m0s",
		"password.argon2.memory_kib: must be from 8192 (8 MiB) to 4194304 (4 GiB)",
		"log.level: must be debug, info, warn or error",
		`sessions.idle_timeout: SESAME_SESSIONS_IDLE_TIMEOUT is not a duration ("soon"; write 90s, 15m, 24h)`,
		"secrets.key: must be 32 random bytes in base64 (openssl rand -base64 32)",
		"ops_pprof: needs ops_listen: profiles are never served on the public listener",
	}
	for _, w := range want {
		if !slices.Contains(probs, w) {
			t.Errorf("missing problem %q in:\n%s", w, probs.Error())
		}
	}
}

func TestConfigBadFiles(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"not yaml", "issuer: [unclosed", "config: "},
		{"not a mapping", "- a\n- b\n", "config: the file must be a mapping of keys"},
		{"section as scalar", "storage: sqlite\n", "storage: must be a mapping"},
		{"leaf as list", "listen: [a, b]\n", "listen: must be a single value"},
		{"http issuer off localhost", "issuer: http://id.example.com\n", "issuer: must use https (http is only for localhost)"},
		{"https issuer with query", "issuer: https://id.example.com/?x=1\n", "issuer: must not have a query or a fragment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.body), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Load(writeFile(t, ""), nil); err != nil {
		t.Fatalf("an empty file is the defaults: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil {
		t.Fatal("a missing file is an error")
	}
}
