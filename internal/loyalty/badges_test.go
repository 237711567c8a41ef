package loyalty

import (
	"slices"
	"strings"
	"testing"
)

// "Cliente Bronce" from 100 to 500 points, and a ladder above it.
var (
	badgeBronze  = Badge{ID: "bronze", Title: "Cliente Bronce", From: 100, To: pointsOf(500)}
	badgeSilver  = Badge{ID: "silver", Title: "Cliente Plata", From: 500, To: pointsOf(2000), Basis: BasisBalance}
	badgeGold    = Badge{ID: "gold", Title: "Cliente Oro", From: 2000} // no upper bound
	badgeVeteran = Badge{ID: "veteran", Title: "Veterano", From: 10000, Basis: BasisEarnedTotal}
	badgeLadder  = []Badge{badgeBronze, badgeSilver, badgeGold, badgeVeteran}
)

func TestBadgeHolds(t *testing.T) {
	for _, tc := range []struct {
		badge                Badge
		balance, earnedTotal int64
		want                 bool
	}{
		{badgeBronze, 99, 0, false},  // below from
		{badgeBronze, 100, 0, true},  // from is inclusive
		{badgeBronze, 499, 0, true},  // inside
		{badgeBronze, 500, 0, false}, // to is exclusive
		{badgeSilver, 500, 0, true},  // … and the next badge starts there
		{badgeSilver, 1999, 0, true},
		{badgeSilver, 2000, 0, false},
		{badgeGold, 1999, 0, false},
		{badgeGold, 2000, 0, true},
		{badgeGold, 1_000_000_000, 0, true}, // nil to: no upper bound
		{badgeBronze, -5, 0, false},         // a negative balance holds nothing
		// An empty basis is the balance: earned_total does not count.
		{badgeBronze, 0, 300, false},
		// earned_total basis: the balance does not count.
		{badgeVeteran, 50000, 9999, false},
		{badgeVeteran, 0, 10000, true},
		{badgeVeteran, -100, 25000, true}, // spent or refunded below zero, still a veteran
	} {
		if got := tc.badge.Holds(tc.balance, tc.earnedTotal); got != tc.want {
			t.Errorf("%s [%d, %v) on %q: Holds(balance %d, earned %d) = %v, want %v",
				tc.badge.ID, tc.badge.From, tc.badge.To, tc.badge.Basis, tc.balance, tc.earnedTotal, got, tc.want)
		}
	}
}

func TestHeld(t *testing.T) {
	for _, tc := range []struct {
		balance, earnedTotal int64
		want                 []string
	}{
		{0, 0, nil},
		{100, 100, []string{"bronze"}},
		{500, 500, []string{"silver"}},
		{2500, 12000, []string{"gold", "veteran"}},
		{50, 12000, []string{"veteran"}},
	} {
		if got := IDs(Held(badgeLadder, tc.balance, tc.earnedTotal)); !slices.Equal(got, tc.want) {
			t.Errorf("Held(balance %d, earned %d) = %q, want %q", tc.balance, tc.earnedTotal, got, tc.want)
		}
	}
	// The order given is kept.
	rev := slices.Clone(badgeLadder)
	slices.Reverse(rev)
	if got := IDs(Held(rev, 2500, 12000)); !slices.Equal(got, []string{"veteran", "gold"}) {
		t.Errorf("Held(reversed) = %q, want [veteran gold]", got)
	}
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		badges               []Badge
		balance, earnedTotal int64
		wantID               string // "" means none
		missing              int64
	}{
		// 0 → bronze at 100: 100 missing (veteran is 10000 away on earned_total).
		{name: "first badge", badges: badgeLadder, balance: 0, earnedTotal: 0, wantID: "bronze", missing: 100},
		// 100 holds bronze; silver at 500: 400 missing.
		{name: "held badge skipped", badges: badgeLadder, balance: 100, earnedTotal: 100, wantID: "silver", missing: 400},
		// 499 → silver 1 missing.
		{name: "one point short", badges: badgeLadder, balance: 499, earnedTotal: 499, wantID: "silver", missing: 1},
		// 2000 balance: gold held, nothing above on balance; veteran 10000 - 9990 = 10.
		{name: "other basis", badges: badgeLadder, balance: 2000, earnedTotal: 9990, wantID: "veteran", missing: 10},
		// Balance 450 → silver 50 missing; earned 9950 → veteran 50 missing: tie, smaller ID ("silver" < "veteran").
		{name: "tie across bases goes to the smaller ID", badges: badgeLadder, balance: 450, earnedTotal: 9950, wantID: "silver", missing: 50},
		// Two badges at the same threshold, given in reverse ID order: "a" wins.
		{name: "tie at the same threshold", badges: []Badge{{ID: "b", From: 500}, {ID: "a", From: 500}},
			balance: 100, wantID: "a", missing: 400},
		{name: "tie at the same threshold, other order", badges: []Badge{{ID: "a", From: 500}, {ID: "b", From: 500}},
			balance: 100, wantID: "a", missing: 400},
		// Passed badges (balance above their interval) are not "next".
		{name: "everything reached", badges: badgeLadder, balance: 2500, earnedTotal: 10000},
		{name: "no badges", badges: nil, balance: 10},
		// A badge starting at 0 is reached by a 0 balance, not next.
		{name: "from zero is reached", badges: []Badge{{ID: "welcome", From: 0, To: pointsOf(100)}}, balance: 0},
		// A negative balance: 50 - (-20) = 70 missing.
		{name: "negative balance", badges: []Badge{{ID: "x", From: 50}}, balance: -20, wantID: "x", missing: 70},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := Next(tc.badges, tc.balance, tc.earnedTotal)
			if ok != (tc.wantID != "") {
				t.Fatalf("Next found = %v (%+v), want %v", ok, n, tc.wantID != "")
			}
			if ok && (n.Badge.ID != tc.wantID || n.Missing != tc.missing) {
				t.Errorf("Next = %s missing %d, want %s missing %d", n.Badge.ID, n.Missing, tc.wantID, tc.missing)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		before, after, gained, lost []string
	}{
		{before: []string{"a", "b"}, after: []string{"b", "c"}, gained: []string{"c"}, lost: []string{"a"}},
		{before: []string{"a"}, after: []string{"a"}},
		{before: nil, after: []string{"x", "y"}, gained: []string{"x", "y"}},
		{before: []string{"x", "y"}, after: nil, lost: []string{"x", "y"}},
		{},
	} {
		c := Diff(tc.before, tc.after)
		if !slices.Equal(c.Gained, tc.gained) || !slices.Equal(c.Lost, tc.lost) {
			t.Errorf("Diff(%q, %q) = gained %q lost %q, want gained %q lost %q", tc.before, tc.after, c.Gained, c.Lost, tc.gained, tc.lost)
		}
	}
	// A balance change across a boundary: 499 → 500 leaves bronze for silver.
	c := Diff(IDs(Held(badgeLadder, 499, 499)), IDs(Held(badgeLadder, 500, 500)))
	if !slices.Equal(c.Gained, []string{"silver"}) || !slices.Equal(c.Lost, []string{"bronze"}) {
		t.Errorf("499 → 500: %+v, want gained [silver] lost [bronze]", c)
	}
}

func TestRewardsAvailable(t *testing.T) {
	five := Reward{ID: "coffee", Name: "Café gratis", Cost: 5, Active: true}
	for _, tc := range []struct {
		name    string
		r       Reward
		balance int64
		want    bool
	}{
		{"balance equals cost", five, 5, true},
		{"balance above cost", five, 6, true},
		{"one point short", five, 4, false},
		{"negative balance", five, -1, false},
		{"inactive", Reward{ID: "x", Cost: 5, Active: false}, 100, false},
		{"out of stock", Reward{ID: "x", Cost: 5, Active: true, Stock: pointsOf(0)}, 100, false},
		{"last unit", Reward{ID: "x", Cost: 5, Active: true, Stock: pointsOf(1)}, 100, true},
		{"unlimited stock", Reward{ID: "x", Cost: 5, Active: true, Stock: nil}, 100, true},
	} {
		if got := tc.r.Available(tc.balance); got != tc.want {
			t.Errorf("%s: Available(%d) = %v, want %v", tc.name, tc.balance, got, tc.want)
		}
	}
}

// A customer with 5 points can redeem a 5-point reward; brought down to 4
// points, they no longer can.
func TestRewardLostWhenBalanceDrops(t *testing.T) {
	rewards := []Reward{
		{ID: "coffee", Name: "Café", Cost: 5, Active: true},
		{ID: "pastry", Name: "Bollo", Cost: 3, Active: true},
		{ID: "mug", Name: "Taza", Cost: 50, Active: true},
	}
	w := must(Wallet{}.Credit(5, seedTime, nil, true))
	before := AvailableIDs(rewards, w.Balance)
	if !slices.Equal(before, []string{"coffee", "pastry"}) {
		t.Fatalf("at 5 points: available %q, want [coffee pastry]", before)
	}
	w, _, err := w.Debit(1, Strict) // the merchant lowers the balance to 4
	if err != nil || w.Balance != 4 {
		t.Fatalf("debit 1 of 5: balance %d, err %v; want 4, nil", w.Balance, err)
	}
	after := AvailableIDs(rewards, w.Balance)
	c := Diff(before, after)
	if len(c.Gained) != 0 || !slices.Equal(c.Lost, []string{"coffee"}) {
		t.Errorf("5 → 4 points: %+v, want only coffee lost", c)
	}
	if got := AvailableIDs(rewards, 0); got != nil {
		t.Errorf("at 0 points: available %q, want none", got)
	}
}

func TestBadgeValidate(t *testing.T) {
	ok := Badge{ID: "bronze", Title: "Cliente Bronce", From: 100, To: pointsOf(500)}
	for _, tc := range []struct {
		name  string
		edit  func(b *Badge)
		paths string
	}{
		{name: "seed bronze", edit: func(b *Badge) {}},
		{name: "title empty", edit: func(b *Badge) { b.Title = "  " }, paths: "/title"},
		{name: "title too long", edit: func(b *Badge) { b.Title = strings.Repeat("x", 101) }, paths: "/title"},
		{name: "description too long", edit: func(b *Badge) { b.Description = strings.Repeat("x", 1001) }, paths: "/description"},
		{name: "icon http", edit: func(b *Badge) { b.IconURL = "http://cdn.example.com/b.png" }, paths: "/icon_url"},
		{name: "icon without host", edit: func(b *Badge) { b.IconURL = "https:///b.png" }, paths: "/icon_url"},
		{name: "icon https", edit: func(b *Badge) { b.IconURL = "https://cdn.example.com/b.png" }},
		{name: "from negative", edit: func(b *Badge) { b.From = -1 }, paths: "/from"},
		{name: "to equal to from", edit: func(b *Badge) { b.To = pointsOf(100) }, paths: "/to"},
		{name: "to below from", edit: func(b *Badge) { b.To = pointsOf(99) }, paths: "/to"},
		{name: "to one above from", edit: func(b *Badge) { b.To = pointsOf(101) }},
		{name: "to at the maximum balance", edit: func(b *Badge) { b.To = pointsOf(MaxBalance) }},
		{name: "to above the maximum balance", edit: func(b *Badge) { b.To = pointsOf(MaxBalance + 1) }, paths: "/to"},
		{name: "from above the maximum balance", edit: func(b *Badge) { b.From, b.To = MaxBalance+1, nil }, paths: "/from"},
		{name: "discount fixed above the maximum amount", edit: func(b *Badge) { b.Discount = &Cap{Kind: CapFixed, Value: MaxAmount + 1} }, paths: "/discount/value"},
		{name: "no upper bound", edit: func(b *Badge) { b.To = nil }},
		{name: "basis unknown", edit: func(b *Badge) { b.Basis = "visits" }, paths: "/basis"},
		{name: "basis earned_total", edit: func(b *Badge) { b.Basis = BasisEarnedTotal }},
		{name: "discount fixed zero", edit: func(b *Badge) { b.Discount = &Cap{Kind: CapFixed, Value: 0} }, paths: "/discount/value"},
		{name: "discount percent above 100 %", edit: func(b *Badge) { b.Discount = &Cap{Kind: CapPercent, Value: 10001} }, paths: "/discount/value"},
		{name: "discount percent zero", edit: func(b *Badge) { b.Discount = &Cap{Kind: CapPercent, Value: 0} }, paths: "/discount/value"},
		{name: "discount kind unknown", edit: func(b *Badge) { b.Discount = &Cap{Kind: "bogo", Value: 1} }, paths: "/discount/kind"},
		{name: "discount 10 %", edit: func(b *Badge) { b.Discount = &Cap{Kind: CapPercent, Value: 1000} }},
		{name: "several", edit: func(b *Badge) { b.Title, b.From, b.Basis = "", -1, "x" }, paths: "/title,/from,/basis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ok
			tc.edit(&b)
			got, err := b.Validate()
			if paths := validationPaths(err); paths != tc.paths {
				t.Fatalf("Validate() paths = %q, want %q (%v)", paths, tc.paths, err)
			}
			if err == nil && (got.Basis == "" || got.Title != strings.TrimSpace(b.Title)) {
				t.Errorf("Validate() = %+v: basis must default to balance and the title be trimmed", got)
			}
		})
	}
	got, err := Badge{Title: " Cliente Bronce ", From: 100}.Validate()
	if err != nil || got.Basis != BasisBalance || got.Title != "Cliente Bronce" {
		t.Errorf("Validate() = %+v, %v; want basis balance and a trimmed title", got, err)
	}
}

func TestRewardValidate(t *testing.T) {
	ok := Reward{Name: "Café gratis", Cost: 5, Active: true}
	for _, tc := range []struct {
		name  string
		edit  func(r *Reward)
		paths string
	}{
		{name: "seed reward", edit: func(r *Reward) {}},
		{name: "name empty", edit: func(r *Reward) { r.Name = " " }, paths: "/name"},
		{name: "name too long", edit: func(r *Reward) { r.Name = strings.Repeat("x", 101) }, paths: "/name"},
		{name: "description too long", edit: func(r *Reward) { r.Description = strings.Repeat("x", 1001) }, paths: "/description"},
		{name: "cost zero", edit: func(r *Reward) { r.Cost = 0 }, paths: "/cost"},
		{name: "cost above the limit", edit: func(r *Reward) { r.Cost = maxPoints + 1 }, paths: "/cost"},
		{name: "stock negative", edit: func(r *Reward) { r.Stock = pointsOf(-1) }, paths: "/stock"},
		{name: "stock zero", edit: func(r *Reward) { r.Stock = pointsOf(0) }},
		{name: "several", edit: func(r *Reward) { r.Name, r.Cost = "", -3 }, paths: "/name,/cost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			_, err := r.Validate()
			if paths := validationPaths(err); paths != tc.paths {
				t.Fatalf("Validate() paths = %q, want %q (%v)", paths, tc.paths, err)
			}
		})
	}
}
