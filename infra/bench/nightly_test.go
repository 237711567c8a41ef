package bench

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/template"
	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/purchase"
)

// testAsOf is a fixed as-of date for the tests.
var testAsOf = time.Date(2026, time.September, 30, 0, 0, 0, 0, time.UTC)

func madrid(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(benchTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestSynthHistory(t *testing.T) {
	loc := madrid(t)
	end := time.Date(testAsOf.Year(), testAsOf.Month(), testAsOf.Day()+1, 0, 0, 0, 0, loc)
	start := end.AddDate(-synthYears, 0, 0)
	const n = 20000
	var days, repeaters int
	var revenue int64
	for i := range n {
		orders := synthHistory(i, testAsOf, loc)
		if !reflect.DeepEqual(orders, synthHistory(i, testAsOf, loc)) {
			t.Fatalf("customer %d: two draws differ", i)
		}
		if len(orders) == 0 {
			t.Fatalf("customer %d has no order", i)
		}
		for k, o := range orders {
			if o.at.Before(start) || !o.at.Before(end) {
				t.Fatalf("customer %d: order at %s, outside [%s, %s)", i, o.at, start, end)
			}
			if k > 0 && o.at.Before(orders[k-1].at) {
				t.Fatalf("customer %d: orders out of order", i)
			}
			if h := o.at.In(loc).Hour(); h < synthOpenHour || h >= synthOpenHour+synthOpenHours {
				t.Fatalf("customer %d: order at %d h local, outside opening hours", i, h)
			}
			if o.net() <= 0 {
				t.Fatalf("customer %d: order of %d", i, o.net())
			}
			revenue += o.net()
		}
		c := analyticsCustomer("c", orders, testAsOf, loc)
		days += len(c.Days)
		if len(c.Days) > 1 {
			repeaters++
		}
	}
	// "A few ticket days each", about half the customers come back, and a
	// ticket is worth about 25.00.
	if perCustomer := float64(days) / n; perCustomer < 2 || perCustomer > 4 {
		t.Errorf("%.2f ticket days per customer, want a few (2–4)", perCustomer)
	}
	if share := float64(repeaters) / n; share < 0.3 || share > 0.7 {
		t.Errorf("%.2f of the customers have more than one ticket day", share)
	}
	if mean := float64(revenue) / float64(days); mean < 2000 || mean > 3200 {
		t.Errorf("mean ticket day %.0f, want about 2500", mean)
	}
}

// TestStoredCustomerIsWhatTheNightlyReads checks that the customer the
// compute table analyses is what nightly.Worker reads of the same customer
// once seeded: its ticket days from the DAY# items, its spend and margin
// from the ORDER# items (the rules of nightly's dataOf).
func TestStoredCustomerIsWhatTheNightlyReads(t *testing.T) {
	loc := madrid(t)
	now := time.Date(testAsOf.Year(), testAsOf.Month(), testAsOf.Day(), 23, 59, 59, 0, loc)
	for i := range 2000 {
		s, err := storedCustomer("m", i, testAsOf, loc, now)
		if err != nil {
			t.Fatal(err)
		}
		got := analytics.Customer{ID: s.customer.ID, Spend: map[string]int64{}}
		for _, d := range s.days {
			date, err := time.Parse(time.DateOnly, d.Date)
			if err != nil {
				t.Fatal(err)
			}
			got.Days = append(got.Days, analytics.DayFigures{Date: date, Revenue: d.Revenue, Margin: d.Margin})
		}
		from := testAsOf.AddDate(-1, 0, 0)
		for _, o := range s.orders {
			at := o.At().In(loc) // the merchant's local day
			day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
			if !day.After(from) || day.After(testAsOf) {
				continue
			}
			for cat, v := range o.SpendByCategory() {
				got.Spend[cat] += v
			}
			if cost, _ := o.Cost(); cost > 0 {
				got.Margin = true
			}
		}
		if !reflect.DeepEqual(got, s.analysed) {
			t.Fatalf("customer %d: the nightly reads %+v, the compute table analyses %+v", i, got, s.analysed)
		}
		if s.customer.Metrics.Tickets != int64(len(s.days)) || s.customer.EnrolledAt.After(s.orders[0].At()) {
			t.Fatalf("customer %d: metrics %+v for %d days, enrolled %s", i, s.customer.Metrics, len(s.days), s.customer.EnrolledAt)
		}
	}
}

func TestFormatCallsPerCustomer(t *testing.T) {
	ops := slices.Concat(slices.Repeat([]string{"Query"}, 400), []string{"PutItem"}, slices.Repeat([]string{"UpdateItem"}, 100))
	if got, want := formatCallsPerCustomer(ops, 100), "Query×4 + PutItem×0.01 + UpdateItem"; got != want {
		t.Errorf("formatCallsPerCustomer = %q, want %q", got, want)
	}
	if got, want := formatCallsPerCustomer([]string{"PutItem"}, 100000), "PutItem×0.00001"; got != want {
		t.Errorf("formatCallsPerCustomer = %q, want %q", got, want)
	}
	if got := formatCallsPerCustomer(nil, 10); got != "none" {
		t.Errorf("formatCallsPerCustomer(nil) = %q", got)
	}
}

func TestRunPhase(t *testing.T) {
	s := func(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }
	run := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"Phase": s("score")}}
	if got := runPhase(map[string]types.AttributeValue{"SK": s("RUN#2026-09-30"), "run": run}); got != "score" {
		t.Errorf("runPhase of a run item = %q", got)
	}
	if got := runPhase(map[string]types.AttributeValue{"SK": s("PROFILE"), "run": run}); got != "" {
		t.Errorf("runPhase of another item = %q", got)
	}
}

// TestNightlyAgainstDynamoDBLocal runs table 8 small: the seed must read
// back through the store as written, and the run must end done with every
// stored score checked.
func TestNightlyAgainstDynamoDBLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local stack")
	}
	e, cfg := testEnvironment(t)
	loc := madrid(t)

	// The seed reads back through the store.
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Logger = logging.Nop{} })
	st := dynamo.New(ddb, e.res.Ref("Table"))
	mid, err := nightlyMerchant(t.Context(), st, "Seed check")
	if err != nil {
		t.Fatal(err)
	}
	sd, err := seedNightly(t.Context(), ddb, e.res.Ref("Table"), mid, 30, testAsOf, loc, 1, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(testAsOf.Year(), testAsOf.Month(), testAsOf.Day(), 23, 59, 59, 0, loc)
	for i := range 30 {
		want, err := storedCustomer(mid, i, testAsOf, loc, now)
		if err != nil {
			t.Fatal(err)
		}
		cid := sd.sample[i].ID
		c, err := st.Customer(t.Context(), mid, cid)
		if err != nil {
			t.Fatal(err)
		}
		if c.Metrics.Tickets != want.customer.Metrics.Tickets || c.Metrics.Revenue != want.customer.Metrics.Revenue || c.ExternalID != want.customer.ExternalID {
			t.Errorf("customer %d: stored metrics %+v, want %+v", i, c.Metrics, want.customer.Metrics)
		}
		if byID, err := st.CustomerByUnique(t.Context(), mid, c.Uniques()[0]); err != nil || byID.ID != cid {
			t.Errorf("customer %d by %v: %v, %v", i, c.Uniques()[0], byID.ID, err)
		}
		days, err := st.TicketDays(t.Context(), mid, cid)
		if err != nil || !reflect.DeepEqual(days, want.days) {
			t.Errorf("customer %d: ticket days %+v (%v), want %+v", i, days, err, want.days)
		}
		orders, err := st.Orders(t.Context(), mid, cid)
		if err != nil || len(orders) != len(want.orders) {
			t.Fatalf("customer %d: %d orders (%v), want %d", i, len(orders), err, len(want.orders))
		}
		// The store answers in key order: ORDER#B12-10 before ORDER#B12-2.
		byID := func(a, b purchase.Order) int { return strings.Compare(a.OrderID, b.OrderID) }
		slices.SortFunc(want.orders, byID)
		for k := range orders {
			o, w := orders[k], want.orders[k]
			if o.OrderID != w.OrderID || !o.At().Equal(w.At()) || !reflect.DeepEqual(o.SpendByCategory(), w.SpendByCategory()) ||
				o.Net() != w.Net() || !reflect.DeepEqual(o.Lines, w.Lines) {
				t.Errorf("customer %d: order %+v, want %+v", i, o, w)
			}
		}
	}

	var lines []string
	res, err := benchNightly(t.Context(), e, 200, analyticsAsOf(time.Now(), loc), func(s string) { lines = append(lines, s) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Phase != analytics.PhaseDone || res.Scored != 200 || res.Verified != res.Sampled || res.Sampled == 0 {
		t.Errorf("run: %d errors (%s), phase %s, %d scored, %d of %d scores verified", res.Errors, res.FirstError, res.Phase, res.Scored,
			res.Verified, res.Sampled)
	}
	var phases []string
	for _, p := range res.Phases {
		phases = append(phases, p.Phase)
	}
	if want := []string{analytics.PhaseCollect, analytics.PhaseScore, analytics.PhaseHousekeeping}; !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if !strings.Contains(res.Phases[0].Calls, "Query×2") || res.Baseline.Requests != 200 {
		t.Errorf("collect calls %q, baseline %d queries", res.Phases[0].Calls, res.Baseline.Requests)
	}
	m := res.Metered
	if m == nil || len(m.Phases) != 3 || m.CallsPerCustomer < res.CallsPerCustomer*0.9 || m.RCU == 0 || m.Rules.Total == 0 {
		t.Errorf("metered run %+v beside %.2f calls per customer", m, res.CallsPerCustomer)
	}
	var b strings.Builder
	if err := (&Report{Nightly: res}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"8. Nightly run end to end", "whole run", "counting proxy", fmt.Sprintf("%d of %d sampled customers", res.Verified, res.Sampled)} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
	t.Log("\n" + b.String())
}

// testEnvironment starts (or joins) the local stack and provisions
// template.yaml for one test, as the bench's own run does.
func testEnvironment(t *testing.T) (*environment, aws.Config) {
	t.Helper()
	cfg, stop, err := localstack.ForTest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	path, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e := &environment{root: filepath.Dir(path), tmpl: tmpl, res: localstack.ProvisionTest(t, cfg), aws: cfg}
	for _, x := range tmpl.Tables {
		if x.LogicalID == "Table" {
			e.table = x
		}
	}
	return e, cfg
}
