package loyalty

import (
	"slices"
	"testing"
)

func TestAbsorb(t *testing.T) {
	exp := timeRef(day(400))
	lot := func(d int, n int64, e bool) Lot {
		l := Lot{EarnedAt: day(d), Remaining: n}
		if e {
			l.ExpiresAt = exp
		}
		return l
	}
	for _, tc := range []struct {
		name        string
		surv, dup   Wallet
		balance     int64
		earned      int64
		lots        []int64
		keepsExpiry bool
	}{
		{"both positive: lots interleave by date, expiry kept",
			Wallet{Balance: 30, EarnedTotal: 40, Lots: []Lot{lot(1, 10, false), lot(5, 20, false)}},
			Wallet{Balance: 7, EarnedTotal: 9, Lots: []Lot{lot(3, 7, true)}},
			37, 49, []int64{10, 7, 20}, true},
		{"empty duplicate", Wallet{Balance: 5, Lots: []Lot{lot(1, 5, false)}}, Wallet{}, 5, 0, []int64{5}, false},
		{"empty survivor", Wallet{}, Wallet{Balance: 5, EarnedTotal: 5, Lots: []Lot{lot(1, 5, true)}}, 5, 5, []int64{5}, true},
		{"negative survivor repaid from the duplicate's oldest lots",
			Wallet{Balance: -8},
			Wallet{Balance: 12, Lots: []Lot{lot(1, 5, false), lot(2, 7, true)}},
			4, 0, []int64{4}, true},
		{"negative survivor larger than the duplicate",
			Wallet{Balance: -20}, Wallet{Balance: 12, Lots: []Lot{lot(1, 12, false)}}, -8, 0, []int64{}, false},
		{"negative duplicate takes from the survivor's oldest lots",
			Wallet{Balance: 10, Lots: []Lot{lot(1, 4, false), lot(2, 6, false)}}, Wallet{Balance: -5}, 5, 0, []int64{5}, false},
		{"negative duplicate beyond the survivor", Wallet{Balance: 3, Lots: []Lot{lot(1, 3, false)}}, Wallet{Balance: -5}, -2, 0, []int64{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := must(tc.surv.Absorb(tc.dup))
			checkWallet(t, got)
			if got.Balance != tc.balance || got.EarnedTotal != tc.earned || !slices.Equal(lotAmounts(got), tc.lots) {
				t.Fatalf("got balance %d earned %d lots %v, want %d %d %v", got.Balance, got.EarnedTotal, lotAmounts(got), tc.balance, tc.earned, tc.lots)
			}
			if tc.surv.Balance+tc.dup.Balance != got.Balance {
				t.Fatalf("balance %d is not the sum %d", got.Balance, tc.surv.Balance+tc.dup.Balance)
			}
			if kept := slices.ContainsFunc(got.Lots, func(l Lot) bool { return l.ExpiresAt != nil }); kept != tc.keepsExpiry {
				t.Fatalf("an expiring lot kept: %v, want %v", kept, tc.keepsExpiry)
			}
		})
	}
}
