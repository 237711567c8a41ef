package loyalty

import (
	"testing"
	"time"
)

// A wallet keeps at most MaxLots lots: the oldest merge into the next one,
// keeping every point and the later expiry.
func TestWalletLotsAreBounded(t *testing.T) {
	var w Wallet
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range MaxLots + 5 {
		at := start.AddDate(0, 0, i)
		exp := at.AddDate(10, 0, 0)
		w = must(w.Credit(1, at, &exp, true))
	}
	if len(w.Lots) != MaxLots || w.Balance != MaxLots+5 {
		t.Fatalf("%d lots, balance %d", len(w.Lots), w.Balance)
	}
	var sum int64
	for _, l := range w.Lots {
		sum += l.Remaining
	}
	if sum != w.Balance || w.Lots[0].Remaining != 6 || !w.Lots[0].ExpiresAt.Equal(start.AddDate(0, 0, 5).AddDate(10, 0, 0)) {
		t.Fatalf("sum %d, first lot %+v", sum, w.Lots[0])
	}
}
