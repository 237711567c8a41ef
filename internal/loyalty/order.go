package loyalty

import (
	"slices"
	"strconv"

	"github.com/regulars/regulars/internal/checked"
)

func itoa(i int) string { return strconv.Itoa(i) }

// Line is one line of an order or a cart. UnitPrice is what one unit costs
// the customer before the line's discount, tax included; Discount and Tax are
// totals for the line. All amounts are minor units.
type Line struct {
	SKU       string
	Category  string
	Quantity  int64
	UnitPrice int64
	Discount  int64
	Tax       int64
	OnSale    bool
}

// Net is the line's amount after discounts and without tax: the base of
// every points and revenue figure.
// Validated lines (quantity ≤ 10^6, unit price ≤ 10^11) cannot overflow it.
func (l Line) Net() int64 {
	return max(0, l.Quantity*l.UnitPrice-l.Discount-l.Tax)
}

// Gross is what the customer pays for the line.
func (l Line) Gross() int64 {
	return max(0, l.Quantity*l.UnitPrice-l.Discount)
}

// OrderPoints is the breakdown of what an order earns.
type OrderPoints struct {
	Total     int64
	SpendBase int64 // net amount that the spend rule applied to
	FromSpend int64
	FromLines map[string]int64 // points from product overrides, by SKU
}

// PointsForOrder computes the points an order earns under the program: the
// spend rule on the net amount of every line that is neither excluded nor
// overridden, rounded down per order, plus each override line's own points.
// Points that int64 cannot hold are checked.ErrOverflow (422), never wrapped.
func (p Program) PointsForOrder(lines []Line) (OrderPoints, error) {
	out := OrderPoints{FromLines: map[string]int64{}}
	e := p.Earning
	var err error
	add := func(sum *int64, v int64) {
		if err == nil {
			*sum, err = checked.Add(*sum, v)
		}
	}
	for _, l := range lines {
		if slices.Contains(e.ExcludedProducts, l.SKU) {
			continue
		}
		if o := p.override(l.SKU); o != nil {
			var pts int64
			if o.PointsPerUnit != nil {
				pts, err = checked.Mul(*o.PointsPerUnit, max(l.Quantity, 0))
			} else {
				// A percentage of the line's net amount, as money, converted
				// to points at the redemption rate, rounded down.
				var money int64
				if money, err = checked.MulDiv(l.Net(), *o.Percent, 10000); err == nil {
					pts, err = checked.MulDiv(money, p.Redemption.Points, max(p.Redemption.Amount, 1))
				}
			}
			if err != nil {
				return OrderPoints{}, err
			}
			line := out.FromLines[l.SKU]
			add(&line, pts)
			out.FromLines[l.SKU] = line
			add(&out.Total, pts)
			continue
		}
		add(&out.SpendBase, l.Net())
	}
	if err == nil && e.StepAmount > 0 {
		out.FromSpend, err = checked.Mul(out.SpendBase/e.StepAmount, e.PointsPerStep)
	}
	add(&out.Total, out.FromSpend)
	if err != nil {
		return OrderPoints{}, err
	}
	return out, nil
}

func (p Program) override(sku string) *ProductOverride {
	for i := range p.Earning.Overrides {
		if p.Earning.Overrides[i].SKU == sku {
			return &p.Earning.Overrides[i]
		}
	}
	return nil
}

// Refund returns the points to take back when refunded of an order's net
// amount is returned: proportional to the refunded share, rounded up so that
// a full refund takes back everything the order earned.
func Refund(earned, orderNet, refunded int64) int64 {
	if orderNet <= 0 || earned <= 0 {
		return 0
	}
	return checked.ShareUp(earned, refunded, orderNet)
}
