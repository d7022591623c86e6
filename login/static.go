package login

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sesame-idp/sesame/internal/fail"
)

// staticFlow serves the files of templates.Renderer.Assets: the script of
// the copy buttons, and the branding's stylesheet and logo when set.
type staticFlow struct{ *shared }

func (h *staticFlow) routes(r chi.Router) {
	r.Get("/static/{name}", h.handleAsset)
}

var errNoAsset = fail.E(fail.NotFound, "Errors.Request.NotFound")

func (h *staticFlow) handleAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.Pages.Assets[chi.URLParam(r, "name")]
	if !ok {
		h.showError(w, r, errNoAsset)
		return
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("ETag", a.ETag)
	// The logo may be an SVG: opened on its own, it runs nothing and
	// loads nothing.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	if r.Header.Get("If-None-Match") == a.ETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(a.Body)
}
