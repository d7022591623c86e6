package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// GrantDeviceCode is the device authorization grant (RFC 8628) as clients
// are registered with it; the token endpoint's grant_type is its URN.
const GrantDeviceCode = "device_code"

// The states of a device authorization.
const (
	DevicePending  = "pending"  // the person has not answered yet
	DeviceApproved = "approved" // approved: the next poll gets the tokens
	DeviceDenied   = "denied"   // refused: polling answers access_denied
	DeviceUsed     = "used"     // its tokens were issued: the device code is spent
)

// DeviceAuthorization is one device authorization request (RFC 8628): a
// client's request, found by the hash of its device code (the client's
// polls) or of its user code (the person's page), and, once the person
// answered, who approved it and how they had signed in. Neither code is
// stored: only DeviceHash (HashToken of the device code) and UserHash
// (HashUserCode of the normalised user code, keyed: a user code is short).
type DeviceAuthorization struct {
	ID         string // the grant id of the tokens it yields
	DeviceHash string
	UserHash   string
	ClientID   string
	Scopes     []string
	State      string // DevicePending, DeviceApproved, DeviceDenied, DeviceUsed
	// Interval is the polling interval in seconds the client must keep;
	// every poll that comes too early adds 5 (slow_down).
	Interval   int
	LastPollAt time.Time
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// Set when the person answered.
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	DecidedAt time.Time
}

// DevicePoll is what one poll of the token endpoint found: the request as
// it is after the poll, and whether the poll came before the interval was
// over (the interval was then raised by 5 seconds).
type DevicePoll struct {
	DeviceAuthorization
	TooFast bool
}

// DeviceAuthorizations stores device authorization requests.
type DeviceAuthorizations interface {
	// CreateDeviceAuthorization stores a new request: ErrConflict when its
	// device or user code hash is taken, ErrNotFound when the client is unknown.
	CreateDeviceAuthorization(ctx context.Context, d DeviceAuthorization) error
	// GetDeviceAuthorizationByUserCode finds a request by its user code's
	// hash, whatever its state; ErrNotFound when unknown.
	GetDeviceAuthorizationByUserCode(ctx context.Context, userHash string) (DeviceAuthorization, error)
	// DecideDeviceAuthorization records the person's answer (approved
	// true: DeviceApproved, else DeviceDenied) for a request still pending
	// and not expired at d.DecidedAt, in one statement; ErrNotFound
	// otherwise.
	DecideDeviceAuthorization(ctx context.Context, id string, approved bool, d DeviceAuthorization) error
	// PollDeviceAuthorization records a poll by client at now of the
	// request whose device code hashes to deviceHash: a poll that comes
	// sooner than the interval after the previous one, by more than
	// tolerance (the network's jitter), raises the interval by 5 s
	// (TooFast). In one statement, so that two polls racing are both seen.
	// ErrNotFound when unknown or another client's.
	PollDeviceAuthorization(ctx context.Context, clientID, deviceHash string, now time.Time, tolerance time.Duration) (DevicePoll, error)
	// UseDeviceAuthorization spends an approved request (DeviceUsed), once:
	// ErrAlreadyUsed when it is not (or no longer) approved.
	UseDeviceAuthorization(ctx context.Context, id string) error
}

// HashUserCode is the keyed hash of a normalised user code (8 letters, no
// dash): a user code holds about 35 bits, which a plain hash of a stolen
// database would give away in seconds.
func HashUserCode(key []byte, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("device-user-code:" + code))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// UserCodeAlphabet is the user codes' alphabet: twenty consonants, no
// vowel (no word spelled by chance), none that reads as a digit or as
// another letter (no I, O, U, Y). Eight of them hold about 34.6 bits.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLength is the number of letters of a user code (shown ABCD-EFGH).
const UserCodeLength = 8

// NormalizeUserCode folds what a person typed to the 8 letters of a user
// code: case, dashes and spaces do not count. ok is false when what is
// left is not 8 letters of the alphabet.
func NormalizeUserCode(typed string) (code string, ok bool) {
	if len(typed) > 64 {
		return "", false
	}
	b := make([]byte, 0, UserCodeLength)
	for _, r := range typed {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\u00a0' || r == '\u2010' || r == '\u2011' || r == '\u2013':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 0x7f || !containsByte(UserCodeAlphabet, byte(r)) {
			return "", false
		}
		b = append(b, byte(r))
	}
	if len(b) != UserCodeLength {
		return "", false
	}
	return string(b), true
}

// FormatUserCode shows a normalised code as ABCD-EFGH.
func FormatUserCode(code string) string {
	if len(code) != UserCodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
