package login

import (
	"github.com/sesame-idp/sesame/internal/fail"
	"unicode"
)

// ErrNotOneLine refuses a name or a reason that would not stay one line in
// a mail's subject or body, or in a header.
var ErrNotOneLine = fail.E(fail.Invalid, "Errors.Text.OneLine")

// OneLine reports whether s, an organization's or a person's name or a
// reason, can be written into a mail or a header as one line: no control
// character (C0 with tab, CR and LF; DEL; C1 with NEL) and no Unicode line
// or paragraph separator, which some readers break lines on.
func OneLine(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
