package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sesame-idp/sesame/internal/config"
	"github.com/sesame-idp/sesame/login/company"
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestReadmeDemoData: the README's walk-through works as written for a
// newcomer — the organization it creates from the command line does not
// take the SIRET of a built-in demo company (the sign-up it describes next
// would be refused: "an organization exists for this SIRET"); it shows how
// to register a second application, to see single sign-on; and it calls
// mail without SMTP queued, as `mail list` and the log do.
func TestReadmeDemoData(t *testing.T) {
	t.Parallel()
	readme := readRepoFile(t, "README.md")
	demo := map[string]bool{}
	for _, c := range config.Default().Signup.StaticCompanies {
		s, err := company.ParseSIRET(c.SIRET)
		if err != nil {
			t.Fatal(err)
		}
		demo[s] = true
	}
	sirets := regexp.MustCompile(`--siret "([^"]+)"`).FindAllStringSubmatch(readme, -1)
	if len(sirets) == 0 {
		t.Fatal("the README creates no organization with a SIRET")
	}
	for _, m := range sirets {
		s, err := company.ParseSIRET(m[1])
		if err != nil {
			t.Errorf("README's SIRET %q: %v", m[1], err)
		}
		if demo[s] {
			t.Errorf("README's SIRET %q is a built-in demo company's: the sign-up walk-through would be refused", m[1])
		}
	}
	ids := regexp.MustCompile(`client add --id (\S+)`).FindAllStringSubmatch(readme, -1)
	if len(ids) < 2 || ids[0][1] == ids[1][1] {
		t.Errorf("the README registers %d applications, want two distinct ones (single sign-on): %v", len(ids), ids)
	} else if !strings.Contains(readme, "sesame-demo-rp --client-id "+ids[1][1]) {
		t.Errorf("the README does not run a demo for the second application %s", ids[1][1])
	}
	if strings.Contains(readme, `"sent" to`) || !strings.Contains(readme, "stays queued") {
		t.Error(`the README does not call mail without SMTP "queued"`)
	}
}
