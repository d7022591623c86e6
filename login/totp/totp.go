package totp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Period is the length of a time step.
const Period = 30 * time.Second

// Key is a new secret with what an authenticator app needs to know of it.
type Key struct {
	Secret string // base32, no padding: the "key as text"
	URL    string // otpauth://totp/…
}

// Generate makes a new secret for account at issuer.
func Generate(issuer, account string) (Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: uint(Period.Seconds()),
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return Key{}, err
	}
	return Key{Secret: k.Secret(), URL: k.URL()}, nil
}

// KeyFor rebuilds the Key of an existing secret.
func KeyFor(issuer, account, secret string) Key {
	v := url.Values{"secret": {secret}, "issuer": {issuer}, "period": {"30"}, "digits": {"6"}, "algorithm": {"SHA1"}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return Key{Secret: secret, URL: u.String()}
}

// QRCode renders the otpauth URL as a PNG, for a data: URI.
func QRCode(url string, size int) ([]byte, error) {
	k, err := otp.NewKeyFromURL(url)
	if err != nil {
		return nil, err
	}
	img, err := k.Image(size, size)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// QRCodeDataURI is the PNG as a data: URI.
func QRCodeDataURI(url string) (string, error) {
	b, err := QRCode(url, 240)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b), nil
}

// Step is the time step of t.
func Step(t time.Time) int64 { return t.Unix() / int64(Period.Seconds()) }

// Code computes the code of a step, for tests and for Verify.
func Code(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: uint(Period.Seconds()), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// Verify checks code at now against the steps now-1, now, now+1, skipping
// any step not after lastStep. It returns the step that matched.
func Verify(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	cur := Step(now)
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		if step <= lastStep {
			continue
		}
		want, err := Code(secret, time.Unix(step*int64(Period.Seconds()), 0))
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// RecoveryCodes makes n codes of 16 base32 characters (80 bits), grouped
// by four for reading: "abcd-efgh-ijkl-mnop".
func RecoveryCodes(n int) []string {
	out := make([]string, n)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := range out {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		s := strings.ToLower(enc.EncodeToString(b))
		out[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	return out
}

// NormalizeRecoveryCode folds what a person typed to the stored form.
func NormalizeRecoveryCode(s string) string {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s))
	if len(s) != 16 {
		return ""
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// HashRecoveryCode is the stored form of a recovery code.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte("sesame-recovery:" + NormalizeRecoveryCode(code)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
