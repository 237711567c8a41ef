package loyalty

import (
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/checked"
)

// The figures of issue #10: within the documented bounds they wrapped.
func TestNoWrappedFigures(t *testing.T) {
	maxLine := Line{SKU: "A", Quantity: 1_000_000, UnitPrice: 1_000_000_000_00}
	// 185 lines of the largest quantity and price: the cart total wrapped.
	p := DefaultProgram()
	p.Enabled = true
	if q, err := p.QuoteCart(100, true, slices.Repeat([]Line{maxLine}, 185), nil); !errors.Is(err, checked.ErrOverflow) {
		t.Fatalf("185 largest lines: %+v, %v", q, err)
	}
	// 10^9 points per step of 1 on a purchase of 10^11: the points wrapped
	// and drove the balance to −2.9e18.
	p.Earning.PointsPerStep, p.Earning.StepAmount = 1_000_000_000, 1
	if pts, err := p.PointsForOrder([]Line{{SKU: "A", Quantity: 1, UnitPrice: 1_000_000_000_00}}); !errors.Is(err, checked.ErrOverflow) {
		t.Fatalf("10^9 points per minor unit of 10^11: %+v, %v", pts, err)
	}
	// 10^15 points is the most a balance holds; one more is refused, as is
	// owing more than that.
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	w, err := Wallet{}.Credit(MaxBalance, at, nil, true)
	if err != nil || w.Balance != MaxBalance {
		t.Fatalf("credit to the maximum: %+v, %v", w, err)
	}
	if _, err := w.Credit(1, at, nil, false); err == nil {
		t.Fatal("a credit beyond the maximum balance was accepted")
	}
	if _, _, err := (Wallet{Balance: -MaxBalance}).Debit(1, AllowNegative); err == nil {
		t.Fatal("a debt beyond the maximum balance was accepted")
	}
	if _, err := w.Absorb(Wallet{Balance: 1, EarnedTotal: 1, Lots: []Lot{{EarnedAt: at, Remaining: 1}}}); err == nil {
		t.Fatal("a merge beyond the maximum balance was accepted")
	}
}

// ref is the order and quote arithmetic in big.Int: what the int64 code must
// return exactly, or report as an overflow.
func refPoints(p Program, lines []Line) *big.Int {
	n := func(v int64) *big.Int { return big.NewInt(v) }
	total, base := n(0), n(0)
	for _, l := range lines {
		net := new(big.Int).Sub(new(big.Int).Mul(n(l.Quantity), n(l.UnitPrice)), n(l.Discount+l.Tax))
		if net.Sign() < 0 {
			net.SetInt64(0)
		}
		switch o := p.override(l.SKU); {
		case slices.Contains(p.Earning.ExcludedProducts, l.SKU):
		case o != nil && o.PointsPerUnit != nil:
			total.Add(total, new(big.Int).Mul(n(*o.PointsPerUnit), n(l.Quantity)))
		case o != nil:
			money := new(big.Int).Quo(new(big.Int).Mul(net, n(*o.Percent)), n(10000))
			total.Add(total, new(big.Int).Quo(new(big.Int).Mul(money, n(p.Redemption.Points)), n(p.Redemption.Amount)))
		default:
			base.Add(base, net)
		}
	}
	steps := new(big.Int).Quo(base, n(p.Earning.StepAmount))
	return total.Add(total, steps.Mul(steps, n(p.Earning.PointsPerStep)))
}

func refQuote(p Program, balance int64, cart []Line) (maxPoints, maxDiscount *big.Int) {
	n := func(v int64) *big.Int { return big.NewInt(v) }
	eligible := n(0)
	for _, l := range cart {
		if p.Redemption.eligible(l) {
			eligible.Add(eligible, n(l.Net()))
		}
	}
	r := p.Redemption
	value := new(big.Int).Quo(new(big.Int).Mul(n(balance), n(r.Amount)), n(r.Points))
	discount := eligible
	if value.Cmp(discount) < 0 {
		discount = value
	}
	pts := new(big.Int).Mul(discount, n(r.Points))
	pts.Add(pts, n(r.Amount-1)).Quo(pts, n(r.Amount))
	if pts.Cmp(n(balance)) > 0 {
		pts = n(balance)
	}
	return pts, discount
}

// FuzzOrderAndQuote: for programs and carts within every documented maximum,
// the points of an order and the checkout quote equal big.Int arithmetic, or
// are checked.ErrOverflow exactly when the exact figure exceeds int64.
func FuzzOrderAndQuote(f *testing.F) {
	f.Add(int64(1_000_000_000), int64(1), int64(100_000), int64(1_000_000_000), int64(1), int64(1_000_000_000),
		uint16(185), int64(1_000_000), int64(1_000_000_000_00), int64(MaxBalance))
	f.Add(int64(10), int64(500), int64(1000), int64(5), int64(100), int64(100), uint16(3), int64(2), int64(250), int64(1000))
	f.Fuzz(func(t *testing.T, pps, step, pct, ppu, rp, ra int64, nLines uint16, qty, price, balance int64) {
		clamp := func(v, lo, hi int64) int64 { return min(max(v, lo), hi) }
		p := DefaultProgram()
		p.Enabled = true
		p.Earning.PointsPerStep, p.Earning.StepAmount = clamp(pps, 0, maxPoints), clamp(step, 1, MaxAmount)
		pct, ppu = clamp(pct, 0, 100_000), clamp(ppu, 0, maxPoints)
		p.Earning.Overrides = []ProductOverride{{SKU: "P", Percent: &pct}, {SKU: "U", PointsPerUnit: &ppu}}
		p.Earning.ExcludedProducts = []string{"X"}
		p.Redemption.Points, p.Redemption.Amount = clamp(rp, 1, maxPoints), clamp(ra, 1, maxPoints)
		// A cart as validation lets it through: each line and the total
		// within MaxAmount.
		qty = clamp(qty, 1, 1_000_000)
		price = clamp(price, 0, min(1_000_000_000_00, MaxAmount/qty))
		lines := int64(clamp(int64(nLines), 1, 500))
		if amount := qty * price; amount > 0 {
			lines = min(lines, MaxAmount/amount)
		}
		cart := make([]Line, lines)
		for i := range cart {
			cart[i] = Line{SKU: []string{"A", "P", "U", "X"}[i%4], Quantity: qty, UnitPrice: price, Discount: price / 3, Tax: price / 7}
		}
		balance = clamp(balance, 0, MaxBalance)

		want := refPoints(p, cart)
		got, err := p.PointsForOrder(cart)
		switch {
		case !want.IsInt64() && !errors.Is(err, checked.ErrOverflow):
			t.Fatalf("points %+v, %v; exact %s does not fit", got, err, want)
		case want.IsInt64() && (err != nil || got.Total != want.Int64()):
			t.Fatalf("points %+v, %v; want %s", got, err, want)
		}

		q, err := p.QuoteCart(balance, true, cart, nil)
		if err != nil {
			t.Fatalf("quote of a valid cart: %v", err)
		}
		if balance == 0 {
			return
		}
		wantPoints, wantDiscount := refQuote(p, balance, cart)
		if q.Reason == ReasonNone && (q.MaxPoints != wantPoints.Int64() || q.MaxDiscount != wantDiscount.Int64()) {
			t.Fatalf("quote %+v; want %s points for %s", q, wantPoints, wantDiscount)
		}
	})
}
