// Package brand is what an operator may change of how Sesame looks: the
// product's name, its logo, its primary colour and where people find help
// (configuration section `branding`). It checks a colour's contrast against
// white (WCAG 2.x relative luminance) and writes the small stylesheet that
// carries the colour to the pages, since the pages' CSP forbids inline style.
package brand

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultName is the product's name when no branding.name is set.
const DefaultName = "Sesame"

// MinContrast is the least contrast a primary colour must have against
// white: white text on a button, and links on a white page, stay readable
// (WCAG 1.4.3, AA for normal text).
const MinContrast = 4.5

// Brand is an operator's branding, every field optional.
type Brand struct {
	Name         string // the product's name, "Sesame" when empty
	PrimaryColor string // #rrggbb, or "" for the stylesheet's own
	SupportURL   string // where a person finds help, or ""
	// LogoURL is where the pages load the logo from ("" without a logo).
	LogoURL string
}

// DisplayName is the name to show.
func (b Brand) DisplayName() string {
	if b.Name == "" {
		return DefaultName
	}
	return b.Name
}

// RGB is a colour's three channels, 0-255.
type RGB [3]uint8

// ParseHex reads #rgb or #rrggbb.
func ParseHex(s string) (RGB, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "#") || (len(s) != 4 && len(s) != 7) {
		return RGB{}, fmt.Errorf("must be a colour written #rrggbb")
	}
	hex := s[1:]
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var c RGB
	for i := range 3 {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return RGB{}, fmt.Errorf("must be a colour written #rrggbb")
		}
		c[i] = uint8(v)
	}
	return c, nil
}

// Hex writes the colour as #rrggbb.
func (c RGB) Hex() string { return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2]) }

// Luminance is the colour's relative luminance (WCAG 2.x).
func (c RGB) Luminance() float64 {
	var l [3]float64
	for i, v := range c {
		s := float64(v) / 255
		if s <= 0.04045 {
			l[i] = s / 12.92
		} else {
			l[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// Contrast is the contrast ratio of two colours, from 1 to 21.
func Contrast(a, b RGB) float64 {
	la, lb := a.Luminance(), b.Luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// White is the pages' background.
var White = RGB{255, 255, 255}

// CheckColor returns the colour's contrast against white and an error
// naming it when it is below MinContrast.
func CheckColor(s string) (RGB, error) {
	c, err := ParseHex(s)
	if err != nil {
		return c, err
	}
	if ratio := Contrast(c, White); ratio < MinContrast {
		return c, fmt.Errorf("%s has a contrast of %.2f:1 against white; at least %.1f:1 is needed for white text on it and for links (choose a darker colour)",
			c.Hex(), math.Floor(ratio*100)/100, MinContrast)
	}
	return c, nil
}

// darker mixes c with black: the hover shade of buttons.
func darker(c RGB, f float64) RGB {
	var d RGB
	for i, v := range c {
		d[i] = uint8(math.Round(float64(v) * (1 - f)))
	}
	return d
}

// tint mixes c with white: the background of the current menu entry.
func tint(c RGB, f float64) RGB {
	var d RGB
	for i, v := range c {
		d[i] = uint8(math.Round(float64(v) + (255-float64(v))*f))
	}
	return d
}

// CSS is the stylesheet that carries the primary colour: it sets the
// custom properties the main stylesheet reads. Empty without a colour.
func (b Brand) CSS() []byte {
	if b.PrimaryColor == "" {
		return nil
	}
	c, err := ParseHex(b.PrimaryColor)
	if err != nil {
		return nil
	}
	return fmt.Appendf(nil, "/* branding.primary_color */\n:root { --accent: %s; --accent-hover: %s; --accent-soft: %s; }\n",
		c.Hex(), darker(c, 0.15).Hex(), tint(c, 0.9).Hex())
}
