package login

import (
	"net/http"

	"github.com/sesame-idp/sesame/internal/fail"
	"github.com/sesame-idp/sesame/storage"
)

// PathLanguage is the form of the settings where the person chooses their
// language: it outranks their browser's Accept-Language on every device,
// and their mail is written in it.
const PathLanguage = "/account/language"

var errLangInvalid = fail.E(fail.Invalid, "Errors.Lang.Invalid")

// Languages a person may choose, with their names in themselves.
var langChoices = []langChoice{{"fr", "Français"}, {"en", "English"}}

type langChoice struct{ Code, Name string }

func validLang(l string) bool { return l == "fr" || l == "en" }

// handleLanguage records the person's choice, and makes it this browser's
// too (the link's cookie would otherwise outrank it here).
func (h *securityFlow) handleLanguage(w http.ResponseWriter, r *http.Request) {
	v, ok := h.securityForm(w, r)
	if !ok {
		return
	}
	l := r.PostFormValue("lang")
	if !validLang(l) {
		h.renderSecurity(w, r, v, errLangInvalid, "")
		return
	}
	err := h.Store.Atomic(r.Context(), func(tx storage.Tx) error {
		return tx.UpdateUser(r.Context(), v.user.ID, func(u *storage.User) error {
			u.ChosenLang, u.Locale, u.UpdatedAt = l, l, h.now()
			return nil
		})
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.rememberLang(w, l)
	securityDone(w, r, "lang")
}
