package loyalty

import (
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/checked"
)

// Limits that keep every sum and product of money and points inside int64
// (the arithmetic is checked as well: checked.ErrOverflow, 422).
const (
	// MaxAmount is the most, in minor units, that one line (quantity ×
	// unit price, and quantity × unit cost), all the lines of an order, or
	// a cart may total: 10^15.
	MaxAmount = 1_000_000_000_000_000
	// MaxBalance is the most points a balance may hold (or owe, below
	// zero) and an earned total may reach, and so the most one posting may
	// move: 10^15.
	MaxBalance = 1_000_000_000_000_000
)

// errBalanceLimit is the answer to a movement that would take a balance or
// an earned total beyond MaxBalance.
func errBalanceLimit() error {
	return (&apperr.Error{Code: apperr.Unprocessable,
		Message: "This movement would take the customer's points beyond 1000000000000000, the most a balance or an earned total may hold."}).
		With("max_balance", int64(MaxBalance))
}

// bounded adds delta to v within ±MaxBalance.
func bounded(v, delta int64) (int64, error) {
	s, err := checked.Add(v, delta)
	if err != nil || s > MaxBalance || s < -MaxBalance {
		return 0, errBalanceLimit()
	}
	return s, nil
}
