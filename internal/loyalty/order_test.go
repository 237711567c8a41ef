package loyalty

import (
	"maps"
	"math/rand/v2"
	"testing"
)

func TestLineNetAndGross(t *testing.T) {
	for _, tc := range []struct {
		name       string
		l          Line
		net, gross int64
	}{
		// 2 × 6.00 = 12.00; minus 1.00 discount = 11.00 paid; minus 1.50 tax = 9.50 net.
		{name: "discount and tax", l: Line{Quantity: 2, UnitPrice: 600, Discount: 100, Tax: 150}, net: 950, gross: 1100},
		// 1 × 12.34, nothing else.
		{name: "plain", l: Line{Quantity: 1, UnitPrice: 1234}, net: 1234, gross: 1234},
		// 1 × 5.00 with a 6.00 discount: never below zero.
		{name: "discount above the price", l: Line{Quantity: 1, UnitPrice: 500, Discount: 600}, net: 0, gross: 0},
		// 1 × 5.00, 3.00 discount, 3.00 tax: 5 - 3 - 3 = -1 → 0 net, 2.00 gross.
		{name: "discount plus tax above the price", l: Line{Quantity: 1, UnitPrice: 500, Discount: 300, Tax: 300}, net: 0, gross: 200},
		{name: "zero quantity", l: Line{Quantity: 0, UnitPrice: 500}, net: 0, gross: 0},
		// -2 × 5.00 = -10.00 → 0.
		{name: "negative quantity", l: Line{Quantity: -2, UnitPrice: 500}, net: 0, gross: 0},
	} {
		if got := tc.l.Net(); got != tc.net {
			t.Errorf("%s: Net() = %d, want %d", tc.name, got, tc.net)
		}
		if got := tc.l.Gross(); got != tc.gross {
			t.Errorf("%s: Gross() = %d, want %d", tc.name, got, tc.gross)
		}
	}
}

func TestPointsForOrder(t *testing.T) {
	// The default program: 10 points per full 5.00 of net spend, 100 points = 1.00.
	seed := seedProgram()
	withOverrides := seedProgram()
	withOverrides.Earning.Overrides = []ProductOverride{
		{SKU: "MUG", PointsPerUnit: pointsOf(25)},
		{SKU: "TEA", Percent: pointsOf(500)}, // 5 %
	}
	withOverrides.Earning.ExcludedProducts = []string{"GIFT-CARD", "TEA-EXCLUDED"}
	withOverrides.Earning.Overrides = append(withOverrides.Earning.Overrides,
		ProductOverride{SKU: "TEA-EXCLUDED", Percent: pointsOf(10000)})
	// 3 points = 2 minor units: a rate whose conversions do not divide evenly.
	oddRate := withOverrides
	oddRate.Redemption = Redemption{Points: 3, Amount: 2}
	// 200 points = 1.00 (2 points per minor unit).
	doubleRate := withOverrides
	doubleRate.Redemption = Redemption{Points: 200, Amount: 100}
	noSpend := seedProgram()
	noSpend.Earning.PointsPerStep = 0

	for _, tc := range []struct {
		name      string
		p         Program
		lines     []Line
		total     int64
		spendBase int64
		fromSpend int64
		fromLines map[string]int64
	}{
		// 12.34 / 5.00 = 2 full steps → 2 × 10 = 20.
		{name: "seed: 12.34 earns 20", p: seed, lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 1234}},
			total: 20, spendBase: 1234, fromSpend: 20},
		// 4.99 / 5.00 = 0 full steps.
		{name: "seed: 4.99 earns nothing", p: seed, lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 499}},
			total: 0, spendBase: 499, fromSpend: 0},
		// 5.00 / 5.00 = exactly 1 step → 10.
		{name: "seed: exactly 5.00 earns 10", p: seed, lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 500}},
			total: 10, spendBase: 500, fromSpend: 10},
		// Rounded per order: 2.50 + 2.50 = 5.00 → 10 (per line it would be 0 + 0).
		{name: "rounding per order, not per line", p: seed, lines: []Line{
			{SKU: "A", Quantity: 1, UnitPrice: 250}, {SKU: "B", Quantity: 1, UnitPrice: 250}},
			total: 10, spendBase: 500, fromSpend: 10},
		// 3 × 4.99 = 14.97 → 2 steps → 20 (unit price alone would never reach a step).
		{name: "quantity multiplies the unit price", p: seed, lines: []Line{{SKU: "A", Quantity: 3, UnitPrice: 499}},
			total: 20, spendBase: 1497, fromSpend: 20},
		// 2 × 6.00 = 12.00, minus 1.00 discount, minus 1.50 tax = 9.50 → 1 step → 10
		// (the 11.00 paid would have made 2 steps).
		{name: "tax and discount removed before the rule", p: seed, lines: []Line{
			{SKU: "A", Quantity: 2, UnitPrice: 600, Discount: 100, Tax: 150}},
			total: 10, spendBase: 950, fromSpend: 10},
		// 10.00 with 10.00 discount → 0 net.
		{name: "fully discounted line", p: seed, lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 1000, Discount: 1000}},
			total: 0, spendBase: 0, fromSpend: 0},
		// Gift card 50.00 excluded; 4.00 of other goods → 0 steps.
		{name: "excluded product adds nothing", p: withOverrides, lines: []Line{
			{SKU: "GIFT-CARD", Quantity: 1, UnitPrice: 5000}, {SKU: "A", Quantity: 1, UnitPrice: 400}},
			total: 0, spendBase: 400, fromSpend: 0, fromLines: map[string]int64{}},
		// MUG: 3 units × 25 = 75; its 30.00 stay out of the spend base;
		// A: 5.00 → 1 step → 10. Total 85.
		{name: "fixed points per unit", p: withOverrides, lines: []Line{
			{SKU: "MUG", Quantity: 3, UnitPrice: 1000}, {SKU: "A", Quantity: 1, UnitPrice: 500}},
			total: 85, spendBase: 500, fromSpend: 10, fromLines: map[string]int64{"MUG": 75}},
		// Fixed points ignore price and discount: 1 MUG at 0.01 still earns 25.
		{name: "fixed points ignore the price", p: withOverrides, lines: []Line{{SKU: "MUG", Quantity: 1, UnitPrice: 1, Discount: 1}},
			total: 25, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{"MUG": 25}},
		// TEA: 5 % of 20.00 net = 1.00; at 100 points = 1.00 → 100 points.
		{name: "percent at the redemption rate", p: withOverrides, lines: []Line{{SKU: "TEA", Quantity: 1, UnitPrice: 2000}},
			total: 100, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{"TEA": 100}},
		// TEA: 24.20 incl. 4.20 tax = 20.00 net; 5 % = 1.00 → 100 points (tax is not rewarded).
		{name: "percent on the net amount", p: withOverrides, lines: []Line{{SKU: "TEA", Quantity: 1, UnitPrice: 2420, Tax: 420}},
			total: 100, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{"TEA": 100}},
		// TEA: 5 % of 19.99 = 0.9995 → 99 minor units (money rounded down first);
		// at 3 points = 2 minor: 99 × 3 / 2 = 148.5 → 148.
		{name: "percent at a rate that does not divide evenly", p: oddRate, lines: []Line{{SKU: "TEA", Quantity: 1, UnitPrice: 1999}},
			total: 148, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{"TEA": 148}},
		// TEA: 5 % of 20.00 = 100 minor; at 200 points = 100 minor → 200 points.
		{name: "percent at 2 points per minor unit", p: doubleRate, lines: []Line{{SKU: "TEA", Quantity: 1, UnitPrice: 2000}},
			total: 200, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{"TEA": 200}},
		// Two TEA lines add up under one SKU: 5 % of 20.00 + 5 % of 40.00 = 100 + 200.
		{name: "same override on two lines", p: withOverrides, lines: []Line{
			{SKU: "TEA", Quantity: 1, UnitPrice: 2000}, {SKU: "TEA", Quantity: 2, UnitPrice: 2000}},
			total: 300, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{"TEA": 300}},
		// Overridden and excluded: the exclusion wins.
		{name: "exclusion beats override", p: withOverrides, lines: []Line{{SKU: "TEA-EXCLUDED", Quantity: 1, UnitPrice: 10000}},
			total: 0, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{}},
		// Everything together: A 7.50 + B 2.60 = 10.10 → 2 steps → 20;
		// MUG 2 × 25 = 50; TEA 5 % of 10.00 = 0.50 → 50; gift card ignored. 20 + 50 + 50 = 120.
		{name: "mixed order", p: withOverrides, lines: []Line{
			{SKU: "A", Quantity: 1, UnitPrice: 750},
			{SKU: "MUG", Quantity: 2, UnitPrice: 900},
			{SKU: "GIFT-CARD", Quantity: 1, UnitPrice: 2500},
			{SKU: "B", Quantity: 2, UnitPrice: 130},
			{SKU: "TEA", Quantity: 1, UnitPrice: 1000}},
			total: 120, spendBase: 1010, fromSpend: 20, fromLines: map[string]int64{"MUG": 50, "TEA": 50}},
		// Zero quantity earns nothing, under the spend rule or an override.
		{name: "zero quantities", p: withOverrides, lines: []Line{
			{SKU: "A", Quantity: 0, UnitPrice: 5000}, {SKU: "MUG", Quantity: 0, UnitPrice: 900}},
			total: 0, spendBase: 0, fromSpend: 0, fromLines: map[string]int64{"MUG": 0}},
		// A negative line (a return) neither earns nor takes away from the rest:
		// A 10.00 → 2 steps → 20; B -1 × 10.00 → 0 net; MUG -2 units → 0 points.
		{name: "negative quantities do not subtract", p: withOverrides, lines: []Line{
			{SKU: "A", Quantity: 1, UnitPrice: 1000}, {SKU: "B", Quantity: -1, UnitPrice: 1000}, {SKU: "MUG", Quantity: -2, UnitPrice: 900}},
			total: 20, spendBase: 1000, fromSpend: 20, fromLines: map[string]int64{"MUG": 0}},
		// 0 points per step: spend earns nothing, whatever the amount.
		{name: "zero points per step", p: noSpend, lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 100000}},
			total: 0, spendBase: 100000, fromSpend: 0},
		{name: "empty order", p: seed, total: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := must(tc.p.PointsForOrder(tc.lines))
			if got.Total != tc.total || got.SpendBase != tc.spendBase || got.FromSpend != tc.fromSpend {
				t.Errorf("PointsForOrder: total %d, spend base %d, from spend %d; want %d, %d, %d",
					got.Total, got.SpendBase, got.FromSpend, tc.total, tc.spendBase, tc.fromSpend)
			}
			if !maps.Equal(got.FromLines, tc.fromLines) {
				t.Errorf("FromLines = %v, want %v", got.FromLines, tc.fromLines)
			}
			// The breakdown adds up.
			sum := got.FromSpend
			for _, v := range got.FromLines {
				sum += v
			}
			if sum != got.Total {
				t.Errorf("FromSpend + FromLines = %d, Total = %d", sum, got.Total)
			}
		})
	}
}

func TestRefund(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		earned, orderNet, refunds int64
		want                      int64
	}{
		// Full refund: everything back.
		{name: "full refund", earned: 20, orderNet: 1234, refunds: 1234, want: 20},
		// More than the order: clamped to the order, still everything.
		{name: "refund above the order", earned: 20, orderNet: 1234, refunds: 5000, want: 20},
		{name: "nothing refunded", earned: 20, orderNet: 1234, refunds: 0, want: 0},
		{name: "negative refund", earned: 20, orderNet: 1234, refunds: -100, want: 0},
		// Half of 30.00 back on 10 points: 10 × 1500 / 3000 = 5 exactly.
		{name: "half", earned: 10, orderNet: 3000, refunds: 1500, want: 5},
		// A third: 10 × 1000 / 3000 = 3.33 → rounded up to 4.
		{name: "one third rounds up", earned: 10, orderNet: 3000, refunds: 1000, want: 4},
		// Two thirds: 10 × 2000 / 3000 = 6.67 → 7.
		{name: "two thirds rounds up", earned: 10, orderNet: 3000, refunds: 2000, want: 7},
		// 0.01 of 30.00 on 10 points: 0.0033 → 1.
		{name: "one cent takes a point", earned: 10, orderNet: 3000, refunds: 1, want: 1},
		{name: "order earned nothing", earned: 0, orderNet: 3000, refunds: 3000, want: 0},
		{name: "order net zero", earned: 10, orderNet: 0, refunds: 0, want: 0},
		{name: "negative earned", earned: -10, orderNet: 3000, refunds: 3000, want: 0},
	} {
		if got := Refund(tc.earned, tc.orderNet, tc.refunds); got != tc.want {
			t.Errorf("%s: Refund(%d, %d, %d) = %d, want %d", tc.name, tc.earned, tc.orderNet, tc.refunds, got, tc.want)
		}
	}
}

// Refund rounds up, so it must be applied to the cumulative refunded amount
// (taking back Refund(total so far) - what was already taken): three separate
// refunds of a third then take back 4 + 3 + 3 = 10, exactly what was earned.
func TestRefundCumulative(t *testing.T) {
	// Worked example: 10 points on 30.00, refunded in three 10.00 parts.
	var taken int64
	var want = []int64{4, 3, 3} // ceil(3.33)=4, ceil(6.67)-4=3, 10-7=3
	for i, cum := range []int64{1000, 2000, 3000} {
		step := Refund(10, 3000, cum) - taken
		if step != want[i] {
			t.Errorf("refund %d (cumulative %d): takes %d, want %d", i+1, cum, step, want[i])
		}
		taken += step
	}
	if taken != 10 {
		t.Errorf("three thirds took %d points back, want 10", taken)
	}

	// Property: for any split, the increments are never negative and add up to
	// exactly what was earned once everything is refunded.
	rng := rand.New(rand.NewPCG(4, 2))
	for range 2000 {
		earned := rng.Int64N(10000) + 1
		orderNet := rng.Int64N(100000) + 1
		var cum, taken int64
		for cum < orderNet {
			cum = min(orderNet, cum+rng.Int64N(orderNet)+1)
			r := Refund(earned, orderNet, cum)
			if r < taken || r > earned {
				t.Fatalf("Refund(%d, %d, %d) = %d after %d already taken: not monotone within [0, earned]", earned, orderNet, cum, r, taken)
			}
			taken = r
		}
		if taken != earned {
			t.Fatalf("earned %d on %d: a full refund in parts took back %d", earned, orderNet, taken)
		}
	}
}
