package dynamo_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
)

// TestListByValue: the customer list ordered by LTV and by points balance,
// with range filters on LTV, balance and last visit, paged with cursors,
// equals a sort of all customers in memory (highest first, ties newest
// customer first); postings move a customer in the balance order.
func TestListByValue(t *testing.T) {
	st := newStore(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := loyalty.DefaultProgram()
	p.Enabled = true
	if _, err := st.SaveProgram(t.Context(), "M1", p, 0, "test", now); err != nil {
		t.Fatal(err)
	}
	svc := points.New(st, func() time.Time { return now })
	var cids []string
	for i := range 23 {
		c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: fmt.Sprint("Cliente ", i)}}, now.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		c.Metrics.Revenue = int64(i%7) * 1500 // ties
		if i%5 != 0 {
			last := now.AddDate(0, 0, -3*i)
			c.Metrics.LastVisitAt = &last
		}
		if err := st.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if pts := int64(i%6) * 100; pts > 0 {
			if _, err := svc.Post(t.Context(), "M1", c.ID, points.Manual{Points: pts, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		cids = append(cids, c.ID)
	}
	// Later postings move customers in the balance order: up, down to zero.
	for _, m := range []struct {
		i   int
		pts int64
	}{{0, 5000}, {5, 0}, {7, 250}, {8, 1}} {
		if _, err := svc.SetBalance(t.Context(), "M1", cids[m.i], m.pts, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	var all []crm.Customer
	for _, cid := range cids {
		c, err := st.Customer(t.Context(), "M1", cid)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	ltv := func(c crm.Customer) int64 { return c.Metrics.Revenue }
	balance := func(c crm.Customer) int64 { return c.Metrics.PointsBalance }
	i64 := func(v int64) *int64 { return &v }
	at := func(daysAgo int) *time.Time { t := now.AddDate(0, 0, -daysAgo); return &t }
	for _, tc := range []struct {
		name   string
		order  crm.Order
		value  func(crm.Customer) int64
		ranges crm.Ranges
	}{
		{"ltv", crm.OrderLTV, ltv, crm.Ranges{}},
		{"balance", crm.OrderBalance, balance, crm.Ranges{}},
		{"ltv in a range (key condition)", crm.OrderLTV, ltv, crm.Ranges{LTVMin: i64(1500), LTVMax: i64(6000)}},
		{"ltv from a minimum", crm.OrderLTV, ltv, crm.Ranges{LTVMin: i64(4500)}},
		{"balance up to a maximum, visited lately (filter)", crm.OrderBalance, balance,
			crm.Ranges{BalanceMax: i64(300), LastVisitFrom: at(40)}},
		{"no balance", crm.OrderBalance, balance, crm.Ranges{BalanceMax: i64(0)}},
		{"ltv, balance range (filter)", crm.OrderLTV, ltv, crm.Ranges{BalanceMin: i64(100), BalanceMax: i64(400)}},
		{"last visit in a range", crm.OrderLastVisit, func(c crm.Customer) int64 { return c.Metrics.LastVisitAt.UnixMicro() },
			crm.Ranges{LastVisitFrom: at(30), LastVisitTo: at(6)}},
		{"an empty range", crm.OrderLTV, ltv, crm.Ranges{LTVMin: i64(100000)}},
	} {
		var want []string
		matching := slices.DeleteFunc(slices.Clone(all), func(c crm.Customer) bool { return !tc.ranges.Match(c) })
		slices.SortFunc(matching, func(a, b crm.Customer) int {
			return cmp.Or(cmp.Compare(tc.value(b), tc.value(a)), cmp.Compare(b.ID, a.ID))
		})
		for _, c := range matching {
			want = append(want, c.ID)
		}
		got := pageThrough(t, st, crm.Query{Order: tc.order, Ranges: tc.ranges, Limit: 4, Now: now})
		if !slices.Equal(got, want) {
			t.Errorf("%s: listed %d customers\n got %v\nwant %v", tc.name, len(got), got, want)
		}
	}
	// A cursor belongs to its range: another range's list refuses it.
	page, err := st.ListCustomers(t.Context(), "M1", crm.Query{Order: crm.OrderLTV, Limit: 2, Now: now})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("first page: %v %+v", err, page)
	}
	if _, err := st.ListCustomers(t.Context(), "M1", crm.Query{Order: crm.OrderLTV, Ranges: crm.Ranges{LTVMin: i64(1)}, Limit: 2, Now: now, Cursor: page.NextCursor}); err == nil {
		t.Error("a cursor of the whole list continued a range")
	}
}

// pageThrough lists every page of q and returns the customer IDs in order.
func pageThrough(t *testing.T, st *dynamo.Store, q crm.Query) []string {
	t.Helper()
	var out []string
	for n := 0; ; n++ {
		if n > 50 {
			t.Fatal("more than 50 pages")
		}
		page, err := st.ListCustomers(t.Context(), "M1", q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			out = append(out, c.ID)
		}
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
}

// A profile last written before the value indexes existed is in neither
// value order; IndexValues keys it from its stored revenue and balance, and a
// second run finds nothing to do.
func TestIndexValues(t *testing.T) {
	t.Parallel()
	res := localstack.ProvisionTest(t, awsCfg)
	db := dynamodb.NewFromConfig(awsCfg)
	st := dynamo.New(db, res.Ref("Table"))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var cids []string
	for i := range 3 {
		c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: fmt.Sprint("Antiguo ", i)}}, now)
		if err != nil {
			t.Fatal(err)
		}
		c.Metrics.Revenue, c.Metrics.PointsBalance = int64(i+1)*1000, int64(3-i)*10
		if err := st.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		cids = append(cids, c.ID)
	}
	for _, cid := range cids[:2] { // as a profile written by the version before the indexes
		if _, err := db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String(res.Ref("Table")),
			Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "M#M1#C#" + cid}, "SK": &types.AttributeValueMemberS{Value: "PROFILE"}},
			UpdateExpression: aws.String("REMOVE GSI5PK, GSI5SK, GSI6PK, GSI6SK")}); err != nil {
			t.Fatal(err)
		}
	}
	order := func(o crm.Order) []string {
		page, err := st.ListCustomers(t.Context(), "M1", crm.Query{Order: o, Limit: 10, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range page.Customers {
			got = append(got, c.ID)
		}
		return got
	}
	if got := order(crm.OrderLTV); !slices.Equal(got, cids[2:]) {
		t.Fatalf("by LTV before: %v, want only %v", got, cids[2:])
	}
	if n, err := st.IndexValues(t.Context(), "M1"); err != nil || n != 2 {
		t.Fatalf("indexed %d, %v; want 2", n, err)
	}
	if got, want := order(crm.OrderLTV), []string{cids[2], cids[1], cids[0]}; !slices.Equal(got, want) {
		t.Fatalf("by LTV: %v, want %v", got, want)
	}
	if got := order(crm.OrderBalance); !slices.Equal(got, cids) {
		t.Fatalf("by balance: %v, want %v", got, cids)
	}
	if n, err := st.IndexValues(t.Context(), "M1"); err != nil || n != 0 {
		t.Fatalf("second run indexed %d, %v", n, err)
	}
}
