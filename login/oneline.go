package login

import (
	"net/http"
	"unicode"

	"github.com/sesame-idp/sesame/login/web"
)

// ErrNotOneLine refuses a name or a reason that would not stay one line in
// a mail's subject or body, or in a header.
var ErrNotOneLine = &web.Error{Status: http.StatusBadRequest, Key: "Errors.Text.OneLine"}

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
