package bench

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/purchase"
)

// The nightly analytics sections (tables 7 and 8) run on synthetic
// customers drawn from the models the analysis fits, so that the fits have
// something to find: each customer buys at a rate λ ~ Gamma(r, α) per week
// and may drop out after each ticket with a probability p ~ Beta(a, b)
// (BG/NBD), and each ticket is worth z ~ Gamma(pz, ν) with ν ~ Gamma(q, γ)
// per customer (Gamma-Gamma), split over 1 to 3 lines of the customer's
// favourite categories. First purchases are uniform over the two years
// before the as-of date, purchases happen in opening hours (8:00–21:00 in
// the merchant's time zone), and for 60% of the customers the lines carry a
// unit cost (35% of the price), so that margins are known. With these
// parameters a customer has about 3 ticket days, and a ticket is worth
// 25.00 on average. Customer i's history depends only on the seed and i.
const (
	synthSeed            = 20261122
	synthYears           = 2
	synthR, synthAlpha   = 0.75, 10.0 // purchase rate λ ~ Gamma(shape r, rate α), per week
	synthA, synthB       = 0.8, 2.5   // drop-out probability p ~ Beta(a, b)
	synthP, synthQ       = 6.0, 4.0   // ticket value z ~ Gamma(p, rate ν), ν ~ Gamma(q, rate γ)
	synthGamma           = 1250.0     // E[z] = p·γ/(q−1) = 2500 minor units
	synthMaxOrders       = 300
	synthCostShare       = 0.35
	synthCostCustomers   = 0.6
	synthOpenHour        = 8
	synthOpenHours       = 13
	synthLocationID      = "centro"
	synthLocationName    = "Centro"
	synthExternalIDStart = "bench-"
)

// benchTimeZone is the time zone of the merchants the bench creates.
const benchTimeZone = "Europe/Madrid"

// synthCategories are the categories lines fall in.
var synthCategories = []string{"cafe", "bolleria", "menus", "bebidas", "tienda"}

// analyticsAsOf is the as-of date of the analytics tables: the merchant's
// yesterday (a date, as the nightly run takes it), what the scheduled run
// analyses. A backfill (an earlier date) would not refresh the profiles'
// 12-month figures. The histories are drawn relative to it, so every run
// analyses customers drawn alike.
func analyticsAsOf(now time.Time, loc *time.Location) time.Time {
	y := now.In(loc).AddDate(0, 0, -1)
	return time.Date(y.Year(), y.Month(), y.Day(), 0, 0, 0, 0, time.UTC)
}

// synthLine is one line of a synthetic order.
type synthLine struct {
	category    int
	qty, price  int64
	cost        int64 // per unit; 0: unknown
	hasUnitCost bool
}

// synthOrder is one synthetic order: when, and its lines.
type synthOrder struct {
	at    time.Time // UTC, as a point of sale sends it
	lines []synthLine
}

// net is the order's net amount (no discounts, no tax).
func (o synthOrder) net() int64 {
	var n int64
	for _, l := range o.lines {
		n += l.qty * l.price
	}
	return n
}

// synthHistory returns customer i's orders, in time order, up to the end of
// the as-of day in loc.
func synthHistory(i int, asOf time.Time, loc *time.Location) []synthOrder {
	rng := rand.New(rand.NewPCG(synthSeed, uint64(i)))
	end := time.Date(asOf.Year(), asOf.Month(), asOf.Day()+1, 0, 0, 0, 0, loc) // exclusive
	span := end.Sub(end.AddDate(-synthYears, 0, 0)).Hours() / 24               // days
	lambda := gammaRand(rng, synthR) / synthAlpha / 7                          // per day
	p := betaRand(rng, synthA, synthB)
	nu := gammaRand(rng, synthQ) / synthGamma
	costs := rng.Float64() < synthCostCustomers
	fav := rng.IntN(len(synthCategories))

	var out []synthOrder
	t := rng.Float64() * span // days since the start of the two years
	start := end.AddDate(-synthYears, 0, 0)
	for len(out) < synthMaxOrders {
		day := int(t)
		local := time.Date(start.Year(), start.Month(), start.Day()+day, synthOpenHour, 0, 0, 0, loc)
		at := local.Add(time.Duration(rng.Int64N(int64(synthOpenHours * time.Hour)))).UTC().Truncate(time.Second)
		if !at.Before(end) {
			break
		}
		z := math.Max(50, gammaRand(rng, synthP)/nu) // minor units; at least 0.50
		out = append(out, synthOrder{at: at, lines: synthLines(rng, int64(math.Round(z)), fav, costs)})
		if rng.Float64() < p || lambda <= 0 {
			break // dropped out
		}
		t += rng.ExpFloat64() / lambda
		if t >= span {
			break
		}
	}
	// Two orders of one day may have drawn their hours in either order.
	slices.SortStableFunc(out, func(a, b synthOrder) int { return a.at.Compare(b.at) })
	return out
}

// synthLines splits a ticket's value over 1 to 3 lines, the first in the
// customer's favourite category.
func synthLines(rng *rand.Rand, value int64, fav int, costs bool) []synthLine {
	n := 1 + rng.IntN(3)
	lines := make([]synthLine, n)
	left := value
	for k := range lines {
		share := left
		if k < n-1 {
			share = max(1, left*int64(40+rng.IntN(30))/100)
		}
		left -= share
		cat := fav
		if k > 0 {
			cat = rng.IntN(len(synthCategories))
		}
		qty := int64(1)
		if share >= 400 && rng.IntN(4) == 0 {
			qty = 2
		}
		l := synthLine{category: cat, qty: qty, price: max(1, share/qty)}
		if costs {
			l.cost, l.hasUnitCost = int64(math.Round(float64(l.price)*synthCostShare)), true
		}
		lines[k] = l
	}
	return lines
}

// gammaRand draws from Gamma(shape, rate 1) (Marsaglia and Tsang).
func gammaRand(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaRand(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// betaRand draws from Beta(a, b).
func betaRand(rng *rand.Rand, a, b float64) float64 {
	x := gammaRand(rng, a)
	return x / (x + gammaRand(rng, b))
}

// analyticsCustomer is what the nightly run reads of a customer with these
// orders (nightly.Worker's dataOf over the DAY# and ORDER# items that
// ingest would have written): a ticket day per local date with the day's
// net revenue and margin, the net spend by category of the orders of the
// 12 months up to asOf (by the order's local date, as dataOf filters), and
// whether any cost is known.
func analyticsCustomer(id string, orders []synthOrder, asOf time.Time, loc *time.Location) analytics.Customer {
	c := analytics.Customer{ID: id, Spend: map[string]int64{}}
	from := asOf.AddDate(-1, 0, 0)
	for _, o := range orders {
		date := purchase.LocalDate(o.at, loc)
		d, _ := time.Parse(time.DateOnly, date)
		var margin int64
		for _, l := range o.lines {
			if l.hasUnitCost {
				margin += l.qty * (l.price - l.cost)
			}
		}
		if n := len(c.Days); n > 0 && c.Days[n-1].Date.Equal(d) {
			c.Days[n-1].Revenue += o.net()
			c.Days[n-1].Margin += margin
		} else {
			c.Days = append(c.Days, analytics.DayFigures{Date: d, Revenue: o.net(), Margin: margin})
		}
		local := o.at.In(loc)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
		if !day.After(from) || day.After(asOf) {
			continue
		}
		for _, l := range o.lines {
			c.Spend[synthCategories[l.category]] += l.qty * l.price
			if l.hasUnitCost && l.cost > 0 {
				c.Margin = true
			}
		}
	}
	return c
}

// synthCustomers builds n synthetic customers as the analysis reads them,
// and their total revenues (the keys the sort baseline sorts).
func synthCustomers(n int, asOf time.Time, loc *time.Location) ([]analytics.Customer, []int64) {
	out := make([]analytics.Customer, n)
	keys := make([]int64, n)
	for i := range n {
		orders := synthHistory(i, asOf, loc)
		out[i] = analyticsCustomer("C"+strconv.Itoa(i), orders, asOf, loc)
		for _, d := range out[i].Days {
			keys[i] += d.Revenue
		}
	}
	return out, keys
}

// purchaseOrder is a synthetic order as ingest stores it (the ORDER# item's
// order) once its one "paid" event is applied: no points (the bench
// merchant's program earns nothing on these, see seedNightly).
func purchaseOrder(cid string, i, k int, o synthOrder) purchase.Order {
	lines := make([]purchase.Line, len(o.lines))
	for j, l := range o.lines {
		sku := synthCategories[l.category] + "-" + strconv.Itoa(j+1)
		lines[j] = purchase.Line{SKU: sku, Name: sku, Category: synthCategories[l.category], Quantity: l.qty, UnitPrice: l.price}
		if l.hasUnitCost {
			lines[j].UnitCost = &l.cost
		}
	}
	order := purchase.Order{OrderID: synthOrderID(i, k), CustomerID: cid,
		Location: purchase.Location{ID: synthLocationID, Name: synthLocationName}, Lines: lines,
		Statuses: map[purchase.Status]time.Time{purchase.Paid: o.at}, Refunds: map[string]int64{},
		Events: []string{"ev-" + synthOrderID(i, k)}}
	cost, _ := order.Cost()
	order.Counted, order.CountedAt, order.CountedNet, order.CountedCost = true, o.at, order.Net(), cost
	return order
}

func synthOrderID(i, k int) string { return "B" + strconv.Itoa(i) + "-" + strconv.Itoa(k+1) }

// synthStored is one synthetic customer as the table holds it after ingest
// applied its orders: the profile with its metrics, the ticket days and the
// orders.
type synthStored struct {
	customer crm.Customer
	days     []purchase.Day // in date order
	orders   []purchase.Order
	analysed analytics.Customer // what the nightly run should read of it
}

// storedCustomer folds customer i's orders into its metrics and ticket
// days with purchase.Update, as ingest does order by order (now: the end of
// the as-of day), and enrols the customer (crm.New) at its first purchase.
func storedCustomer(mid string, i int, asOf time.Time, loc *time.Location, now time.Time) (synthStored, error) {
	orders := synthHistory(i, asOf, loc)
	enrolled := now
	if len(orders) > 0 {
		enrolled = orders[0].at
	}
	c, err := crm.New(mid, crm.Enrolment{Profile: crm.Profile{ExternalID: synthExternalIDStart + strconv.Itoa(i), Type: crm.TypeDirect},
		EnrolledAt: &enrolled}, now)
	if err != nil {
		return synthStored{}, err
	}
	s := synthStored{customer: c, analysed: analyticsCustomer(c.ID, orders, asOf, loc)}
	days := map[string]purchase.Day{}
	m := crm.Metrics{}
	for k, o := range orders {
		po := purchaseOrder(c.ID, i, k, o)
		date := purchase.LocalDate(o.at, loc)
		var changed map[string]purchase.Day
		if m, changed, err = purchase.Update(m, map[string]purchase.Day{date: days[date]}, purchase.Contribution{}, purchase.ContributionOf(po), loc, now); err != nil {
			return synthStored{}, err
		}
		maps.Copy(days, changed)
		s.orders = append(s.orders, po)
	}
	s.customer.Metrics = m
	for _, d := range days {
		s.days = append(s.days, d)
	}
	slices.SortFunc(s.days, func(a, b purchase.Day) int { return strings.Compare(a.Date, b.Date) })
	return s, nil
}
