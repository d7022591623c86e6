package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame-idp/sesame/storage/secretbox"
)

// MasterKey returns the secret-encryption key, and the path of the file it
// created, if it created one. Only the default file is ever created: a
// configured key that is missing is an error, never silently replaced.
func (c *Config) MasterKey() ([]byte, string, error) {
	decode := func(s, where string) ([]byte, error) {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil || len(k) != secretbox.KeySize {
			return nil, fmt.Errorf("%s: must hold %d random bytes in base64", where, secretbox.KeySize)
		}
		return k, nil
	}
	if c.Secrets.Key != "" {
		k, err := decode(c.Secrets.Key, "secrets.key")
		return k, "", err
	}
	path := c.Secrets.KeyFile
	if path == "" {
		path = c.DefaultKeyFile()
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			k, err := createKeyFile(c.DataDir, path)
			if err != nil {
				return nil, "", err
			}
			if k != nil {
				return k, path, nil
			}
			// Another command starting at the same time created it first.
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("secrets.key_file: %w", err)
	}
	k, err := decode(string(raw), "secrets.key_file "+path)
	return k, "", err
}

// KeySource names where the secret-encryption key comes from.
func (c *Config) KeySource() string {
	switch {
	case c.Secrets.Key != "":
		return "the secret-encryption key (secrets.key)"
	case c.Secrets.KeyFile != "":
		return "the secret-encryption key (secrets.key_file " + c.Secrets.KeyFile + ")"
	}
	return "the secret-encryption key (" + c.DefaultKeyFile() + ")"
}

// createKeyFile creates the key file at path with a new random key, and
// returns the key, or nil if the file exists already. The key is written to
// a temporary file that is then linked to path: the name appears complete
// or not at all, so that a command starting at the same time reads either
// nothing or the whole key, and one of them wins.
func createKeyFile(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, secretbox.KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".secret.key-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return k, nil
}
