package crm

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/regulars/regulars/internal/apperr"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ana@example.com", "ana@example.com"},
		{"  Ana.Garcia@Example.COM ", "ana.garcia@example.com"},
		{"a+tag@sub.example.es", "a+tag@sub.example.es"},
		{"", ""},
		{"ana", ""},
		{"ana@localhost", ""},
		{"Ana <ana@example.com>", ""},
		{"ana@@example.com", ""},
		{"ana@example.", ""},
		{strings.Repeat("a", 250) + "@x.es", ""},
	} {
		got, err := NormalizeEmail(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("NormalizeEmail(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"+34600123456", "", "+34600123456"},
		{"+34 600 12 34 56", "ES", "+34600123456"},
		{"0034-600-123-456", "", "+34600123456"},
		{"0034-600-123-456", "US", "+34600123456"},
		{"+1 (202) 456.1111", "ES", "+12024561111"},
		// National input in the merchant's country.
		{"600 123 456", "ES", "+34600123456"},
		{"600123456", "ES", "+34600123456"},
		{"91 123 45 67", "ES", "+34911234567"},
		{"07911 123456", "GB", "+447911123456"},
		{"(202) 456-1111", "US", "+12024561111"},
		// One number, one spelling: the national prefix after the country code goes.
		{"+44 07911 123456", "ES", "+447911123456"},
		{"+44 (0)7911 123456", "", "+447911123456"},
		{"+447911123456", "GB", "+447911123456"},
		// Refused: national without a country, invalid for their country, junk.
		{"600123456", "", ""},
		{"+34 12345", "ES", ""},
		{"+34 12345", "", ""},
		{"12345", "ES", ""},
		{"+0600123456", "", ""},
		{"+34", "", ""},
		{"+3460012345678901", "", ""},
		{"+34abc", "", ""},
		{"", "ES", ""},
	} {
		got, err := NormalizePhone(tc.in, tc.region)
		if tc.want == "" {
			if err == nil {
				t.Errorf("NormalizePhone(%q, %q) = %q, want an error", tc.in, tc.region, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.in, tc.region, got, err, tc.want)
		}
	}
}

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"José  Núñez-Gil", "jose nunez gil"},
		{"MARÍA JOSÉ", "maria jose"},
		{"Çağla Øster Straße", "cagla oster strasse"},
		{"  ", ""},
		{"O'Brien", "o brien"},
		{"VIP", "vip"},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNameTokens(t *testing.T) {
	p := Profile{GivenName: "María José", FamilyName: "García García"}
	got := strings.Join(p.NameTokens(), ",")
	if got != "garcia,jose,maria" {
		t.Fatalf("NameTokens = %s", got)
	}
}

func paths(err error) []string {
	e := apperr.As(err)
	if e == nil {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Path)
	}
	return out
}

func TestProfileNormalize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     Profile
		paths []string
		check func(t *testing.T, p Profile)
	}{
		{name: "empty profile is an anonymous-capable direct customer", p: Profile{}, check: func(t *testing.T, p Profile) {
			if p.Type != TypeDirect || p.CardTemplate != DefaultCardTemplate {
				t.Errorf("defaults: %+v", p)
			}
		}},
		{name: "normalises identifiers", p: Profile{Email: " ANA@X.ES", Phone: "+34 600 123 456", CardNumber: "ab-12 34"}, check: func(t *testing.T, p Profile) {
			if p.Email != "ana@x.es" || p.Phone != "+34600123456" || p.CardNumber != "AB1234" {
				t.Errorf("got %+v", p)
			}
		}},
		{name: "bad identifiers", p: Profile{Email: "nope", Phone: "123", CardNumber: "!"}, paths: []string{"/email", "/phone", "/card_number"}},
		{name: "birthday forms", p: Profile{Birthday: "1990-02-28"}},
		{name: "birthday without year", p: Profile{Birthday: "--02-29"}},
		{name: "birthday in the future", p: Profile{Birthday: "2030-01-01"}, paths: []string{"/birthday"}},
		{name: "birthday not a date", p: Profile{Birthday: "1990-02-30"}, paths: []string{"/birthday"}},
		{name: "tags deduplicated by folded form", p: Profile{Tags: []string{"VIP", "vip", " Víp ", "café"}}, check: func(t *testing.T, p Profile) {
			if strings.Join(p.Tags, "|") != "VIP|café" {
				t.Errorf("tags = %q", p.Tags)
			}
		}},
		{name: "empty tag", p: Profile{Tags: []string{"ok", " - "}}, paths: []string{"/tags/1"}},
		{name: "too many tags", p: Profile{Tags: make([]string, MaxTags+1)}, paths: []string{"/tags"}},
		{name: "attribute key", p: Profile{Attributes: map[string]string{"a/b": "x"}}, paths: []string{"/attributes/a~1b"}},
		{name: "attribute value", p: Profile{Attributes: map[string]string{"note": strings.Repeat("x", MaxAttributeValue+1)}}, paths: []string{"/attributes/note"}},
		{name: "first address becomes primary", p: Profile{Addresses: []Address{{Line1: "Calle Mayor 1", Country: "es"}, {Line1: "Gran Vía 2", Country: "ES"}}}, check: func(t *testing.T, p Profile) {
			if !p.Addresses[0].Primary || p.Addresses[1].Primary || p.Addresses[0].Country != "ES" {
				t.Errorf("addresses = %+v", p.Addresses)
			}
		}},
		{name: "two primaries", p: Profile{Addresses: []Address{{Line1: "a", Country: "ES", Primary: true}, {Line1: "b", Country: "ES", Primary: true}}}, paths: []string{"/addresses"}},
		{name: "address fields", p: Profile{Addresses: []Address{{Country: "Spain"}}}, paths: []string{"/addresses/0/line1", "/addresses/0/country"}},
		{name: "unknown country", p: Profile{Addresses: []Address{{Line1: "a", Country: "ES"}, {Line1: "b", Country: "ZZ"}}}, paths: []string{"/addresses/1/country"}},
		{name: "deprecated country code", p: Profile{Addresses: []Address{{Line1: "10 Downing St", Country: "uk"}}}, check: func(t *testing.T, p Profile) {
			if p.Addresses[0].Country != "GB" {
				t.Errorf("country = %q, want GB", p.Addresses[0].Country)
			}
		}},
		{name: "type", p: Profile{Type: "vip"}, paths: []string{"/type"}},
		{name: "control characters", p: Profile{GivenName: "a\x00b"}, paths: []string{"/given_name"}},
		{name: "long name", p: Profile{FamilyName: strings.Repeat("x", 101)}, paths: []string{"/family_name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.Normalize(now, "ES")
			if tc.paths == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if tc.check != nil {
					tc.check(t, got)
				}
				return
			}
			gotPaths := paths(err)
			if strings.Join(gotPaths, ",") != strings.Join(tc.paths, ",") {
				t.Fatalf("error paths = %v, want %v (err %v)", gotPaths, tc.paths, err)
			}
		})
	}
}

func TestCountryCode(t *testing.T) {
	for in, want := range map[string]string{
		"ES": "ES", "es": "ES", " pt ": "PT", "Fr": "FR", "AQ": "AQ", "XK": "XK", // XK: Kosovo, user-assigned but a country
		"UK": "GB", "DD": "DE", "BU": "MM", // deprecated codes: their successors
		"ZZ": "", "zz": "", // unknown region
		"AA": "", "QM": "", "XA": "", // private use
		"EU": "", "QO": "", // groupings
		"ESP": "", "724": "", "001": "", // alpha-3 and numeric codes, a continent
		"": "", "E": "", "E1": "", "Ñ1": "", "España": "",
	} {
		got, ok := countryCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("countryCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestNameTokensCutAtCharacterBoundary(t *testing.T) {
	long := strings.Repeat("東", 20) // 60 bytes
	for _, tok := range (Profile{GivenName: long}).NameTokens() {
		if !utf8.ValidString(tok) || len(tok) > 40 {
			t.Fatalf("token %q: valid=%v len=%d", tok, utf8.ValidString(tok), len(tok))
		}
	}
	// A search word longer than a token still finds it.
	q := Query{SearchKind: SearchName, Search: Fold(long)}
	c := Customer{Profile: Profile{GivenName: long}}
	if !q.Matches(c) || FirstMatchingToken(c, q.SearchToken()) == "" {
		t.Fatal("a long name is not found by itself")
	}
}

// Fold is called by concurrent requests (the local gateway serves many at
// once): it must not share transformer state between goroutines.
func TestFoldConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				in := strings.Repeat("Ñandú Álvarez ", 1+(g+i)%12)
				want := strings.TrimSpace(strings.Repeat("nandu alvarez ", 1+(g+i)%12))
				if got := Fold(in); got != want {
					t.Errorf("Fold(%q) = %q", in, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCanonicalPhones(t *testing.T) {
	c := Customer{ID: "c1", Profile: Profile{Phone: "+34 600 123 456"},
		Aliases: []Unique{{"phone", "+34600123456"}, {"phone", "+44 07911 123456"}, {"phone", "+447911123456"}, {"email", "a@b.es"}, {"phone", "+34 12345"}}}
	got, invalid := CanonicalPhones(c, "ES")
	want := []Unique{{"phone", "+447911123456"}, {"email", "a@b.es"}, {"phone", "+34 12345"}}
	if got.Phone != "+34600123456" || !slices.Equal(got.Aliases, want) {
		t.Fatalf("phone %q, aliases %v; want +34600123456, %v", got.Phone, got.Aliases, want)
	}
	if len(invalid) != 1 || invalid[0] != (PhoneChange{CustomerID: "c1", From: "+34 12345"}) {
		t.Fatalf("invalid %v", invalid)
	}
	if again, _ := CanonicalPhones(got, "ES"); again.Phone != got.Phone || !slices.Equal(again.Aliases, got.Aliases) {
		t.Fatal("not idempotent")
	}
}
