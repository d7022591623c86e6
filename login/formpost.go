package login

import (
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/sesame-idp/sesame/login/web"
	"github.com/sesame-idp/sesame/storage"
	"github.com/sesame-idp/sesame/templates"
)

// formPostPage posts an authorization answer to the relying party
// (response_mode=form_post): at once by its one script, allowed by a nonce
// of its own, or by its button without JavaScript.
type formPostPage struct {
	templates.Base
	Action string
	Fields []formField
	Nonce  string
}

type formField struct{ Name, Value string }

// FormPost renders the form_post answer: params posted to action, the
// relying party's registered redirect URI.
func (h *shared) FormPost(w http.ResponseWriter, r *http.Request, action string, params url.Values, uiLocales []string) {
	p := &formPostPage{Base: h.base(w, r, "FormPost.Title", uiLocales), Action: action, Nonce: storage.NewSecret()}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		p.Fields = append(p.Fields, formField{name, params.Get(name)})
	}
	w.Header().Set("Content-Security-Policy", web.CSP(p.Nonce))
	h.render(w, http.StatusOK, "form_post", p)
}
