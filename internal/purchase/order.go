package purchase

import (
	"slices"
	"strconv"
	"time"

	"github.com/regulars/regulars/internal/checked"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
)

func itoa(i int) string { return strconv.Itoa(i) }

// Days reads days of a customer's ticket history.
type Days func(dates ...string) (map[string]Day, error)

// Decision is what applying an event to an order decided: the order after
// it, the ticket days that changed, and the ledger posting (which carries the
// new metrics).
type Decision struct {
	Order   Order
	Days    map[string]Day
	Posting loyalty.Posting
}

// Order is what the events of one order add up to, whatever order they
// arrived in: the lines (from the first event that carried them), the
// statuses seen with their times, and the refunds by event.
type Order struct {
	OrderID    string
	CustomerID string
	Location   Location
	Lines      []Line
	Statuses   map[Status]time.Time
	Refunds    map[string]int64 // refunded net amount, by event ID
	Events     []string         // IDs of the events applied
	// What has been posted for the order so far.
	PointsEarned   int64
	PointsReversed int64
	Counted        bool      // in the customer's metrics
	CountedAt      time.Time // the time the metrics used
	CountedNet     int64     // the net revenue the metrics hold for it
	CountedCost    int64
}

// Applied reports whether an event was applied before.
func (o Order) Applied(eventID string) bool { return slices.Contains(o.Events, eventID) }

// Apply folds an event into the order. It is commutative: any arrival order
// of the same events gives the same order.
func (o Order) Apply(e Event) Order {
	o.Statuses = cloneMap(o.Statuses)
	o.Refunds = cloneMap(o.Refunds)
	if o.OrderID == "" {
		o.OrderID = e.OrderID
	}
	if len(o.Lines) == 0 && len(e.Lines) > 0 {
		o.Lines = slices.Clone(e.Lines)
	}
	// Each part of the location is filled in from the first event that
	// gives it: replacing the whole location could drop a part another
	// event gave, depending on the arrival order.
	if o.Location.ID == "" {
		o.Location.ID = e.Location.ID
	}
	if o.Location.Name == "" {
		o.Location.Name = e.Location.Name
	}
	if t, ok := o.Statuses[e.Status]; !ok || e.OccurredAt.Before(t) {
		o.Statuses[e.Status] = e.OccurredAt
	}
	switch e.Status {
	case Refunded:
		o.Refunds[e.EventID] = -1 // the rest of the order, whatever it is
	case PartiallyRefunded:
		var amount int64
		for _, r := range e.RefundLines {
			amount += r.Amount
		}
		o.Refunds[e.EventID] = amount
	}
	o.Events = append(slices.Clone(o.Events), e.EventID)
	return o
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Net is the order's net amount: its lines after discounts, without tax.
// Validated lines total at most loyalty.MaxAmount: the sum cannot overflow.
func (o Order) Net() int64 {
	var n int64
	for _, l := range o.Lines {
		n += l.Loyalty().Net()
	}
	return n
}

// Cost is what the lines with a known unit cost cost the merchant, and the
// net amount of those lines.
func (o Order) Cost() (cost, coveredNet int64) {
	for _, l := range o.Lines {
		if l.UnitCost != nil {
			cost += *l.UnitCost * l.Quantity
			coveredNet += l.Loyalty().Net()
		}
	}
	return cost, coveredNet
}

// Refunded is the net amount refunded so far, at most the order's net.
func (o Order) Refunded() int64 {
	net := o.Net()
	var r int64
	for _, a := range o.Refunds {
		if a < 0 || r >= net {
			return net // stops before any sum could overflow
		}
		r += a
	}
	return min(r, net)
}

// Cancelled reports whether the order was cancelled.
func (o Order) Cancelled() bool { _, ok := o.Statuses[Cancelled]; return ok }

// reached reports whether the order reached the trigger status: a later
// status implies the earlier ones (a completed order was paid and created).
func (o Order) reached(t loyalty.Trigger) bool {
	has := func(ss ...Status) bool {
		for _, s := range ss {
			if _, ok := o.Statuses[s]; ok {
				return true
			}
		}
		return false
	}
	switch t {
	case loyalty.TriggerCreated:
		return has(Created, Paid, Completed, PartiallyRefunded, Refunded)
	case loyalty.TriggerPaid:
		return has(Paid, Completed, PartiallyRefunded, Refunded)
	}
	return has(Completed)
}

// Points returns what the order should have earned and had reversed, in
// total, under the program: nothing if it was cancelled before earning or
// never reached the trigger, nor when the customer may not earn now (canEarn
// false: not active); the refunded share of what was earned reversed,
// rounded up.
func (o Order) Points(p loyalty.Program, canEarn bool) (earned, reversed int64, err error) {
	if !p.Enabled || len(o.Lines) == 0 {
		return o.PointsEarned, o.PointsReversed, nil // nothing new without a program or lines
	}
	earned = o.PointsEarned
	if earned == 0 && canEarn && !o.Cancelled() && o.reached(p.Earning.Trigger) {
		lines := make([]loyalty.Line, len(o.Lines))
		for i, l := range o.Lines {
			lines[i] = l.Loyalty()
		}
		pts, err := p.PointsForOrder(lines)
		if err != nil {
			return 0, 0, err
		}
		earned = pts.Total
	}
	reversed = loyalty.Refund(earned, o.Net(), o.Refunded())
	if o.Cancelled() {
		reversed = earned // a cancelled order keeps nothing
	}
	return earned, max(reversed, o.PointsReversed), nil
}

// Countable reports whether the order counts in the customer's metrics: it
// has lines and was not cancelled.
func (o Order) Countable() bool { return len(o.Lines) > 0 && !o.Cancelled() }

// At is when the order happened: its earliest known status time.
func (o Order) At() time.Time {
	var at time.Time
	for _, t := range o.Statuses {
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at
}

// TimelineItem is one entry of a customer's timeline: a purchase
// with its lines, a ledger movement, a visit, or an event (badge and profile
// changes, external interactions). Exactly one of the pointers is set.
type TimelineItem struct {
	At    time.Time
	ID    string
	Order *Order
	Entry *loyalty.Entry
	Visit *crm.Visit
	Event *crm.Event
}

// TimelineKinds are the kinds of timeline items, as the API names them.
var TimelineKinds = []string{"purchase", "ledger", "visit", "event"}

// Kind names what the item is: one of TimelineKinds.
func (t TimelineItem) Kind() string {
	switch {
	case t.Order != nil:
		return "purchase"
	case t.Entry != nil:
		return "ledger"
	case t.Visit != nil:
		return "visit"
	}
	return "event"
}

// SpendByCategory is the order's net spend by line category, after its
// refunds (each line keeps the unrefunded share of its net amount).
func (o Order) SpendByCategory() map[string]int64 {
	out := map[string]int64{}
	net, refunded := o.Net(), o.Refunded()
	if !o.Countable() || net == 0 {
		return out
	}
	for _, l := range o.Lines {
		out[l.Category] += checked.Share(l.Loyalty().Net(), net-refunded, net)
	}
	return out
}
