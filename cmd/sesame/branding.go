package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sesame-idp/sesame/internal/brand"
	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/templates"
)

// applyBranding gives the pages and mails the configuration's branding:
// the name, the colour's stylesheet, the logo read once here (the
// validator has checked its type and size).
func applyBranding(c config.BrandingConfig, pages *templates.Renderer) error {
	b := brand.Brand{Name: c.Name, PrimaryColor: c.PrimaryColor, SupportURL: c.SupportURL}
	var logo []byte
	var contentType string
	if c.Logo != "" {
		var err error
		if logo, err = os.ReadFile(c.Logo); err != nil {
			return fmt.Errorf("branding.logo: %w", err)
		}
		if len(logo) > config.MaxLogoBytes {
			return fmt.Errorf("branding.logo: more than %d KiB", config.MaxLogoBytes>>10)
		}
		contentType = config.LogoTypes[strings.ToLower(filepath.Ext(c.Logo))]
	}
	pages.SetBrand(b, logo, contentType)
	return nil
}
