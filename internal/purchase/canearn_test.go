package purchase

import (
	"testing"
	"time"
)

// A customer who may not earn (not active) gets no new points, but what an
// order earned before is still reversed when it is refunded or cancelled.
func TestPointsWhenTheCustomerMayNotEarn(t *testing.T) {
	p := seedProgram() // 10 points per 5.00, earned at paid
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := Order{}.Apply(Event{EventID: "e1", OrderID: "O", Status: Paid, OccurredAt: at, Lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 2500}}})
	if earned, reversed := must2(o.Points(p, false)); earned != 0 || reversed != 0 {
		t.Fatalf("not allowed to earn: %d, %d", earned, reversed)
	}
	o.PointsEarned = 50 // earned while active
	o = o.Apply(Event{EventID: "e2", OrderID: "O", Status: Cancelled, OccurredAt: at.Add(time.Hour)})
	if earned, reversed := must2(o.Points(p, false)); earned != 50 || reversed != 50 {
		t.Fatalf("cancelled after earning: %d, %d", earned, reversed)
	}
}
