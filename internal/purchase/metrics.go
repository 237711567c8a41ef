package purchase

import (
	"slices"
	"time"

	"github.com/regulars/regulars/internal/checked"
	"github.com/regulars/regulars/internal/crm"
)

// Day is what one customer bought on one local calendar day: all purchases
// of a day are one ticket.
type Day struct {
	Date    string // YYYY-MM-DD in the merchant's time zone
	Orders  int64  // countable orders that day
	Revenue int64  // net of tax, discounts and refunds
	Margin  int64
	Units   int64
}

// Contribution is what one order adds to its customer's metrics.
type Contribution struct {
	Counted  bool
	At       time.Time
	Location Location
	Revenue  int64 // net minus refunded
	Margin   int64 // (net - cost) on lines with a known cost, less the refunded share
	Units    int64
	Products []string // names (or SKUs) of its lines
}

// ContributionOf computes an order's contribution.
func ContributionOf(o Order) Contribution {
	if !o.Countable() {
		return Contribution{}
	}
	net, refunded := o.Net(), o.Refunded()
	cost, covered := o.Cost()
	c := Contribution{Counted: true, At: o.At(), Location: o.Location, Revenue: net - refunded}
	if net > 0 {
		c.Margin = checked.Share(covered-cost, net-refunded, net)
	}
	for _, l := range o.Lines {
		c.Units += l.Quantity
		name := l.Name
		if name == "" {
			name = l.SKU
		}
		c.Products = append(c.Products, name)
	}
	return c
}

// Within12Months reports whether t lies in the 12 months before now, or
// after now: a till's clock may run ahead (events up to a day ahead are
// valid), and an order left out of the 12-month figures when it was counted
// would still be taken out of them by its next event, once now has passed it.
func Within12Months(t, now time.Time) bool { return !t.Before(now.AddDate(-1, 0, 0)) }

// Update moves a customer's metrics and the days involved from an order's
// old contribution to its new one (an order's day can change when an earlier
// status arrives late). days holds the current state of those days, by date;
// the changed days are returned with the new metrics. Sums that int64 cannot
// hold are checked.ErrOverflow.
func Update(m crm.Metrics, days map[string]Day, before, after Contribution, loc *time.Location, now time.Time) (crm.Metrics, map[string]Day, error) {
	out := make(map[string]Day, len(days))
	for k, d := range days {
		out[k] = d
	}
	// A ticket is a whole day: it is in the last 12 months by its date, so
	// that every order of the day agrees (by the order's instant, a day
	// holding orders on both sides of the boundary counted or dropped the
	// ticket depending on which order came or went last).
	firstDay := LocalDate(now.AddDate(-1, 0, 0), loc)
	var err error
	add := func(sum *int64, v int64) {
		if err == nil {
			*sum, err = checked.Add(*sum, v)
		}
	}
	apply := func(c Contribution, sign int64) {
		if !c.Counted {
			return
		}
		date := LocalDate(c.At, loc)
		d := out[date]
		had := d.Orders > 0
		d.Date = date
		d.Orders += sign
		add(&d.Revenue, sign*c.Revenue) // a contribution is one order's: within loyalty.MaxAmount
		add(&d.Margin, sign*c.Margin)
		add(&d.Units, sign*c.Units)
		out[date] = d
		add(&m.Revenue, sign*c.Revenue)
		add(&m.Margin, sign*c.Margin)
		add(&m.Units, sign*c.Units)
		recent := Within12Months(c.At, now)
		if recent {
			add(&m.Revenue12M, sign*c.Revenue)
			add(&m.Margin12M, sign*c.Margin)
		}
		if has := d.Orders > 0; has != had {
			delta := int64(1)
			if !has {
				delta = -1
			}
			m.Tickets += delta
			if date >= firstDay {
				m.Tickets12M += delta
			}
		}
	}
	apply(before, -1)
	apply(after, 1)
	if err != nil {
		return crm.Metrics{}, nil, err
	}
	if after.Counted {
		t := after.At.UTC()
		if m.LastVisitAt == nil || !t.Before(*m.LastVisitAt) {
			m.LastVisitAt = &t
			m.LastProducts = slices.Clone(after.Products)
		}
		if m.FirstPurchaseAt == nil || t.Before(*m.FirstPurchaseAt) {
			m.FirstPurchaseAt = &t
			m.FirstStore = after.Location.Name
			if m.FirstStore == "" {
				m.FirstStore = after.Location.ID
			}
		}
	}
	// Visits are counted orders by location: an order counts once while it
	// is counted (and at the location it has now), not after a cancellation.
	if before.Counted {
		m.LocationVisits = addVisit(m.LocationVisits, before.Location, -1)
	}
	if after.Counted {
		m.LocationVisits = addVisit(m.LocationVisits, after.Location, 1)
	}
	return m, out, nil
}

func addVisit(v map[string]int64, l Location, delta int64) map[string]int64 {
	key := l.Name
	if key == "" {
		key = l.ID
	}
	if key == "" {
		return v
	}
	out := make(map[string]int64, len(v)+1)
	for k, n := range v {
		out[k] = n
	}
	if out[key] += delta; out[key] <= 0 {
		delete(out, key)
	}
	return out
}

// LocalDate is the merchant-local calendar date of t.
func LocalDate(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02") }

// Fold computes a customer's metrics and ticket days afresh from all of
// their orders, as applying each order's contribution in turn would (oldest
// first, so that the newest order's products are the last ones); the
// 12-month figures are as of now. A merge of customers uses it.
func Fold(orders []Order, loc *time.Location, now time.Time) (crm.Metrics, map[string]Day, error) {
	sorted := slices.Clone(orders)
	slices.SortStableFunc(sorted, func(a, b Order) int { return a.At().Compare(b.At()) })
	var m crm.Metrics
	days := map[string]Day{}
	for _, o := range sorted {
		var err error
		if m, days, err = Update(m, days, Contribution{}, ContributionOf(o), loc, now); err != nil {
			return crm.Metrics{}, nil, err
		}
	}
	return m, days, nil
}

// Carry returns m keeping what Update never takes back and another
// reckoning of the same customer (kept) already holds: the later last visit
// (with its products) and the earlier first purchase (with its store). A
// merge carries the duplicate's into the survivor at the cut-over, and the
// survivor's stored ones over its folded metrics (a cancelled order keeps
// them, but Fold does not count it).
func Carry(m, kept crm.Metrics) crm.Metrics {
	if v := kept.LastVisitAt; v != nil && (m.LastVisitAt == nil || v.After(*m.LastVisitAt)) {
		m.LastVisitAt, m.LastProducts = v, slices.Clone(kept.LastProducts)
	}
	if f := kept.FirstPurchaseAt; f != nil && (m.FirstPurchaseAt == nil || f.Before(*m.FirstPurchaseAt)) {
		m.FirstPurchaseAt, m.FirstStore = f, kept.FirstStore
	}
	return m
}
