package login

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"

	"github.com/sesame-idp/sesame/storage/secretbox"
)

// Recovery codes are shown once and stored only as hashes. The page that
// shows them also carries them sealed (encrypted and authenticated, for
// this person, for a quarter of an hour) in a form whose POST answers the
// same codes as a text file: a download without JavaScript, without the
// codes kept anywhere in clear, and a GET that changes nothing.

// PathRecoveryFile is the download of the codes just shown.
const PathRecoveryFile = "/account/security/recovery-codes.txt"

const recoveryFileLifetime = 15 * time.Minute

// recoveryFile is the sealed payload; P tells it from the other payloads
// sealed with the same box.
type recoveryFile struct {
	P     string   `json:"p"`
	User  string   `json:"u"`
	Codes []string `json:"c"`
	Exp   int64    `json:"x"`
}

const recoveryFilePurpose = "recovery-file"

var errRecoveryFile = fail.E(fail.Invalid, "Errors.Recovery.File")

var recoveryCodeShape = regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){3}$`)

type recoveryFileFlow struct {
	*shared
	Box *secretbox.Box
}

func (h *recoveryFileFlow) routes(r chi.Router) {
	r.Post(PathRecoveryFile, h.handleRecoveryFile)
}

// sealRecoveryFile seals codes for userID's download ("" on failure: the
// page then offers no download).
func sealRecoveryFile(box *secretbox.Box, now time.Time, userID string, codes []string) string {
	s, err := seal(box, recoveryFile{P: recoveryFilePurpose, User: userID, Codes: codes, Exp: now.Add(recoveryFileLifetime).Unix()})
	if err != nil {
		return ""
	}
	return s
}

func (h *recoveryFileFlow) handleRecoveryFile(w http.ResponseWriter, r *http.Request) {
	v, ok := h.signedIn(w, r)
	if !ok {
		return
	}
	if !h.csrfValid(r) {
		h.fail(w, r, errCSRF)
		return
	}
	var f recoveryFile
	if !unseal(h.Box, r.PostFormValue("codes"), &f) || f.P != recoveryFilePurpose || f.User != v.user.ID ||
		h.now().Unix() > f.Exp || len(f.Codes) == 0 || len(f.Codes) > 20 {
		h.fail(w, r, errRecoveryFile)
		return
	}
	for _, c := range f.Codes {
		if !recoveryCodeShape.MatchString(c) {
			h.fail(w, r, errRecoveryFile)
			return
		}
	}
	lang := h.lang(w, r, []string{v.user.Locale})
	t := func(key string) string { return h.Pages.T(lang, key) }
	var out strings.Builder
	fmt.Fprintf(&out, "%s\n%s\n\n", fmt.Sprintf(t("Recovery.FileTitle"), h.Pages.Brand.DisplayName()), v.user.Email)
	for _, c := range f.Codes {
		out.WriteString(c + "\n")
	}
	fmt.Fprintf(&out, "\n%s\n", t("Recovery.FileOnce"))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="recovery-codes.txt"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(strings.ReplaceAll(out.String(), "\n", "\r\n")))
}
