package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

// Movements whose sum does not fit int64 (entries of two customers written
// below the API, which never posts more than 10^15) are answered with 422,
// not a wrapped total.
func TestReportSumDoesNotWrap(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for _, name := range []string{"Ana", "Eva"} {
		c := e.create(map[string]any{"given_name": name})
		const huge = 5_000_000_000_000_000_000
		if _, _, err := e.store.Post(t.Context(), e.merchant.ID, c.ID, func(acc loyalty.Account) (loyalty.Posting, error) {
			w := loyalty.Wallet{Balance: huge, EarnedTotal: huge, Lots: []loyalty.Lot{{EarnedAt: at, Remaining: huge}}}
			return loyalty.Posting{Wallet: w, Entries: []loyalty.Entry{{ID: ids.New(at), CustomerID: c.ID, Kind: loyalty.KindEarn,
				Points: huge, BalanceAfter: huge, Reason: "test", Actor: "test", CreatedAt: at}}}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	e.must(http.StatusUnprocessableEntity, "GET", "/v1/reports/points?from=2026-11-01&to=2026-11-03", e.key, nil)
}
