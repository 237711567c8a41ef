package loyalty

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

var seedTime = time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)

// day returns seedTime plus n days.
func day(n int) time.Time { return seedTime.AddDate(0, 0, n) }

func timeRef(t time.Time) *time.Time { return &t }

// lotAmounts is the Remaining of each lot, oldest first.
func lotAmounts(w Wallet) []int64 {
	out := make([]int64, len(w.Lots))
	for i, l := range w.Lots {
		out[i] = l.Remaining
	}
	return out
}

// checkWallet asserts the wallet's invariants: a balance ≥ 0 is the sum of
// the lots, a negative balance has no lots, every lot holds points, and lots
// are ordered by EarnedAt (oldest first, the order debits consume them in).
func checkWallet(t testing.TB, w Wallet) {
	t.Helper()
	var sum int64
	for i, l := range w.Lots {
		if l.Remaining <= 0 {
			t.Fatalf("lot %d has %d points, want > 0 (lots %+v)", i, l.Remaining, w.Lots)
		}
		if i > 0 && l.EarnedAt.Before(w.Lots[i-1].EarnedAt) {
			t.Fatalf("lot %d earned %v before lot %d (%v): lots out of order", i, l.EarnedAt, i-1, w.Lots[i-1].EarnedAt)
		}
		sum += l.Remaining
	}
	switch {
	case w.Balance >= 0 && sum != w.Balance:
		t.Fatalf("balance %d but lots add up to %d (%v)", w.Balance, sum, lotAmounts(w))
	case w.Balance < 0 && len(w.Lots) != 0:
		t.Fatalf("negative balance %d with lots %v", w.Balance, lotAmounts(w))
	}
}

// walletSnapshot deep-copies a wallet, to check that operations (value
// receivers) leave the original untouched.
func walletSnapshot(w Wallet) Wallet {
	w.Lots = slices.Clone(w.Lots)
	return w
}

func sameWallet(a, b Wallet) bool {
	return a.Balance == b.Balance && a.EarnedTotal == b.EarnedTotal &&
		slices.EqualFunc(a.Lots, b.Lots, func(x, y Lot) bool {
			return x.Remaining == y.Remaining && x.EarnedAt.Equal(y.EarnedAt) &&
				(x.ExpiresAt == nil) == (y.ExpiresAt == nil) && (x.ExpiresAt == nil || x.ExpiresAt.Equal(*y.ExpiresAt))
		})
}

func TestWalletCredit(t *testing.T) {
	exp := func(n int) *time.Time { return timeRef(day(n)) }
	type credit struct {
		points  int64
		at      time.Time
		expires *time.Time
		earned  bool
	}
	for _, tc := range []struct {
		name        string
		start       Wallet
		credits     []credit
		balance     int64
		earnedTotal int64
		lots        []int64
		earnedAt    []time.Time // of each lot, when checked
	}{
		{name: "first credit makes a lot", credits: []credit{{100, day(0), exp(365), true}},
			balance: 100, earnedTotal: 100, lots: []int64{100}, earnedAt: []time.Time{day(0)}},
		// A gift/adjust that is not "earned" does not raise earned_total.
		{name: "credit not earned", credits: []credit{{100, day(0), nil, false}},
			balance: 100, earnedTotal: 0, lots: []int64{100}},
		// Same expiry day (one hour apart): 100 + 50 merge into the first lot.
		{name: "same expiry day merges", credits: []credit{
			{100, day(0), exp(365), true},
			{50, day(0).Add(time.Hour), timeRef(day(365).Add(time.Hour)), true}},
			balance: 150, earnedTotal: 150, lots: []int64{150}, earnedAt: []time.Time{day(0)}},
		// Next day's expiry: separate lots.
		{name: "different expiry day: two lots", credits: []credit{
			{100, day(0), exp(365), true}, {50, day(1), exp(366), true}},
			balance: 150, earnedTotal: 150, lots: []int64{100, 50}, earnedAt: []time.Time{day(0), day(1)}},
		// 1 March and 1 April, or 1 March of two years: not the same day.
		{name: "same day of another month does not merge", credits: []credit{
			{100, day(0), timeRef(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)), true},
			{50, day(0), timeRef(time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)), true},
			{20, day(0), timeRef(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)), true}},
			balance: 170, earnedTotal: 170, lots: []int64{100, 50, 20}},
		// The merge is into the newest lot: 100 (expires day 30), 50 (day 60),
		// then 25 expiring on day 60 too → [100, 75].
		{name: "merge into the newest lot", credits: []credit{
			{100, day(0), exp(30), true}, {50, day(10), exp(60), true}, {25, day(11), timeRef(day(60).Add(2 * time.Hour)), true}},
			balance: 175, earnedTotal: 175, lots: []int64{100, 75}, earnedAt: []time.Time{day(0), day(10)}},
		// Never-expiring points merge with never-expiring points …
		{name: "no expiry merges with no expiry", credits: []credit{
			{100, day(0), nil, true}, {50, day(30), nil, true}},
			balance: 150, earnedTotal: 150, lots: []int64{150}},
		// … but not with expiring ones.
		{name: "no expiry does not merge with an expiry", credits: []credit{
			{100, day(0), exp(365), true}, {50, day(0), nil, true}},
			balance: 150, earnedTotal: 150, lots: []int64{100, 50}},
		// 23:30 UTC and 00:30+02:00 next day (22:30 UTC) are the same UTC day.
		{name: "same UTC day in another zone merges", credits: []credit{
			{100, day(0), timeRef(time.Date(2025, 3, 1, 23, 30, 0, 0, time.UTC)), true},
			{50, day(0), timeRef(time.Date(2025, 3, 2, 0, 30, 0, 0, time.FixedZone("CEST", 2*3600))), true}},
			balance: 150, earnedTotal: 150, lots: []int64{150}},
		// 23:30 UTC and 00:30 UTC the next day: same day in Madrid, not in UTC.
		{name: "different UTC day does not merge", credits: []credit{
			{100, day(0), timeRef(time.Date(2025, 3, 1, 23, 30, 0, 0, time.UTC)), true},
			{50, day(0), timeRef(time.Date(2025, 3, 2, 0, 30, 0, 0, time.UTC)), true}},
			balance: 150, earnedTotal: 150, lots: []int64{100, 50}},
		// A back-dated credit (earned before the newest lot) is not merged into it:
		// it becomes its own, older lot, sorted first.
		{name: "back-dated credit sorts first", credits: []credit{
			{100, day(10), exp(365), true}, {50, day(5), exp(365), true}},
			balance: 150, earnedTotal: 150, lots: []int64{50, 100}, earnedAt: []time.Time{day(5), day(10)}},
		// Zero points change nothing.
		{name: "zero credit", start: Wallet{Balance: 10, Lots: []Lot{{EarnedAt: day(0), Remaining: 10}}},
			credits: []credit{{0, day(1), nil, true}}, balance: 10, lots: []int64{10}},
		// Debt of 30: 100 repays it and 70 go into a lot.
		{name: "credit repays a negative balance first", start: Wallet{Balance: -30},
			credits: []credit{{100, day(0), exp(365), true}}, balance: 70, earnedTotal: 100, lots: []int64{70}},
		// Debt of 30: 20 leave a debt of 10 and make no lot.
		{name: "credit smaller than the debt makes no lot", start: Wallet{Balance: -30},
			credits: []credit{{20, day(0), nil, true}}, balance: -10, earnedTotal: 20},
		// Debt of 30 repaid exactly: balance 0, no lot.
		{name: "credit equal to the debt", start: Wallet{Balance: -30},
			credits: []credit{{30, day(0), nil, true}}, balance: 0, earnedTotal: 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.start
			for _, c := range tc.credits {
				before := walletSnapshot(w)
				next := must(w.Credit(c.points, c.at, c.expires, c.earned))
				if !sameWallet(w, before) {
					t.Fatalf("Credit modified its receiver: %+v, was %+v", w, before)
				}
				w = next
				checkWallet(t, w)
			}
			if w.Balance != tc.balance || w.EarnedTotal != tc.earnedTotal {
				t.Errorf("balance, earned total = %d, %d; want %d, %d", w.Balance, w.EarnedTotal, tc.balance, tc.earnedTotal)
			}
			if got := lotAmounts(w); !slices.Equal(got, tc.lots) && !(len(got) == 0 && len(tc.lots) == 0) {
				t.Errorf("lots = %v, want %v", got, tc.lots)
			}
			for i, at := range tc.earnedAt {
				if i < len(w.Lots) && !w.Lots[i].EarnedAt.Equal(at) {
					t.Errorf("lot %d earned at %v, want %v", i, w.Lots[i].EarnedAt, at)
				}
			}
		})
	}
}

func TestWalletCreditStoresUTC(t *testing.T) {
	madrid := time.FixedZone("CET", 3600)
	w := must(Wallet{}.Credit(10, time.Date(2025, 1, 1, 0, 30, 0, 0, madrid), nil, true))
	if loc := w.Lots[0].EarnedAt.Location(); loc != time.UTC {
		t.Errorf("EarnedAt location = %v, want UTC", loc)
	}
}

// threeLots is 100 (day 0, expires day 30), 50 (day 10, expires day 60),
// 30 (day 20, never expires): balance 180.
func threeLots() Wallet {
	w := must(Wallet{}.Credit(100, day(0), timeRef(day(30)), true))
	w = must(w.Credit(50, day(10), timeRef(day(60)), true))
	return must(w.Credit(30, day(20), nil, true))
}

func TestWalletDebit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		start   Wallet
		points  int64
		mode    Mode
		taken   int64
		balance int64
		lots    []int64
	}{
		// FIFO: 120 = all of the 100 lot + 20 of the 50 lot → [30, 30].
		{name: "oldest lots first", start: threeLots(), points: 120, mode: Strict, taken: 120, balance: 60, lots: []int64{30, 30}},
		// Exactly the first lot: it disappears.
		{name: "a lot used up is removed", start: threeLots(), points: 100, mode: Strict, taken: 100, balance: 80, lots: []int64{50, 30}},
		{name: "part of the first lot", start: threeLots(), points: 1, mode: Strict, taken: 1, balance: 179, lots: []int64{99, 50, 30}},
		{name: "everything", start: threeLots(), points: 180, mode: Strict, taken: 180, balance: 0},
		{name: "zero", start: threeLots(), points: 0, mode: Strict, taken: 0, balance: 180, lots: []int64{100, 50, 30}},
		// Within balance: asks 200 of 180, takes 180, forgives 20.
		{name: "within balance takes what there is", start: threeLots(), points: 200, mode: WithinBalance, taken: 180, balance: 0},
		{name: "within balance when enough", start: threeLots(), points: 150, mode: WithinBalance, taken: 150, balance: 30, lots: []int64{30}},
		{name: "within balance on a debt takes nothing", start: Wallet{Balance: -10}, points: 5, mode: WithinBalance, taken: 0, balance: -10},
		// Allow negative: 200 of 180 → -20, no lots left.
		{name: "allow negative goes below zero", start: threeLots(), points: 200, mode: AllowNegative, taken: 200, balance: -20},
		{name: "allow negative deepens a debt", start: Wallet{Balance: -10}, points: 5, mode: AllowNegative, taken: 5, balance: -15},
		{name: "allow negative when enough", start: threeLots(), points: 30, mode: AllowNegative, taken: 30, balance: 150, lots: []int64{70, 50, 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := walletSnapshot(tc.start)
			w, taken, err := tc.start.Debit(tc.points, tc.mode)
			if err != nil {
				t.Fatalf("Debit(%d, %v) = %v", tc.points, tc.mode, err)
			}
			if !sameWallet(tc.start, before) {
				t.Fatalf("Debit modified its receiver: %+v, was %+v", tc.start, before)
			}
			if taken != tc.taken || w.Balance != tc.balance {
				t.Errorf("taken, balance = %d, %d; want %d, %d", taken, w.Balance, tc.taken, tc.balance)
			}
			if got := lotAmounts(w); !slices.Equal(got, tc.lots) && !(len(got) == 0 && len(tc.lots) == 0) {
				t.Errorf("lots = %v, want %v", got, tc.lots)
			}
			if w.EarnedTotal != tc.start.EarnedTotal {
				t.Errorf("earned total changed by a debit: %d → %d", tc.start.EarnedTotal, w.EarnedTotal)
			}
			checkWallet(t, w)
		})
	}
}

func TestWalletDebitStrictInsufficient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		start  Wallet
		points int64
	}{
		{name: "one more than the balance", start: threeLots(), points: 181},
		{name: "from zero", start: Wallet{}, points: 1},
		{name: "on a debt", start: Wallet{Balance: -10}, points: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, taken, err := tc.start.Debit(tc.points, Strict)
			if err == nil {
				t.Fatalf("Debit(%d, Strict) on balance %d succeeded: %+v", tc.points, tc.start.Balance, w)
			}
			if taken != 0 || !sameWallet(w, tc.start) {
				t.Errorf("failed debit took %d and returned %+v, want 0 and the wallet unchanged", taken, w)
			}
			e := apperr.As(err)
			if e == nil || e.Code != apperr.Unprocessable {
				t.Fatalf("error = %v, want an apperr %q", err, apperr.Unprocessable)
			}
			if e.Extra["balance"] != tc.start.Balance || e.Extra["requested"] != tc.points {
				t.Errorf("extra = %v, want balance %d and requested %d", e.Extra, tc.start.Balance, tc.points)
			}
			if len(e.Fields) != 1 || e.Fields[0].Path != "/points" {
				t.Errorf("fields = %+v, want one at /points", e.Fields)
			}
		})
	}
}

func TestModeFor(t *testing.T) {
	if ModeFor(RefundWithinBalance) != WithinBalance || ModeFor(RefundAllowNegative) != AllowNegative || ModeFor("") != WithinBalance {
		t.Errorf("ModeFor: within_balance → %v, allow_negative → %v, \"\" → %v", ModeFor(RefundWithinBalance), ModeFor(RefundAllowNegative), ModeFor(""))
	}
}

// Allow-negative refund, then new points repay the debt before making a lot.
func TestWalletNegativeThenRepay(t *testing.T) {
	w := must(Wallet{}.Credit(60, day(0), nil, true))
	// A refund of 100 under allow_negative: 60 - 100 = -40.
	w, taken, err := w.Debit(100, ModeFor(RefundAllowNegative))
	if err != nil || taken != 100 || w.Balance != -40 || len(w.Lots) != 0 {
		t.Fatalf("after refund: taken %d balance %d lots %v err %v; want 100, -40, none, nil", taken, w.Balance, lotAmounts(w), err)
	}
	// A strict spend is refused while in debt.
	if _, _, err := w.Debit(1, Strict); apperr.CodeOf(err) != apperr.Unprocessable {
		t.Errorf("strict debit in debt: %v, want unprocessable", err)
	}
	// 25 earned: -40 + 25 = -15, no lot.
	w = must(w.Credit(25, day(1), nil, true))
	if w.Balance != -15 || len(w.Lots) != 0 {
		t.Fatalf("after 25: balance %d lots %v; want -15, none", w.Balance, lotAmounts(w))
	}
	checkWallet(t, w)
	// 100 earned: 15 repay the rest, 85 make a lot.
	w = must(w.Credit(100, day(2), timeRef(day(400)), true))
	if w.Balance != 85 || !slices.Equal(lotAmounts(w), []int64{85}) {
		t.Fatalf("after 100: balance %d lots %v; want 85, [85]", w.Balance, lotAmounts(w))
	}
	if w.EarnedTotal != 60+25+100 {
		t.Errorf("earned total = %d, want 185 (every earned point counts, repaid or not)", w.EarnedTotal)
	}
	checkWallet(t, w)
}

func TestWalletExpire(t *testing.T) {
	// Lots earned in order but expiring out of order (the expiry setting changed):
	// 100 (day 0, expires day 30), 50 (day 10, expires day 60), 30 (day 20, never),
	// 20 (day 25, expires day 40).
	w := must(threeLots().Credit(20, day(25), timeRef(day(40)), true))
	for _, tc := range []struct {
		name    string
		asOf    time.Time
		gone    int64
		balance int64
		lots    []int64
	}{
		{name: "before any expiry", asOf: day(29), gone: 0, balance: 200, lots: []int64{100, 50, 30, 20}},
		{name: "one second before", asOf: day(30).Add(-time.Second), gone: 0, balance: 200, lots: []int64{100, 50, 30, 20}},
		// Expiry is inclusive: at exactly day 30 the 100 lot is gone.
		{name: "at the expiry instant", asOf: day(30), gone: 100, balance: 100, lots: []int64{50, 30, 20}},
		// Day 45: 100 (day 30) and 20 (day 40) gone; the older 50 lot (day 60) stays.
		{name: "lots expiring out of order", asOf: day(45), gone: 120, balance: 80, lots: []int64{50, 30}},
		// Far future: only the never-expiring 30 remain.
		{name: "never-expiring lot stays", asOf: day(10000), gone: 170, balance: 30, lots: []int64{30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := walletSnapshot(w)
			if got := w.Expiring(tc.asOf); got != tc.gone {
				t.Errorf("Expiring = %d, want %d", got, tc.gone)
			}
			after, gone := w.Expire(tc.asOf)
			if !sameWallet(w, before) {
				t.Fatalf("Expire modified its receiver")
			}
			if gone != tc.gone || after.Balance != tc.balance {
				t.Errorf("gone, balance = %d, %d; want %d, %d", gone, after.Balance, tc.gone, tc.balance)
			}
			if got := lotAmounts(after); !slices.Equal(got, tc.lots) {
				t.Errorf("lots = %v, want %v", got, tc.lots)
			}
			if after.Expiring(tc.asOf) != 0 {
				t.Errorf("after Expire, %d points still expiring", after.Expiring(tc.asOf))
			}
			checkWallet(t, after)
		})
	}
	// A negative balance has no lots: nothing expires, the debt stays.
	debt := Wallet{Balance: -40}
	if after, gone := debt.Expire(day(10000)); gone != 0 || after.Balance != -40 {
		t.Errorf("expire on a debt: gone %d balance %d, want 0, -40", gone, after.Balance)
	}
}

func TestExpiryFor(t *testing.T) {
	p := seedProgram()
	if got := p.ExpiryFor(day(0)); got != nil {
		t.Errorf("ExpiryDays 0: ExpiryFor = %v, want nil (never)", got)
	}
	p.ExpiryDays = 365
	for _, tc := range []struct {
		earned, want time.Time
	}{
		{earned: day(0), want: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		// 2024 is a leap year: 365 days after 2024-02-28 is 2025-02-27.
		{earned: time.Date(2024, 2, 28, 12, 0, 0, 0, time.UTC), want: time.Date(2025, 2, 27, 12, 0, 0, 0, time.UTC)},
		// Counted in UTC: 00:30 in UTC+2 on 30 March is 22:30 UTC on the 29th.
		{earned: time.Date(2025, 3, 30, 0, 30, 0, 0, time.FixedZone("CEST", 2*3600)), want: time.Date(2026, 3, 29, 22, 30, 0, 0, time.UTC)},
	} {
		got := p.ExpiryFor(tc.earned)
		if got == nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ExpiryFor(%v) = %v, want %v in UTC", tc.earned, got, tc.want)
		}
	}
}

// walletModel applies operations to a wallet, checking each one's contract
// and the invariants, and keeps the expected balance by conservation:
// credited - taken - expired.
type walletModel struct {
	t        testing.TB
	w        Wallet
	balance  int64
	earned   int64
	clock    time.Time
	strictOK int // strict debits that succeeded, to show the sequence exercises them
	merges   int // credits merged into an existing lot
}

func (m *walletModel) credit(points int64, at time.Time, expires *time.Time, earned bool) {
	t := m.t
	t.Helper()
	old := walletSnapshot(m.w)
	w := must(m.w.Credit(points, at, expires, earned))
	if !sameWallet(m.w, old) {
		t.Fatalf("Credit modified its receiver")
	}
	m.balance += points
	if earned {
		m.earned += points
	}
	if w.Balance != m.balance || w.EarnedTotal != m.earned {
		t.Fatalf("Credit(%d) on %d: balance %d earned %d, want %d and %d", points, old.Balance, w.Balance, w.EarnedTotal, m.balance, m.earned)
	}
	// Where the points went: a debt is repaid first, the rest either joins the
	// newest lot (same expiry day, not back-dated) or is a new lot; no other lot changes.
	toLots := max(0, old.Balance+points) - max(0, old.Balance)
	switch {
	case toLots == 0:
		if !slices.Equal(lotAmounts(w), lotAmounts(old)) {
			t.Fatalf("Credit(%d) on %d changed the lots %v → %v", points, old.Balance, lotAmounts(old), lotAmounts(w))
		}
	case len(w.Lots) == len(old.Lots):
		n := len(w.Lots) - 1
		if n < 0 || w.Lots[n].Remaining != old.Lots[n].Remaining+toLots || !slices.Equal(lotAmounts(w)[:n], lotAmounts(old)[:n]) {
			t.Fatalf("Credit(%d) merged wrongly: %v → %v (want the newest lot + %d)", points, lotAmounts(old), lotAmounts(w), toLots)
		}
		if (expires == nil) != (old.Lots[n].ExpiresAt == nil) || (expires != nil && !expires.UTC().Truncate(24*time.Hour).Equal(old.Lots[n].ExpiresAt.UTC().Truncate(24*time.Hour))) {
			t.Fatalf("Credit expiring %v merged into a lot expiring %v", expires, old.Lots[n].ExpiresAt)
		}
		m.merges++
	case len(w.Lots) == len(old.Lots)+1:
		// Some lot earned at `at` holding toLots is new: without it, the old lots
		// remain in their order. (Lots earned at the same instant may be equal,
		// so try each candidate.)
		found := false
		for i, l := range w.Lots {
			if l.EarnedAt.Equal(at) && l.Remaining == toLots && slices.Equal(lotAmounts(old), slices.Delete(lotAmounts(w), i, i+1)) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("Credit(%d at %v) made lots %v from %v: want a new lot of %d", points, at, lotAmounts(w), lotAmounts(old), toLots)
		}
	default:
		t.Fatalf("Credit(%d): lots %v → %v", points, lotAmounts(old), lotAmounts(w))
	}
	m.w = w
	checkWallet(t, w)
}

func (m *walletModel) debit(points int64, mode Mode) {
	t := m.t
	t.Helper()
	old := walletSnapshot(m.w)
	w, taken, err := m.w.Debit(points, mode)
	if !sameWallet(m.w, old) {
		t.Fatalf("Debit modified its receiver")
	}
	available := max(old.Balance, 0)
	switch mode {
	case Strict:
		if (err != nil) != (points > available) {
			t.Fatalf("Strict Debit(%d) on balance %d: err %v", points, old.Balance, err)
		}
		if err != nil {
			if e := apperr.As(err); e == nil || e.Code != apperr.Unprocessable || e.Extra["balance"] != old.Balance {
				t.Fatalf("Strict Debit(%d) on balance %d: error %#v, want unprocessable with the balance", points, old.Balance, err)
			}
			if taken != 0 || !sameWallet(w, old) {
				t.Fatalf("refused Strict Debit changed the wallet or took %d", taken)
			}
			return
		}
		if taken != points || (points > 0 && w.Balance < 0) {
			t.Fatalf("Strict Debit(%d) on balance %d: took %d, balance %d (strict never goes below zero)", points, old.Balance, taken, w.Balance)
		}
		m.strictOK++
	case WithinBalance:
		if err != nil || taken != min(points, available) {
			t.Fatalf("WithinBalance Debit(%d) on balance %d: took %d err %v, want %d", points, old.Balance, taken, err, min(points, available))
		}
	case AllowNegative:
		if err != nil || taken != points {
			t.Fatalf("AllowNegative Debit(%d) on balance %d: took %d err %v", points, old.Balance, taken, err)
		}
	}
	m.balance -= taken
	if w.Balance != m.balance || w.EarnedTotal != m.earned {
		t.Fatalf("Debit(%d): balance %d earned %d, want %d and %d", points, w.Balance, w.EarnedTotal, m.balance, m.earned)
	}
	// FIFO: what is left is a suffix of the old lots, its first possibly
	// reduced; exactly min(taken, available) came off the front.
	k := len(old.Lots) - len(w.Lots)
	if k < 0 {
		t.Fatalf("Debit added lots: %v → %v", lotAmounts(old), lotAmounts(w))
	}
	var consumed int64
	for i, l := range old.Lots {
		switch {
		case i < k:
			consumed += l.Remaining
		case i == k:
			if !w.Lots[0].EarnedAt.Equal(l.EarnedAt) || w.Lots[0].Remaining > l.Remaining {
				t.Fatalf("Debit did not take from the oldest lots first: %v → %v", lotAmounts(old), lotAmounts(w))
			}
			consumed += l.Remaining - w.Lots[0].Remaining
		default:
			if w.Lots[i-k].Remaining != l.Remaining || !w.Lots[i-k].EarnedAt.Equal(l.EarnedAt) {
				t.Fatalf("Debit touched a lot that is not the oldest: %v → %v", lotAmounts(old), lotAmounts(w))
			}
		}
	}
	if consumed != min(taken, available) {
		t.Fatalf("Debit took %d (balance %d) but lots lost %d", taken, old.Balance, consumed)
	}
	m.w = w
	checkWallet(t, w)
}

func (m *walletModel) expire(asOf time.Time) {
	t := m.t
	t.Helper()
	old := walletSnapshot(m.w)
	want := old.Expiring(asOf)
	w, gone := m.w.Expire(asOf)
	if !sameWallet(m.w, old) {
		t.Fatalf("Expire modified its receiver")
	}
	if gone != want || w.Expiring(asOf) != 0 {
		t.Fatalf("Expire(%v): gone %d, Expiring said %d; %d still expiring", asOf, gone, want, w.Expiring(asOf))
	}
	// The lots kept are the old ones without the expired, in order.
	var kept []int64
	for _, l := range old.Lots {
		if l.ExpiresAt == nil || l.ExpiresAt.After(asOf) {
			kept = append(kept, l.Remaining)
		}
	}
	if got := lotAmounts(w); !slices.Equal(got, kept) && !(len(got) == 0 && len(kept) == 0) {
		t.Fatalf("Expire(%v) kept %v, want %v", asOf, got, kept)
	}
	m.balance -= gone
	if w.Balance != m.balance {
		t.Fatalf("Expire: balance %d, want %d", w.Balance, m.balance)
	}
	m.w = w
	checkWallet(t, w)
}

// apply decodes one 4-byte operation: kind (low 3 bits) and amount scale
// (high 5 bits), amount, expiry, clock step. Amounts go up to 255 × 32.
func (m *walletModel) apply(op [4]byte) {
	kind, amount, exp, step := op[0]%8, int64(op[1])*int64(1+op[0]>>3), op[2], op[3]
	// The clock moves by -6 to +41 hours: mostly forward, sometimes back-dated.
	m.clock = m.clock.Add(time.Duration(int(step)%48-6) * time.Hour)
	switch kind {
	case 0, 1, 2:
		// Credit: earned or not; expiring 1 to 7 days out at some hour of
		// the day (so credits often expire the same day and merge), or never.
		var expires *time.Time
		if exp%8 != 0 {
			e := m.clock.Truncate(24*time.Hour).AddDate(0, 0, int(exp%8)).Add(time.Duration(exp/8%24) * time.Hour)
			expires = &e
		}
		m.credit(amount, m.clock, expires, kind != 2)
	case 3, 4:
		m.debit(amount, Strict)
	case 5:
		m.debit(amount, WithinBalance)
	case 6:
		m.debit(amount, AllowNegative)
	case 7:
		m.expire(m.clock.Add(time.Duration(amount%96) * time.Hour))
	}
}

// A long random sequence (fixed seed) keeps the invariants after every step.
func TestWalletRandomSequence(t *testing.T) {
	rng := rand.New(rand.NewPCG(2025, 1))
	m := &walletModel{t: t, clock: seedTime}
	kinds := map[byte]int{}
	for range 20000 {
		var op [4]byte
		for i := range op {
			op[i] = byte(rng.UintN(256))
		}
		kinds[op[0]%8]++
		m.apply(op)
	}
	// The sequence must have exercised what it claims to test.
	if len(kinds) != 8 || m.strictOK == 0 || m.merges == 0 {
		t.Errorf("sequence too narrow: kinds %v, strict debits that succeeded %d, merges %d", kinds, m.strictOK, m.merges)
	}
}

// FuzzWallet decodes bytes into credits, debits (every mode) and expiries and
// checks each operation's contract and the wallet invariants after each one.
func FuzzWallet(f *testing.F) {
	f.Add([]byte{})
	// Credit 100, strict debit 30, expire.
	f.Add([]byte{0, 100, 1, 24, 3, 30, 0, 1, 7, 95, 0, 40})
	// Credit 50 twice the same day (merge), debit 80 within balance, allow-negative 200, credit 255.
	f.Add([]byte{0, 50, 9, 1, 1, 50, 9, 1, 5, 80, 0, 2, 6, 200, 0, 3, 0, 255, 0, 4})
	// Back-dated credits (clock step 0 = -6 h), strict debit beyond the balance.
	f.Add([]byte{0, 10, 3, 30, 0, 20, 3, 0, 0, 30, 3, 0, 4, 100, 0, 0, 4, 60, 0, 0})
	// Debt then repayment then expiry of everything.
	f.Add([]byte{6, 120, 0, 10, 1, 40, 2, 10, 0, 200, 2, 10, 7, 95, 0, 47, 7, 95, 0, 47, 7, 95, 0, 47})
	// Credits back-dated to the very instant of earlier lots, of equal and
	// different sizes (found by fuzzing; lots at the same instant keep their order).
	f.Add([]byte("0000000000000001000A010000000001000A0000"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &walletModel{t: t, clock: seedTime}
		for len(data) >= 4 {
			m.apply([4]byte(data[:4]))
			data = data[4:]
		}
	})
}
