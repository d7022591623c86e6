package company

import (
	"encoding/json"
	"testing"
)

// FuzzParseSIRET: whatever is typed, ParseSIRET returns 14 digits that pass
// the key, or an error; and what it returns parses to itself.
func FuzzParseSIRET(f *testing.F) {
	for _, s := range []string{"73282932000074", "732 829 320 00074", "35600000049837", "", "abc", "7328293200007４"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSIRET(s)
		if err != nil {
			return
		}
		if len(got) != 14 {
			t.Fatalf("%q gave %q", s, got)
		}
		if again, err := ParseSIRET(got); err != nil || again != got {
			t.Fatalf("%q: not idempotent: %q %v", got, again, err)
		}
	})
}

// FuzzDirectoryAnswer: any body the directory sends decodes to a company,
// a known refusal, or an error; never a panic.
func FuzzDirectoryAnswer(f *testing.F) {
	f.Add([]byte(`{"results":[{"siren":"732829320","nom_complet":"X","etat_administratif":"A","siege":{"siret":"73282932000015"},"matching_etablissements":[{"siret":"73282932000074","etat_administratif":"A"}]}]}`), "73282932000074")
	f.Add([]byte(`{"results":[]}`), "73282932000074")
	f.Add([]byte(`{"results":[{"siren":null,"matching_etablissements":null}]}`), "73282932000074")
	f.Fuzz(func(t *testing.T, body []byte, siret string) {
		if len(siret) != 14 {
			return
		}
		var r searchResponse
		if json.Unmarshal(body, &r) != nil {
			return
		}
		c, err := pick(r, siret)
		if err == nil && c.SIRET != siret {
			t.Fatalf("picked %q for %q", c.SIRET, siret)
		}
	})
}
