package purchase

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/checked"
	"github.com/regulars/regulars/internal/crm"
)

// An order's points and a customer's metrics never wrap: a figure beyond
// int64 is checked.ErrOverflow, which fails the event (422) instead of
// posting a wrapped balance or revenue.
func TestNoWrappedOrderFigures(t *testing.T) {
	p := seedProgram()
	p.Earning.PointsPerStep, p.Earning.StepAmount = 1_000_000_000, 1
	o := Order{}.Apply(sale(t, "e", "2026-03-04T10:00:00Z", "mad-1"))
	o.Lines[0].Quantity, o.Lines[0].UnitPrice, o.Lines[0].Discount, o.Lines[0].Tax = 1, 1_000_000_000_00, 0, 0
	if earned, reversed, err := o.Points(p, true); !errors.Is(err, checked.ErrOverflow) {
		t.Fatalf("10^9 points per minor unit of 10^11: earned %d, reversed %d, %v", earned, reversed, err)
	}
	c := ContributionOf(o)
	m := crm.Metrics{Revenue: math.MaxInt64 - c.Revenue + 1}
	if _, _, err := Update(m, nil, Contribution{}, c, time.UTC, testNow); !errors.Is(err, checked.ErrOverflow) {
		t.Fatalf("revenue beyond int64: %v", err)
	}
}
