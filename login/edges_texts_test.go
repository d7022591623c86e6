package login

import (
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/login/password"
)

// TestPasswordRuleSaysWhatIsChecked: the rule under every new-password
// field and the refusal name what the policy checks — the part of the
// address before the @ (Policy.Check), not "your email address". (Failed
// before: "sans votre adresse e-mail" / "without your email address",
// which a password holding only the local part passed to the reader's
// eyes and failed in the check.)
func TestPasswordRuleSaysWhatIsChecked(t *testing.T) {
	t.Parallel()
	pg := renderer(t)
	if got := (password.Policy{}).Check("alice-in-wonderland-2026", "alice@acme.example"); got != password.ContainsEmail {
		t.Fatalf("the policy's check changed: %q", got)
	}
	for lang, want := range map[string]string{"fr": "avant le @", "en": "before the @"} {
		for _, key := range []string{"SetPassword.Rules", "Errors.Password.ContainsEmail"} {
			if msg := pg.T(lang, key); !strings.Contains(msg, want) {
				t.Errorf("%s %s = %q: does not say %q", lang, key, msg, want)
			}
		}
	}
}
