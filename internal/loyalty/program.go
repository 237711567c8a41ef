// Package loyalty is the points program: the rules a merchant sets (earning,
// actions, redemption, refunds, expiry), what they compute (points for an
// order, the checkout quote), rewards, badges and the wallet of point lots.
// It is pure Go with integer arithmetic only: money is minor units, points are
// integers, percentages are basis points (1/100 of a percent).
package loyalty

import (
	"slices"
	"strings"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/checked"
)

// Trigger is the order status at which purchase points are earned.
type Trigger string

// Triggers.
const (
	TriggerCreated   Trigger = "created"
	TriggerPaid      Trigger = "paid"
	TriggerCompleted Trigger = "completed"
)

// RefundPolicy says what refunds and voids may do to a balance.
type RefundPolicy string

// Refund policies.
const (
	// RefundWithinBalance takes back at most what the customer still has:
	// the balance never goes below zero, the shortfall is forgiven.
	RefundWithinBalance RefundPolicy = "within_balance"
	// RefundAllowNegative takes back everything, even below zero; the debt is
	// repaid by the next points earned.
	RefundAllowNegative RefundPolicy = "allow_negative"
)

// BasisPoints is a percentage in hundredths of a percent: 1000 = 10 %.
type BasisPoints = int64

// ProductOverride replaces the spend rule for one product:
// either fixed points per unit, or a percentage of the line's net amount
// converted to points at the redemption rate.
type ProductOverride struct {
	SKU           string
	PointsPerUnit *int64
	Percent       *BasisPoints
}

// Earning is how purchases earn points: PointsPerStep for every full
// StepAmount of net spend per order, rounded down (by default 10 points per 5.00).
type Earning struct {
	PointsPerStep    int64
	StepAmount       int64 // minor units
	Trigger          Trigger
	Overrides        []ProductOverride
	ExcludedProducts []string
}

// Actions are fixed points for customer actions.
type Actions struct {
	Signup                int64
	Newsletter            int64
	Review                int64
	ReviewOncePerCustomer bool     // false: every review earns
	SignupOn              SignupOn // which enrolments earn the signup points; "" is SignupAny
}

// SignupOn says which enrolments earn the signup points.
type SignupOn string

// The signup rules.
const (
	SignupAny  SignupOn = "any"  // every enrolment: API, card, import, first purchase
	SignupCard SignupOn = "card" // card enrolments only
)

// EnrolmentPath is how a customer entered the base.
type EnrolmentPath string

// The enrolment paths.
const (
	EnrolAPI      EnrolmentPath = "api"      // POST /v1/customers
	EnrolCard     EnrolmentPath = "card"     // POST /v1/cards/enrol
	EnrolImport   EnrolmentPath = "import"   // a created row of an import
	EnrolPurchase EnrolmentPath = "purchase" // a first purchase through the webhook
)

// SignupFor reports whether an enrolment by path earns the signup points
// (when the program is enabled and signup is worth any).
func (a Actions) SignupFor(path EnrolmentPath) bool {
	return a.SignupOn != SignupCard || path == EnrolCard
}

// CapKind is how a maximum discount is expressed.
type CapKind string

// Cap kinds.
const (
	CapFixed   CapKind = "fixed"   // Value is minor units
	CapPercent CapKind = "percent" // Value is basis points of the eligible cart
)

// Cap limits a discount.
type Cap struct {
	Kind  CapKind
	Value int64
}

// of is the cap's amount over a total: the fixed value (at most the total)
// or the percentage (at most 100 %) of the total, rounded down.
func (c Cap) of(total int64) int64 {
	if c.Kind == CapPercent {
		return checked.Share(total, c.Value, 10000)
	}
	return min(c.Value, total)
}

// limit applies an optional cap to a discount over an eligible amount.
func (c *Cap) limit(discount, eligible int64) int64 {
	if c == nil {
		return discount
	}
	return min(discount, c.of(eligible))
}

// Redemption is how points turn into a checkout discount.
type Redemption struct {
	Points           int64 // Points points are worth Amount minor units,
	Amount           int64 // e.g. 100 points = 100 (1.00 EUR)
	MinBalance       int64 // points the customer must hold to redeem at all
	MinCart          int64 // minor units the cart must reach
	MaxDiscount      *Cap
	ExcludeOnSale    bool
	ExcludedProducts []string
	AllowedProducts  []string // when set, only these may be discounted
}

// Value converts points to money at the redemption rate, rounded down; money
// that int64 cannot hold is checked.ErrOverflow.
func (r Redemption) Value(points int64) (int64, error) {
	if r.Points == 0 {
		return 0, nil
	}
	return checked.MulDiv(points, r.Amount, r.Points)
}

// pointsFor converts money to the points it costs, rounded up; points that
// int64 cannot hold are checked.ErrOverflow.
func (r Redemption) pointsFor(amount int64) (int64, error) {
	if r.Amount == 0 {
		return 0, nil
	}
	return checked.MulDivUp(amount, r.Points, r.Amount)
}

// Program is a merchant's points program at one version.
type Program struct {
	Version      int64
	Enabled      bool
	Earning      Earning
	Actions      Actions
	Redemption   Redemption
	RefundPolicy RefundPolicy
	ExpiryDays   int64 // 0: points never expire
}

// DefaultProgram is the program of a merchant who has not set one: disabled,
// with example rates ready to switch on (10 points per 5.00 spent, 100
// points = 1.00).
func DefaultProgram() Program {
	return Program{
		Earning:      Earning{PointsPerStep: 10, StepAmount: 500, Trigger: TriggerPaid},
		Actions:      Actions{SignupOn: SignupAny},
		Redemption:   Redemption{Points: 100, Amount: 100},
		RefundPolicy: RefundWithinBalance,
	}
}

// Limits on a program.
const (
	maxProducts = 500
	maxPoints   = 1_000_000_000 // no single rule may award more
)

// Validate checks a program and returns it normalised (SKU lists sorted and
// de-duplicated). Paths are those of the API representation.
func (p Program) Validate() (Program, error) {
	var fe apperr.Fields
	nonNeg := func(path string, v int64) {
		if v < 0 || v > maxPoints {
			fe.Add(path, "must be between 0 and %d", maxPoints)
		}
	}
	e := &p.Earning
	nonNeg("/earning/points_per_step", e.PointsPerStep)
	if e.StepAmount <= 0 || e.StepAmount > MaxAmount {
		fe.Add("/earning/step_amount", "must be a positive amount in minor units, at most %d", MaxAmount)
	}
	switch e.Trigger {
	case TriggerCreated, TriggerPaid, TriggerCompleted:
	default:
		fe.Add("/earning/trigger", "must be created, paid or completed")
	}
	if len(e.Overrides) > maxProducts {
		fe.Add("/earning/overrides", "must hold at most %d products", maxProducts)
	}
	e.Overrides = slices.Clone(e.Overrides) // normalise a copy, not the caller's slice
	seen := map[string]bool{}
	for i, o := range e.Overrides {
		path := "/earning/overrides/" + itoa(i)
		o.SKU = strings.TrimSpace(o.SKU)
		e.Overrides[i].SKU = o.SKU
		switch {
		case !validSKU(o.SKU):
			fe.Add(path+"/sku", "must be 1 to 64 printable characters")
		case seen[o.SKU]:
			fe.Add(path+"/sku", "is overridden twice")
		}
		seen[o.SKU] = true
		switch {
		case (o.PointsPerUnit == nil) == (o.Percent == nil):
			fe.Add(path, "must set exactly one of points_per_unit and percent")
		case o.PointsPerUnit != nil:
			nonNeg(path+"/points_per_unit", *o.PointsPerUnit)
		case *o.Percent < 0 || *o.Percent > 100_000:
			fe.Add(path+"/percent", "must be between 0 and 100000 basis points")
		}
	}
	e.ExcludedProducts = skuList("/earning/excluded_products", e.ExcludedProducts, &fe)
	a := p.Actions
	nonNeg("/actions/signup", a.Signup)
	nonNeg("/actions/newsletter", a.Newsletter)
	nonNeg("/actions/review", a.Review)
	switch a.SignupOn {
	case "":
		p.Actions.SignupOn = SignupAny
	case SignupAny, SignupCard:
	default:
		fe.Add("/actions/signup_on", "must be any or card")
	}
	r := &p.Redemption
	if r.Points <= 0 || r.Points > maxPoints {
		fe.Add("/redemption/points", "must be between 1 and %d", maxPoints)
	}
	if r.Amount <= 0 || r.Amount > maxPoints {
		fe.Add("/redemption/amount", "must be a positive amount in minor units")
	}
	nonNeg("/redemption/min_balance", r.MinBalance)
	if r.MinCart < 0 || r.MinCart > MaxAmount {
		fe.Add("/redemption/min_cart", "must be between 0 and %d minor units", MaxAmount)
	}
	if c := r.MaxDiscount; c != nil {
		switch {
		case c.Kind == CapFixed && (c.Value < 0 || c.Value > MaxAmount):
			fe.Add("/redemption/max_discount/value", "must be between 0 and %d minor units", MaxAmount)
		case c.Kind == CapPercent && (c.Value < 0 || c.Value > 10000):
			fe.Add("/redemption/max_discount/value", "must be between 0 and 10000 basis points")
		case c.Kind != CapFixed && c.Kind != CapPercent:
			fe.Add("/redemption/max_discount/kind", "must be fixed or percent")
		}
	}
	r.ExcludedProducts = skuList("/redemption/excluded_products", r.ExcludedProducts, &fe)
	r.AllowedProducts = skuList("/redemption/allowed_products", r.AllowedProducts, &fe)
	if len(r.ExcludedProducts) > 0 && len(r.AllowedProducts) > 0 {
		fe.Add("/redemption/allowed_products", "cannot be combined with excluded_products")
	}
	switch p.RefundPolicy {
	case RefundWithinBalance, RefundAllowNegative:
	default:
		fe.Add("/refund_policy", "must be within_balance or allow_negative")
	}
	if p.ExpiryDays < 0 || p.ExpiryDays > 3650 {
		fe.Add("/expiry_days", "must be between 0 (never) and 3650")
	}
	if err := fe.Err(); err != nil {
		return Program{}, err
	}
	return p, nil
}

func validSKU(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func skuList(path string, skus []string, fe *apperr.Fields) []string {
	if len(skus) > maxProducts {
		fe.Add(path, "must hold at most %d products", maxProducts)
		return skus
	}
	out := make([]string, 0, len(skus))
	for i, s := range skus {
		s = strings.TrimSpace(s)
		if !validSKU(s) {
			fe.Add(path+"/"+itoa(i), "must be 1 to 64 printable characters")
			continue
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
