package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32
	KeyLen      uint32
}

// DefaultParams is OWASP's first recommended argon2id configuration:
// m=19 MiB, t=2, p=1.
var DefaultParams = Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// ErrMismatch is returned when the password does not match the hash.
var ErrMismatch = errors.New("password: mismatch")

// ErrMalformed is returned for a hash that is not a PHC argon2id string.
var ErrMalformed = errors.New("password: malformed hash")

// Hasher hashes and verifies passwords with a bound on concurrent hashes.
type Hasher struct {
	Params Params
	slots  chan struct{}
	// dummy is verified when there is no hash to compare with, so that an
	// unknown account costs the same time as a wrong password.
	dummy string
	// Wait, when not nil, receives how long each hash waited for a slot.
	Wait func(time.Duration)
}

// NewHasher returns a Hasher with the given parameters and at most
// concurrency hashes at once (0: the number of CPUs).
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	if p.SaltLen == 0 {
		p.SaltLen = 16
	}
	if p.KeyLen == 0 {
		p.KeyLen = 32
	}
	h := &Hasher{Params: p, slots: make(chan struct{}, concurrency)}
	// The dummy's key need not be a real hash: a dummy verification always
	// fails, and only its parameters set the work. Computing one at start
	// would cost a hash and leave MemoryKiB of garbage in an idle process.
	h.dummy = encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen))
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	start := time.Now()
	select {
	case h.slots <- struct{}{}:
		if h.Wait != nil {
			h.Wait(time.Since(start))
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC encoding of a new argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.Params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(password), salt, h.Params.Iterations, h.Params.MemoryKiB, h.Params.Parallelism, h.Params.KeyLen)
	return encode(h.Params, salt, key), nil
}

// Verify compares password with an encoded hash in constant time. An empty
// hash (no password set, or no such account) is compared with a dummy hash
// and always fails with ErrMismatch, in the time a real comparison takes.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	dummy := encoded == ""
	if dummy {
		encoded = h.dummy
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return err
	}
	if p.MemoryKiB > 4*1024*1024 || p.Iterations > 100 {
		return ErrMalformed // refuse hashes that would take a denial of service to check
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 || dummy {
		return ErrMismatch
	}
	return nil
}

// NeedsRehash reports whether encoded was made with other parameters than
// the Hasher's.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return true
	}
	return p.MemoryKiB != h.Params.MemoryKiB || p.Iterations != h.Params.Iterations ||
		p.Parallelism != h.Params.Parallelism || uint32(len(salt)) != h.Params.SaltLen || uint32(len(key)) != h.Params.KeyLen
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, ErrMalformed
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, ErrMalformed
	}
	if p.MemoryKiB == 0 || p.Iterations == 0 || p.Parallelism == 0 {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
