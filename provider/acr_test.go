package provider

import (
	"testing"

	"github.com/sesame-idp/sesame/internal/vocab"
	"github.com/sesame-idp/sesame/storage"
)

// The acr a session's proofs earn: loa:3 (a passkey) only when the relying
// party asked for it, else loa:2 for two factors, else loa:1.
func TestACR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amr, asked []string
		want       string
	}{
		{[]string{"pwd"}, nil, vocab.ACRPassword},
		{[]string{"pwd", "otp", "mfa"}, nil, vocab.ACRMFA},
		{[]string{"pwd", "otp", "mfa"}, []string{vocab.ACRPasskey}, vocab.ACRMFA},
		{[]string{"hwk", "user", "mfa"}, nil, vocab.ACRMFA},
		{[]string{"swk", "user", "mfa"}, []string{vocab.ACRPasskey}, vocab.ACRPasskey},
		{[]string{"pwd", "hwk", "mfa"}, []string{vocab.ACRMFA, vocab.ACRPasskey}, vocab.ACRPasskey},
	}
	for _, tc := range tests {
		a := &authRequest{r: storage.AuthRequest{AMR: tc.amr, ACRValues: tc.asked}}
		if got := a.GetACR(); got != tc.want {
			t.Errorf("amr %v, asked %v: acr %s, want %s", tc.amr, tc.asked, got, tc.want)
		}
	}
}
