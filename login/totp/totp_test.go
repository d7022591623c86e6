package totp

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"
)

func TestVerifyWithReplayGuard(t *testing.T) {
	k, err := Generate("Sesame", "alice@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.URL, "otpauth://totp/Sesame:alice@acme.example?") || len(k.Secret) != 32 {
		t.Fatalf("key %+v", k)
	}
	now := time.Date(2026, 11, 25, 10, 0, 10, 0, time.UTC)
	code, _ := Code(k.Secret, now)
	step, ok := Verify(k.Secret, code, now, 0)
	if !ok || step != Step(now) {
		t.Fatalf("current code refused")
	}
	// The same code again, in the same step: a replay.
	if _, ok := Verify(k.Secret, code, now, step); ok {
		t.Fatal("replayed code accepted")
	}
	tests := []struct {
		name   string
		codeAt time.Time
		ok     bool
	}{
		{"previous step (drift)", now.Add(-Period), true},
		{"next step (drift)", now.Add(Period), true},
		{"two steps old", now.Add(-2 * Period), false},
		{"two steps ahead", now.Add(2 * Period), false},
	}
	for _, tc := range tests {
		c, _ := Code(k.Secret, tc.codeAt)
		if _, ok := Verify(k.Secret, c, now, 0); ok != tc.ok {
			t.Errorf("%s: got %v", tc.name, ok)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := Verify(k.Secret, bad, now, 0); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	spaced := code[:3] + " " + code[3:]
	if _, ok := Verify(k.Secret, spaced, now, 0); !ok {
		t.Error("a code typed with a space is refused")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := RecoveryCodes(10)
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
	if HashRecoveryCode(typed) != HashRecoveryCode(codes[0]) || HashRecoveryCode(codes[0]) == HashRecoveryCode(codes[1]) {
		t.Fatal("normalisation")
	}
	if NormalizeRecoveryCode("short") != "" {
		t.Fatal("short code normalised")
	}
}

func TestQRCode(t *testing.T) {
	k, _ := Generate("Sesame", "a@b.example")
	b, err := QRCode(k.URL, 200)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 200 {
		t.Fatalf("png: %v", err)
	}
	if uri, _ := QRCodeDataURI(k.URL); !strings.HasPrefix(uri, "data:image/png;base64,") {
		t.Fatal(uri[:30])
	}
}
