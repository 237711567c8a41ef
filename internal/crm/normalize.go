package crm

import (
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/regulars/regulars/internal/apperr"
)

// Bounds on what a profile may hold, so that one customer item stays far
// below DynamoDB's 400 KB item limit.
const (
	MaxTags           = 50
	MaxTagLen         = 64
	MaxAttributes     = 50
	MaxAttributeKey   = 64
	MaxAttributeValue = 1024
	MaxAddresses      = 10
	maxNameTokens     = 8
)

var (
	attributeKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	cardNumber   = regexp.MustCompile(`^[A-Z0-9]{4,32}$`)
	slug         = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
)

// NormalizeEmail trims and lower-cases an address and checks its syntax.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 {
		return "", apperr.New(apperr.Invalid, "must be at most 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", apperr.New(apperr.Invalid, "must be an email address such as ana@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	if domain := s[at+1:]; !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", apperr.New(apperr.Invalid, "must be an email address with a full domain such as example.com")
	}
	return s, nil
}

// NormalizePhone reads a phone number, international ("+34 600 123 456",
// "0034…") or national in region, the merchant's ISO 3166-1 alpha-2
// country ("600 123 456" in ES; "" reads international numbers only),
// checks that it is a valid number of its country (libphonenumber's
// metadata) and returns it in E.164 form: one number, one spelling.
func NormalizePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "00"); ok {
		s = "+" + rest // the international prefix of most countries, whatever the region
	}
	if region == "" {
		region = "ZZ" // unknown: only numbers with a country code parse
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil || len(s) > 64 {
		if region == "ZZ" {
			return "", apperr.New(apperr.Invalid, "must be an international phone number such as +34 600 123 456")
		}
		return "", apperr.New(apperr.Invalid, "must be a phone number, national (%s) or international such as +34 600 123 456", region)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", apperr.New(apperr.Invalid, "is not a valid phone number of %s (+%d)",
			phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode())), n.GetCountryCode())
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// NormalizeCardNumber upper-cases a card number and drops spaces and dashes.
func NormalizeCardNumber(s string) (string, error) {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(s))
	if !cardNumber.MatchString(s) {
		return "", apperr.New(apperr.Invalid, "must be 4 to 32 letters or digits")
	}
	return s, nil
}

// folders hands out accent-stripping transformers: a transform.Chain keeps
// state between calls, so goroutines must not share one.
var folders = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// Fold returns s lower-cased, without accents, with every run of characters
// that are neither letters nor digits turned into one space: the form in which
// names and tags are compared and searched ("José  Núñez-Gil" → "jose nunez gil").
func Fold(s string) string {
	folder := folders.Get().(transform.Transformer)
	t, _, err := transform.String(folder, s) // String resets the transformer first
	folders.Put(folder)
	if err != nil {
		t = s
	}
	t = strings.NewReplacer("ß", "ss", "æ", "ae", "ø", "o", "ł", "l", "đ", "d", "œ", "oe").Replace(strings.ToLower(t))
	var b strings.Builder
	space := false
	for _, r := range t {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

// NameTokens returns the distinct folded words of a customer's names, the
// keys under which a name-prefix search finds them.
func (p Profile) NameTokens() []string {
	var out []string
	for _, w := range strings.Fields(Fold(p.GivenName + " " + p.FamilyName)) {
		w = truncateToken(w)
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
		if len(out) == maxNameTokens {
			break
		}
	}
	slices.Sort(out)
	return out
}

// maxTokenBytes bounds a name token, cut at a character boundary.
const maxTokenBytes = 40

func truncateToken(w string) string {
	if len(w) <= maxTokenBytes {
		return w
	}
	cut := maxTokenBytes
	for cut > 0 && !utf8.RuneStart(w[cut]) {
		cut--
	}
	return w[:cut]
}

// Normalize validates every writable field and returns the profile in
// canonical form; region is the merchant's country, in which a national
// phone number is read. Errors carry JSON Pointer paths of the API
// representation.
func (p Profile) Normalize(now time.Time, region string) (Profile, error) {
	var fe apperr.Fields
	str := func(path string, v *string, max int) {
		*v = strings.TrimSpace(*v)
		if len(*v) > max {
			fe.Add(path, "must be at most %d characters", max)
		}
		if HasControl(*v) {
			fe.Add(path, "must not contain control characters")
		}
	}
	str("/external_id", &p.ExternalID, 128)
	str("/given_name", &p.GivenName, 100)
	str("/family_name", &p.FamilyName, 100)
	str("/document_number", &p.DocumentNumber, 32)
	str("/device_type", &p.DeviceType, 64)
	if p.Email != "" {
		if v, err := NormalizeEmail(p.Email); err != nil {
			fe.Add("/email", "%s", apperr.As(err).Message)
		} else {
			p.Email = v
		}
	}
	if p.Phone != "" {
		if v, err := NormalizePhone(p.Phone, region); err != nil {
			fe.Add("/phone", "%s", apperr.As(err).Message)
		} else {
			p.Phone = v
		}
	}
	if p.CardNumber != "" {
		if v, err := NormalizeCardNumber(p.CardNumber); err != nil {
			fe.Add("/card_number", "%s", apperr.As(err).Message)
		} else {
			p.CardNumber = v
		}
	}
	if p.CardTemplate == "" {
		p.CardTemplate = DefaultCardTemplate
	} else if !slug.MatchString(p.CardTemplate) {
		fe.Add("/card_template", "must be 1 to 32 lower-case letters, digits, '-' or '_'")
	}
	if p.Birthday != "" {
		if err := validBirthday(p.Birthday, now); err != nil {
			fe.Add("/birthday", "%s", apperr.As(err).Message)
		}
	}
	switch p.Type {
	case "":
		p.Type = TypeDirect
	case TypeAnonymous, TypeProspect, TypeDirect:
	default:
		fe.Add("/type", "must be one of anonymous, prospect, direct")
	}
	p.Tags = normalizeTags(p.Tags, &fe)
	validAttributes(p.Attributes, &fe)
	p.Addresses = normalizeAddresses(p.Addresses, &fe)
	if err := fe.Err(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

func validBirthday(s string, now time.Time) error {
	if strings.HasPrefix(s, "--") { // month and day only (ISO 8601 reduced precision)
		if _, err := time.Parse("2006-01-02", "2000-"+s[2:]); err != nil || len(s) != 7 {
			return apperr.New(apperr.Invalid, "must be a date YYYY-MM-DD or --MM-DD")
		}
		return nil
	}
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		return apperr.New(apperr.Invalid, "must be a date YYYY-MM-DD or --MM-DD")
	}
	if d.Year() < 1900 || d.After(now) {
		return apperr.New(apperr.Invalid, "must be between 1900-01-01 and today")
	}
	return nil
}

func normalizeTags(tags []string, fe *apperr.Fields) []string {
	if len(tags) > MaxTags {
		fe.Add("/tags", "must hold at most %d tags", MaxTags)
		return tags
	}
	out := make([]string, 0, len(tags))
	var seen []string
	for i, t := range tags {
		t = strings.TrimSpace(t)
		k := Fold(t)
		switch {
		case k == "":
			fe.Add("/tags/"+itoa(i), "must contain a letter or digit")
		case len(t) > MaxTagLen:
			fe.Add("/tags/"+itoa(i), "must be at most %d characters", MaxTagLen)
		case HasControl(t):
			fe.Add("/tags/"+itoa(i), "must not contain control characters")
		case !slices.Contains(seen, k):
			seen = append(seen, k)
			out = append(out, t)
		}
	}
	return out
}

func validAttributes(attrs map[string]string, fe *apperr.Fields) {
	if len(attrs) > MaxAttributes {
		fe.Add("/attributes", "must hold at most %d keys", MaxAttributes)
		return
	}
	for k, v := range attrs {
		if !attributeKey.MatchString(k) {
			fe.Add("/attributes/"+apperr.PointerToken(k), "keys must be 1 to %d letters, digits, '_', '.' or '-'", MaxAttributeKey)
		} else if len(v) > MaxAttributeValue {
			fe.Add("/attributes/"+k, "must be at most %d characters", MaxAttributeValue)
		} else if HasControl(v) {
			fe.Add("/attributes/"+k, "must not contain control characters")
		}
	}
}

func normalizeAddresses(addrs []Address, fe *apperr.Fields) []Address {
	if len(addrs) > MaxAddresses {
		fe.Add("/addresses", "must hold at most %d addresses", MaxAddresses)
		return addrs
	}
	primaries := 0
	for i := range addrs {
		a := &addrs[i]
		p := "/addresses/" + itoa(i)
		for _, f := range []struct {
			name string
			v    *string
			max  int
		}{{"label", &a.Label, 50}, {"line1", &a.Line1, 200}, {"line2", &a.Line2, 200}, {"city", &a.City, 100}, {"region", &a.Region, 100}, {"postal_code", &a.PostalCode, 20}} {
			*f.v = strings.TrimSpace(*f.v)
			if len(*f.v) > f.max {
				fe.Add(p+"/"+f.name, "must be at most %d characters", f.max)
			} else if HasControl(*f.v) {
				fe.Add(p+"/"+f.name, "must not contain control characters")
			}
		}
		if a.Line1 == "" {
			fe.Add(p+"/line1", "is required")
		}
		if c, ok := countryCode(a.Country); ok {
			a.Country = c
		} else {
			a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
			fe.Add(p+"/country", "must be an ISO 3166-1 alpha-2 country code such as ES")
		}
		if a.Primary {
			primaries++
		}
	}
	switch {
	case primaries > 1:
		fe.Add("/addresses", "only one address may be primary")
	case primaries == 0 && len(addrs) > 0:
		addrs[0].Primary = true
	}
	return addrs
}

// HasControl reports whether s holds control characters (line breaks
// included): no single-line text of a profile, an event or a purchase may.
func HasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

func itoa(i int) string { return strconv.Itoa(i) }

// countryCode returns the ISO 3166-1 alpha-2 code of the country s names,
// in capitals and with a deprecated code replaced by the current one (UK is
// GB), or reports false: s must be two letters (in any case, surrounding
// space ignored) that name a country for CLDR, so not ZZ (unknown region),
// a private-use code (AA, QM–QZ, XA–XZ but XK, Kosovo), nor a grouping
// (EU, QO).
func countryCode(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 2 { // ParseRegion also reads alpha-3 and numeric codes
		return "", false
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() {
		return "", false
	}
	return r.Canonicalize().String(), true
}
