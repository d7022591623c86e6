package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBranding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logo := filepath.Join(dir, "logo.svg")
	if err := os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, make([]byte, MaxLogoBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing set: the pages look as Sesame's own.
	if _, err := Load("", nil); err != nil {
		t.Fatal(err)
	}
	good := []string{"SESAME_BRANDING_NAME=Acme ID", "SESAME_BRANDING_LOGO=" + logo,
		"SESAME_BRANDING_PRIMARY_COLOR=#7a1fa2", "SESAME_BRANDING_SUPPORT_URL=https://help.acme.example/id"}
	c, err := Load("", good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Branding.Name != "Acme ID" || c.Branding.PrimaryColor != "#7a1fa2" {
		t.Fatalf("%+v", c.Branding)
	}
	for _, tc := range []struct{ env, want string }{
		{"SESAME_BRANDING_PRIMARY_COLOR=#ffcc00", "branding.primary_color: #ffcc00 has a contrast of 1.5"},
		{"SESAME_BRANDING_PRIMARY_COLOR=#777777", "branding.primary_color: #777777 has a contrast of 4.47:1 against white; at least 4.5:1"},
		{"SESAME_BRANDING_PRIMARY_COLOR=purple", "branding.primary_color: must be a colour written #rrggbb"},
		{"SESAME_BRANDING_LOGO=" + filepath.Join(dir, "none.png"), "branding.logo: cannot be read"},
		{"SESAME_BRANDING_LOGO=" + big, "branding.logo: must be a file of at most 512 KiB"},
		{"SESAME_BRANDING_LOGO=" + dir, "branding.logo: must be a .png, .svg, .jpg or .webp file"},
		{"SESAME_BRANDING_SUPPORT_URL=javascript:alert(1)", "branding.support_url: must be an https:// or mailto: address"},
		{"SESAME_BRANDING_SUPPORT_URL=http://help.example", "branding.support_url: must be an https:// or mailto: address"},
		{"SESAME_BRANDING_NAME=" + strings.Repeat("x", 61), "branding.name: must be at most 60 characters"},
	} {
		_, err := Load("", append(slices.Clone(good), tc.env))
		probs, _ := err.(Problems)
		if !strings.Contains(probs.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.env, err, tc.want)
		}
	}
	if _, err := Load("", []string{"SESAME_BRANDING_SUPPORT_URL=mailto:help@acme.example"}); err != nil {
		t.Fatal(err)
	}
}
