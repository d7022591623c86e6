package mail

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/storage/secretbox"
)

// A queued mail can carry a live link (set-password, reset): its body is
// sealed before it is stored, with a key derived from the secret-encryption
// key, so that neither the outbox table nor a backup of it can be used to
// take over an account. The worker opens it to send it; once the SMTP
// server accepted it, storage erases the body (storage.Outbox.MarkMailSent).

// sealedPrefix marks a sealed body in the text column; the html column of
// a sealed mail is empty.
const sealedPrefix = "sealed:v1:"

// ErrSealed is returned for a sealed mail that cannot be opened: sealed
// under another secret-encryption key, or damaged.
var ErrSealed = errors.New("mail: cannot open the sealed body (was the secret-encryption key changed?)")

// Sealer seals and opens mail bodies.
type Sealer struct{ box *secretbox.Box }

// NewSealer derives the outbox key from the secret-encryption key.
func NewSealer(master []byte) (*Sealer, error) {
	box, err := secretbox.New(master, "mail-outbox")
	if err != nil {
		return nil, err
	}
	return &Sealer{box: box}, nil
}

type body struct {
	Text string `json:"t"`
	HTML string `json:"h,omitempty"`
}

// Seal returns m with its text and html sealed into the text field.
func (s *Sealer) Seal(m storage.Mail) (storage.Mail, error) {
	plain, err := json.Marshal(body{Text: m.Text, HTML: m.HTML})
	if err != nil {
		return m, err
	}
	sealed, err := s.box.Seal(plain)
	if err != nil {
		return m, err
	}
	m.Text, m.HTML = sealedPrefix+base64.RawStdEncoding.EncodeToString(sealed), ""
	return m, nil
}

// Sealed reports whether m's body is sealed.
func Sealed(m storage.Mail) bool { return strings.HasPrefix(m.Text, sealedPrefix) }

// Open returns m with its body in clear. A mail stored in clear (queued
// before sealing existed) is returned as it is. A nil Sealer opens nothing.
func (s *Sealer) Open(m storage.Mail) (storage.Mail, error) {
	if !Sealed(m) {
		return m, nil
	}
	if s == nil {
		return m, ErrSealed
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(m.Text, sealedPrefix))
	if err != nil {
		return m, ErrSealed
	}
	plain, err := s.box.Open(raw)
	if err != nil {
		return m, ErrSealed
	}
	var b body
	if err := json.Unmarshal(plain, &b); err != nil {
		return m, ErrSealed
	}
	m.Text, m.HTML = b.Text, b.HTML
	return m, nil
}

// RedactedLinks returns the links of a text body with every query value
// replaced by "REDACTED": enough to tell an operator what a mail is for,
// never the token it carries.
func RedactedLinks(text string) []string {
	links := Links(text)
	for i, l := range links {
		u, err := url.Parse(l)
		if err != nil {
			links[i] = "REDACTED"
			continue
		}
		if u.RawQuery != "" {
			var keys []string
			for _, kv := range strings.Split(u.RawQuery, "&") {
				k, _, _ := strings.Cut(kv, "=")
				keys = append(keys, k+"=REDACTED")
			}
			u.RawQuery = strings.Join(keys, "&")
		}
		u.Fragment, u.RawFragment, u.User = "", "", nil
		links[i] = u.String()
	}
	return links
}
