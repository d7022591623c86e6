package company

import (
	"errors"
	"testing"
)

func TestParseSIRET(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"73282932000074", "73282932000074", nil},
		{"732 829 320 00074", "73282932000074", nil},
		{"732.829.320-00074", "73282932000074", nil},
		{"73282932000075", "", ErrSIRETKey},
		{"7328293200007", "", ErrSIRETFormat},
		{"732829320000745", "", ErrSIRETFormat},
		{"7328293200007A", "", ErrSIRETFormat},
		{"", "", ErrSIRETFormat},
		{"35600000000048", "35600000000048", nil}, // La Poste head office: Luhn
		{"35600000049837", "35600000049837", nil}, // La Poste establishment: digit sum 50
		{"35600000049838", "", ErrSIRETKey},
	}
	for _, tc := range tests {
		got, err := ParseSIRET(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("ParseSIRET(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestValidSIREN(t *testing.T) {
	for in, want := range map[string]bool{"732829320": true, "732829321": false, "73282932": false, "73282932a": false} {
		if got := ValidSIREN(in); got != want {
			t.Errorf("ValidSIREN(%q) = %v", in, got)
		}
	}
}
