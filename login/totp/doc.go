// Package totp is the second factor: time-based one-time passwords (RFC
// 6238, through github.com/pquerna/otp: SHA-1, 6 digits, 30 s, as every
// authenticator app expects) and recovery codes.
//
// Verify accepts the current step and one step either side (clock drift)
// and refuses a step not later than the last one used, so that a code seen
// over a shoulder cannot be replayed. Recovery codes carry 80 random bits
// each, so a SHA-256 of each is enough at rest; each works once.
package totp
