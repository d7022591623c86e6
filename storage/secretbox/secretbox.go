package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the size of the master key, in bytes.
const KeySize = 32

// ErrDecrypt is returned for a ciphertext that was not made by this box.
var ErrDecrypt = errors.New("secretbox: cannot decrypt (wrong key or corrupted data)")

// Box encrypts and decrypts for one purpose.
type Box struct {
	aead    cipher.AEAD
	purpose []byte
}

// Derive returns the 32-byte key for purpose, for callers (such as the
// OpenID provider's token encryption) that need raw key material.
func Derive(master []byte, purpose string) ([KeySize]byte, error) {
	var out [KeySize]byte
	if len(master) != KeySize {
		return out, fmt.Errorf("secretbox: master key must be %d bytes, got %d", KeySize, len(master))
	}
	k, err := hkdf.Key(sha256.New, master, nil, "sesame/"+purpose, KeySize)
	if err != nil {
		return out, err
	}
	copy(out[:], k)
	return out, nil
}

// New returns a box for purpose under master.
func New(master []byte, purpose string) (*Box, error) {
	key, err := Derive(master, purpose)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, purpose: []byte(purpose)}, nil
}

// Seal encrypts plaintext: nonce || ciphertext || tag, with the purpose as
// associated data.
func (b *Box) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, plaintext, b.purpose), nil
}

// Open decrypts what Seal made.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrDecrypt
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], b.purpose)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}
