package analytics

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tickets built from the raw CDNOW log (same-day purchases merged) give, as
// of 1997-09-30, exactly the calibration summary the published fits used.
func TestHistoriesFromTheRawCDNOWLog(t *testing.T) {
	f, err := os.Open("../../../shared/data/cdnow/CDNOW_sample.txt")
	if err != nil {
		t.Skip("the CDNOW sample is not beside the repository")
	}
	defer f.Close()
	byDay := map[string]map[string]int64{} // customer (sample sequence) → date → cents
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			continue
		}
		id := strings.TrimLeft(fs[1], "0") // the sample's own sequence, the summary's ID
		whole, frac, _ := strings.Cut(fs[4], ".")
		cents, _ := strconv.ParseInt(whole+(frac + "00")[:2], 10, 64)
		if byDay[id] == nil {
			byDay[id] = map[string]int64{}
		}
		byDay[id][fs[2]] += cents
	}
	asOf := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	want := map[string]History{}
	for i, h := range cdnowSummary(t) {
		want[strconv.Itoa(i+1)] = h
	}
	var hs []History
	for id, days := range byDay {
		var ts []Ticket
		for d, cents := range days {
			date, _ := time.Parse("20060102", d)
			ts = append(ts, Ticket{Date: date, Revenue: cents})
		}
		got, ok := HistoryOf(ts, asOf)
		w := want[id]
		if !ok || got.X != w.X || math.Abs(got.Tx-w.Tx) > 0.0051 || math.Abs(got.T-w.T) > 0.0051 || math.Abs(got.MeanSpend/100-w.MeanSpend) > 0.0051 {
			t.Fatalf("customer %s: got %+v (spend in cents), want %+v (spend in dollars)", id, got, w)
		}
		hs = append(hs, got)
	}
	// And the models fitted on these histories match the published fits
	// (γ is in the currency's unit: cents here, dollars in the papers).
	m, err := FitBGNBD(hs)
	if err != nil {
		t.Fatal(err)
	}
	within(t, "r", m.R, 0.243, 0.01)
	within(t, "alpha", m.Alpha, 4.414, 0.01)
	within(t, "a", m.A, 0.793, 0.01)
	within(t, "b", m.B, 2.426, 0.01)
	g, err := FitGammaGamma(hs)
	if err != nil {
		t.Fatal(err)
	}
	within(t, "p", g.P, 6.25, 0.01)
	within(t, "q", g.Q, 3.74, 0.01)
	within(t, "gamma", g.Gamma/100, 15.44, 0.01)
	if len(byDay) != len(want) {
		t.Fatalf("%d customers in the log, %d in the summary", len(byDay), len(want))
	}
}

func TestHistoryOf(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name    string
		tickets []Ticket
		asOf    time.Time
		want    History
		ok      bool
	}{
		{"no tickets", nil, d(20), History{}, false},
		{"only after as-of", []Ticket{{d(25), 100}}, d(20), History{}, false},
		{"one ticket", []Ticket{{d(6), 900}}, d(20), History{X: 0, Tx: 0, T: 2}, true},
		{"repeats, first excluded from spend", []Ticket{{d(15), 300}, {d(1), 999}, {d(8), 100}}, d(29), History{X: 2, Tx: 2, T: 4, MeanSpend: 200}, true},
	} {
		got, ok := HistoryOf(tc.tickets, tc.asOf)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
