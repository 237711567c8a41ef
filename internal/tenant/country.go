package tenant

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"

	"github.com/regulars/regulars/internal/apperr"
)

//go:embed zones.txt
var zonesTxt string

var zoneCountries = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(zonesTxt) {
		zone, cc, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && !strings.HasPrefix(zone, "#") {
			out[zone] = cc
		}
	}
	return out
})

// ZoneCountry is the country of an IANA time zone (tzdata's zone.tab:
// Europe/Madrid → ES), or "" for a zone of no country (UTC, Etc/…) or an
// alias zone.tab does not list.
func ZoneCountry(tz string) string { return zoneCountries()[tz] }

// NormalizeCountry upper-cases and checks an ISO 3166-1 alpha-2 country
// code of a country with a telephone numbering plan (UK is GB).
func NormalizeCountry(c string) (string, error) {
	c = strings.ToUpper(strings.TrimSpace(c))
	r, err := language.ParseRegion(c)
	if len(c) != 2 || err != nil || !r.IsCountry() || r.String() != c || phonenumbers.GetCountryCodeForRegion(c) == 0 {
		return "", apperr.New(apperr.Invalid, "must be an ISO 3166-1 alpha-2 country code such as ES")
	}
	return c, nil
}

// WithCountry returns the merchant with another country, validated.
func (m Merchant) WithCountry(c string) (Merchant, error) {
	c, err := NormalizeCountry(c)
	if err != nil {
		return Merchant{}, apperr.Field("/country", "%s", apperr.As(err).Message)
	}
	m.Country = c
	return m, nil
}
