package crm

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/tabular"
)

func TestNewCSVLayout(t *testing.T) {
	l, err := NewCSVLayout([]string{" Email ", "GIVEN_NAME", "colour", "id", "revenue", "points_balance", ""}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.Unknown, []string{"colour"}) || l.Width() != 7 {
		t.Fatalf("unknown %v, width %d", l.Unknown, l.Width())
	}
	if _, ok := l.index[PointsColumn]; ok {
		t.Fatal("points_balance read without opening balances")
	}
	if l, _ := NewCSVLayout([]string{"phone", "points_balance"}, true, nil); l.index[PointsColumn] != 1 {
		t.Fatal("points_balance not read with opening balances")
	}
	for _, header := range [][]string{{"given_name", "family_name"}, {"email", "EMAIL"}, {}} {
		if _, err := NewCSVLayout(header, false, nil); apperr.CodeOf(err) != apperr.Unprocessable {
			t.Errorf("header %v: %v, want Unprocessable", header, err)
		}
	}
	// An export's header is a valid import header, with nothing unknown.
	if l, err := NewCSVLayout(CSVHeader(ColumnsFull), true, nil); err != nil || len(l.Unknown) != 0 {
		t.Fatalf("export header: %v, unknown %v", err, l.Unknown)
	}
}

func TestCSVRowParse(t *testing.T) {
	header := []string{"email", "phone", "tags", "favorite", "newsletter_consent", "attributes", "type", "state", "enrolled_at",
		"birthday", "address_line1", "address_country", "points_balance"}
	l, err := NewCSVLayout(header, true, tabular.Date1900.Date)
	if err != nil {
		t.Fatal(err)
	}
	row := func(kv map[string]string) []string {
		cells := make([]string, len(header))
		for i, h := range header {
			cells[i] = kv[h]
		}
		return cells
	}
	enrolled := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		cells []string
		check func(CSVRow) bool
		paths []string // error paths, when it fails
	}{
		{"empty cells set nothing", row(map[string]string{"email": "a@example.com"}),
			func(r CSVRow) bool {
				return *r.Patch.Email == "a@example.com" && r.Patch.Phone == nil && r.Patch.Tags == nil && r.Address == nil && r.Points == 0
			}, nil},
		{"tags split and trimmed", row(map[string]string{"tags": " vip | | café "}),
			func(r CSVRow) bool { return slices.Equal(*r.Patch.Tags, []string{"vip", "café"}) }, nil},
		{"booleans", row(map[string]string{"favorite": "Sí", "newsletter_consent": "0"}),
			func(r CSVRow) bool { return *r.Patch.Favorite && !*r.Patch.NewsletterConsent }, nil},
		{"yes/no", row(map[string]string{"favorite": "no", "newsletter_consent": "YES"}),
			func(r CSVRow) bool { return !*r.Patch.Favorite && *r.Patch.NewsletterConsent }, nil},
		{"attributes", row(map[string]string{"attributes": `{"talla":"M"}`}),
			func(r CSVRow) bool { return reflect.DeepEqual(*r.Patch.Attributes, map[string]string{"talla": "M"}) }, nil},
		{"type and state", row(map[string]string{"type": "Prospect", "state": "PENDING"}),
			func(r CSVRow) bool { return *r.Patch.Type == TypeProspect && r.State == StatePending }, nil},
		{"enrolled date", row(map[string]string{"enrolled_at": "2024-03-01"}),
			func(r CSVRow) bool { return r.EnrolledAt.Equal(enrolled) }, nil},
		{"enrolled time", row(map[string]string{"enrolled_at": "2024-03-01T00:00:00Z"}),
			func(r CSVRow) bool { return r.EnrolledAt.Equal(enrolled) }, nil},
		{"address", row(map[string]string{"address_line1": "Calle Mayor 1", "address_country": "es"}),
			func(r CSVRow) bool {
				return *r.Address == Address{Line1: "Calle Mayor 1", Country: "es", Primary: true}
			}, nil},
		{"xlsx dates", row(map[string]string{"birthday": "32874", "enrolled_at": "45352"}),
			func(r CSVRow) bool { return *r.Patch.Birthday == "1990-01-01" && r.EnrolledAt.Equal(enrolled) }, nil},
		{"points", row(map[string]string{"points_balance": "250"}), func(r CSVRow) bool { return r.Points == 250 }, nil},
		{"ragged short row", []string{"a@example.com"}, func(r CSVRow) bool { return *r.Patch.Email == "a@example.com" }, nil},
		{"ragged blank extra cells", append(row(nil), "", " "), func(CSVRow) bool { return true }, nil},
		{"ragged extra cells", append(row(nil), "x"), nil, []string{""}},
		{"bad boolean", row(map[string]string{"favorite": "maybe"}), nil, []string{"/favorite"}},
		{"bad attributes", row(map[string]string{"attributes": `["a"]`}), nil, []string{"/attributes"}},
		{"bad attribute value", row(map[string]string{"attributes": `{"a":1}`}), nil, []string{"/attributes"}},
		{"bad state", row(map[string]string{"state": "gone"}), nil, []string{"/state"}},
		{"bad enrolment", row(map[string]string{"enrolled_at": "ayer"}), nil, []string{"/enrolled_at"}},
		{"negative points", row(map[string]string{"points_balance": "-5"}), nil, []string{"/points_balance"}},
		{"fractional points", row(map[string]string{"points_balance": "1.5"}), nil, []string{"/points_balance"}},
		{"too many points", row(map[string]string{"points_balance": "1000000001"}), nil, []string{"/points_balance"}},
	} {
		r, err := l.Parse(tc.cells)
		if tc.paths != nil {
			var got []string
			if e := apperr.As(err); e != nil {
				for _, f := range e.Fields {
					got = append(got, f.Path)
				}
			}
			if !slices.Equal(got, tc.paths) {
				t.Errorf("%s: error paths %v (%v), want %v", tc.name, got, err, tc.paths)
			}
			continue
		}
		if err != nil || !tc.check(r) {
			t.Errorf("%s: %+v, %v", tc.name, r, err)
		}
	}
}

// The serial numbers of date cells are read in the file's date system: the
// same day is 1462 less in a 1904 workbook, and a file without serial dates
// (nil) takes none.
func TestCSVRowParseSerialDates(t *testing.T) {
	header := []string{"email", "birthday", "enrolled_at"}
	for _, tc := range []struct {
		name                string
		date                SerialDate
		birthday, enrolled  string
		wantBirthday        string
		wantEnrolled        time.Time
		wantEnrolledInvalid bool
	}{
		{"1900", tabular.Date1900.Date, "32874", "45352.5", "1990-01-01", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), false},
		{"1904", tabular.Date1904.Date, "31412", "43890.5", "1990-01-01", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), false},
		{"1904 read as 1900 would be", tabular.Date1904.Date, "32874", "45352", "1994-01-02", time.Date(2028, 3, 2, 0, 0, 0, 0, time.UTC), false},
		{"dates as text whatever the system", tabular.Date1904.Date, "1990-01-01", "2024-03-01", "1990-01-01", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"no serial dates", nil, "32874", "45352", "32874", time.Time{}, true},
	} {
		l, err := NewCSVLayout(header, false, tc.date)
		if err != nil {
			t.Fatal(err)
		}
		r, err := l.Parse([]string{"a@example.com", tc.birthday, tc.enrolled})
		if tc.wantEnrolledInvalid {
			if e := apperr.As(err); e == nil || len(e.Fields) != 1 || e.Fields[0].Path != "/enrolled_at" {
				t.Errorf("%s: %v, want an /enrolled_at error", tc.name, err)
			}
			continue
		}
		if err != nil || *r.Patch.Birthday != tc.wantBirthday || !r.EnrolledAt.Equal(tc.wantEnrolled) {
			t.Errorf("%s: birthday %v, enrolled %v, %v; want %s, %s", tc.name, *r.Patch.Birthday, r.EnrolledAt, err, tc.wantBirthday, tc.wantEnrolled)
		}
	}
}

func TestCSVRowApply(t *testing.T) {
	l, err := NewCSVLayout([]string{"email", "phone", "birthday", "tags", "address_line1", "address_country", "state"}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := Customer{ID: "c1", State: StateActive, Profile: Profile{Email: "ana@example.com", GivenName: "Ana", CardTemplate: DefaultCardTemplate, Type: TypeDirect,
		Addresses: []Address{{Line1: "Old 1", Country: "ES"}, {Line1: "Home", Country: "FR", Primary: true}}}}
	r, err := l.Parse([]string{"ANA@example.com", "", "", "", "Nueva 2", "pt", "suspended"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Apply(old, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []Address{{Line1: "Old 1", Country: "ES"}, {Line1: "Nueva 2", Country: "PT", Primary: true}}
	if c.GivenName != "Ana" || c.Email != "ana@example.com" || !slices.Equal(c.Addresses, want) || c.State != StateSuspended {
		t.Fatalf("applied: %+v", c)
	}
	if got := ChangedFields(old, c); !slices.Equal(got, []string{"addresses", "state"}) {
		t.Fatalf("changed %v", got)
	}
	// The same row applied again changes nothing.
	if again, _ := r.Apply(c, now); len(ChangedFields(c, again)) != 0 {
		t.Fatalf("re-applied: %v", ChangedFields(c, again))
	}
	// Validation errors name the columns.
	for _, tc := range []struct {
		cells []string
		paths []string
	}{
		{[]string{"ana@", "", "", "", "", "", ""}, []string{"/email"}},
		{[]string{"", "12", "", "", "", "", ""}, []string{"/phone"}},
		{[]string{"", "", "2999-01-01", "", "", "", ""}, []string{"/birthday"}},
		{[]string{"", "", "", "ok|***", "", "", ""}, []string{"/tags/1"}},
		{[]string{"", "", "", "", "Calle", "España", ""}, []string{"/address_country"}},
		{[]string{"", "", "", "", "", "ES", ""}, []string{"/address_line1"}},
	} {
		r, err := l.Parse(tc.cells)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Apply(old, now)
		var got []string
		if e := apperr.As(err); e != nil {
			for _, f := range e.Fields {
				got = append(got, f.Path)
			}
		}
		if !slices.Equal(got, tc.paths) {
			t.Errorf("%v: paths %v, want %v", tc.cells, got, tc.paths)
		}
	}
	// A new customer cannot start suspended.
	r, _ = l.Parse([]string{"b@example.com", "", "", "", "", "", "suspended"})
	if _, err := r.New("m1", now); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("new suspended: %v", err)
	}
	r, _ = l.Parse([]string{"b@example.com", "+34 600 111 222", "", "", "", "", "pending"})
	c, err = r.New("m1", now)
	if err != nil || c.Phone != "+34600111222" || c.State != StatePending || c.CardTemplate != DefaultCardTemplate || len(c.Uniques()) != 2 {
		t.Fatalf("new: %+v, %v", c, err)
	}
}

func TestColumnChanges(t *testing.T) {
	a := Customer{ID: "c1", Profile: Profile{GivenName: "Xavi", Email: "x@example.com", Tags: []string{"vip"}}, State: StateActive}
	b := a
	b.GivenName, b.Tags, b.NewsletterConsent, b.State = "Xavier", []string{"vip", "nuevo"}, true, StatePending
	b.Metrics.Revenue = 500 // not a profile column
	want := []ColumnChange{{"given_name", "Xavi", "Xavier"}, {"tags", "vip", "vip|nuevo"}, {"newsletter_consent", "false", "true"}, {"state", "active", "pending"}}
	if got := ColumnChanges(a, b); !slices.Equal(got, want) {
		t.Fatalf("ColumnChanges = %v, want %v", got, want)
	}
	if got := ColumnChanges(a, a); len(got) != 0 {
		t.Fatalf("no change: %v", got)
	}
}
