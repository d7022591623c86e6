// Package templates holds every byte a person sees: the layout, the pages,
// the stylesheet and the message catalogs (French, the default, and English),
// all embedded in the binary, and the Renderer that puts them together.
//
// Messages are looked up by hierarchical keys ("Login.Title",
// "Errors.Login.Invalid") in locales/<lang>/*.json (one file per feature,
// merged at start; a key defined twice is an error); a test keeps both
// catalogs holding the same keys and every key a page uses. Pages embed Base
// and call {{.T "Key"}}; html/template escapes everything else. No page has
// inline style, and none a script but the form_post answer's one line,
// allowed by a nonce of its own, so the Content-Security-Policy can forbid
// both.
package templates
