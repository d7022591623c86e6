package login

import (
	"github.com/sesame-idp/sesame/internal/fail"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// country is an ISO 3166-1 alpha-2 code with its name in a language.
type country struct{ Code, Name string }

// isoCountries are the officially assigned ISO 3166-1 alpha-2 codes (249).
// The list is ours and not x/text's, which also knows withdrawn codes (DD,
// UK, ZR…), codes ISO never assigned (XK, EZ…) and FX, "metropolitan
// France", and names several of them as a current country.
const isoCountries = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU
WF WS YE YT ZA ZM ZW`

// frenchCodes are France, its former "metropolitan" code and its overseas
// territories: a company there has a SIRET and signs up with it, where the
// directory checks it, never as "abroad".
var frenchCodes = map[string]bool{"FR": true, "FX": true, "GF": true, "GP": true, "MQ": true, "RE": true, "YT": true,
	"PM": true, "BL": true, "MF": true, "WF": true, "PF": true, "NC": true, "TF": true}

// renamed are names x/text's CLDR data has not caught up with (countries
// renamed since), and the short names of Hong Kong and Macao.
var renamed = map[string]map[string]string{
	"fr": {"MK": "Macédoine du Nord", "SZ": "Eswatini", "HK": "Hong Kong", "MO": "Macao"},
	"en": {"MK": "North Macedonia", "SZ": "Eswatini", "HK": "Hong Kong", "MO": "Macao"},
}

// Country errors, for the sign-up form and the command line.
var (
	ErrCountryFrench  = fail.E(fail.Invalid, "Errors.Signup.CountryFrance")
	ErrCountryUnknown = fail.E(fail.Invalid, "Errors.Signup.Country")
)

var (
	countriesOnce sync.Once
	countryLists  map[string][]country
)

// countries lists every country but the French ones, sorted by name as a
// reader of lang expects.
func countries(lang string) []country {
	countriesOnce.Do(func() {
		countryLists = map[string][]country{}
		for _, l := range []string{"fr", "en"} {
			tag := language.MustParse(l)
			names := display.Regions(tag)
			var list []country
			for _, code := range strings.Fields(isoCountries) {
				if frenchCodes[code] {
					continue
				}
				name := renamed[l][code]
				if name == "" {
					name = names.Name(language.MustParseRegion(code))
				}
				list = append(list, country{Code: code, Name: name})
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

// AbroadCountry checks the country of an organization domiciled abroad and
// returns its code in capitals: ErrCountryFrench for France and its
// overseas codes, ErrCountryUnknown for anything not in the list.
func AbroadCountry(code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if frenchCodes[code] {
		return code, ErrCountryFrench
	}
	for _, c := range countries("en") {
		if c.Code == code {
			return code, nil
		}
	}
	return code, ErrCountryUnknown
}
