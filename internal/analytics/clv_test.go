package analytics

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// cdnowSummary reads the CDNOW calibration summary (x, t_x, T in weeks and
// the mean repeat spend) beside the repository.
func cdnowSummary(t *testing.T) []History {
	t.Helper()
	f, err := os.Open("../../../shared/data/cdnow/cdnow_customers_summary_with_transactions.csv")
	if err != nil {
		t.Skip("the CDNOW summary (../shared/data/cdnow) is not beside the repository")
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var hs []History
	for _, r := range rows[1:] {
		v := make([]float64, 4)
		for i := range v {
			if v[i], err = strconv.ParseFloat(r[i+1], 64); err != nil {
				t.Fatal(err)
			}
		}
		hs = append(hs, History{X: v[0], Tx: v[1], T: v[2], MeanSpend: v[3]})
	}
	return hs
}

func within(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want)/want > tol {
		t.Errorf("%s = %.4f, want %.4f within %.0f%%", name, got, want, tol*100)
	}
}

// The published fits on the CDNOW cohort's 39-week calibration period:
// BG/NBD r = 0.243, α = 4.414, a = 0.793, b = 2.426 (Fader, Hardie & Lee
// 2005) and Gamma-Gamma p = 6.25, q = 3.74, γ = 15.44 (the same authors'
// "Gamma-Gamma model of monetary value", 2013).
func TestPublishedCDNOWFits(t *testing.T) {
	hs := cdnowSummary(t)
	if len(hs) != 2357 {
		t.Fatalf("%d customers", len(hs))
	}
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
	within(t, "gamma", g.Gamma, 15.44, 0.01)
	t.Logf("BG/NBD %+v, Gamma-Gamma %+v", m, g)

	// A customer with 2 repeats, the last at week 30.43 of 38.86 (the first
	// customer of the file): alive probability and 52-week expectation are
	// in the ranges the paper's figures show.
	h := hs[0]
	if p := m.PAlive(h); p < 0.5 || p > 1 {
		t.Errorf("P(alive) = %.3f", p)
	}
	if e := m.ExpectedTransactions(h, 52); e <= 0 || e > 5 {
		t.Errorf("E[Y(52)] = %.3f", e)
	}
	// Never-repeating customers are alive with probability 1 under BG/NBD.
	if p := m.PAlive(History{T: 30}); p != 1 {
		t.Errorf("P(alive | x = 0) = %v", p)
	}
}

func TestTooLittleData(t *testing.T) {
	if _, err := FitBGNBD([]History{{X: 1, Tx: 1, T: 2}}); err != ErrNotEnoughData {
		t.Fatalf("err = %v", err)
	}
	if _, err := FitGammaGamma([]History{{X: 0, T: 2}}); err != ErrNotEnoughData {
		t.Fatalf("err = %v", err)
	}
}
