package purchase

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below must load on a machine without zoneinfo

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/loyalty"
)

// testNow is the clock of every test: a Sunday noon in March, UTC.
var testNow = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func costOf(v int64) *int64 { return &v }

// mustZone loads an IANA zone or fails the test.
func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// errPaths returns the JSON pointers of a validation error, in the order
// reported, or nil for no error; it fails the test on any other error.
func errPaths(t testing.TB, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e := apperr.As(err)
	if e == nil || e.Code != apperr.Invalid {
		t.Fatalf("error %v is not an apperr Invalid", err)
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Path
	}
	return out
}

// seedProgram is the default program, switched on: 10 points per full 5.00
// of net spend, earned when the order is paid.
func seedProgram() loyalty.Program {
	p := loyalty.DefaultProgram()
	p.Enabled = true
	return p
}

// withTrigger is the seed program earning at another status.
func withTrigger(tr loyalty.Trigger) loyalty.Program {
	p := seedProgram()
	p.Earning.Trigger = tr
	return p
}

// orderLines are the lines of the worked order used by the order and
// metrics tests:
//
//	CAFE  2 × 12.10 = 24.20, −2.20 discount = 22.00, −2.00 tax → net 20.00 (2000);
//	      unit cost 4.00 → cost 800 on a covered net of 2000
//	NAPO  1 × 5.50, −0.50 tax → net 5.00 (500); cost unknown, no name
//
// Net 2500 = 5 full steps of 5.00 → 50 points under the seed program.
func orderLines() []Line {
	return []Line{
		{SKU: "CAFE", Name: "Café con leche", Category: "drinks", Quantity: 2, UnitPrice: 1210, Discount: 220, Tax: 200, UnitCost: costOf(400)},
		{SKU: "NAPO", Category: "bakery", Quantity: 1, UnitPrice: 550, Tax: 50},
	}
}

const (
	orderNet    = 2500
	orderPoints = 50
)

// ev builds an event of order "ord-1" at a time given as RFC 3339.
func ev(t testing.TB, id string, s Status, at string) Event {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatalf("bad time %q: %v", at, err)
	}
	e := Event{EventID: id, OrderID: "ord-1", Status: s, OccurredAt: ts, Currency: "EUR",
		Location: Location{ID: "mad-1", Name: "Madrid Malasaña"}, Customer: CustomerRef{Email: "ana@example.com"}}
	switch s {
	case Created, Paid, Completed:
		e.Lines = orderLines()
	}
	return e
}

// partial is a partially_refunded event of ord-1 refunding amount (net).
func partial(t testing.TB, id string, at string, amount int64) Event {
	e := ev(t, id, PartiallyRefunded, at)
	e.RefundLines = []RefundLine{{SKU: "CAFE", Quantity: 1, Amount: amount}}
	return e
}

func joinPaths(p []string) string { return strings.Join(p, ",") }

// must returns v, panicking on an error the test does not expect.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// must2 is must of two values.
func must2[T, U any](v T, u U, err error) (T, U) {
	if err != nil {
		panic(err)
	}
	return v, u
}
