package loyalty

import (
	"slices"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// Kind is the kind of a ledger entry.
type Kind string

// Entry kinds.
const (
	KindEarn     Kind = "earn"     // purchase or action points
	KindSpend    Kind = "spend"    // manual spend
	KindAdjust   Kind = "adjust"   // manual correction, set-balance difference
	KindVoid     Kind = "void"     // reversal of another entry
	KindExpire   Kind = "expire"   // lots past their expiry
	KindGift     Kind = "gift"     // periodic gift
	KindRedeem   Kind = "redeem"   // checkout redemption or reward
	KindRefund   Kind = "refund"   // purchase refunded: its points taken back
	KindImport   Kind = "import"   // opening balance of an import
	KindTransfer Kind = "transfer" // merge of duplicates
)

// Kinds are every entry kind.
var Kinds = []Kind{KindEarn, KindSpend, KindAdjust, KindVoid, KindExpire, KindGift, KindRedeem, KindRefund, KindImport, KindTransfer}

// KindNames are the names of Kinds.
func KindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

// Lot is a quantity of points earned together; spends consume the oldest lots first.
type Lot struct {
	EarnedAt  time.Time
	ExpiresAt *time.Time
	Remaining int64
}

// Wallet is the points state of one customer. When Balance ≥ 0 it equals the
// sum of the lots; a negative balance (refund policy allow_negative) has no
// lots and is repaid by the next credit.
type Wallet struct {
	Balance     int64
	EarnedTotal int64 // points ever credited by earn, gift and import: the earned_total badge basis
	Lots        []Lot
}

// Mode says how a debit behaves when the balance is short.
type Mode int

// Debit modes.
const (
	Strict        Mode = iota // refuse: spends and redemptions never go below zero
	WithinBalance             // take what there is, forgive the rest
	AllowNegative             // take everything, even below zero
)

// ModeFor returns the debit mode of refunds and voids under a policy.
func ModeFor(p RefundPolicy) Mode {
	if p == RefundAllowNegative {
		return AllowNegative
	}
	return WithinBalance
}

// ErrInsufficient is the answer to a strict debit beyond the balance: 422
// carrying the current balance.
func ErrInsufficient(balance, wanted int64) error {
	return (&apperr.Error{Code: apperr.Unprocessable,
		Message: "The customer does not have enough points.",
		Fields:  []apperr.FieldError{{Path: "/points", Message: "exceeds the current balance"}},
	}).With("balance", balance).With("requested", wanted)
}

// Credit adds points: first repaying a negative balance, then as a new lot
// (merged into the newest lot when both expire on the same day). A credit
// that would take the balance or the earned total beyond MaxBalance is
// refused (422).
func (w Wallet) Credit(points int64, at time.Time, expiresAt *time.Time, earned bool) (Wallet, error) {
	if _, err := bounded(w.Balance, points); err != nil {
		return w, err
	}
	w.Lots = slices.Clone(w.Lots)
	if earned {
		total, err := bounded(w.EarnedTotal, points)
		if err != nil {
			return w, err
		}
		w.EarnedTotal = total
	}
	if w.Balance < 0 {
		repay := min(points, -w.Balance)
		w.Balance += repay
		points -= repay
	}
	if points <= 0 {
		return w, nil
	}
	w.Balance += points
	if n := len(w.Lots); n > 0 && sameDay(w.Lots[n-1].ExpiresAt, expiresAt) && !at.Before(w.Lots[n-1].EarnedAt) {
		w.Lots[n-1].Remaining += points
		return w, nil
	}
	w.Lots = append(w.Lots, Lot{EarnedAt: at.UTC(), ExpiresAt: expiresAt, Remaining: points})
	w.Lots = sortedLots(w.Lots)
	return w, nil
}

// sortedLots orders lots by earned_at and keeps at most MaxLots: the oldest
// lot joins the next one and takes its later expiry (in the customer's
// favour), which keeps the profile item small.
func sortedLots(lots []Lot) []Lot {
	slices.SortStableFunc(lots, func(a, b Lot) int { return a.EarnedAt.Compare(b.EarnedAt) })
	for len(lots) > MaxLots {
		lots[1].Remaining += lots[0].Remaining
		lots = lots[1:]
	}
	return lots
}

// Absorb adds a merged duplicate's wallet to w: the balances and the earned
// totals add up, and the duplicate's lots join w's with their own earning and
// expiry dates. A negative balance on either side is repaid from the other's
// oldest lots first; a negative sum leaves no lots, as a debit under
// AllowNegative would. Sums beyond MaxBalance are refused (422).
func (w Wallet) Absorb(dup Wallet) (Wallet, error) {
	total, err := bounded(w.EarnedTotal, dup.EarnedTotal)
	if err != nil {
		return w, err
	}
	w.EarnedTotal = total
	if dup.Balance < 0 {
		out, _, err := w.Debit(-dup.Balance, AllowNegative)
		out.EarnedTotal = w.EarnedTotal
		return out, err
	}
	if _, err := bounded(w.Balance, dup.Balance); err != nil {
		return w, err
	}
	if w.Balance < 0 {
		repaid, taken, _ := dup.Debit(-w.Balance, WithinBalance)
		w.Balance += taken
		dup = repaid
	}
	w.Balance += dup.Balance
	w.Lots = sortedLots(append(slices.Clone(w.Lots), dup.Lots...))
	if len(w.Lots) == 0 {
		w.Lots = nil
	}
	return w, nil
}

// MaxLots bounds the lots a wallet keeps (about 100 bytes each on the profile).
const MaxLots = 400

func sameDay(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// Debit takes points from the oldest lots. It returns the new wallet and the
// points actually taken, which WithinBalance may make smaller than asked.
// AllowNegative refuses (422) to owe more than MaxBalance.
func (w Wallet) Debit(points int64, mode Mode) (Wallet, int64, error) {
	available := max(w.Balance, 0)
	take := points
	if points > available {
		switch mode {
		case Strict:
			return w, 0, ErrInsufficient(w.Balance, points)
		case WithinBalance:
			take = available
		}
	}
	if _, err := bounded(w.Balance, -take); err != nil {
		return w, 0, err
	}
	w.Lots = slices.Clone(w.Lots)
	left := min(take, available)
	for left > 0 && len(w.Lots) > 0 {
		used := min(left, w.Lots[0].Remaining)
		w.Lots[0].Remaining -= used
		left -= used
		if w.Lots[0].Remaining == 0 {
			w.Lots = w.Lots[1:]
		}
	}
	w.Balance -= take
	if len(w.Lots) == 0 {
		w.Lots = nil
	}
	return w, take, nil
}

// Expiring returns the points of the lots that have expired at asOf.
func (w Wallet) Expiring(asOf time.Time) int64 {
	var n int64
	for _, l := range w.Lots {
		if l.ExpiresAt != nil && !l.ExpiresAt.After(asOf) {
			n += l.Remaining
		}
	}
	return n
}

// Expire removes the lots expired at asOf and returns the points removed.
func (w Wallet) Expire(asOf time.Time) (Wallet, int64) {
	var kept []Lot
	var gone int64
	for _, l := range w.Lots {
		if l.ExpiresAt != nil && !l.ExpiresAt.After(asOf) {
			gone += l.Remaining
			continue
		}
		kept = append(kept, l)
	}
	w.Lots = kept
	w.Balance -= gone
	return w, gone
}

// ExpiryFor returns when points earned at t expire under the program, or nil.
func (p Program) ExpiryFor(t time.Time) *time.Time {
	if p.ExpiryDays == 0 {
		return nil
	}
	e := t.UTC().AddDate(0, 0, int(p.ExpiryDays))
	return &e
}
