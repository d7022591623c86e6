package login

import (
	"testing"
)

// TestCountryListIsCurrentISOWithoutFrance: the sign-up list holds the
// current ISO 3166-1 alpha-2 codes (249) but France and its overseas codes,
// which sign up with a SIRET; each code and name once, in both languages;
// AbroadCountry refuses what the list leaves out, French codes apart.
func TestCountryListIsCurrentISOWithoutFrance(t *testing.T) {
	excluded := []string{"FR", "FX", "GF", "GP", "MQ", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC", "TF"}
	// Codes x/text knows but ISO 3166-1 no longer (or never) assigns.
	obsolete := []string{"DD", "UK", "ZR", "TP", "BU", "YU", "CS", "AN", "NT", "SU", "DY", "HV", "RH", "VD", "YD", "NH", "PZ", "CT",
		"NQ", "JT", "MI", "PU", "WK", "XK", "EZ", "UN", "EU", "QO", "AC", "CP", "DG", "EA", "IC", "TA", "ZZ", "AA", "XX"}
	for _, lang := range []string{"fr", "en"} {
		list := countries(lang)
		if len(list) != 249-13 { // FX is not a current code
			t.Errorf("%s: %d countries, want %d", lang, len(list), 249-13)
		}
		codes, names := map[string]bool{}, map[string]string{}
		for _, c := range list {
			if codes[c.Code] {
				t.Errorf("%s: %s listed twice", lang, c.Code)
			}
			codes[c.Code] = true
			if prev, ok := names[c.Name]; ok {
				t.Errorf("%s: %q names both %s and %s", lang, c.Name, prev, c.Code)
			}
			names[c.Name] = c.Code
			if c.Name == "" || c.Name == c.Code {
				t.Errorf("%s: %s has no name", lang, c.Code)
			}
		}
		for _, code := range append(excluded, obsolete...) {
			if codes[code] {
				t.Errorf("%s: %s is listed", lang, code)
			}
		}
		for _, code := range []string{"DE", "BE", "CH", "GB", "US", "SS", "CW", "SX", "BQ", "MC", "AD", "NZ", "TL", "MM", "CD"} {
			if !codes[code] {
				t.Errorf("%s: %s is missing", lang, code)
			}
		}
	}
	for _, tc := range []struct {
		code, fr, en string
	}{
		{"DE", "Allemagne", "Germany"},
		{"MK", "Macédoine du Nord", "North Macedonia"},
		{"SZ", "Eswatini", "Eswatini"},
	} {
		for lang, want := range map[string]string{"fr": tc.fr, "en": tc.en} {
			found := false
			for _, c := range countries(lang) {
				if c.Code == tc.code {
					found = true
					if c.Name != want {
						t.Errorf("%s in %s: %q, want %q", tc.code, lang, c.Name, want)
					}
				}
			}
			if !found {
				t.Errorf("%s in %s: missing", tc.code, lang)
			}
		}
	}
	for _, code := range excluded {
		if _, err := AbroadCountry(code); err != ErrCountryFrench {
			t.Errorf("AbroadCountry(%s): %v", code, err)
		}
	}
	for _, code := range append(obsolete, "", "D", "DEU", "D\x00", "D E") {
		if _, err := AbroadCountry(code); err != ErrCountryUnknown {
			t.Errorf("AbroadCountry(%q): %v", code, err)
		}
	}
	if code, err := AbroadCountry(" de"); code != "DE" || err != nil {
		t.Errorf("AbroadCountry(de): %q %v", code, err)
	}
}
