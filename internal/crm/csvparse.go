package crm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// IdentifyingColumns are the columns that find a customer; an imported
// file needs at least one of them.
var IdentifyingColumns = []string{"external_id", "card_number", "email", "phone"}

// MaxOpeningBalance bounds the points an import opens a balance with, as it
// bounds a manual movement.
const MaxOpeningBalance = 1_000_000_000

// CSVLayout is the header row of an imported file: which of its cells hold
// which column. Column names compare case-insensitively; the profile columns
// and, when the import opens balances, PointsColumn are read; the other
// columns of an export (its metrics, id) are known and ignored; any other
// column is Unknown.
type CSVLayout struct {
	index   map[string]int
	width   int
	date    SerialDate
	Unknown []string // the header cells that name no column, as written
}

// SerialDate reads a date cell that a spreadsheet stored as a serial
// number, in the date system of the file (tabular.DateSystem.Date), or
// reports false.
type SerialDate func(cell string) (time.Time, bool)

// NewCSVLayout reads a header row; the rows' birthday and enrolled_at cells
// may also be serial numbers, read by date (nil: none). A column named
// twice, or a header without any identifying column, is an Unprocessable
// error.
func NewCSVLayout(header []string, points bool, date SerialDate) (CSVLayout, error) {
	l := CSVLayout{index: map[string]int{}, width: len(header), date: date}
	for i, cell := range header {
		name := strings.ToLower(strings.TrimSpace(cell))
		switch {
		case name == "":
		case name == PointsColumn && points, slices.Contains(ProfileColumns, name) && name != "id":
			if _, dup := l.index[name]; dup {
				return CSVLayout{}, apperr.New(apperr.Unprocessable, "the header names the column %s twice", name)
			}
			l.index[name] = i
		case name == "id", slices.Contains(MetricColumns, name):
			// an export's read-only columns
		default:
			l.Unknown = append(l.Unknown, strings.TrimSpace(cell))
		}
	}
	if !slices.ContainsFunc(IdentifyingColumns, func(c string) bool { _, ok := l.index[c]; return ok }) {
		return CSVLayout{}, apperr.New(apperr.Unprocessable, "the header has no identifying column: the file needs at least one of %s",
			strings.Join(IdentifyingColumns, ", "))
	}
	return l, nil
}

// Width is the number of cells of the header row.
func (l CSVLayout) Width() int { return l.width }

// CSVRow is one data row of an imported file: the profile fields it gives a
// value for (an empty cell leaves a field as it is), the primary address,
// and the values only a new customer takes.
type CSVRow struct {
	Patch      Patch
	Address    *Address   // the primary address, when any address cell is set
	State      State      // "" when the row names none
	EnrolledAt *time.Time // a new customer's enrolment; nil: now
	Points     int64      // the balance to open a new customer with; 0: none
}

var (
	csvTrue  = []string{"true", "1", "sí", "si", "yes"}
	csvFalse = []string{"false", "0", "no"}
	wholeNum = regexp.MustCompile(`^[0-9]+$`)
)

// Parse reads a data row. Errors are field errors whose paths name the
// column ("/favorite"); cells beyond the header are an error if they hold
// anything.
func (l CSVLayout) Parse(cells []string) (CSVRow, error) {
	var fe apperr.Fields
	cell := func(name string) string {
		if i, ok := l.index[name]; ok && i < len(cells) {
			return strings.TrimSpace(cells[i])
		}
		return ""
	}
	if len(cells) > l.width && !allBlank(cells[l.width:]) {
		fe.Add("", "has %d cells, more than the %d columns of the header", len(cells), l.width)
	}
	var r CSVRow
	text := func(name string, dst **string) {
		if v := cell(name); v != "" {
			*dst = &v
		}
	}
	p := &r.Patch
	text("external_id", &p.ExternalID)
	text("card_number", &p.CardNumber)
	text("card_template", &p.CardTemplate)
	text("given_name", &p.GivenName)
	text("family_name", &p.FamilyName)
	text("email", &p.Email)
	text("phone", &p.Phone)
	text("document_number", &p.DocumentNumber)
	if v := cell("birthday"); v != "" {
		if t, ok := l.serial(v); ok {
			v = t.Format(time.DateOnly)
		}
		p.Birthday = &v
	}
	text("device_type", &p.DeviceType)
	flag := func(name string, dst **bool) {
		v := strings.ToLower(cell(name))
		switch {
		case v == "":
		case slices.Contains(csvTrue, v):
			*dst = new(true)
		case slices.Contains(csvFalse, v):
			*dst = new(false)
		default:
			fe.Add("/"+name, "must be true, false, 1, 0, sí, si, yes or no")
		}
	}
	flag("favorite", &p.Favorite)
	flag("newsletter_consent", &p.NewsletterConsent)
	if v := cell("tags"); v != "" {
		var tags []string
		for t := range strings.SplitSeq(v, TagSeparator) {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
		p.Tags = &tags
	}
	if v := cell("attributes"); v != "" {
		var attrs map[string]string
		if err := json.Unmarshal([]byte(v), &attrs); err != nil || attrs == nil {
			fe.Add("/attributes", `must be a JSON object of strings such as {"size":"M"}`)
		} else {
			p.Attributes = &attrs
		}
	}
	if v := cell("type"); v != "" {
		t := Type(strings.ToLower(v))
		p.Type = &t
	}
	switch v := State(strings.ToLower(cell("state"))); v {
	case "", StatePending, StateActive, StateSuspended:
		r.State = v
	default:
		fe.Add("/state", "must be pending, active or suspended")
	}
	if v := cell("enrolled_at"); v != "" {
		if t, err := l.parseTime(v); err != nil {
			fe.Add("/enrolled_at", "must be a date YYYY-MM-DD or an RFC 3339 time")
		} else {
			r.EnrolledAt = &t
		}
	}
	a := Address{Label: cell("address_label"), Line1: cell("address_line1"), Line2: cell("address_line2"), City: cell("address_city"),
		Region: cell("address_region"), PostalCode: cell("address_postal_code"), Country: cell("address_country"), Primary: true}
	if a != (Address{Primary: true}) {
		r.Address = &a
	}
	if v := cell(PointsColumn); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if !wholeNum.MatchString(v) || err != nil || n > MaxOpeningBalance {
			fe.Add("/"+PointsColumn, "must be a whole number of points from 0 to %d", MaxOpeningBalance)
		}
		r.Points = n
	}
	if err := fe.Err(); err != nil {
		return CSVRow{}, err
	}
	return r, nil
}

// parseTime reads a date (midnight UTC), an RFC 3339 time or a serial
// date.
func (l CSVLayout) parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, ok := l.serial(s); ok {
		return t, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// serial reads a serial date, when the file has them.
func (l CSVLayout) serial(s string) (time.Time, bool) {
	if l.date == nil {
		return time.Time{}, false
	}
	return l.date(s)
}

func allBlank(cells []string) bool {
	return !slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) != "" })
}

// Apply returns c with the row's values written over it and validated: the
// row's address replaces c's primary one, and its state, when set, is c's.
// Field paths name the row's columns.
func (r CSVRow) Apply(c Customer, now time.Time) (Customer, error) {
	pt := r.Patch
	if r.Address != nil {
		addrs := slices.Clone(c.Addresses)
		i := slices.IndexFunc(addrs, func(a Address) bool { return a.Primary })
		if i < 0 {
			addrs, i = append([]Address{{}}, addrs...), 0
		}
		addrs[i] = *r.Address
		pt.Addresses = &addrs
	}
	next, err := pt.Apply(c, now)
	if err != nil {
		return Customer{}, columnPaths(err)
	}
	if r.State != "" {
		next.State = r.State
	}
	return next, nil
}

// New returns the customer a row creates.
func (r CSVRow) New(merchantID string, now time.Time) (Customer, error) {
	p, err := r.Apply(Customer{}, now)
	if err != nil {
		return Customer{}, err
	}
	return New(merchantID, Enrolment{Profile: p.Profile, State: r.State, EnrolledAt: r.EnrolledAt, Region: r.Patch.Region, Source: r.Patch.Source}, now)
}

// CSVColumn names the column of a unique identifier.
func CSVColumn(u Unique) string {
	if u.Kind == "card" {
		return "card_number"
	}
	return u.Kind
}

// columnPaths rewrites the address paths of a validation error
// ("/addresses/0/line1") as the row's columns ("/address_line1").
func columnPaths(err error) error {
	e := apperr.As(err)
	if e == nil || len(e.Fields) == 0 {
		return err
	}
	c := *e
	c.Fields = make([]apperr.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if rest, ok := strings.CutPrefix(f.Path, "/addresses/"); ok {
			if _, name, ok := strings.Cut(rest, "/"); ok {
				f.Path = fmt.Sprintf("/address_%s", name)
			}
		}
		c.Fields[i] = f
	}
	return &c
}
