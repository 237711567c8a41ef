package points

import (
	"context"

	"github.com/regulars/regulars/internal/loyalty"
)

// Summary is what a customer's points page shows: the wallet, its value at
// the redemption rate, the badges held and the next one, and the rewards.
type Summary struct {
	Wallet    loyalty.Wallet
	Value     int64 // minor units
	Held      []loyalty.Badge
	NextBadge *loyalty.NextBadge // nil: no badge left to reach
	Rewards   []loyalty.Reward
}

// Summary reads a customer's wallet and the program's rules, writing nothing.
func (s *Service) Summary(ctx context.Context, mid, cid string) (Summary, error) {
	acc, err := s.store.Account(ctx, mid, cid)
	if err != nil {
		return Summary{}, err
	}
	r, err := s.rules(ctx, mid)
	if err != nil {
		return Summary{}, err
	}
	w := acc.Wallet
	value, err := r.program.Redemption.Value(max(w.Balance, 0))
	if err != nil {
		return Summary{}, err
	}
	out := Summary{Wallet: w, Value: value, Held: loyalty.Held(r.badges, w.Balance, w.EarnedTotal), Rewards: r.rewards}
	if nb, ok := loyalty.Next(r.badges, w.Balance, w.EarnedTotal); ok {
		out.NextBadge = &nb
	}
	return out, nil
}
