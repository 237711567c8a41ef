package loyalty

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// checkQuoteInvariants asserts what every quote must satisfy, whatever the
// program: the points asked are at most the balance, are the fewest that buy
// the discount, and a quote without points carries a reason.
func checkQuoteInvariants(t *testing.T, p Program, balance int64, q Quote) {
	t.Helper()
	r := p.Redemption
	if (q.Reason == ReasonNone) != (q.MaxPoints > 0) {
		t.Errorf("quote %+v: Reason %q with MaxPoints %d (a reason iff no points)", q, q.Reason, q.MaxPoints)
	}
	if q.MaxPoints == 0 && q.MaxDiscount != 0 {
		t.Errorf("quote %+v: a discount of %d for 0 points", q, q.MaxDiscount)
	}
	if q.MaxPoints < 0 || q.MaxPoints > max(balance, 0) {
		t.Errorf("quote %+v: MaxPoints %d outside [0, balance %d]", q, q.MaxPoints, balance)
	}
	if q.MaxDiscount > max(0, q.Eligible-q.BadgeDiscount) {
		t.Errorf("quote %+v: MaxDiscount %d above the eligible amount after the badge discount", q, q.MaxDiscount)
	}
	if q.MaxPoints > 0 {
		if v := must(r.Value(q.MaxPoints)); v < q.MaxDiscount {
			t.Errorf("quote %+v: %d points are worth %d, less than the discount %d they pay for", q, q.MaxPoints, v, q.MaxDiscount)
		}
		if v := must(r.Value(q.MaxPoints - 1)); v >= q.MaxDiscount {
			t.Errorf("quote %+v: %d points (one fewer) already buy %d ≥ the discount %d: not the fewest points", q, q.MaxPoints-1, v, q.MaxDiscount)
		}
	}
}

func TestQuoteCartReasons(t *testing.T) {
	// The default program with a minimum usable balance of 500 points and a
	// minimum cart of 20.00.
	base := seedProgram()
	base.Redemption.MinBalance = 500
	base.Redemption.MinCart = 2000
	edit := func(f func(p *Program)) Program {
		p := base
		f(&p)
		return p
	}
	cart30 := []Line{{SKU: "A", Quantity: 1, UnitPrice: 3000}}

	for _, tc := range []struct {
		name    string
		p       Program
		balance int64
		active  bool
		cart    []Line
		held    []Badge
		want    Reason
	}{
		{name: "program disabled beats everything", p: edit(func(p *Program) { p.Enabled = false }),
			balance: 0, active: false, cart: nil, want: ReasonProgramDisabled},
		{name: "customer not active beats no points", p: base, balance: 0, active: false, cart: cart30, want: ReasonCustomerInactive},
		{name: "no points", p: base, balance: 0, active: true, cart: cart30, want: ReasonNoPoints},
		{name: "negative balance", p: base, balance: -50, active: true, cart: cart30, want: ReasonNoPoints},
		// 499 < 500 minimum usable.
		{name: "below min balance", p: base, balance: 499, active: true, cart: cart30, want: ReasonBelowMinBalance},
		{name: "below min balance beats a small cart", p: base, balance: 499, active: true,
			cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 100}}, want: ReasonBelowMinBalance},
		// 19.99 < 20.00.
		{name: "cart below minimum", p: base, balance: 1000, active: true,
			cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 1999}}, want: ReasonCartTooSmall},
		// 25.00 - 5.01 line discount = 19.99 < 20.00.
		{name: "cart below minimum after line discounts", p: base, balance: 1000, active: true,
			cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 2500, Discount: 501}}, want: ReasonCartTooSmall},
		{name: "nothing eligible: product excluded", p: edit(func(p *Program) { p.Redemption.ExcludedProducts = []string{"A"} }),
			balance: 1000, active: true, cart: cart30, want: ReasonNothingEligible},
		{name: "nothing eligible: all on sale", p: edit(func(p *Program) { p.Redemption.ExcludeOnSale = true }),
			balance: 1000, active: true, cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 3000, OnSale: true}}, want: ReasonNothingEligible},
		{name: "nothing eligible: not on the allow-list", p: edit(func(p *Program) { p.Redemption.AllowedProducts = []string{"B"} }),
			balance: 1000, active: true, cart: cart30, want: ReasonNothingEligible},
		// 30.00 gross of which 30.00 is tax: 0 net to discount.
		{name: "nothing eligible: net zero", p: base, balance: 1000, active: true,
			cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 3000, Tax: 3000}}, want: ReasonNothingEligible},
		// A 50.00 fixed badge discount on a 30.00 cart leaves nothing for points.
		{name: "nothing eligible: badge discount covers the cart", p: base, balance: 1000, active: true, cart: cart30,
			held: []Badge{{ID: "gold", Discount: &Cap{Kind: CapFixed, Value: 5000}}}, want: ReasonNothingEligible},
		{name: "nothing eligible: empty cart and no minimum", p: edit(func(p *Program) { p.Redemption.MinCart = 0 }),
			balance: 1000, active: true, cart: nil, want: ReasonNothingEligible},
		// 100 points = 0.01: 99 points are worth 99 / 100 = 0 minor units.
		{name: "no points: balance worth less than a minor unit", p: edit(func(p *Program) {
			p.Redemption = Redemption{Points: 100, Amount: 1}
		}), balance: 99, active: true, cart: cart30, want: ReasonNoPoints},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := must(tc.p.QuoteCart(tc.balance, tc.active, tc.cart, tc.held))
			if q.Reason != tc.want {
				t.Errorf("Reason = %q, want %q (quote %+v)", q.Reason, tc.want, q)
			}
			if q.MaxPoints != 0 || q.MaxDiscount != 0 {
				t.Errorf("MaxPoints, MaxDiscount = %d, %d with reason %q, want 0, 0", q.MaxPoints, q.MaxDiscount, q.Reason)
			}
			checkQuoteInvariants(t, tc.p, tc.balance, q)
		})
	}
}

func TestQuoteCartAmounts(t *testing.T) {
	// The default rate: 100 points = 1.00, so 1 point = 1 minor unit.
	seed := seedProgram()
	edit := func(f func(p *Program)) Program {
		p := seedProgram()
		f(&p)
		return p
	}
	cart30 := []Line{{SKU: "A", Quantity: 1, UnitPrice: 3000}}
	// 20.00 on sale (A) + 10.00 not (B).
	saleCart := []Line{{SKU: "A", Quantity: 1, UnitPrice: 2000, OnSale: true}, {SKU: "B", Quantity: 1, UnitPrice: 1000}}
	silver := Badge{ID: "silver", Discount: &Cap{Kind: CapPercent, Value: 1000}} // 10 %
	gold := Badge{ID: "gold", Discount: &Cap{Kind: CapFixed, Value: 500}}        // 5.00
	vip := Badge{ID: "vip", Discount: &Cap{Kind: CapPercent, Value: 2000}}       // 20 %
	gold300 := Badge{ID: "gold300", Discount: &Cap{Kind: CapFixed, Value: 300}}  // 3.00
	bronze := Badge{ID: "bronze"}                                                // no discount

	for _, tc := range []struct {
		name    string
		p       Program
		balance int64
		cart    []Line
		held    []Badge

		cartTotal, eligible, badgeDiscount int64
		badges                             []string
		maxDiscount, maxPoints             int64
	}{
		// 1000 points are worth 10.00 < 30.00 eligible: the balance is the limit.
		{name: "balance value caps", p: seed, balance: 1000, cart: cart30,
			cartTotal: 3000, eligible: 3000, maxDiscount: 1000, maxPoints: 1000},
		// 5000 points (50.00) on 30.00: the eligible amount is the limit, 3000 points used.
		{name: "eligible amount caps", p: seed, balance: 5000, cart: cart30,
			cartTotal: 3000, eligible: 3000, maxDiscount: 3000, maxPoints: 3000},
		// Fixed 5.00 maximum.
		{name: "fixed cap", p: edit(func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapFixed, Value: 500} }),
			balance: 5000, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 500, maxPoints: 500},
		// Fixed 5.00 maximum but only 3.00 of points.
		{name: "balance below the fixed cap", p: edit(func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapFixed, Value: 500} }),
			balance: 300, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 300, maxPoints: 300},
		// Fixed 50.00 maximum on a 30.00 cart: the cart is the limit.
		{name: "fixed cap above the cart", p: edit(func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapFixed, Value: 5000} }),
			balance: 10000, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 3000, maxPoints: 3000},
		// 10 % of 30.00 = 3.00.
		{name: "percent cap", p: edit(func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 1000} }),
			balance: 5000, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 300, maxPoints: 300},
		// 10 % of 9.99 = 0.999 → 0.99 (rounded down).
		{name: "percent cap rounds down", p: edit(func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 1000} }),
			balance: 5000, cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 999}}, cartTotal: 999, eligible: 999, maxDiscount: 99, maxPoints: 99},
		// 25 % of 30.00 = 7.50, but only 200 points (2.00).
		{name: "balance below the percent cap", p: edit(func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 2500} }),
			balance: 200, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 200, maxPoints: 200},
		// 50 % of the eligible 10.00 = 5.00, not 50 % of the whole 30.00 cart.
		{name: "percent cap is of the eligible amount", p: edit(func(p *Program) {
			p.Redemption.ExcludeOnSale = true
			p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 5000}
		}), balance: 5000, cart: saleCart, cartTotal: 3000, eligible: 1000, maxDiscount: 500, maxPoints: 500},
		// On-sale A (20.00) excluded: only B's 10.00.
		{name: "on-sale lines excluded", p: edit(func(p *Program) { p.Redemption.ExcludeOnSale = true }),
			balance: 5000, cart: saleCart, cartTotal: 3000, eligible: 1000, maxDiscount: 1000, maxPoints: 1000},
		{name: "on-sale lines eligible unless excluded", p: seed,
			balance: 5000, cart: saleCart, cartTotal: 3000, eligible: 3000, maxDiscount: 3000, maxPoints: 3000},
		{name: "excluded product", p: edit(func(p *Program) { p.Redemption.ExcludedProducts = []string{"A"} }),
			balance: 5000, cart: saleCart, cartTotal: 3000, eligible: 1000, maxDiscount: 1000, maxPoints: 1000},
		// Only B may be discounted: A 20.00 and C 5.00 are not.
		{name: "allow-list", p: edit(func(p *Program) { p.Redemption.AllowedProducts = []string{"B"} }),
			balance: 5000, cart: append(slices.Clone(saleCart), Line{SKU: "C", Quantity: 1, UnitPrice: 500}),
			cartTotal: 3500, eligible: 1000, maxDiscount: 1000, maxPoints: 1000},
		// 12.10 incl. 2.10 tax: the cart total is 12.10, points discount the net 10.00.
		{name: "points discount the net amount", p: seed, balance: 5000,
			cart:      []Line{{SKU: "A", Quantity: 1, UnitPrice: 1210, Tax: 210}},
			cartTotal: 1210, eligible: 1000, maxDiscount: 1000, maxPoints: 1000},
		// Exactly the minimum usable balance and the minimum cart.
		{name: "min balance and min cart boundaries", p: edit(func(p *Program) { p.Redemption.MinBalance, p.Redemption.MinCart = 500, 3000 }),
			balance: 500, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 500, maxPoints: 500},
		// The minimum cart is on the whole cart (15.00 on sale + 6.05 incl. tax = 21.05 ≥ 20.00)
		// even though only 5.00 net is eligible.
		{name: "min cart counts the whole gross cart", p: edit(func(p *Program) {
			p.Redemption.MinCart = 2000
			p.Redemption.ExcludeOnSale = true
		}), balance: 5000, cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 1500, OnSale: true}, {SKU: "B", Quantity: 1, UnitPrice: 605, Tax: 105}},
			cartTotal: 2105, eligible: 500, maxDiscount: 500, maxPoints: 500},

		// Rates that do not divide evenly.
		// 3 points = 0.01: 10 points are worth 10/3 = 3 minor units, which cost 9
		// points; the tenth point buys nothing and is not taken.
		{name: "3 points per minor unit", p: edit(func(p *Program) { p.Redemption = Redemption{Points: 3, Amount: 1} }),
			balance: 10, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 3, maxPoints: 9},
		// 3 points = 0.02: 10 points are worth 20/3 = 6; 6 cost ceil(18/2) = 9 points.
		{name: "3 points per 2 minor units", p: edit(func(p *Program) { p.Redemption = Redemption{Points: 3, Amount: 2} }),
			balance: 10, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 6, maxPoints: 9},
		// Same rate, fixed cap 0.05: 5 cost ceil(15/2) = 8 points (8 are worth 16/3 = 5, 7 only 4).
		{name: "3 points per 2 minor units, fixed cap", p: edit(func(p *Program) {
			p.Redemption = Redemption{Points: 3, Amount: 2, MaxDiscount: &Cap{Kind: CapFixed, Value: 5}}
		}), balance: 100, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 5, maxPoints: 8},
		// 1 point = 0.03 on a 0.10 cart: 10 costs ceil(10/3) = 4 points (worth 12, 3 are worth only 9).
		{name: "1 point per 3 minor units", p: edit(func(p *Program) { p.Redemption = Redemption{Points: 1, Amount: 3} }),
			balance: 100, cart: []Line{{SKU: "A", Quantity: 1, UnitPrice: 10}}, cartTotal: 10, eligible: 10, maxDiscount: 10, maxPoints: 4},
		// 100 points = 0.01: 250 points are worth 2 minor units, which cost 200 points.
		{name: "100 points per minor unit", p: edit(func(p *Program) { p.Redemption = Redemption{Points: 100, Amount: 1} }),
			balance: 250, cart: cart30, cartTotal: 3000, eligible: 3000, maxDiscount: 2, maxPoints: 200},

		// Badge automatic discounts: the best single badge, taken before points.
		// 10 % of 30.00 = 3.00; points discount the remaining 27.00.
		{name: "percent badge", p: seed, balance: 5000, cart: cart30, held: []Badge{silver},
			cartTotal: 3000, eligible: 3000, badgeDiscount: 300, badges: []string{"silver"}, maxDiscount: 2700, maxPoints: 2700},
		// 5.00 fixed beats 10 % (3.00); not their sum (8.00). 30.00 - 5.00 = 25.00 for points.
		{name: "fixed badge beats a smaller percent", p: seed, balance: 5000, cart: cart30, held: []Badge{silver, gold},
			cartTotal: 3000, eligible: 3000, badgeDiscount: 500, badges: []string{"gold"}, maxDiscount: 2500, maxPoints: 2500},
		// 20 % (6.00) beats 5.00 fixed whatever the order.
		{name: "percent badge beats a smaller fixed", p: seed, balance: 5000, cart: cart30, held: []Badge{vip, gold},
			cartTotal: 3000, eligible: 3000, badgeDiscount: 600, badges: []string{"vip"}, maxDiscount: 2400, maxPoints: 2400},
		// 10 % of 30.00 = 3.00 = fixed 3.00: the first held keeps it.
		{name: "tie keeps the first badge", p: seed, balance: 5000, cart: cart30, held: []Badge{silver, gold300},
			cartTotal: 3000, eligible: 3000, badgeDiscount: 300, badges: []string{"silver"}, maxDiscount: 2700, maxPoints: 2700},
		{name: "badge without a discount", p: seed, balance: 5000, cart: cart30, held: []Badge{bronze},
			cartTotal: 3000, eligible: 3000, maxDiscount: 3000, maxPoints: 3000},
		// The badge discount is on the whole cart (10 % of 30.00 = 3.00) and comes
		// off the eligible 10.00: 7.00 left for points.
		{name: "badge discount on the whole cart, off the eligible amount", p: edit(func(p *Program) { p.Redemption.ExcludeOnSale = true }),
			balance: 5000, cart: saleCart, held: []Badge{silver},
			cartTotal: 3000, eligible: 1000, badgeDiscount: 300, badges: []string{"silver"}, maxDiscount: 700, maxPoints: 700},
		// Percent cap of what is left: 10 % of (30.00 - 3.00) = 2.70.
		{name: "badge discount reduces the percent cap base", p: edit(func(p *Program) {
			p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 1000}
		}), balance: 5000, cart: cart30, held: []Badge{silver},
			cartTotal: 3000, eligible: 3000, badgeDiscount: 300, badges: []string{"silver"}, maxDiscount: 270, maxPoints: 270},
		// The balance (10.00) limits, not the badge: 30.00 - 3.00 = 27.00 > 10.00.
		{name: "badge and a small balance", p: seed, balance: 1000, cart: cart30, held: []Badge{silver},
			cartTotal: 3000, eligible: 3000, badgeDiscount: 300, badges: []string{"silver"}, maxDiscount: 1000, maxPoints: 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := must(tc.p.QuoteCart(tc.balance, true, tc.cart, tc.held))
			if q.Reason != ReasonNone {
				t.Fatalf("Reason = %q, want none (quote %+v)", q.Reason, q)
			}
			if q.CartTotal != tc.cartTotal || q.Eligible != tc.eligible || q.BadgeDiscount != tc.badgeDiscount {
				t.Errorf("CartTotal, Eligible, BadgeDiscount = %d, %d, %d; want %d, %d, %d",
					q.CartTotal, q.Eligible, q.BadgeDiscount, tc.cartTotal, tc.eligible, tc.badgeDiscount)
			}
			if !slices.Equal(q.Badges, tc.badges) {
				t.Errorf("Badges = %q, want %q", q.Badges, tc.badges)
			}
			if q.MaxDiscount != tc.maxDiscount || q.MaxPoints != tc.maxPoints {
				t.Errorf("MaxDiscount, MaxPoints = %d, %d; want %d, %d", q.MaxDiscount, q.MaxPoints, tc.maxDiscount, tc.maxPoints)
			}
			checkQuoteInvariants(t, tc.p, tc.balance, q)
		})
	}
}

// Random programs, carts and balances: the quote is always the largest
// discount allowed by the eligible amount, the balance and the cap, paid with
// the fewest points.
func TestQuoteCartProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 25))
	for i := range 20000 {
		p := seedProgram()
		p.Redemption.Points = rng.Int64N(1000) + 1
		p.Redemption.Amount = rng.Int64N(1000) + 1
		p.Redemption.ExcludeOnSale = rng.IntN(2) == 0
		switch rng.IntN(3) {
		case 1:
			p.Redemption.MaxDiscount = &Cap{Kind: CapFixed, Value: rng.Int64N(5000)}
		case 2:
			p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: rng.Int64N(10001)}
		}
		var cart []Line
		for range rng.IntN(4) + 1 {
			cart = append(cart, Line{SKU: "S", Quantity: rng.Int64N(3) + 1, UnitPrice: rng.Int64N(5000),
				Tax: rng.Int64N(200), OnSale: rng.IntN(3) == 0})
		}
		var held []Badge
		if rng.IntN(3) == 0 {
			held = []Badge{{ID: "b", Discount: &Cap{Kind: CapPercent, Value: rng.Int64N(3000) + 1}}}
		}
		balance := rng.Int64N(1_000_000) - 1000
		q := must(p.QuoteCart(balance, true, cart, held))
		checkQuoteInvariants(t, p, balance, q)

		// The discount is the largest allowed.
		left := max(0, q.Eligible-q.BadgeDiscount)
		want := min(left, must(p.Redemption.Value(max(balance, 0))))
		if c := p.Redemption.MaxDiscount; c != nil {
			if c.Kind == CapFixed {
				want = min(want, c.Value)
			} else {
				want = min(want, left*c.Value/10000)
			}
		}
		if q.MaxDiscount != want {
			t.Fatalf("case %d: rate %d:%d balance %d cap %+v eligible %d badge %d: MaxDiscount %d, want %d",
				i, p.Redemption.Points, p.Redemption.Amount, balance, p.Redemption.MaxDiscount, q.Eligible, q.BadgeDiscount, q.MaxDiscount, want)
		}
		if t.Failed() {
			t.Fatalf("case %d failed: program %+v, balance %d, cart %+v", i, p.Redemption, balance, cart)
		}
	}
}

func TestDiscountFor(t *testing.T) {
	// 1 point = 0.03 on a 0.10 cart, 100 points: MaxPoints 4 for MaxDiscount 10
	// (see TestQuoteCartAmounts).
	p := seedProgram()
	p.Redemption = Redemption{Points: 1, Amount: 3}
	q := must(p.QuoteCart(100, true, []Line{{SKU: "A", Quantity: 1, UnitPrice: 10}}, nil))
	if q.MaxPoints != 4 || q.MaxDiscount != 10 {
		t.Fatalf("quote = %+v, want MaxPoints 4, MaxDiscount 10", q)
	}
	for _, tc := range []struct {
		points, want int64
	}{
		{0, 0},
		{1, 3}, // 1 × 3
		{3, 9}, // 3 × 3
		{4, 10},
		{5, 10}, // beyond the maximum: never more than the quote's discount
	} {
		if got := p.DiscountFor(tc.points, q); got != tc.want {
			t.Errorf("DiscountFor(%d) = %d, want %d", tc.points, got, tc.want)
		}
	}

	// Seed rate, 10.00 worth of points on 30.00: 250 points are 2.50.
	seed := seedProgram()
	q = must(seed.QuoteCart(1000, true, []Line{{SKU: "A", Quantity: 1, UnitPrice: 3000}}, nil))
	if got := seed.DiscountFor(250, q); got != 250 {
		t.Errorf("seed: DiscountFor(250) = %d, want 250", got)
	}

	// A refused quote discounts nothing, however many points are offered.
	q = must(seed.QuoteCart(0, true, []Line{{SKU: "A", Quantity: 1, UnitPrice: 3000}}, nil))
	if got := seed.DiscountFor(100, q); got != 0 {
		t.Errorf("refused quote: DiscountFor(100) = %d, want 0", got)
	}

	// Property: DiscountFor is non-decreasing in points, never above the quote's
	// discount, and reaches it at MaxPoints.
	rng := rand.New(rand.NewPCG(7, 7))
	for range 500 {
		p := seedProgram()
		p.Redemption.Points = rng.Int64N(50) + 1
		p.Redemption.Amount = rng.Int64N(50) + 1
		balance := rng.Int64N(3000) + 1
		q := must(p.QuoteCart(balance, true, []Line{{SKU: "A", Quantity: 1, UnitPrice: rng.Int64N(3000) + 1}}, nil))
		prev := int64(0)
		for pts := int64(0); pts <= q.MaxPoints+2; pts++ {
			d := p.DiscountFor(pts, q)
			if d < prev || d > q.MaxDiscount {
				t.Fatalf("rate %d:%d quote %+v: DiscountFor(%d) = %d after %d (must be non-decreasing and ≤ %d)",
					p.Redemption.Points, p.Redemption.Amount, q, pts, d, prev, q.MaxDiscount)
			}
			prev = d
		}
		if got := p.DiscountFor(q.MaxPoints, q); got != q.MaxDiscount {
			t.Fatalf("quote %+v: DiscountFor(MaxPoints) = %d, want %d", q, got, q.MaxDiscount)
		}
	}
}
