package points

import (
	"context"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/loyalty"
)

// OpenBalance posts the balance an import opens a customer with: one
// `import` entry, once per source (the import and its row), whatever the
// customer's state. Posting the same source again answers the first entry.
func (s *Service) OpenBalance(ctx context.Context, mid, cid string, points int64, src loyalty.Source, actor string) (Result, error) {
	if points <= 0 || points > 1_000_000_000 {
		return Result{}, apperr.Field("/points_balance", "must be a whole number of points from 1 to 1000000000")
	}
	return s.post(ctx, mid, cid, &src, func(loyalty.Account, rules) ([]Op, func(*loyalty.Posting) error, error) {
		return []Op{{Kind: loyalty.KindImport, Points: points, Reason: "import", Actor: actor, Source: src}}, nil, nil
	})
}
