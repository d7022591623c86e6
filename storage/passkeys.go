package storage

import (
	"fmt"
	"time"
)

// Passkey is a person's WebAuthn credential (a passkey): what verifying
// its assertions needs (the public key, the sign count, the flags) and what
// the person sees of it (a name, when it was added and last used).
type Passkey struct {
	ID        string // the credential id, base64url without padding
	UserID    string
	Name      string
	PublicKey []byte // COSE_Key
	SignCount uint32
	// Transports are the authenticator's hints (usb, internal, hybrid…).
	Transports []string
	// BackupEligible: a synced passkey (amr swk); device-bound otherwise
	// (hwk). BackedUp is the authenticator's last word on its backup state.
	BackupEligible, BackedUp bool
	AAGUID                   []byte
	AttestationType          string
	CreatedAt, LastUsedAt    time.Time // LastUsedAt zero until its first sign-in
}

// ErrTooManyPasskeys: CreatePasskey refused, the person has the maximum.
var ErrTooManyPasskeys = fmt.Errorf("%w: too many passkeys", ErrInvalid)
