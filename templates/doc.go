// Package templates holds every byte a person sees: the layout, the pages,
// the stylesheet and the message catalogs (French, the default, and English),
// all embedded in the binary, and the Renderer that puts them together.
//
// Messages are looked up by hierarchical keys ("Login.Title",
// "Errors.Login.Invalid") in locales/<lang>/*.json (one file per feature,
// merged at start; a key defined twice is an error); a test keeps both
// catalogs holding the same keys and every key a page uses. Pages embed Base
// and call {{.T "Key"}}; html/template escapes everything else. No page has
// inline style, and none an inline script but the form_post answer's one
// line, allowed by a nonce of its own, so the Content-Security-Policy can
// forbid both; the one script file, static/sesame.js ('self'), only adds
// the Copy buttons (every page works without it).
//
// The signed-in pages share a header and menu (layout.html "space", data
// in space.go: Base.Space, filled by login's spaceBase); the others keep
// the plain card. An operator's branding (internal/brand, SetBrand) renames
// the product in every message (the word "Sesame" in the catalogs), adds a
// logo, a help link and the colour's stylesheet (/static/brand.css, since
// inline style is forbidden). Base.Field marks the fields a refusal is
// about (aria-invalid, aria-describedby to the message; errorFields maps a
// message key to its fields).
package templates
