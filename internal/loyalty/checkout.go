package loyalty

import "slices"

// Reason explains why points cannot be redeemed.
type Reason string

// Reasons a quote may give.
const (
	ReasonNone             Reason = ""
	ReasonProgramDisabled  Reason = "program_disabled"
	ReasonCustomerInactive Reason = "customer_not_active"
	ReasonBelowMinBalance  Reason = "below_min_balance"
	ReasonCartTooSmall     Reason = "cart_below_minimum"
	ReasonNothingEligible  Reason = "nothing_eligible"
	ReasonNoPoints         Reason = "no_points"
)

// Quote is the answer to "how many points can this customer use on this cart".
type Quote struct {
	CartTotal     int64  // gross amount of the cart
	Eligible      int64  // net amount that points may discount
	MaxPoints     int64  // the most points redeemable now
	MaxDiscount   int64  // what MaxPoints are worth, minor units
	BadgeDiscount int64  // automatic discount from badges, minor units
	Reason        Reason // why MaxPoints is 0, if it is
	Badges        []string
}

// eligible reports whether a line may be discounted with points.
func (r Redemption) eligible(l Line) bool {
	switch {
	case r.ExcludeOnSale && l.OnSale,
		slices.Contains(r.ExcludedProducts, l.SKU),
		len(r.AllowedProducts) > 0 && !slices.Contains(r.AllowedProducts, l.SKU):
		return false
	}
	return true
}

// QuoteCart answers the checkout question for a balance and a cart, after
// the automatic badge discounts of the badges held.
func (p Program) QuoteCart(balance int64, active bool, cart []Line, held []Badge) Quote {
	var q Quote
	for _, l := range cart {
		q.CartTotal += l.Gross()
		if p.Redemption.eligible(l) {
			q.Eligible += l.Net()
		}
	}
	for _, b := range held {
		if b.Discount != nil {
			if d := b.Discount.of(q.CartTotal); d > q.BadgeDiscount { // the best badge discount applies, not their sum
				q.BadgeDiscount = d
				q.Badges = []string{b.ID}
			}
		}
	}
	r := p.Redemption
	// Points discount what is left of the eligible amount after the badge discount.
	eligible := max(0, q.Eligible-q.BadgeDiscount)
	switch {
	case !p.Enabled:
		q.Reason = ReasonProgramDisabled
	case !active:
		q.Reason = ReasonCustomerInactive
	case balance <= 0:
		q.Reason = ReasonNoPoints
	case balance < r.MinBalance:
		q.Reason = ReasonBelowMinBalance
	case q.CartTotal < r.MinCart:
		q.Reason = ReasonCartTooSmall
	case eligible == 0:
		q.Reason = ReasonNothingEligible
	}
	if q.Reason != ReasonNone {
		return q
	}
	discount := r.MaxDiscount.limit(min(eligible, r.Value(balance)), eligible)
	q.MaxDiscount = discount
	q.MaxPoints = min(balance, r.pointsFor(discount))
	if q.MaxPoints == 0 {
		q.Reason, q.MaxDiscount = ReasonNoPoints, 0
	}
	return q
}

// DiscountFor is what redeeming points is worth against a quote: points
// beyond the quote's maximum are refused by the caller.
func (p Program) DiscountFor(points int64, q Quote) int64 {
	if points >= q.MaxPoints {
		return q.MaxDiscount
	}
	return p.Redemption.Value(points)
}
