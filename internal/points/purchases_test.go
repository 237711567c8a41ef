package points_test

import (
	"testing"
	"time"

	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/purchase"
)

// TestLatePurchasePostedAfterThePeriod: a purchase entry is posted when the
// event is applied (created_at, the order of the ledger, the report and the
// export) and records when the purchase happened (occurred_at). A purchase
// of January 10th that arrives on the 12th is in the report of the 12th,
// never in the closed report of the 10th, and the customer's ledger stays in
// posting order with its times never going backwards.
func TestLatePurchasePostedAfterThePeriod(t *testing.T) {
	p := loyalty.DefaultProgram()
	p.Enabled = true
	st, svc, clk := setup(t, p)
	cid := customer(t, st)
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	buy := func(order string, at time.Time) {
		ev := purchase.Event{EventID: order + "-paid", OrderID: order, Status: purchase.Paid, OccurredAt: at,
			Location: purchase.Location{ID: "centro", Name: "Centro"}, Customer: purchase.CustomerRef{CustomerID: cid}, Currency: "EUR",
			Lines: []purchase.Line{{SKU: "MENU", Name: "Menú", Quantity: 1, UnitPrice: 1000}}}
		if _, err := svc.ApplyPurchase(t.Context(), st, "M1", cid, ev, loc); err != nil {
			t.Fatal(err)
		}
	}
	day10 := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	period := func(from time.Time) (ids []string) {
		if err := st.Movements(t.Context(), "M1", from, from.Add(24*time.Hour-time.Microsecond), func(e loyalty.Entry) bool {
			ids = append(ids, e.ID)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return ids
	}

	clk.t = day10.Add(12 * time.Hour)
	buy("A", day10.Add(11*time.Hour)) // on time
	closed := period(day10)
	if len(closed) != 1 {
		t.Fatalf("the 10th: %d entries, want 1", len(closed))
	}
	clk.t = day10.Add(34 * time.Hour) // the 11th, 10:00
	if _, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: 5, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	clk.t = day10.Add(57 * time.Hour) // the 12th, 09:00
	late := day10.Add(18 * time.Hour)
	buy("B", late) // a purchase of the 10th, sent two days late

	if got := period(day10); len(got) != 1 || got[0] != closed[0] {
		t.Errorf("the closed 10th now holds %v, want only %v", got, closed)
	}
	if got := period(day10.Add(48 * time.Hour)); len(got) != 1 {
		t.Errorf("the 12th holds %d entries, want the late purchase's", len(got))
	}
	page, err := st.Entries(t.Context(), "M1", cid, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	es := page.Entries
	if len(es) != 3 || es[0].Source.ID != "B" || es[1].Source.Type != "manual" || es[2].Source.ID != "A" {
		t.Fatalf("ledger %+v, want B, the manual movement, A (newest posted first)", es)
	}
	for i := 1; i < len(es); i++ {
		if es[i].CreatedAt.After(es[i-1].CreatedAt) {
			t.Errorf("ledger goes back in time: %s posted %s after %s posted %s", es[i-1].ID, es[i-1].CreatedAt, es[i].ID, es[i].CreatedAt)
		}
	}
	if b := es[0]; !b.CreatedAt.Equal(clk.t) || !b.OccurredAt.Equal(late) {
		t.Errorf("late purchase entry: created_at %s occurred_at %s; want %s and %s", b.CreatedAt, b.OccurredAt, clk.t, late)
	}
	if m := es[1]; !m.OccurredAt.Equal(m.CreatedAt) {
		t.Errorf("manual entry: occurred_at %s, created_at %s; want equal", m.OccurredAt, m.CreatedAt)
	}
	// The entry read on its own says the same.
	if e, err := st.Entry(t.Context(), "M1", cid, es[0].ID); err != nil || !e.OccurredAt.Equal(late) || !e.CreatedAt.Equal(clk.t) {
		t.Errorf("Entry: %+v, %v", e, err)
	}
}
