package analytics

import (
	"testing"
	"time"
)

func TestAffinityOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spend   map[string]int64
		tickets int64
		want    Affinity
	}{
		{"one ticket", map[string]int64{"café": 500}, 1, Affinity{Reason: NotEnoughHistory}},
		// 60.00 of 100.00 on café, 30.00 on pastelería, 10.00 uncategorised.
		{"ranked by share", map[string]int64{"pastelería": 3000, "café": 6000, "": 1000}, 3, Affinity{Primary: "café", PrimaryShareBP: 6000, Secondary: "pastelería", SecondaryShareBP: 3000}},
		{"ties alphabetical", map[string]int64{"b": 100, "a": 100}, 2, Affinity{Primary: "a", PrimaryShareBP: 5000, Secondary: "b", SecondaryShareBP: 5000}},
		{"only refunds", map[string]int64{"a": 0}, 2, Affinity{Reason: NotEnoughHistory}},
		{"one category", map[string]int64{"vinos": 900}, 2, Affinity{Primary: "vinos", PrimaryShareBP: 10000}},
	} {
		if got := AffinityOf(tc.spend, tc.tickets); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestPredict(t *testing.T) {
	m := BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	g := GammaGamma{P: 6.25, Q: 3.74, Gamma: 1544} // cents
	active := Predict(m, g, History{X: 6, Tx: 36, T: 38.86, MeanSpend: 3000})
	lapsed := Predict(m, g, History{X: 6, Tx: 5, T: 38.86, MeanSpend: 3000})
	once := Predict(m, g, History{X: 0, T: 38.86})
	if active.Value12Months <= lapsed.Value12Months || lapsed.Value12Months <= 0 || once.Value12Months <= 0 {
		t.Fatalf("values: active %d, lapsed %d, once %d", active.Value12Months, lapsed.Value12Months, once.Value12Months)
	}
	if active.PAlive <= lapsed.PAlive || active.Expected90Days <= lapsed.Expected90Days {
		t.Fatalf("active %+v, lapsed %+v", active, lapsed)
	}
	// The monthly sum never exceeds the undiscounted 12-month expectation.
	undiscounted := m.ExpectedTransactions(History{X: 6, Tx: 36, T: 38.86, MeanSpend: 3000}, 52) * g.ExpectedSpend(History{X: 6, MeanSpend: 3000})
	if float64(active.Value12Months) > undiscounted || float64(active.Value12Months) < 0.9*undiscounted {
		t.Fatalf("discounted %d vs undiscounted %.0f", active.Value12Months, undiscounted)
	}
}

func TestFigures12M(t *testing.T) {
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	c := Customer{ID: "c", Days: []DayFigures{{d(2025, 11, 22), 100, 10}, {d(2025, 11, 23), 200, 20}, {d(2026, 11, 22), 400, 40}, {d(2026, 11, 23), 800, 80}}}
	// The window is (end − 1 year, end]: 2025-11-22 is out, 2026-11-23 is after end.
	if tk, rev, mg := c.Figures12M(d(2026, 11, 22)); tk != 2 || rev != 600 || mg != 60 {
		t.Fatalf("figures %d %d %d", tk, rev, mg)
	}
}
