package login

import "testing"

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"", true},
		{"ACME", true},
		{"Müller GmbH & Co. KG", true},
		{"Société « Éclair » — Île-de-France", true},
		{"李小龍有限公司", true},
		{"Zero\u200bwidth", true}, // a format character, not a line break
		{"two\nlines", false},
		{"two\r\nlines", false},
		{"carriage\rreturn", false},
		{"tab\there", false},
		{"nul\x00", false},
		{"bell\a", false},
		{"escape\x1b[31m", false},
		{"del\x7f", false},
		{"next line\u0085", false},
		{"c1\u009b", false},
		{"line\u2028separator", false},
		{"paragraph\u2029separator", false},
	} {
		if got := OneLine(tc.s); got != tc.want {
			t.Errorf("OneLine(%q) = %v", tc.s, got)
		}
	}
}
