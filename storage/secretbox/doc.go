// Package secretbox encrypts secrets at rest (private signing keys, TOTP
// secrets) with AES-256-GCM under keys derived by HKDF-SHA256 from the one
// secret-encryption key of the configuration. Each use gets its own derived
// key (its "purpose"), so that a ciphertext of one kind can never be
// decrypted as another.
package secretbox
