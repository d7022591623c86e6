package login

import (
	"sort"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// country is an ISO 3166-1 alpha-2 code with its name in a language.
type country struct{ Code, Name string }

var (
	countriesOnce sync.Once
	countryLists  map[string][]country
)

// countries lists every country but France (which signs up with a SIRET),
// sorted by name as a reader of lang expects.
func countries(lang string) []country {
	countriesOnce.Do(func() {
		countryLists = map[string][]country{}
		for _, l := range []string{"fr", "en"} {
			tag := language.MustParse(l)
			names := display.Regions(tag)
			var list []country
			for a := 'A'; a <= 'Z'; a++ {
				for b := 'A'; b <= 'Z'; b++ {
					code := string([]rune{a, b})
					r, err := language.ParseRegion(code)
					if err != nil || !r.IsCountry() || r.String() != code || code == "FR" {
						continue
					}
					if n := names.Name(r); n != "" {
						list = append(list, country{Code: code, Name: n})
					}
				}
			}
			c := collate.New(tag)
			sort.Slice(list, func(i, j int) bool { return c.CompareString(list[i].Name, list[j].Name) < 0 })
			countryLists[l] = list
		}
	})
	if l, ok := countryLists[lang]; ok {
		return l
	}
	return countryLists["fr"]
}

// validCountry reports whether code is in the list.
func validCountry(code string) bool {
	for _, c := range countries("en") {
		if c.Code == code {
			return true
		}
	}
	return false
}
