package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	master := bytes.Repeat([]byte{7}, KeySize)
	keys, err := New(master, "signing-keys")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal([]byte("private key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("private key")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	got, err := keys.Open(sealed)
	if err != nil || string(got) != "private key" {
		t.Fatalf("open: %q %v", got, err)
	}
	other, _ := New(master, "totp")
	otherMaster, _ := New(bytes.Repeat([]byte{8}, KeySize), "signing-keys")
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		box  *Box
		data []byte
	}{
		"other purpose": {other, sealed},
		"other master":  {otherMaster, sealed},
		"tampered":      {keys, tampered},
		"truncated":     {keys, sealed[:5]},
	} {
		if _, err := tc.box.Open(tc.data); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := New([]byte("short"), "x"); err == nil {
		t.Fatal("short master key accepted")
	}
}
