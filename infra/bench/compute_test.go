package bench

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/analytics"
)

func TestConfigValidateAnalytics(t *testing.T) {
	c := DefaultConfig()
	c.AnalyticsCustomers, c.NightlyCustomers = 0, 0
	if err := c.validate(); err != nil {
		t.Errorf("both tables skipped: %v", err)
	}
	c.AnalyticsCustomers, c.NightlyCustomers = 10, -1
	err := c.validate()
	if err == nil || !strings.Contains(err.Error(), "-analytics-customers") || !strings.Contains(err.Error(), "-nightly-customers") {
		t.Errorf("validate() = %v, want errors for -analytics-customers and -nightly-customers", err)
	}
}

// TestBenchComputeSmall runs table 7 on a few thousand customers: every
// step is measured, the fit is found and every customer has a prediction.
func TestBenchComputeSmall(t *testing.T) {
	c, err := benchCompute(t.Context(), 3000, testAsOf, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if c.Errors != 0 || c.BGNBD == nil || c.GammaGamma == nil || c.Predicted != c.Customers {
		t.Errorf("errors %d (%s), fit %v %v, %d of %d predicted", c.Errors, c.FirstError, c.BGNBD, c.GammaGamma, c.Predicted, c.Customers)
	}
	if len(c.Steps) != 3 || len(c.BaselineRuns) != computeSortRuns || c.Baseline.WallMs <= 0 || c.InputMiB <= 0 {
		t.Fatalf("steps %+v, baseline %+v, input %.1f MiB", c.Steps, c.BaselineRuns, c.InputMiB)
	}
	for _, s := range c.Steps {
		if s.WallMs <= 0 || s.WallRatio <= 1 {
			t.Errorf("step %s: %.2f ms, %.2f× the sort", s.Step, s.WallMs, s.WallRatio)
		}
	}
	var n int
	for _, v := range c.Segments {
		n += v
	}
	if n != c.Customers {
		t.Errorf("segments %v count %d customers, want %d", c.Segments, n, c.Customers)
	}
	var b strings.Builder
	if err := (&Report{Compute: c}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"7. Nightly analytics compute in memory (3000 synthetic customers", "analytics.Learn", "Learn + ScoreOf",
		"slices.Sort, in place", "predictions for 3000 of 3000 customers"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestMeasureStepSeesTheHeapItGrows(t *testing.T) {
	var keep [][]byte
	u, err := measureStep(t.Context(), func() {
		for range 64 {
			keep = append(keep, make([]byte, 1<<20))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mib(int64(u.peakHeap)); got < 60 || got > 100 {
		t.Errorf("peak heap Δ %.1f MiB for 64 MiB allocated", got)
	}
	if u.wall <= 0 || (u.cpuOK && u.cpu <= 0) {
		t.Errorf("wall %s, CPU %s", u.wall, u.cpu)
	}
	runtime.KeepAlive(keep) // held at the last sample, when f returns
}

func TestAnalyticsCustomerWindow(t *testing.T) {
	loc := madrid(t)
	// An order on the as-of day counts; one a year and a day before does not
	// count in the spend, but its ticket day is kept (the models use all).
	orders := []synthOrder{
		{at: time.Date(2025, 9, 29, 10, 0, 0, 0, time.UTC), lines: []synthLine{{category: 0, qty: 1, price: 100}}},
		{at: time.Date(2026, 9, 30, 10, 0, 0, 0, time.UTC), lines: []synthLine{{category: 1, qty: 2, price: 150, cost: 50, hasUnitCost: true}}},
		{at: time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC), lines: []synthLine{{category: 1, qty: 1, price: 200}}},
	}
	c := analyticsCustomer("x", orders, testAsOf, loc)
	if len(c.Days) != 2 || c.Days[1].Revenue != 500 || c.Days[1].Margin != 200 || !c.Margin {
		t.Errorf("days %+v, margin known %v", c.Days, c.Margin)
	}
	if len(c.Spend) != 1 || c.Spend["bolleria"] != 500 {
		t.Errorf("spend %v, want bolleria 500 only", c.Spend)
	}
	s := analytics.Model{}.ScoreOf(c, testAsOf)
	if s.Tickets12M != 1 || s.Revenue12M != 500 {
		t.Errorf("12-month figures %d tickets, %d revenue", s.Tickets12M, s.Revenue12M)
	}
}
