package password

import (
	_ "embed"
	"strings"
	"unicode/utf8"
)

//go:embed common.txt
var commonList string

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// Problem codes returned by Policy.Check; the screens translate them.
const (
	TooShort      = "too_short"
	TooLong       = "too_long"
	ContainsEmail = "contains_email"
	TooCommon     = "too_common"
)

// Policy is the rule every new password must pass.
type Policy struct {
	MinLength int // in characters; default 12
}

// Check returns "" when password is acceptable, else a problem code.
func (p Policy) Check(password, email string) string {
	min := p.MinLength
	if min <= 0 {
		min = 12
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < min:
		return TooShort
	case len(password) > 1024:
		return TooLong
	}
	lower := strings.ToLower(password)
	if local, _, _ := strings.Cut(strings.ToLower(email), "@"); len(local) >= 3 && strings.Contains(lower, local) {
		return ContainsEmail
	}
	if common[lower] {
		return TooCommon
	}
	return ""
}
