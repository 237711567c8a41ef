package purchase

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/crm"
)

func TestContributionOf(t *testing.T) {
	paid := ev(t, "evt-paid", Paid, "2026-03-14T10:05:00+01:00")
	for _, tc := range []struct {
		name string
		o    Order
		want Contribution
	}{
		{name: "no order", o: Order{}, want: Contribution{}},
		{
			// Net 2500; margin on CAFE only: net 2000 − cost 800 = 1200.
			// NAPO has no name: its SKU stands in.
			name: "paid",
			o:    Order{}.Apply(paid),
			want: Contribution{Counted: true, At: paid.OccurredAt, Location: paid.Location, Revenue: 2500, Margin: 1200, Units: 3,
				Products: []string{"Café con leche", "NAPO"}},
		},
		{
			// 5.00 refunded: revenue 2500 − 500 = 2000; margin scaled by
			// the unrefunded share 1200 × 2000 / 2500 = 960. Units stay.
			name: "partially refunded",
			o:    Order{}.Apply(paid).Apply(partial(t, "r1", "2026-03-14T12:00:00+01:00", 500)),
			want: Contribution{Counted: true, At: paid.OccurredAt, Location: paid.Location, Revenue: 2000, Margin: 960, Units: 3,
				Products: []string{"Café con leche", "NAPO"}},
		},
		{
			// 3.33 refunded: revenue 2167, margin 1200 × 2167 / 2500 = 1040.16 → 1040.
			name: "refund rounding",
			o:    Order{}.Apply(paid).Apply(partial(t, "r1", "2026-03-14T12:00:00+01:00", 333)),
			want: Contribution{Counted: true, At: paid.OccurredAt, Location: paid.Location, Revenue: 2167, Margin: 1040, Units: 3,
				Products: []string{"Café con leche", "NAPO"}},
		},
		{
			// Everything refunded: still a visit (counted), with nothing left.
			name: "fully refunded",
			o:    Order{}.Apply(paid).Apply(ev(t, "rf", Refunded, "2026-03-14T12:00:00+01:00")),
			want: Contribution{Counted: true, At: paid.OccurredAt, Location: paid.Location, Revenue: 0, Margin: 0, Units: 3,
				Products: []string{"Café con leche", "NAPO"}},
		},
		{name: "cancelled", o: Order{}.Apply(paid).Apply(ev(t, "c", Cancelled, "2026-03-14T12:00:00+01:00")), want: Contribution{}},
		{name: "a refund without lines", o: Order{}.Apply(partial(t, "r1", "2026-03-14T12:00:00+01:00", 500)), want: Contribution{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ContributionOf(tc.o)
			if !sameContribution(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestContributionMargin(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name            string
		lines           []Line
		refund          int64
		revenue, margin int64
	}{
		// No known cost: no margin at all (not the whole revenue).
		{name: "no cost known", lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 1000}}, revenue: 1000, margin: 0},
		// Sold below cost: 1000 − 2 × 700 = −400.
		{name: "loss", lines: []Line{{SKU: "A", Quantity: 2, UnitPrice: 500, UnitCost: costOf(700)}}, revenue: 1000, margin: -400},
		// Half refunded: −400 × 500 / 1000 = −200.
		{name: "loss half refunded", lines: []Line{{SKU: "A", Quantity: 2, UnitPrice: 500, UnitCost: costOf(700)}}, refund: 500, revenue: 500, margin: -200},
		// Free goods: net 0, no division by zero.
		{name: "net zero", lines: []Line{{SKU: "A", Quantity: 1, UnitPrice: 0, UnitCost: costOf(100)}}, revenue: 0, margin: 0},
		// Cost 0 known: the whole net is margin; 9.99 × 3 = 29.97.
		{name: "cost zero", lines: []Line{{SKU: "A", Quantity: 3, UnitPrice: 999, UnitCost: costOf(0)}}, revenue: 2997, margin: 2997},
	} {
		o := Order{Lines: tc.lines, Statuses: map[Status]time.Time{Paid: at}}
		if tc.refund > 0 {
			o.Refunds = map[string]int64{"r": tc.refund}
		}
		c := ContributionOf(o)
		if c.Revenue != tc.revenue || c.Margin != tc.margin {
			t.Errorf("%s: revenue %d margin %d, want %d %d", tc.name, c.Revenue, c.Margin, tc.revenue, tc.margin)
		}
	}
}

func sameContribution(a, b Contribution) bool {
	return a.Counted == b.Counted && a.At.Equal(b.At) && a.Location == b.Location && a.Revenue == b.Revenue &&
		a.Margin == b.Margin && a.Units == b.Units && slices.Equal(a.Products, b.Products)
}

func TestWithin12Months(t *testing.T) {
	yearAgo := time.Date(2025, 3, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{yearAgo, true},                        // the boundary is in
		{yearAgo.Add(-time.Nanosecond), false}, // just before it is out
		{yearAgo.Add(time.Nanosecond), true},
		{testNow, true},
		{testNow.Add(-time.Hour), true},
		// A till's clock a little ahead of ours (validation allows 24 h):
		// still this year's purchase.
		{testNow.Add(time.Minute), true},
		{testNow.Add(24 * time.Hour), true},
		// The same instant in another zone.
		{yearAgo.In(time.FixedZone("", -5*3600)), true},
	} {
		if got := Within12Months(tc.at, testNow); got != tc.want {
			t.Errorf("Within12Months(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestLocalDate(t *testing.T) {
	madrid, ny := mustZone(t, "Europe/Madrid"), mustZone(t, "America/New_York")
	at := time.Date(2026, 1, 10, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		loc  *time.Location
		want string
	}{
		{time.UTC, "2026-01-10"},
		{madrid, "2026-01-11"}, // 00:30 +01:00
		{ny, "2026-01-10"},     // 18:30 −05:00
	} {
		if got := LocalDate(at, tc.loc); got != tc.want {
			t.Errorf("LocalDate in %s = %s, want %s", tc.loc, got, tc.want)
		}
	}
	// The offset the time carries does not matter, only the instant.
	if got := LocalDate(at.In(time.FixedZone("", 9*3600)), madrid); got != "2026-01-11" {
		t.Errorf("LocalDate of an offset time = %s", got)
	}
}

// book is one customer as the points service keeps them: metrics, ticket
// days and orders. Each event goes through ContributionOf and Update exactly
// as ApplyPurchase does (Update sees only the days it needs).
type book struct {
	loc    *time.Location
	now    time.Time
	m      crm.Metrics
	days   map[string]Day
	orders map[string]Order
}

func newBook(loc *time.Location) *book {
	return &book{loc: loc, now: testNow, days: map[string]Day{}, orders: map[string]Order{}}
}

func (b *book) apply(t testing.TB, events ...Event) {
	t.Helper()
	for _, e := range events {
		o := b.orders[e.OrderID]
		if o.Applied(e.EventID) {
			continue
		}
		after := o.Apply(e)
		before, next := ContributionOf(o), ContributionOf(after)
		current := map[string]Day{}
		for _, c := range []Contribution{before, next} {
			if c.Counted {
				date := LocalDate(c.At, b.loc)
				if d, ok := b.days[date]; ok {
					current[date] = d
				}
			}
		}
		m, changed := must2(Update(b.m, current, before, next, b.loc, b.now))
		b.m = m
		for k, d := range changed {
			if d.Date != k {
				t.Fatalf("day %s has date %q", k, d.Date)
			}
			b.days[k] = d
		}
		b.orders[e.OrderID] = after
	}
}

// ticketDays is the days with at least one order, sorted.
func (b *book) ticketDays() []string {
	var out []string
	for k, d := range b.days {
		if d.Orders > 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// check recomputes every additive figure from the orders and compares: the
// metrics must always equal the sum of the counted orders' contributions.
func (b *book) check(t testing.TB) {
	t.Helper()
	var want crm.Metrics
	days := map[string]Day{}
	recentDays := map[string]bool{}
	firstDay := LocalDate(b.now.AddDate(-1, 0, 0), b.loc) // tickets: by date
	visits := map[string]int64{}
	for _, o := range b.orders {
		c := ContributionOf(o)
		if !c.Counted {
			continue
		}
		date := LocalDate(c.At, b.loc)
		d := days[date]
		d.Date = date
		d.Orders++
		d.Revenue += c.Revenue
		d.Margin += c.Margin
		d.Units += c.Units
		days[date] = d
		want.Revenue += c.Revenue
		want.Margin += c.Margin
		want.Units += c.Units
		if Within12Months(c.At, b.now) {
			want.Revenue12M += c.Revenue
			want.Margin12M += c.Margin
		}
		if date >= firstDay {
			recentDays[date] = true
		}
		key := c.Location.Name
		if key == "" {
			key = c.Location.ID
		}
		if key != "" {
			visits[key]++
		}
	}
	want.Tickets, want.Tickets12M = int64(len(days)), int64(len(recentDays))
	m := b.m
	if m.Tickets != want.Tickets || m.Tickets12M != want.Tickets12M || m.Revenue != want.Revenue || m.Revenue12M != want.Revenue12M ||
		m.Margin != want.Margin || m.Margin12M != want.Margin12M || m.Units != want.Units {
		t.Fatalf("metrics\n got tickets %d/%d revenue %d/%d margin %d/%d units %d\nwant tickets %d/%d revenue %d/%d margin %d/%d units %d",
			m.Tickets, m.Tickets12M, m.Revenue, m.Revenue12M, m.Margin, m.Margin12M, m.Units,
			want.Tickets, want.Tickets12M, want.Revenue, want.Revenue12M, want.Margin, want.Margin12M, want.Units)
	}
	for k, d := range b.days {
		if w := days[k]; d.Orders != w.Orders || d.Revenue != w.Revenue || d.Margin != w.Margin || d.Units != w.Units {
			t.Fatalf("day %s = %+v, want %+v", k, d, w)
		}
	}
	for k := range days {
		if _, ok := b.days[k]; !ok {
			t.Fatalf("day %s missing", k)
		}
	}
	if !maps.Equal(nonZero(m.LocationVisits), visits) {
		t.Fatalf("location visits %v, want %v", m.LocationVisits, visits)
	}
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// sale is a paid order of one 10.00 line (net 10.00, cost 6.00 → margin 4.00)
// at a time given as RFC 3339, at a location.
func sale(t testing.TB, order string, at string, store string) Event {
	e := ev(t, order+"-paid", Paid, at)
	e.OrderID = order
	e.Location = Location{ID: store, Name: ""}
	e.Lines = []Line{{SKU: "SKU-" + order, Name: "Product " + order, Quantity: 1, UnitPrice: 1000, UnitCost: costOf(600)}}
	return e
}

func status(e Event, s Status, at string) Event {
	ts, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	e.EventID = e.OrderID + "-" + string(s) + "-" + at
	e.Status, e.OccurredAt = s, ts
	if s == Refunded || s == Cancelled || s == PartiallyRefunded {
		e.Lines = nil
	}
	return e
}

func refund(e Event, at string, amount int64) Event {
	r := status(e, PartiallyRefunded, at)
	r.RefundLines = []RefundLine{{SKU: e.Lines[0].SKU, Amount: amount}}
	return r
}

// Two orders in the same merchant-local day are one ticket; whether two
// instants fall on one day depends on the merchant's zone.
func TestTicketsByLocalDay(t *testing.T) {
	madrid, ny := mustZone(t, "Europe/Madrid"), mustZone(t, "America/New_York")
	for _, tc := range []struct {
		name   string
		loc    *time.Location
		a, b   string
		ticket []string
	}{
		// 23:30 and 00:30 UTC the next UTC day: Madrid (+01:00) sees 00:30
		// and 01:30 on the 11th, New York (−05:00) 18:30 and 19:30 on the
		// 10th: one ticket; UTC sees two days.
		{"utc midnight, UTC", time.UTC, "2026-01-10T23:30:00Z", "2026-01-11T00:30:00Z", []string{"2026-01-10", "2026-01-11"}},
		{"utc midnight, Madrid", madrid, "2026-01-10T23:30:00Z", "2026-01-11T00:30:00Z", []string{"2026-01-11"}},
		{"utc midnight, New York", ny, "2026-01-10T23:30:00Z", "2026-01-11T00:30:00Z", []string{"2026-01-10"}},
		// 22:30 and 23:30 UTC the same UTC day: 23:30 and 00:30 in Madrid,
		// two days; 17:30 and 18:30 in New York, one.
		{"Madrid midnight, Madrid", madrid, "2026-01-10T22:30:00Z", "2026-01-10T23:30:00Z", []string{"2026-01-10", "2026-01-11"}},
		{"Madrid midnight, New York", ny, "2026-01-10T22:30:00Z", "2026-01-10T23:30:00Z", []string{"2026-01-10"}},
		// 04:30 and 05:30 UTC: 23:30 and 00:30 in New York, two days.
		{"New York midnight, New York", ny, "2026-01-11T04:30:00Z", "2026-01-11T05:30:00Z", []string{"2026-01-10", "2026-01-11"}},
		{"New York midnight, Madrid", madrid, "2026-01-11T04:30:00Z", "2026-01-11T05:30:00Z", []string{"2026-01-11"}},
		// Summer time in Madrid is +02:00: 21:30 and 22:30 UTC straddle
		// the local midnight in July, not in January.
		{"Madrid summer", madrid, "2025-07-10T21:30:00Z", "2025-07-10T22:30:00Z", []string{"2025-07-10", "2025-07-11"}},
		{"Madrid winter", madrid, "2026-01-10T21:30:00Z", "2026-01-10T22:30:00Z", []string{"2026-01-10"}},
		// Two Madrid orders the same day, at 09:00 and 21:00 local.
		{"same Madrid day", madrid, "2026-01-10T09:00:00+01:00", "2026-01-10T21:00:00+01:00", []string{"2026-01-10"}},
		// Offsets given by the till do not matter, only the instant:
		// 2026-01-10T20:00−05:00 is 02:00 on the 11th in Madrid.
		{"offset of the till", madrid, "2026-01-10T20:00:00-05:00", "2026-01-11T09:00:00+01:00", []string{"2026-01-11"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBook(tc.loc)
			b.apply(t, sale(t, "o1", tc.a, "mad-1"), sale(t, "o2", tc.b, "mad-1"))
			b.check(t)
			if got := b.ticketDays(); !slices.Equal(got, tc.ticket) {
				t.Errorf("ticket days %v, want %v", got, tc.ticket)
			}
			if b.m.Tickets != int64(len(tc.ticket)) || b.m.Tickets12M != int64(len(tc.ticket)) {
				t.Errorf("tickets %d / 12 m %d, want %d", b.m.Tickets, b.m.Tickets12M, len(tc.ticket))
			}
			// Both orders: 2 × 10.00 revenue, 2 × 4.00 margin, 2 units.
			if b.m.Revenue != 2000 || b.m.Margin != 800 || b.m.Units != 2 {
				t.Errorf("revenue %d margin %d units %d", b.m.Revenue, b.m.Margin, b.m.Units)
			}
			if len(tc.ticket) == 1 {
				if d := b.days[tc.ticket[0]]; d.Orders != 2 || d.Revenue != 2000 || d.Margin != 800 || d.Units != 2 {
					t.Errorf("day %+v", d)
				}
			}
		})
	}
}

// An order whose earlier status arrives late moves to that status's day:
// the old day loses it, the new one gains it.
func TestOrderMovesToAnotherDay(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid")
	// ord: paid 00:10 on the 11th (Madrid); its created event, 23:55 on
	// the 10th, arrives afterwards.
	paid := sale(t, "ord", "2026-01-11T00:10:00+01:00", "mad-1")
	created := status(paid, Created, "2026-01-10T23:55:00+01:00")
	created.Lines = paid.Lines
	for _, tc := range []struct {
		name           string
		others         []Event // orders placed before
		ticketsBefore  int64   // after paid
		ticketsAfter   int64   // after created
		days10, days11 int64   // orders on each day at the end
	}{
		{name: "only order", ticketsBefore: 1, ticketsAfter: 1, days10: 1, days11: 0},
		// Another order on the 10th: two tickets become one.
		{name: "joins the day before", others: []Event{sale(t, "o10", "2026-01-10T12:00:00+01:00", "mad-1")},
			ticketsBefore: 2, ticketsAfter: 1, days10: 2, days11: 0},
		// Another order on the 11th: one ticket becomes two.
		{name: "leaves a day that keeps a ticket", others: []Event{sale(t, "o11", "2026-01-11T12:00:00+01:00", "mad-1")},
			ticketsBefore: 1, ticketsAfter: 2, days10: 1, days11: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBook(madrid)
			b.apply(t, tc.others...)
			b.apply(t, paid)
			b.check(t)
			if b.m.Tickets != tc.ticketsBefore {
				t.Errorf("tickets after paid %d, want %d", b.m.Tickets, tc.ticketsBefore)
			}
			b.apply(t, created)
			b.check(t)
			if b.m.Tickets != tc.ticketsAfter || b.m.Tickets12M != tc.ticketsAfter {
				t.Errorf("tickets after created %d / %d, want %d", b.m.Tickets, b.m.Tickets12M, tc.ticketsAfter)
			}
			if b.days["2026-01-10"].Orders != tc.days10 || b.days["2026-01-11"].Orders != tc.days11 {
				t.Errorf("days %+v", b.days)
			}
			// The 11th keeps its row, emptied of this order: 0 revenue unless another order.
			if d := b.days["2026-01-11"]; d.Revenue != 1000*tc.days11 || d.Units != tc.days11 {
				t.Errorf("the 11th: %+v", d)
			}
			// Moving changes neither revenue nor units, and counts the
			// location once.
			if b.m.Revenue != 1000*int64(len(tc.others)+1) || b.m.LocationVisits["mad-1"] != int64(len(tc.others)+1) {
				t.Errorf("revenue %d visits %v", b.m.Revenue, b.m.LocationVisits)
			}
			// The first purchase moves to the earlier time.
			if tc.others == nil && !b.m.FirstPurchaseAt.Equal(created.OccurredAt) {
				t.Errorf("first purchase %v", b.m.FirstPurchaseAt)
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid")
	t.Run("only order of the day", func(t *testing.T) {
		b := newBook(madrid)
		s := sale(t, "o1", "2026-03-10T10:00:00+01:00", "mad-1")
		b.apply(t, s)
		b.apply(t, sale(t, "o2", "2026-03-11T10:00:00+01:00", "mad-2"))
		if b.m.Tickets != 2 {
			t.Fatalf("tickets %d", b.m.Tickets)
		}
		b.apply(t, status(s, Cancelled, "2026-03-10T11:00:00+01:00"))
		b.check(t)
		// o1 was the 10th's only order: that ticket is gone, with its
		// 10.00 revenue, 4.00 margin and unit; mad-1 no longer visited.
		if b.m.Tickets != 1 || b.m.Tickets12M != 1 || b.m.Revenue != 1000 || b.m.Margin != 400 || b.m.Units != 1 {
			t.Errorf("metrics %+v", b.m)
		}
		if d := b.days["2026-03-10"]; d.Orders != 0 || d.Revenue != 0 || d.Margin != 0 || d.Units != 0 {
			t.Errorf("the 10th %+v", d)
		}
		if b.m.FavoriteLocation() != "mad-2" {
			t.Errorf("favourite %q, visits %v", b.m.FavoriteLocation(), b.m.LocationVisits)
		}
	})
	t.Run("one of two orders of the day", func(t *testing.T) {
		b := newBook(madrid)
		s := sale(t, "o1", "2026-03-10T10:00:00+01:00", "mad-1")
		b.apply(t, s, sale(t, "o2", "2026-03-10T18:00:00+01:00", "mad-1"))
		b.apply(t, status(s, Cancelled, "2026-03-10T11:00:00+01:00"))
		b.check(t)
		// The ticket stays, with o2 only.
		if b.m.Tickets != 1 || b.m.Revenue != 1000 || b.days["2026-03-10"].Orders != 1 || b.m.LocationVisits["mad-1"] != 1 {
			t.Errorf("metrics %+v, days %+v", b.m, b.days)
		}
	})
	t.Run("cancelled before it was counted", func(t *testing.T) {
		b := newBook(madrid)
		s := sale(t, "o1", "2026-03-10T10:00:00+01:00", "mad-1")
		b.apply(t, status(s, Cancelled, "2026-03-10T11:00:00+01:00"), s)
		b.check(t)
		if b.m.Tickets != 0 || b.m.Revenue != 0 || b.m.LastVisitAt != nil || b.m.FirstPurchaseAt != nil || len(nonZero(b.m.LocationVisits)) != 0 {
			t.Errorf("metrics %+v", b.m)
		}
	})
}

func TestRefundsReduceRevenueAndMargin(t *testing.T) {
	b := newBook(mustZone(t, "Europe/Madrid"))
	paid := ev(t, "evt-paid", Paid, "2026-03-14T10:05:00+01:00")
	b.apply(t, paid)
	b.check(t)
	// The worked order: revenue 2500, margin 1200, units 3.
	if b.m.Revenue != 2500 || b.m.Margin != 1200 || b.m.Units != 3 || b.m.Revenue12M != 2500 || b.m.Margin12M != 1200 {
		t.Fatalf("paid: %+v", b.m)
	}
	b.apply(t, partial(t, "r1", "2026-03-14T12:00:00+01:00", 500))
	b.check(t)
	// 2500 − 500 = 2000; margin 1200 × 2000 / 2500 = 960; still one ticket.
	if b.m.Revenue != 2000 || b.m.Margin != 960 || b.m.Revenue12M != 2000 || b.m.Margin12M != 960 || b.m.Tickets != 1 || b.m.Units != 3 {
		t.Fatalf("partial: %+v", b.m)
	}
	b.apply(t, partial(t, "r2", "2026-03-15T09:00:00+01:00", 777))
	b.check(t)
	// 2000 − 777 = 1223; margin 1200 × 1223 / 2500 = 587.04 → 587.
	if b.m.Revenue != 1223 || b.m.Margin != 587 {
		t.Fatalf("second partial: %+v", b.m)
	}
	b.apply(t, ev(t, "rf", Refunded, "2026-03-15T10:00:00+01:00"))
	b.check(t)
	// All refunded: nothing left, but the visit (ticket) remains.
	if b.m.Revenue != 0 || b.m.Margin != 0 || b.m.Tickets != 1 || b.days["2026-03-14"].Orders != 1 || b.days["2026-03-14"].Revenue != 0 {
		t.Fatalf("refunded: %+v %+v", b.m, b.days)
	}
	// The refunds are later than the purchase: the visit and its day stay.
	if !b.m.LastVisitAt.Equal(paid.OccurredAt) || len(b.days) != 1 {
		t.Errorf("last visit %v days %v", b.m.LastVisitAt, b.days)
	}
}

// 12-month figures count orders not before now − 1 year: now is
// 2026-03-15T12:00Z, the boundary 2025-03-15T12:00Z.
func TestTwelveMonthWindow(t *testing.T) {
	b := newBook(time.UTC)
	atBoundary := sale(t, "edge", "2025-03-15T12:00:00Z", "mad-1")
	justBefore := sale(t, "old", "2025-03-15T11:59:59Z", "mad-1") // same UTC day as the boundary order
	older := sale(t, "older", "2024-06-01T10:00:00Z", "mad-1")
	recent := sale(t, "new", "2026-03-01T10:00:00+01:00", "mad-1")
	b.apply(t, atBoundary)
	b.check(t)
	if b.m.Tickets != 1 || b.m.Tickets12M != 1 || b.m.Revenue12M != 1000 || b.m.Margin12M != 400 {
		t.Fatalf("boundary order: %+v", b.m)
	}
	b.apply(t, older)
	b.check(t)
	// All time 2 tickets, 20.00; last 12 months still 1 ticket, 10.00.
	if b.m.Tickets != 2 || b.m.Tickets12M != 1 || b.m.Revenue != 2000 || b.m.Revenue12M != 1000 || b.m.Margin != 800 || b.m.Margin12M != 400 {
		t.Fatalf("older order: %+v", b.m)
	}
	b.apply(t, recent)
	b.check(t)
	if b.m.Tickets != 3 || b.m.Tickets12M != 2 || b.m.Revenue12M != 2000 {
		t.Fatalf("recent order: %+v", b.m)
	}
	// A partial refund of an old order: all-time figures only.
	b.apply(t, refund(older, "2026-03-02T10:00:00Z", 250))
	b.check(t)
	if b.m.Revenue != 2750 || b.m.Revenue12M != 2000 || b.m.Margin != 1100 || b.m.Margin12M != 800 {
		// older: 1000 − 250 = 750, margin 400 × 750 / 1000 = 300.
		t.Fatalf("refund of the older order: %+v", b.m)
	}
	// One second before the boundary, on the boundary order's day: a second
	// order that day, outside the window.
	b.apply(t, justBefore)
	b.check(t)
	if b.m.Tickets != 3 || b.m.Revenue != 3750 || b.m.Revenue12M != 2000 || b.m.Margin12M != 800 {
		t.Fatalf("order just before the boundary: %+v", b.m)
	}
}

// A ticket is a whole local day: it is in the last 12 months when its date
// is not before the date of now − 1 year, whichever of its orders came or
// went, while revenue and margin follow each order's instant.
func TestTwelveMonthTicketsByDay(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid")
	// now − 1 year = 2025-03-15T12:00Z = 13:00 in Madrid: the first day of
	// the window is 2025-03-15.
	in := func(id string) Event { return sale(t, id, "2025-03-15T14:00:00+01:00", "mad-1") }  // after the boundary
	out := func(id string) Event { return sale(t, id, "2025-03-15T09:00:00+01:00", "mad-1") } // same day, before it
	t.Run("the day's only order is before the boundary", func(t *testing.T) {
		b := newBook(madrid)
		b.apply(t, out("a"))
		b.check(t)
		if b.m.Tickets12M != 1 || b.m.Revenue12M != 0 {
			t.Fatalf("%+v", b.m)
		}
	})
	t.Run("the day before the window", func(t *testing.T) {
		b := newBook(madrid)
		b.apply(t, sale(t, "a", "2025-03-14T23:59:59+01:00", "mad-1"))
		b.check(t)
		if b.m.Tickets != 1 || b.m.Tickets12M != 0 {
			t.Fatalf("%+v", b.m)
		}
	})
	// Orders on both sides of the boundary, the day's ticket counted by one
	// and dropped by the other: no ticket may be left over or lost.
	for _, tc := range []struct {
		name    string
		add     []string // "in" or "out" orders, added in this order
		cancel  []string
		tickets int64
	}{
		{name: "in, out, cancel in", add: []string{"in", "out"}, cancel: []string{"in"}, tickets: 1},
		{name: "in, out, cancel both", add: []string{"in", "out"}, cancel: []string{"in", "out"}, tickets: 0},
		{name: "out, in, cancel out", add: []string{"out", "in"}, cancel: []string{"out"}, tickets: 1},
		{name: "out, in, cancel both", add: []string{"out", "in"}, cancel: []string{"out", "in"}, tickets: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBook(madrid)
			sales := map[string]Event{"in": in("in"), "out": out("out")}
			for _, k := range tc.add {
				b.apply(t, sales[k])
				b.check(t)
			}
			if b.m.Tickets != 1 || b.m.Tickets12M != 1 || b.m.Revenue12M != 1000 {
				t.Fatalf("both orders: %+v", b.m)
			}
			for _, k := range tc.cancel {
				b.apply(t, status(sales[k], Cancelled, "2026-03-01T10:00:00+01:00"))
				b.check(t)
			}
			if b.m.Tickets != tc.tickets || b.m.Tickets12M != tc.tickets {
				t.Fatalf("after the cancellations: %+v", b.m)
			}
		})
	}
}

// A till whose clock runs a little ahead: the order is this year's, and its
// 12-month figures stay right when it is refunded later on.
func TestTwelveMonthFiguresOfAnOrderAhead(t *testing.T) {
	b := newBook(time.UTC)
	s := sale(t, "o1", "2026-03-15T12:00:30Z", "mad-1") // 30 s after now
	b.apply(t, s)
	b.check(t)
	if b.m.Revenue12M != 1000 || b.m.Tickets12M != 1 {
		t.Fatalf("order ahead of the clock: %+v", b.m)
	}
	b.now = testNow.Add(time.Hour)
	b.apply(t, refund(s, "2026-03-15T12:30:00Z", 400))
	b.check(t)
	// 1000 − 400 = 600 in both windows; margin 400 × 600 / 1000 = 240.
	if b.m.Revenue != 600 || b.m.Revenue12M != 600 || b.m.Margin12M != 240 || b.m.Tickets12M != 1 {
		t.Fatalf("refunded an hour later: %+v", b.m)
	}
}

func TestLastVisitAndFirstPurchase(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid")
	b := newBook(madrid)
	mid := sale(t, "mid", "2026-02-10T10:00:00+01:00", "mad-2")
	mid.Location.Name = "Madrid Chamberí"
	b.apply(t, mid)
	want := mid.OccurredAt.UTC()
	if b.m.LastVisitAt == nil || !b.m.LastVisitAt.Equal(want) || b.m.FirstPurchaseAt == nil || !b.m.FirstPurchaseAt.Equal(want) {
		t.Fatalf("first order: %+v", b.m)
	}
	if b.m.LastVisitAt.Location() != time.UTC || b.m.FirstPurchaseAt.Location() != time.UTC {
		t.Error("times not stored in UTC")
	}
	// The location's name is preferred to its ID.
	if b.m.FirstStore != "Madrid Chamberí" || !slices.Equal(b.m.LastProducts, []string{"Product mid"}) {
		t.Fatalf("first order: store %q products %v", b.m.FirstStore, b.m.LastProducts)
	}
	// A later order: the last visit and its products move; the first stays.
	late := sale(t, "late", "2026-03-01T19:00:00+01:00", "mad-1")
	late.Lines = append(late.Lines, Line{SKU: "EXTRA", Quantity: 1, UnitPrice: 100})
	b.apply(t, late)
	if !b.m.LastVisitAt.Equal(late.OccurredAt) || !b.m.FirstPurchaseAt.Equal(want) || b.m.FirstStore != "Madrid Chamberí" {
		t.Fatalf("later order: %+v", b.m)
	}
	if !slices.Equal(b.m.LastProducts, []string{"Product late", "EXTRA"}) {
		t.Fatalf("last products %v", b.m.LastProducts)
	}
	// An earlier order arriving late: the first purchase and store move
	// (the ID stands in for a nameless location); the last visit stays.
	early := sale(t, "early", "2026-01-05T09:00:00+01:00", "bcn-1")
	b.apply(t, early)
	if !b.m.FirstPurchaseAt.Equal(early.OccurredAt) || b.m.FirstStore != "bcn-1" || !b.m.LastVisitAt.Equal(late.OccurredAt) ||
		!slices.Equal(b.m.LastProducts, []string{"Product late", "EXTRA"}) {
		t.Fatalf("earlier order: %+v", b.m)
	}
	// A refund of the middle order changes neither.
	b.apply(t, refund(mid, "2026-03-05T10:00:00+01:00", 100))
	if !b.m.FirstPurchaseAt.Equal(early.OccurredAt) || !b.m.LastVisitAt.Equal(late.OccurredAt) ||
		!slices.Equal(b.m.LastProducts, []string{"Product late", "EXTRA"}) {
		t.Fatalf("refund: %+v", b.m)
	}
	// Visits by location: one per order, whatever its events.
	b.apply(t, status(late, Completed, "2026-03-01T19:30:00+01:00"), refund(late, "2026-03-02T10:00:00+01:00", 100))
	if !maps.Equal(b.m.LocationVisits, map[string]int64{"Madrid Chamberí": 1, "mad-1": 1, "bcn-1": 1}) {
		t.Fatalf("visits %v", b.m.LocationVisits)
	}
	b.check(t)
	// The metrics' slices are the customer's own: changing the order's
	// products later must not change them.
	got := b.m.LastProducts
	b.orders["late"].Lines[0].Name = "changed"
	if got[0] != "Product late" {
		t.Error("LastProducts aliases the order's lines")
	}
}

func TestLocationVisits(t *testing.T) {
	b := newBook(time.UTC)
	a := sale(t, "a", "2026-03-01T10:00:00Z", "mad-1")
	// Five events of one order: one visit.
	b.apply(t, status(a, Created, "2026-03-01T09:59:00Z"), a, status(a, Completed, "2026-03-01T10:01:00Z"),
		refund(a, "2026-03-02T10:00:00Z", 100), status(a, Refunded, "2026-03-03T10:00:00Z"))
	b.apply(t, sale(t, "b", "2026-03-02T10:00:00Z", "mad-2"), sale(t, "c", "2026-03-02T18:00:00Z", "mad-2"))
	// No location at all: no visit counted anywhere.
	nowhere := sale(t, "d", "2026-03-03T10:00:00Z", "")
	b.apply(t, nowhere)
	b.check(t)
	if !maps.Equal(b.m.LocationVisits, map[string]int64{"mad-1": 1, "mad-2": 2}) || b.m.FavoriteLocation() != "mad-2" {
		t.Fatalf("visits %v favourite %q", b.m.LocationVisits, b.m.FavoriteLocation())
	}
	// The metrics given to Update are not modified in place.
	before := maps.Clone(b.m.LocationVisits)
	m, _ := must2(Update(b.m, nil, Contribution{}, ContributionOf(Order{}.Apply(sale(t, "e", "2026-03-04T10:00:00Z", "mad-1"))), time.UTC, testNow))
	if !maps.Equal(b.m.LocationVisits, before) || m.LocationVisits["mad-1"] != 2 {
		t.Errorf("visits %v → %v", before, m.LocationVisits)
	}
}

// Update never touches the days map it is given.
func TestUpdateCopiesDays(t *testing.T) {
	days := map[string]Day{"2026-03-01": {Date: "2026-03-01", Orders: 1, Revenue: 500}}
	c := ContributionOf(Order{}.Apply(sale(t, "x", "2026-03-01T10:00:00Z", "mad-1")))
	_, out := must2(Update(crm.Metrics{Tickets: 1, Revenue: 500}, days, Contribution{}, c, time.UTC, testNow))
	if days["2026-03-01"].Orders != 1 || out["2026-03-01"].Orders != 2 || out["2026-03-01"].Revenue != 1500 {
		t.Errorf("days %v, out %v", days, out)
	}
}

// Random customers: random orders, each with random events delivered in a
// random order with redeliveries; after every event the metrics equal what
// the orders add up to.
func TestUpdateRandomHistories(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2026))
	zones := []*time.Location{time.UTC, mustZone(t, "Europe/Madrid"), mustZone(t, "America/New_York")}
	base := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for c := range 300 {
		b := newBook(zones[c%len(zones)])
		var events []Event
		for o := range 1 + rng.IntN(6) {
			id := "o" + strconv.Itoa(o)
			// Orders around midnights of a few days, and some a year ago
			// near the 12-month boundary.
			at := base.Add(time.Duration(rng.IntN(4*24*60)) * time.Minute)
			if rng.IntN(4) == 0 {
				at = testNow.AddDate(-1, 0, 0).Add(time.Duration(rng.IntN(120)-60) * time.Minute)
			}
			p := sale(t, id, at.Format(time.RFC3339), []string{"mad-1", "mad-2", ""}[rng.IntN(3)])
			p.Lines[0].Quantity = 1 + int64(rng.IntN(3))
			stamp := func(d time.Duration) string { return at.Add(d).Format(time.RFC3339) }
			cr := status(p, Created, stamp(-time.Duration(rng.IntN(90))*time.Minute))
			cr.Lines = p.Lines
			events = append(events, cr, p)
			if rng.IntN(2) == 0 {
				events = append(events, refund(p, stamp(time.Hour), int64(1+rng.IntN(1500))))
			}
			if rng.IntN(3) == 0 {
				events = append(events, status(p, Refunded, stamp(2*time.Hour)))
			}
			if rng.IntN(4) == 0 {
				events = append(events, status(p, Cancelled, stamp(3*time.Hour)))
			}
		}
		for range rng.IntN(4) {
			events = append(events, events[rng.IntN(len(events))])
		}
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		for _, e := range events {
			b.apply(t, e)
			b.check(t)
		}
	}
}

// Fold gives what applying the orders one by one gives, in any order: the
// merge of two customers' histories counts a day both bought on once.
func TestFold(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid")
	order := func(id, at string, price int64) Order {
		ts, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		return Order{OrderID: id, Location: Location{ID: "sol", Name: "Sol"}, Statuses: map[Status]time.Time{Paid: ts},
			Lines: []Line{{SKU: id, Name: id, Quantity: 1, UnitPrice: price}}}
	}
	orders := []Order{order("b", "2026-03-01T10:00:00Z", 500), order("a", "2026-03-01T18:00:00Z", 700), order("c", "2026-02-20T09:00:00Z", 300)}
	m, days := must2(Fold(orders, madrid, testNow))
	if m.Tickets != 2 || m.Tickets12M != 2 || m.Revenue != 1500 || m.Units != 3 || len(days) != 2 || days["2026-03-01"].Orders != 2 {
		t.Fatalf("fold: %+v %+v", m, days)
	}
	if m.LastProducts[0] != "a" || m.FirstStore != "Sol" || !m.FirstPurchaseAt.Equal(orders[2].At()) || m.LocationVisits["Sol"] != 3 {
		t.Fatalf("fold: %+v", m)
	}
	var inc crm.Metrics
	incDays := map[string]Day{}
	for _, o := range []Order{orders[2], orders[0], orders[1]} {
		inc, incDays = must2(Update(inc, incDays, Contribution{}, ContributionOf(o), madrid, testNow))
	}
	if inc.Revenue != m.Revenue || inc.Tickets != m.Tickets || len(incDays) != len(days) {
		t.Fatalf("fold %+v differs from the incremental %+v", m, inc)
	}
}

func TestCarry(t *testing.T) {
	t1, t2, t3 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(t time.Time) *time.Time { return &t }
	for _, tc := range []struct {
		name            string
		m, kept         crm.Metrics
		last, first     *time.Time
		products, store string
	}{
		{"nothing kept", crm.Metrics{LastVisitAt: at(t2), FirstPurchaseAt: at(t2), LastProducts: []string{"m"}, FirstStore: "m"}, crm.Metrics{},
			at(t2), at(t2), "m", "m"},
		{"kept later and earlier", crm.Metrics{LastVisitAt: at(t2), FirstPurchaseAt: at(t2), LastProducts: []string{"m"}, FirstStore: "m"},
			crm.Metrics{LastVisitAt: at(t3), FirstPurchaseAt: at(t1), LastProducts: []string{"k"}, FirstStore: "k"}, at(t3), at(t1), "k", "k"},
		{"kept inside", crm.Metrics{LastVisitAt: at(t3), FirstPurchaseAt: at(t1), LastProducts: []string{"m"}, FirstStore: "m"},
			crm.Metrics{LastVisitAt: at(t2), FirstPurchaseAt: at(t2), LastProducts: []string{"k"}, FirstStore: "k"}, at(t3), at(t1), "m", "m"},
		{"no orders", crm.Metrics{}, crm.Metrics{LastVisitAt: at(t2), FirstPurchaseAt: at(t1), LastProducts: []string{"k"}, FirstStore: "k"},
			at(t2), at(t1), "k", "k"},
	} {
		got := Carry(tc.m, tc.kept)
		if !got.LastVisitAt.Equal(*tc.last) || !got.FirstPurchaseAt.Equal(*tc.first) || !slices.Equal(got.LastProducts, []string{tc.products}) || got.FirstStore != tc.store {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}
