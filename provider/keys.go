package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// Algorithms Sesame signs ID tokens with; the first is the default (RS256,
// what every relying party accepts). ES256 and EdDSA (Ed25519) cost a tenth
// and a twentieth of its CPU, for the clients that accept them.
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// KeyManager creates, rotates and serves the signing keys. It caches the
// keys and re-reads storage every RefreshEvery, so that a rotation made by
// another process (the CLI, another replica) is served within that delay.
type KeyManager struct {
	Store storage.SigningKeys
	Box   *secretbox.Box
	Now   func() time.Time
	// RefreshEvery bounds how stale the cache may be (default 10 s).
	RefreshEvery time.Duration
	// PublishFor is how long a retired key stays in the key set: at least
	// the lifetime of the ID tokens it signed.
	PublishFor time.Duration

	mu       sync.RWMutex
	loadedAt time.Time
	signing  map[jose.SignatureAlgorithm]*signingKey
	public   []op.Key
	ids      string // the kids published, to notice a change
	version  uint64 // moves when the published keys change
}

type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

// KeyInfo describes a stored key for `sesame keys list`.
type KeyInfo struct {
	ID           string    `json:"kid"`
	Algorithm    string    `json:"alg"`
	CreatedAt    time.Time `json:"created_at"`
	Active       bool      `json:"active"`
	PublishUntil time.Time `json:"publish_until,omitzero"`
}

func (m *KeyManager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// EnsureKeys creates a key for every algorithm that has no active one.
// It returns the ids it created.
func (m *KeyManager) EnsureKeys(ctx context.Context) ([]string, error) {
	keys, err := m.Store.ListSigningKeys(ctx, m.now())
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, k := range keys {
		if k.RetiredAt.IsZero() {
			have[k.Algorithm] = true
		}
	}
	var created []string
	for _, alg := range Algorithms {
		if have[string(alg)] {
			continue
		}
		k, err := m.generate(alg)
		if err != nil {
			return created, err
		}
		if err := m.Store.CreateSigningKey(ctx, k); err != nil {
			return created, err
		}
		created = append(created, k.ID)
	}
	m.invalidate()
	return created, nil
}

// Rotate adds a new key for every algorithm; the new keys sign from now on
// and the old ones stay published for PublishFor.
func (m *KeyManager) Rotate(ctx context.Context) ([]string, error) {
	now := m.now()
	var ids []string
	for _, alg := range Algorithms {
		k, err := m.generate(alg)
		if err != nil {
			return ids, err
		}
		if err := m.Store.RotateSigningKey(ctx, k, now, now.Add(m.PublishFor)); err != nil {
			return ids, err
		}
		ids = append(ids, k.ID)
	}
	m.invalidate()
	return ids, nil
}

// List describes every published key, newest first.
func (m *KeyManager) List(ctx context.Context) ([]KeyInfo, error) {
	keys, err := m.Store.ListSigningKeys(ctx, m.now())
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, KeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, Active: k.RetiredAt.IsZero(), PublishUntil: k.PublishUntil})
	}
	return out, nil
}

func (m *KeyManager) generate(alg jose.SignatureAlgorithm) (storage.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return storage.SigningKey{}, fmt.Errorf("unsupported algorithm %s", alg)
	}
	if err != nil {
		return storage.SigningKey{}, err
	}
	id := storage.NewID("key")
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, err
	}
	sealed, err := m.Box.Seal(der)
	if err != nil {
		return storage.SigningKey{}, err
	}
	pub, err := (&jose.JSONWebKey{Key: priv.Public(), KeyID: id, Algorithm: string(alg), Use: "sig"}).MarshalJSON()
	if err != nil {
		return storage.SigningKey{}, err
	}
	return storage.SigningKey{ID: id, Algorithm: string(alg), PrivateEncrypted: sealed, Public: pub, CreatedAt: m.now()}, nil
}

func (m *KeyManager) invalidate() {
	m.mu.Lock()
	m.loadedAt = time.Time{}
	m.mu.Unlock()
}

// load refreshes the cache when it is older than RefreshEvery.
func (m *KeyManager) load(ctx context.Context) error { return m.loadWith(ctx, m.Store) }

// loadWith is load reading with tx: a caller inside a transaction (a
// logout token made as a session ends) reads the keys in it.
func (m *KeyManager) loadWith(ctx context.Context, tx storage.SigningKeys) error {
	every := m.RefreshEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	now := m.now()
	m.mu.RLock()
	fresh := !m.loadedAt.IsZero() && now.Sub(m.loadedAt) < every && now.After(m.loadedAt.Add(-time.Second))
	m.mu.RUnlock()
	if fresh {
		return nil
	}
	keys, err := tx.ListSigningKeys(ctx, now)
	if err != nil {
		return err
	}
	signing := map[jose.SignatureAlgorithm]*signingKey{}
	var public []op.Key
	for _, k := range keys { // newest first
		alg := jose.SignatureAlgorithm(k.Algorithm)
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k.Public); err != nil {
			return fmt.Errorf("key %s: public part: %w", k.ID, err)
		}
		public = append(public, &publicKey{id: k.ID, alg: alg, key: jwk.Key})
		if !k.RetiredAt.IsZero() || signing[alg] != nil {
			continue
		}
		der, err := m.Box.Open(k.PrivateEncrypted)
		if err != nil {
			return fmt.Errorf("key %s: %w", k.ID, err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("key %s: private part: %w", k.ID, err)
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return fmt.Errorf("key %s: not a signing key", k.ID)
		}
		signing[alg] = &signingKey{id: k.ID, alg: alg, key: signer}
	}
	ids := ""
	for _, k := range public {
		ids += k.ID() + " "
	}
	m.mu.Lock()
	m.signing, m.public, m.loadedAt = signing, public, now
	if ids != m.ids {
		m.ids = ids
		m.version++
	}
	m.mu.Unlock()
	return nil
}

// ErrNoKey means no active key exists for the algorithm.
var ErrNoKey = errors.New("provider: no active signing key")

// SigningKey returns the active key for alg.
func (m *KeyManager) SigningKey(ctx context.Context, alg jose.SignatureAlgorithm) (op.SigningKey, error) {
	return m.SigningKeyWith(ctx, m.Store, alg)
}

// SigningKeyWith is SigningKey reading the keys, when the cache is stale,
// with tx.
func (m *KeyManager) SigningKeyWith(ctx context.Context, tx storage.SigningKeys, alg jose.SignatureAlgorithm) (op.SigningKey, error) {
	if err := m.loadWith(ctx, tx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	k := m.signing[alg]
	if k == nil {
		return nil, fmt.Errorf("%w for %s", ErrNoKey, alg)
	}
	return k, nil
}

// KeySet returns every published public key.
func (m *KeyManager) KeySet(ctx context.Context) ([]op.Key, error) {
	if err := m.load(ctx); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.public, nil
}

// keySet is KeySet with a version that moves when the keys change.
func (m *KeyManager) keySet(ctx context.Context) ([]op.Key, uint64, error) {
	if err := m.load(ctx); err != nil {
		return nil, 0, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.public, m.version, nil
}

// Ready reports whether every algorithm has an active key.
func (m *KeyManager) Ready(ctx context.Context) error {
	for _, alg := range Algorithms {
		if _, err := m.SigningKey(ctx, alg); err != nil {
			return err
		}
	}
	return nil
}
