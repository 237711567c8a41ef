package purchase

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/loyalty"
)

// post applies events the way the points service does: an event applied
// before is skipped, and after each event what Points says is recorded as
// posted. It checks that postings only ever grow and never reverse more than
// was earned, and returns the order and the (earned, reversed) pair after
// every event.
func post(t testing.TB, p loyalty.Program, start Order, events []Event) (Order, [][2]int64) {
	t.Helper()
	o := start
	var steps [][2]int64
	for _, e := range events {
		if o.Applied(e.EventID) {
			steps = append(steps, [2]int64{o.PointsEarned, o.PointsReversed})
			continue
		}
		o = o.Apply(e)
		earned, reversed := must2(o.Points(p, true))
		switch {
		case earned < o.PointsEarned:
			t.Fatalf("after %s: earned %d < posted %d", e.EventID, earned, o.PointsEarned)
		case reversed < o.PointsReversed:
			t.Fatalf("after %s: reversed %d < posted %d", e.EventID, reversed, o.PointsReversed)
		case reversed > earned:
			t.Fatalf("after %s: reversed %d > earned %d", e.EventID, reversed, earned)
		}
		o.PointsEarned, o.PointsReversed = earned, reversed
		steps = append(steps, [2]int64{earned, reversed})
	}
	return o, steps
}

// permutations calls fn with every permutation of n indexes (Heap's algorithm).
func permutations(n int, fn func(idx []int)) {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	c := make([]int, n)
	fn(idx)
	for i := 0; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				idx[0], idx[i] = idx[i], idx[0]
			} else {
				idx[c[i]], idx[i] = idx[i], idx[c[i]]
			}
			fn(idx)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}

func pick(events []Event, idx []int) []Event {
	out := make([]Event, len(idx))
	for i, j := range idx {
		out[i] = events[j]
	}
	return out
}

// folded is what must not depend on the arrival order.
type folded struct {
	Net, Refunded     int64
	Cancelled         bool
	At                time.Time
	Countable         bool
	Earned, Reversed  int64
	Statuses          map[Status]time.Time
	Refunds           map[string]int64
	Lines, EventCount int
	Location          Location
}

func foldedOf(o Order) folded {
	return folded{Net: o.Net(), Refunded: o.Refunded(), Cancelled: o.Cancelled(), At: o.At(), Countable: o.Countable(),
		Earned: o.PointsEarned, Reversed: o.PointsReversed, Statuses: o.Statuses, Refunds: o.Refunds,
		Lines: len(o.Lines), EventCount: len(o.Events), Location: o.Location}
}

func sameFolded(a, b folded) bool {
	return a.Net == b.Net && a.Refunded == b.Refunded && a.Cancelled == b.Cancelled && a.At.Equal(b.At) &&
		a.Countable == b.Countable && a.Earned == b.Earned && a.Reversed == b.Reversed &&
		maps.EqualFunc(a.Statuses, b.Statuses, time.Time.Equal) && maps.Equal(a.Refunds, b.Refunds) &&
		a.Lines == b.Lines && a.EventCount == b.EventCount && a.Location == b.Location
}

// The life of order ord-1 (Madrid, winter: +01:00), net 25.00 = 50 points.
func lifeEvents(t testing.TB) (created, paid, completed, r333, r777, refunded, cancelled Event) {
	return ev(t, "evt-created", Created, "2026-03-14T10:00:00+01:00"),
		ev(t, "evt-paid", Paid, "2026-03-14T10:05:00+01:00"),
		ev(t, "evt-completed", Completed, "2026-03-14T10:20:00+01:00"),
		partial(t, "evt-refund-1", "2026-03-14T18:00:00+01:00", 333),
		partial(t, "evt-refund-2", "2026-03-15T09:00:00+01:00", 777),
		ev(t, "evt-refunded", Refunded, "2026-03-15T11:00:00+01:00"),
		ev(t, "evt-cancelled", Cancelled, "2026-03-14T11:00:00+01:00")
}

func TestApplyInEveryOrder(t *testing.T) {
	created, paid, completed, r333, r777, refunded, _ := lifeEvents(t)
	firstAt := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC) // created, 10:00+01:00
	for _, tc := range []struct {
		name   string
		events []Event // every permutation is applied
		want   folded
	}{
		{
			// Refunded 333 + 777 = 1110 of 2500: 50 × 1110 / 2500 = 22.2 → 23 reversed.
			name:   "partial refunds with duplicates",
			events: []Event{created, paid, completed, r333, r777, paid, r333},
			want: folded{Net: orderNet, Refunded: 1110, At: firstAt, Countable: true, Earned: orderPoints, Reversed: 23,
				Statuses: map[Status]time.Time{Created: created.OccurredAt, Paid: paid.OccurredAt, Completed: completed.OccurredAt,
					PartiallyRefunded: r333.OccurredAt},
				Refunds: map[string]int64{"evt-refund-1": 333, "evt-refund-2": 777}, Lines: 2, EventCount: 5, Location: created.Location},
		},
		{
			// A full refund after or before a partial one: all 2500 back, all 50 points reversed.
			name:   "partial and full refund with a duplicate",
			events: []Event{created, paid, completed, r333, refunded, refunded},
			want: folded{Net: orderNet, Refunded: orderNet, At: firstAt, Countable: true, Earned: orderPoints, Reversed: orderPoints,
				Statuses: map[Status]time.Time{Created: created.OccurredAt, Paid: paid.OccurredAt, Completed: completed.OccurredAt,
					PartiallyRefunded: r333.OccurredAt, Refunded: refunded.OccurredAt},
				Refunds: map[string]int64{"evt-refund-1": 333, "evt-refunded": -1}, Lines: 2, EventCount: 5, Location: created.Location},
		},
		{
			// Refunds only, no status carrying lines: nothing is known of the order.
			name:   "refunds without lines",
			events: []Event{r333, r777, refunded},
			want: folded{Net: 0, Refunded: 0, At: r333.OccurredAt, Countable: false,
				Statuses: map[Status]time.Time{PartiallyRefunded: r333.OccurredAt, Refunded: refunded.OccurredAt},
				Refunds:  map[string]int64{"evt-refund-1": 333, "evt-refund-2": 777, "evt-refunded": -1}, EventCount: 3, Location: created.Location},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			permutations(len(tc.events), func(idx []int) {
				n++
				o, _ := post(t, seedProgram(), Order{}, pick(tc.events, idx))
				if got := foldedOf(o); !sameFolded(got, tc.want) {
					t.Fatalf("order %v:\n got %+v\nwant %+v", idx, got, tc.want)
				}
			})
			if n < 6 {
				t.Fatalf("only %d permutations", n)
			}
		})
	}
}

// With a cancellation, what is posted depends on whether the order earned
// before the cancellation arrived, but the order keeps nothing either way.
func TestApplyWithCancellationInEveryOrder(t *testing.T) {
	created, paid, completed, r333, _, refunded, cancelled := lifeEvents(t)
	events := []Event{created, paid, completed, r333, refunded, cancelled, created}
	earnedSome, earnedNone := 0, 0
	permutations(len(events), func(idx []int) {
		seq := pick(events, idx)
		o, _ := post(t, seedProgram(), Order{}, seq)
		// Trigger paid: earned at the first event after which the lines
		// are known (created, paid, completed) and paid is implied (paid,
		// completed, a refund), unless the cancellation came first.
		var lines, reached, wantEarned bool
		for _, e := range seq {
			if e.Status == Cancelled {
				break
			}
			lines = lines || len(e.Lines) > 0
			reached = reached || e.Status != Created
			if lines && reached {
				wantEarned = true
				break
			}
		}
		want := int64(0)
		if wantEarned {
			want = orderPoints
			earnedSome++
		} else {
			earnedNone++
		}
		switch {
		case o.PointsEarned != want || o.PointsReversed != want:
			t.Fatalf("order %v: posted (%d, %d), want (%d, %d)", idx, o.PointsEarned, o.PointsReversed, want, want)
		case !o.Cancelled() || o.Countable():
			t.Fatalf("order %v: cancelled %v, countable %v", idx, o.Cancelled(), o.Countable())
		case o.Net() != orderNet || o.Refunded() != orderNet:
			t.Fatalf("order %v: net %d, refunded %d", idx, o.Net(), o.Refunded())
		case !o.At().Equal(created.OccurredAt):
			t.Fatalf("order %v: at %v", idx, o.At())
		}
	})
	if earnedSome == 0 || earnedNone == 0 {
		t.Fatalf("permutations earning %d, not earning %d: both cases must be covered", earnedSome, earnedNone)
	}
}

// Many random arrival orders of a long history, with repeated deliveries,
// under every trigger, give the same order.
func TestApplyRandomOrders(t *testing.T) {
	created, paid, completed, r333, r777, refunded, _ := lifeEvents(t)
	r1000 := partial(t, "evt-refund-3", "2026-03-16T09:00:00+01:00", 1000)
	base := []Event{created, paid, completed, r333, r777, r1000, refunded}
	rng := rand.New(rand.NewPCG(4, 2026))
	for _, tr := range []loyalty.Trigger{loyalty.TriggerCreated, loyalty.TriggerPaid, loyalty.TriggerCompleted} {
		p := withTrigger(tr)
		want, _ := post(t, p, Order{}, base)
		if want.PointsEarned != orderPoints || want.PointsReversed != orderPoints || want.Refunded() != orderNet {
			t.Fatalf("%s: in order: %+v", tr, foldedOf(want))
		}
		for range 2000 {
			seq := slices.Clone(base)
			for range rng.IntN(5) { // up to 4 redeliveries of random events
				seq = append(seq, base[rng.IntN(len(base))])
			}
			rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
			got, _ := post(t, p, Order{}, seq)
			if !sameFolded(foldedOf(got), foldedOf(want)) {
				ids := make([]string, len(seq))
				for i, e := range seq {
					ids[i] = e.EventID
				}
				t.Fatalf("%s: %v:\n got %+v\nwant %+v", tr, ids, foldedOf(got), foldedOf(want))
			}
		}
	}
}

// Applying an event a second time (bypassing Applied) changes none of the
// figures; Applied reports it.
func TestApplyDuplicate(t *testing.T) {
	created, paid, _, r333, _, refunded, cancelled := lifeEvents(t)
	for _, e := range []Event{created, paid, r333, refunded, cancelled} {
		o := Order{}.Apply(created).Apply(e)
		if !o.Applied(e.EventID) || o.Applied("evt-other") {
			t.Errorf("%s: Applied wrong", e.EventID)
		}
		twice := o.Apply(e)
		a, b := foldedOf(o), foldedOf(twice)
		b.EventCount = a.EventCount // the ID is listed again; the caller checks Applied first
		if !sameFolded(a, b) {
			t.Errorf("%s applied twice:\n got %+v\nwant %+v", e.EventID, b, a)
		}
		ea, ra := must2(o.Points(seedProgram(), true))
		if eb, rb := must2(twice.Points(seedProgram(), true)); ea != eb || ra != rb {
			t.Errorf("%s applied twice: points (%d, %d), want (%d, %d)", e.EventID, eb, rb, ea, ra)
		}
	}
}

// Apply works on a copy: the order it was called on is unchanged.
func TestApplyDoesNotAlias(t *testing.T) {
	created, paid, _, r333, _, _, _ := lifeEvents(t)
	o := Order{}.Apply(created)
	snapshot := foldedOf(o)
	snapshot.Statuses, snapshot.Refunds = maps.Clone(o.Statuses), maps.Clone(o.Refunds)
	_ = o.Apply(paid).Apply(r333)
	if !sameFolded(foldedOf(o), snapshot) {
		t.Errorf("the original order changed: %+v", foldedOf(o))
	}
	created.Lines[0].Quantity = 99 // the caller's event is not shared either
	if o.Lines[0].Quantity != 2 {
		t.Errorf("lines alias the event's")
	}
}

// Events that give the location in parts (one its ID, another its name)
// fold to the whole location in any arrival order.
func TestApplyLocationInParts(t *testing.T) {
	created, paid, completed, r333, _, _, _ := lifeEvents(t)
	created.Location = Location{ID: "mad-1"}
	paid.Location = Location{Name: "Madrid Malasaña"}
	completed.Location = Location{}
	r333.Location = Location{ID: "mad-1", Name: "Madrid Malasaña"}
	events := []Event{created, paid, completed}
	for _, withFull := range []bool{false, true} {
		if withFull {
			events = append(events, r333)
		}
		permutations(len(events), func(idx []int) {
			o, _ := post(t, seedProgram(), Order{}, pick(events, idx))
			if o.Location != (Location{ID: "mad-1", Name: "Madrid Malasaña"}) {
				t.Fatalf("order %v: location %+v", idx, o.Location)
			}
		})
	}
}

func TestApplyKeepsTheEarliestTimeOfAStatus(t *testing.T) {
	// The same status twice (two paid events, e.g. a split payment): the
	// earlier time wins whatever the arrival order.
	early := ev(t, "evt-paid-1", Paid, "2026-03-14T10:05:00+01:00")
	late := ev(t, "evt-paid-2", Paid, "2026-03-14T09:05:00Z") // 10:05 + 1 h
	for _, seq := range [][]Event{{early, late}, {late, early}} {
		o := Order{}.Apply(seq[0]).Apply(seq[1])
		if !o.Statuses[Paid].Equal(early.OccurredAt) || !o.At().Equal(early.OccurredAt) {
			t.Errorf("paid at %v, at %v", o.Statuses[Paid], o.At())
		}
	}
}

func TestFiguresOfTheWorkedOrder(t *testing.T) {
	o := Order{}.Apply(ev(t, "evt-paid", Paid, "2026-03-14T10:05:00+01:00"))
	if o.Net() != 2500 {
		t.Errorf("Net = %d, want 2000 + 500", o.Net())
	}
	// Only CAFE has a cost: 2 × 4.00 = 800 on its net 2000.
	if cost, covered := o.Cost(); cost != 800 || covered != 2000 {
		t.Errorf("Cost = (%d, %d), want (800, 2000)", cost, covered)
	}
	if o.Refunded() != 0 || o.Cancelled() || !o.Countable() || o.OrderID != "ord-1" {
		t.Errorf("fresh order: %+v", foldedOf(o))
	}
	// Refunds: 2000 + 1000 = 3000 is more than the net: at most 2500.
	o = o.Apply(partial(t, "r1", "2026-03-14T12:00:00+01:00", 2000)).Apply(partial(t, "r2", "2026-03-14T13:00:00+01:00", 1000))
	if o.Refunded() != orderNet {
		t.Errorf("Refunded = %d, want the net 2500", o.Refunded())
	}
	if (Order{}).Net() != 0 || (Order{}).Refunded() != 0 || !(Order{}).At().IsZero() || (Order{}).Countable() {
		t.Error("the empty order has figures")
	}
}

func TestReached(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		statuses                 []Status
		created, paid, completed bool
	}{
		{nil, false, false, false},
		{[]Status{Created}, true, false, false},
		{[]Status{Paid}, true, true, false},                       // paid implies created
		{[]Status{Completed}, true, true, true},                   // completed implies paid and created
		{[]Status{PartiallyRefunded}, true, true, false},          // a refund implies paid
		{[]Status{Refunded}, true, true, false},                   // a refund implies paid
		{[]Status{Cancelled}, false, false, false},                // a cancellation implies nothing
		{[]Status{Created, Cancelled}, true, false, false},        // reached, whatever became of it
		{[]Status{Refunded, Completed}, true, true, true},         //
		{[]Status{Created, PartiallyRefunded}, true, true, false}, //
	} {
		o := Order{Statuses: map[Status]time.Time{}}
		for _, s := range tc.statuses {
			o.Statuses[s] = at
		}
		for tr, want := range map[loyalty.Trigger]bool{loyalty.TriggerCreated: tc.created, loyalty.TriggerPaid: tc.paid, loyalty.TriggerCompleted: tc.completed} {
			if got := o.reached(tr); got != want {
				t.Errorf("%v reached %s = %v, want %v", tc.statuses, tr, got, want)
			}
		}
	}
}

func TestPointsOverTime(t *testing.T) {
	created, paid, completed, r333, r777, refunded, cancelled := lifeEvents(t)
	r1000 := partial(t, "evt-refund-3", "2026-03-16T09:00:00+01:00", 1000)
	r1000b := partial(t, "evt-refund-4", "2026-03-16T10:00:00+01:00", 1000)
	disabled := seedProgram()
	disabled.Enabled = false
	type pts = [2]int64 // (earned, reversed) posted after each event
	for _, tc := range []struct {
		name   string
		p      loyalty.Program
		start  Order
		events []Event
		want   []pts
	}{
		{name: "earned when paid", p: seedProgram(), events: []Event{created, paid, completed},
			want: []pts{{0, 0}, {50, 0}, {50, 0}}},
		{name: "trigger created", p: withTrigger(loyalty.TriggerCreated), events: []Event{created, paid},
			want: []pts{{50, 0}, {50, 0}}},
		{name: "trigger completed", p: withTrigger(loyalty.TriggerCompleted), events: []Event{created, paid, r333, completed},
			// Completed arrives after the 3.33 refund: 50 earned and
			// 50 × 333 / 2500 = 6.66 → 7 reversed at once.
			want: []pts{{0, 0}, {0, 0}, {0, 0}, {50, 7}}},
		{name: "completed implies paid", p: seedProgram(), events: []Event{completed},
			want: []pts{{50, 0}}},
		{name: "a refund implies paid", p: seedProgram(), events: []Event{created, r333},
			want: []pts{{0, 0}, {50, 7}}},
		{name: "a refund before the lines are known", p: seedProgram(), events: []Event{r333, created},
			want: []pts{{0, 0}, {50, 7}}},
		{name: "cancelled before the trigger earns nothing", p: seedProgram(), events: []Event{created, cancelled, paid, completed},
			want: []pts{{0, 0}, {0, 0}, {0, 0}, {0, 0}}},
		{name: "cancelled first earns nothing", p: withTrigger(loyalty.TriggerCreated), events: []Event{cancelled, created},
			want: []pts{{0, 0}, {0, 0}}},
		{name: "cancel after earning reverses everything", p: seedProgram(), events: []Event{paid, r333, cancelled, completed},
			want: []pts{{50, 0}, {50, 7}, {50, 50}, {50, 50}}},
		{name: "partial refunds add up, rounded up, never above earned", p: seedProgram(),
			events: []Event{paid, r333, r777, r1000, r1000b, refunded},
			// Refunded so far: 333 → 6.66 → 7; 1110 → 22.2 → 23; 2110 → 42.2 → 43;
			// 3110, at most the net 2500 → 50; the full refund adds nothing.
			want: []pts{{50, 0}, {50, 7}, {50, 23}, {50, 43}, {50, 50}, {50, 50}}},
		{name: "a full refund after a partial one reverses the rest", p: seedProgram(), events: []Event{paid, r333, refunded},
			want: []pts{{50, 0}, {50, 7}, {50, 50}}},
		{name: "a partial refund after the full one changes nothing", p: seedProgram(), events: []Event{paid, refunded, r333},
			want: []pts{{50, 0}, {50, 50}, {50, 50}}},
		{name: "a refund of 0.01 reverses one point", p: seedProgram(), events: []Event{paid, partial(t, "r-1c", "2026-03-14T12:00:00Z", 1)},
			// 50 × 1 / 2500 = 0.02 → 1.
			want: []pts{{50, 0}, {50, 1}}},
		{name: "program off: nothing", p: disabled, events: []Event{created, paid, r333},
			want: []pts{{0, 0}, {0, 0}, {0, 0}}},
		{
			// Posted under an earlier program version (60 points): refunds
			// follow what was posted, 60 × 500 / 2500 = 12, not the current
			// program's 50.
			name: "already posted", p: seedProgram(),
			start:  Order{}.Apply(paid),
			events: []Event{partial(t, "r-5", "2026-03-14T12:00:00Z", 500), cancelled},
			want:   []pts{{60, 12}, {60, 60}},
		},
		{
			// Program switched off after earning: what was posted stays,
			// and nothing more is reversed by the rules.
			name: "already posted, program off", p: disabled,
			start:  Order{}.Apply(paid),
			events: []Event{partial(t, "r-5", "2026-03-14T12:00:00Z", 500)},
			want:   []pts{{60, 0}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := tc.start
			if start.Statuses != nil {
				start.PointsEarned = 60
			}
			_, got := post(t, tc.p, start, tc.events)
			if !slices.Equal(got, tc.want) {
				t.Errorf("posted %v, want %v", got, tc.want)
			}
		})
	}
}

// An order below one step of 5.00 earns nothing, and a refund takes
// nothing back.
func TestPointsSmallOrder(t *testing.T) {
	// 1 × 5.49 − 0.50 tax = 4.99 net: no full step of 5.00.
	e := ev(t, "evt-paid", Paid, "2026-03-14T10:05:00+01:00")
	e.Lines = []Line{{SKU: "CAFE", Quantity: 1, UnitPrice: 549, Tax: 50}}
	o := Order{}.Apply(e).Apply(ev(t, "evt-refunded", Refunded, "2026-03-14T11:00:00+01:00"))
	if earned, reversed := must2(o.Points(seedProgram(), true)); earned != 0 || reversed != 0 {
		t.Errorf("Points = (%d, %d), want (0, 0)", earned, reversed)
	}
}
