package loyalty

import (
	"slices"

	"github.com/regulars/regulars/internal/checked"
)

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
// the automatic badge discounts of the badges held. A cart whose total int64
// cannot hold is checked.ErrOverflow (validation keeps carts within
// MaxAmount).
func (p Program) QuoteCart(balance int64, active bool, cart []Line, held []Badge) (Quote, error) {
	var q Quote
	for _, l := range cart {
		var err error
		if q.CartTotal, err = checked.Add(q.CartTotal, l.Gross()); err != nil {
			return Quote{}, err
		}
		if p.Redemption.eligible(l) {
			q.Eligible += l.Net() // Net ≤ Gross: within the total
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
		return q, nil
	}
	discount := r.MaxDiscount.limit(atMost(r.Value(balance))(eligible), eligible)
	q.MaxDiscount = discount
	q.MaxPoints = atMost(r.pointsFor(discount))(balance)
	if q.MaxPoints == 0 {
		q.Reason, q.MaxDiscount = ReasonNoPoints, 0
	}
	return q, nil
}

// atMost returns min(v, bound) as a function of bound, for a v that may have
// overflowed: a v beyond int64 is above any bound, which is then the minimum.
func atMost(v int64, err error) func(bound int64) int64 {
	return func(bound int64) int64 {
		if err != nil {
			return bound
		}
		return min(v, bound)
	}
}

// DiscountFor is what redeeming points is worth against a quote: points
// beyond the quote's maximum are refused by the caller. Fewer points than
// the maximum are worth less than the quote's discount.
func (p Program) DiscountFor(points int64, q Quote) int64 {
	if points >= q.MaxPoints {
		return q.MaxDiscount
	}
	return atMost(p.Redemption.Value(points))(q.MaxDiscount)
}
