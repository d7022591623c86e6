package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// Client secrets are verified with a keyed hash, not argon2id: a password
// hash is slow so that a guessable password resists a stolen database; a
// client secret is not guessable (Sesame generates 256 random bits; an
// operator's has at least MinClientSecretLength characters), so a slow hash
// bought nothing, and it let anyone spend 30 ms of CPU per wrong secret.
// The key, derived from the secret-encryption key, keeps a stolen database
// from confirming a guess offline all the same.

// MinClientSecretLength is the shortest client secret an operator may set.
const MinClientSecretLength = 32

// keyedPrefix marks a secret hash made by HashClientSecret; any other
// stored hash is a legacy argon2id one (PHC string).
const keyedPrefix = "$hmac-sha256$"

// clientSecrets computes keyed hashes of client secrets.
type clientSecrets struct{ key [secretbox.KeySize]byte }

func newClientSecrets(masterKey []byte) (clientSecrets, error) {
	k, err := secretbox.Derive(masterKey, "client-secrets")
	return clientSecrets{key: k}, err
}

func (c clientSecrets) hash(secret string) string {
	mac := hmac.New(sha256.New, c.key[:])
	mac.Write([]byte(secret))
	return keyedPrefix + base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
}

// verify compares in constant time. An empty encoded (an unknown or a
// public client) is compared with a dummy and fails, in the same time.
func (c clientSecrets) verify(encoded, secret string) bool {
	want := encoded
	if want == "" {
		want = keyedPrefix + strings.Repeat("A", 43)
	}
	return subtle.ConstantTimeCompare([]byte(c.hash(secret)), []byte(want)) == 1 && encoded != ""
}

// HashClientSecret is the stored form of a client secret, for `sesame
// client add`: an HMAC-SHA-256 under a key derived from masterKey.
func HashClientSecret(masterKey []byte, secret string) (string, error) {
	c, err := newClientSecrets(masterKey)
	if err != nil {
		return "", err
	}
	return c.hash(secret), nil
}

// checkSecret reports whether secret is the client's. Every path costs one
// HMAC (unknown client, public client, keyed hash), but a legacy argon2id
// hash: that one is verified as before and, once it matches, replaced by
// the keyed hash, so that it is paid once per client.
func (s *opStorage) checkSecret(ctx context.Context, c storage.Client, secret string) bool {
	if c.Public || !strings.HasPrefix(c.SecretHash, "$argon2id$") {
		encoded := c.SecretHash
		if c.Public {
			encoded = ""
		}
		return s.clientSecrets.verify(encoded, secret)
	}
	if s.secrets.Verify(ctx, c.SecretHash, secret) != nil {
		return false
	}
	if err := s.store.ReplaceClientSecretHash(ctx, c.ID, c.SecretHash, s.clientSecrets.hash(secret)); err != nil {
		s.logger.Warn("rehash a client secret", "client_id", c.ID, "err", err)
	} else {
		s.logger.Info("client secret rehashed from argon2id to the keyed hash", "client_id", c.ID)
	}
	return true
}

// failedClientAuth counts a failed client authentication against the
// address's budget and returns the refusal: 401 invalid_client, the same
// for an unknown client and a wrong secret, or 429 past the budget.
func (s *opStorage) failedClientAuth(ctx context.Context) error {
	if m := memoFrom(ctx); m != nil && m.clientAuth && m.budgetKey != "" {
		if s.budget.fail(ctx, m.budgetKey) {
			return op.NewStatusError(tooMany(), oauthOf[fail.TooMany].Status)
		}
	}
	return clientAuthFailed(ctx, "client authentication failed")
}

func tooMany() *oidc.Error {
	return &oidc.Error{ErrorType: oidc.SlowDown,
		Description: "too many failed client authentications from this address: retry later"}
}

// clientBudget bounds the failed client authentications per address and
// hour (the addresses as BudgetKey groups them). The count is in storage,
// shared by the replicas; an address that has spent its budget is also
// remembered here until its window ends, so that its next requests are
// refused before any secret is checked or the database is asked.
type clientBudget struct {
	store   storage.RateLimits
	perHour int // 0: no budget
	now     func() time.Time
	logger  *slog.Logger

	mu      sync.Mutex
	blocked map[string]time.Time // budget key -> end of its window
}

const clientBudgetWindow = time.Hour

// wait reports how long key must wait, if it has spent its budget.
func (b *clientBudget) wait(key string) (time.Duration, bool) {
	if b.perHour <= 0 || key == "" {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.blocked[key]
	now := b.now()
	if !ok || !now.Before(until) {
		delete(b.blocked, key)
		return 0, false
	}
	return until.Sub(now), true
}

// fail counts a failure of key; it reports whether this one was already
// past the budget (another replica counted the others). The failure that
// spends the budget is answered 401, the requests after it 429.
func (b *clientBudget) fail(ctx context.Context, key string) bool {
	if b.perHour <= 0 {
		return false
	}
	now := b.now()
	n, reset, err := b.store.Hit(ctx, "client-auth:"+key, clientBudgetWindow, now)
	if err != nil {
		// The refusal stands; only the count is lost.
		b.logger.Warn("count a failed client authentication", "err", err)
		return false
	}
	if n < b.perHour {
		return false
	}
	b.mu.Lock()
	for k, until := range b.blocked {
		if !now.Before(until) {
			delete(b.blocked, k)
		}
	}
	b.blocked[key] = reset
	b.mu.Unlock()
	return n > b.perHour
}

// refuseSpent answers 429 with Retry-After and an OAuth error to an address
// that has spent its budget, and reports whether it did.
func (b *clientBudget) refuseSpent(w http.ResponseWriter, r *http.Request, key string) bool {
	wait, spent := b.wait(key)
	if !spent {
		return false
	}
	w.Header().Set("Retry-After", retryAfter(wait))
	op.WriteError(w, r, op.NewStatusError(tooMany(), oauthOf[fail.TooMany].Status), nil)
	return true
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(int((d+time.Second-1)/time.Second), 1))
}

// remoteHost is the budget key when Options.BudgetKey is not set: the
// peer's address as it is.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
