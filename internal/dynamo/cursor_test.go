package dynamo_test

import (
	"testing"
	"time"

	"github.com/regulars/regulars/internal/crm"
)

// TestActiveListCursorAfterTheWindowMoved: a cursor of the active list whose
// customer has since left the 30-day window continues to an empty page
// (everything after it is older still), not to DynamoDB's refusal of a start
// key outside the key condition.
func TestActiveListCursorAfterTheWindowMoved(t *testing.T) {
	st := newStore(t)
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for i, name := range []string{"Ana", "Bea"} {
		c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: name}}, now.AddDate(0, -1, 0))
		if err != nil {
			t.Fatal(err)
		}
		visit := now.AddDate(0, 0, -1-i)
		c.Metrics.LastVisitAt = &visit
		if err := st.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	q := crm.Query{Order: crm.OrderLastVisit, Activity: crm.ActivityActive, Limit: 1, Now: now}
	first, err := st.ListCustomers(t.Context(), "M1", q)
	if err != nil || len(first.Customers) != 1 || first.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	q.Cursor = first.NextCursor
	if page, err := st.ListCustomers(t.Context(), "M1", q); err != nil || len(page.Customers) != 1 {
		t.Fatalf("second page at once: %+v, %v", page, err)
	}
	q.Now = now.Add(crm.ActivityWindow)
	page, err := st.ListCustomers(t.Context(), "M1", q)
	if err != nil || len(page.Customers) != 0 || page.NextCursor != "" {
		t.Fatalf("second page once the window moved: %+v, %v", page, err)
	}
}
