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

	"github.com/sesame-idp/sesame/login/password/argon2"
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
//
// Each of its slots keeps the work area of its last hash (MemoryKiB each)
// for the next one: allocating and clearing it for every hash cost a quarter
// of a sign-in's CPU, and its garbage a collection cycle per sign-in. The
// work areas are dropped once no hash has run for KeepMemory.
type Hasher struct {
	Params Params
	// slots holds one work area per hash allowed at once: taking one is
	// the right to hash.
	slots chan *argon2.Memory
	// dummy is verified when there is no hash to compare with, so that an
	// unknown account costs the same time as a wrong password.
	dummy string
	// Wait, when not nil, receives how long each hash waited for a slot.
	Wait func(time.Duration)
	// KeepMemory is how long the work areas outlive the last hash; set it
	// before the first hash.
	KeepMemory time.Duration

	idle *time.Timer // drops the work areas; reset after every hash
}

// DefaultKeepMemory keeps the work areas through a busy period's pauses and
// returns them to the system a few minutes after it.
const DefaultKeepMemory = 2 * time.Minute

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
	h := &Hasher{Params: p, slots: make(chan *argon2.Memory, concurrency), KeepMemory: DefaultKeepMemory}
	for range concurrency {
		h.slots <- new(argon2.Memory) // empty until its first hash
	}
	h.idle = time.AfterFunc(time.Hour, h.releaseMemory)
	h.idle.Stop() // armed by the first hash
	// The dummy's key need not be a real hash: a dummy verification always
	// fails, and only its parameters set the work. Computing one at start
	// would cost a hash and leave MemoryKiB of garbage in an idle process.
	h.dummy = encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen))
	return h
}

// acquire waits for a slot and returns its work area.
func (h *Hasher) acquire(ctx context.Context) (*argon2.Memory, error) {
	start := time.Now()
	select {
	case m := <-h.slots:
		if h.Wait != nil {
			h.Wait(time.Since(start))
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release gives the slot back and starts the idle period again (a timer's
// Reset is safe from concurrent hashes).
func (h *Hasher) release(m *argon2.Memory) {
	h.slots <- m
	h.idle.Reset(h.KeepMemory)
}

// releaseMemory drops the work areas of the slots not hashing now; the
// next hashes allocate theirs again. The idle timer calls it.
func (h *Hasher) releaseMemory() { h.freeSlots((*argon2.Memory).Release) }

// retained reports the KiB the work areas of the slots not hashing hold.
func (h *Hasher) retained() (kib uint64) {
	h.freeSlots(func(m *argon2.Memory) { kib += uint64(m.Size()) })
	return kib
}

// freeSlots calls fn on the work area of every slot not hashing now,
// holding those slots meanwhile.
func (h *Hasher) freeSlots(fn func(*argon2.Memory)) {
	var taken []*argon2.Memory
	defer func() {
		for _, m := range taken {
			h.slots <- m
		}
	}()
	for range cap(h.slots) {
		select {
		case m := <-h.slots:
			taken = append(taken, m)
			fn(m)
		default:
			return // the others are hashing
		}
	}
}

// memoryFor is the slot's work area for a hash with parameters p: a hash
// made with other parameters (before a change of configuration) gets a work
// area of its own, released after it, so that the slots keep the size of the
// usual hash.
func (h *Hasher) memoryFor(slot *argon2.Memory, p Params) *argon2.Memory {
	if p.MemoryKiB == h.Params.MemoryKiB && p.Parallelism == h.Params.Parallelism {
		return slot
	}
	return new(argon2.Memory)
}

// Hash returns the PHC encoding of a new argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.Params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	m, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer h.release(m)
	key := m.IDKey([]byte(password), salt, h.Params.Iterations, h.Params.MemoryKiB, h.Params.Parallelism, h.Params.KeyLen)
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
	m, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer h.release(m)
	mem := h.memoryFor(m, p)
	if mem != m {
		defer mem.Release()
	}
	got := mem.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
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
