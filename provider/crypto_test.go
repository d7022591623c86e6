package provider

import (
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
)

func TestTokenCrypto(t *testing.T) {
	key, other := [32]byte{1, 2, 3}, [32]byte{9}
	c, err := newTokenCrypto(key, "1")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := c.Encrypt("at_123:usr_456")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Encrypt("at_123:usr_456")
	if sealed == again {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if strings.Contains(sealed, "usr_456") {
		t.Fatalf("the subject shows in the token: %s", sealed)
	}
	legacy, err := op.NewAES256GCMCrypto(key, "1").Encrypt("at_old:usr_456") // as issued before this change
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := newTokenCrypto(other, "1")
	foreignSealed, _ := foreign.Encrypt("at_123:usr_456")
	foreignLegacy, _ := op.NewAES256GCMCrypto(other, "1").Encrypt("at_123:usr_456")
	flipped := []byte(sealed)
	flipped[len(flipped)/2] ^= 'A' ^ 'B'
	tests := []struct {
		name, token, want string
		ok                bool
	}{
		{"sealed here", sealed, "at_123:usr_456", true},
		{"sealed by the library before", legacy, "at_old:usr_456", true},
		{"tampered", string(flipped), "", false},
		{"truncated", sealed[:len(sealed)-4], "", false},
		{"another key", foreignSealed, "", false},
		{"another key, library's format", foreignLegacy, "", false},
		{"not a token", "hello", "", false},
		{"empty", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Decrypt(tc.token)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("Decrypt: %q, %v; want %q, ok %v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func BenchmarkTokenCrypto(b *testing.B) {
	key := [32]byte{1}
	c, _ := newTokenCrypto(key, "1")
	lib := op.NewAES256GCMCrypto(key, "1")
	for _, tc := range []struct {
		name string
		c    op.Crypto
	}{{"xchacha20poly1305", c}, {"library-jwe", lib}} {
		b.Run(tc.name+"/seal+open", func(b *testing.B) {
			for b.Loop() {
				s, _ := tc.c.Encrypt("at_0123456789abcdef:usr_0123456789abcdef")
				if _, err := tc.c.Decrypt(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
