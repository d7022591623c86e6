package config

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/sesame-idp/sesame/internal/brand"
)

// MaxLogoBytes bounds branding.logo: it is read once at start and served
// from memory.
const MaxLogoBytes = 512 << 10

// LogoTypes are the logo files Sesame serves, by extension.
var LogoTypes = map[string]string{".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
	".jpeg": "image/jpeg", ".webp": "image/webp"}

// validateBranding checks the branding section: a short name, a logo file
// that exists and is small, a colour readable against white, and a help
// address people can open.
func validateBranding(c *Config, r *reporter) {
	b := c.Branding
	if len(b.Name) > 60 || strings.IndexFunc(b.Name, unicode.IsControl) >= 0 {
		r.add("branding.name", "must be at most 60 characters, on one line")
	}
	if b.Logo != "" {
		if _, ok := LogoTypes[strings.ToLower(filepath.Ext(b.Logo))]; !ok {
			r.add("branding.logo", "must be a .png, .svg, .jpg or .webp file")
		} else if st, err := os.Stat(b.Logo); err != nil {
			r.add("branding.logo", "cannot be read: %v", err)
		} else if !st.Mode().IsRegular() || st.Size() == 0 || st.Size() > MaxLogoBytes {
			r.add("branding.logo", "must be a file of at most %d KiB", MaxLogoBytes>>10)
		}
	}
	if b.PrimaryColor != "" {
		if _, err := brand.CheckColor(b.PrimaryColor); err != nil {
			r.add("branding.primary_color", "%v", err)
		}
	}
	if b.SupportURL != "" {
		u, err := url.Parse(b.SupportURL)
		switch {
		case err != nil:
			r.add("branding.support_url", "must be an https:// or mailto: address")
		case u.Scheme == "mailto" && u.Opaque != "":
		case u.Scheme == "https" && u.Host != "":
		case u.Scheme == "http" && u.Host != "" && IsLoopbackHost(u.Hostname()):
		default:
			r.add("branding.support_url", "must be an https:// or mailto: address")
		}
	}
}
