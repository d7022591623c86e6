package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig: any file either loads or lists its problems; never a panic.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"", "issuer: https://id.example.com\n", "storage:\n  driver: postgres\n", "a: [", "- x", "mail:\n  smtp:\n    port: x\n",
		"signup:\n  static_accounts:\n    - email: a\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte(body), 0o600)
		_, err := Load(p, nil)
		if err != nil {
			if _, ok := err.(Problems); !ok {
				t.Fatalf("not a list of problems: %T %v", err, err)
			}
		}
	})
}
