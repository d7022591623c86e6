package brand

import (
	"strings"
	"testing"
)

func TestContrast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		color string
		ok    bool
		ratio string
	}{
		{"#0b57d0", true, ""}, // the default accent, 6.6:1
		{"#000", true, ""},    // 21:1
		{"#767676", true, ""}, // 4.54:1, the lightest grey that passes
		{"#777777", false, "4.47:1"},
		{"#ffcc00", false, "1.5"}, // yellow on white
		{"#ffffff", false, "1.00:1"},
		{"blue", false, "#rrggbb"},
		{"#12345g", false, "#rrggbb"},
		{"#1234", false, "#rrggbb"},
		{"", false, "#rrggbb"},
	} {
		_, err := CheckColor(tc.color)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.color, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.ratio) {
			t.Errorf("%q: %v does not name %q", tc.color, err, tc.ratio)
		}
	}
	if r := Contrast(RGB{0, 0, 0}, White); r < 20.99 || r > 21.01 {
		t.Fatalf("black on white %f", r)
	}
}

func TestCSS(t *testing.T) {
	t.Parallel()
	if css := (Brand{}).CSS(); css != nil {
		t.Fatalf("no colour, a stylesheet: %s", css)
	}
	css := string(Brand{PrimaryColor: "#A0F"}.CSS())
	if !strings.Contains(css, "--accent: #aa00ff;") || strings.Contains(css, "<") {
		t.Fatalf("css %s", css)
	}
	// The hover shade is darker: it keeps the contrast with white text.
	c, _ := ParseHex("#0b57d0")
	if Contrast(darker(c, 0.15), White) < Contrast(c, White) {
		t.Fatal("the hover shade is lighter")
	}
	if (Brand{}).DisplayName() != "Sesame" || (Brand{Name: "Acme ID"}).DisplayName() != "Acme ID" {
		t.Fatal("display name")
	}
}
