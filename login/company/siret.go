package company

import (
	"errors"
	"strings"
)

// LaPosteSIREN is the one company whose SIRETs follow another rule.
const LaPosteSIREN = "356000000"

// Errors of ParseSIRET.
var (
	ErrSIRETFormat = errors.New("a SIRET is 14 digits")
	ErrSIRETKey    = errors.New("the SIRET's check digit is wrong")
)

// ParseSIRET normalises s (spaces, dots and dashes removed) and checks its
// format and key. It returns the 14 digits.
func ParseSIRET(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '\u00a0' || r == '\u202f' || r == '.' || r == '-':
		default:
			return "", ErrSIRETFormat
		}
	}
	siret := b.String()
	if len(siret) != 14 {
		return "", ErrSIRETFormat
	}
	if siret[:9] == LaPosteSIREN && siret != "35600000000048" { // La Poste's head office follows Luhn
		sum := 0
		for _, r := range siret {
			sum += int(r - '0')
		}
		if sum%5 != 0 {
			return "", ErrSIRETKey
		}
		return siret, nil
	}
	if !luhn(siret) {
		return "", ErrSIRETKey
	}
	return siret, nil
}

// ValidSIREN reports whether s is 9 digits with a valid Luhn key.
func ValidSIREN(s string) bool {
	if len(s) != 9 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return luhn(s)
}

func luhn(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
