package analytics

import (
	"fmt"
	"testing"
	"time"
)

func TestCutsOf(t *testing.T) {
	for _, tc := range []struct {
		values []int64
		want   string
	}{
		// n = 10: ranks ceil(2), 4, 6, 8 → values 2, 4, 6, 8.
		{[]int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, "[2 4 6 8]"},
		// n = 7: ranks ceil(1.4)=2, ceil(2.8)=3, ceil(4.2)=5, ceil(5.6)=6.
		{[]int64{1, 2, 3, 4, 5, 6, 7}, "[2 3 5 6]"},
		// Collapsed: most customers bought once → cut-points 1, 1, 1, 2 → [1 2].
		{[]int64{1, 1, 1, 1, 1, 1, 1, 2, 3, 9}, "[1 2]"},
		{[]int64{4, 4, 4}, "[4]"},
		{nil, "[]"},
	} {
		if got := fmt.Sprint(cutsOf(tc.values)); got != tc.want {
			t.Errorf("cutsOf(%v) = %s, want %s", tc.values, got, tc.want)
		}
	}
}

func TestScoreRFM(t *testing.T) {
	// Ten customers with a ticket, twice over (the minimum base is 20), one
	// without. Recency cut-points over −10..−1 (negated days) are
	// [−9 −7 −5 −3]: 1–2 days → 5, 3–4 → 4, …, 9–10 → 1. Frequency over
	// 1,1,1,1,1,1,1,2,3,9 collapses to [1 2]: 1 ticket → 1, 2 → 2, 3 and 9
	// → 3. Monetary over 1.00..10.00 → [200 400 600 800]. Doubling every
	// value leaves the quintiles where they are.
	freq := []int64{9, 3, 2, 1, 1, 1, 1, 1, 1, 1}
	var in, twins []RFMInput
	for i := range 10 {
		in = append(in, RFMInput{CustomerID: fmt.Sprint("c", i), Tickets: freq[i], Recency: int64(i + 1), Revenue: int64(100 * (10 - i))})
		twins = append(twins, RFMInput{CustomerID: fmt.Sprint("twin", i), Tickets: freq[i], Recency: int64(i + 1), Revenue: int64(100 * (10 - i))})
	}
	in = append(in, RFMInput{CustomerID: "gone"})
	in = append(in, twins...)
	model, scores := ScoreRFM(in)
	if fmt.Sprint(model.Recency, model.Frequency, model.Monetary) != "[-9 -7 -5 -3] [1 2] [200 400 600 800]" || model.Version != RFMVersion {
		t.Fatalf("model %+v", model)
	}
	want := []struct {
		r, f, m int
		seg     string
	}{
		{5, 3, 5, PotentialLoyalists}, // 1 day, 9 tickets, 10.00
		{5, 3, 5, PotentialLoyalists}, // 2 days
		{4, 2, 4, PotentialLoyalists},
		{4, 1, 4, Promising},
		{3, 1, 3, AboutToSleep},
		{3, 1, 3, AboutToSleep},
		{2, 1, 2, Hibernating},
		{2, 1, 2, Hibernating},
		{1, 1, 1, Hibernating},
		{1, 1, 1, Hibernating},
		{0, 0, 0, Hibernating}, // no ticket in the window
	}
	for i, w := range want {
		s := scores[i]
		if s.R != w.r || s.F != w.f || s.M != w.m || s.Segment != w.seg || s.NoScore != "" {
			t.Errorf("customer %d: %+v, want R%d F%d M%d %s", i, s, w.r, w.f, w.m, w.seg)
		}
		if i < 10 && scores[11+i] != (RFMScore{CustomerID: fmt.Sprint("twin", i), R: s.R, F: s.F, M: s.M, Segment: s.Segment}) {
			t.Errorf("twin %d: %+v, want the scores of %+v", i, scores[11+i], s)
		}
	}
	if model.NoScore != "" {
		t.Errorf("a base of %d scored as tiny: %q", MinRFMCustomers, model.NoScore)
	}
	// Equal values always get equal scores.
	if _, s := ScoreRFM([]RFMInput{{CustomerID: "a", Tickets: 2, Recency: 5, Revenue: 100}, {CustomerID: "b", Tickets: 2, Recency: 5, Revenue: 100}}); s[0].R != s[1].R || s[0].F != s[1].F || s[0].M != s[1].M {
		t.Errorf("ties scored differently: %+v", s)
	}
	// An empty window scores nobody.
	if m, s := ScoreRFM([]RFMInput{{CustomerID: "a"}}); m.Recency != nil || s[0].Segment != Hibernating {
		t.Errorf("empty window: %+v %+v", m, s)
	}
}

// TestScoreRFMTinyBase: below MinRFMCustomers with a ticket in the window,
// quintiles say nothing (one customer who bought today would be the bottom
// of every quintile and "hibernating"): nobody with a ticket gets scores or a
// segment, the model and the scores say why; customers without a ticket stay
// hibernating, which does not depend on the base.
func TestScoreRFMTinyBase(t *testing.T) {
	buyers := func(n int) []RFMInput {
		in := []RFMInput{{CustomerID: "gone"}}
		for i := range n {
			in = append(in, RFMInput{CustomerID: fmt.Sprint("c", i), Tickets: 1, Recency: int64(i), Revenue: 100})
		}
		return in
	}
	for _, tc := range []struct {
		name   string
		in     []RFMInput
		scored bool
	}{
		{"one customer who bought today", buyers(1), false},
		{"just below the minimum", buyers(MinRFMCustomers - 1), false},
		{"at the minimum", buyers(MinRFMCustomers), true},
		{"nobody with a ticket", buyers(0), true},
	} {
		model, scores := ScoreRFM(tc.in)
		if (model.NoScore == "") != tc.scored {
			t.Errorf("%s: model.NoScore = %q", tc.name, model.NoScore)
		}
		if scores[0] != (RFMScore{CustomerID: "gone", Segment: Hibernating}) {
			t.Errorf("%s: a customer without a ticket: %+v", tc.name, scores[0])
		}
		for _, s := range scores[1:] {
			switch {
			case tc.scored && (s.R == 0 || s.Segment == "" || s.NoScore != ""):
				t.Errorf("%s: %+v not scored", tc.name, s)
			case !tc.scored && (s.R != 0 || s.F != 0 || s.M != 0 || s.Segment != "" || s.NoScore != NoRFMScore):
				t.Errorf("%s: %+v labelled on a tiny base", tc.name, s)
			}
		}
		// A run's score of the same customer agrees with ScoreRFM.
		if len(tc.in) > 1 {
			asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			c := Customer{ID: "c0", Days: []DayFigures{{Date: asOf, Revenue: 100}}}
			if s := (Model{RFM: model}).ScoreOf(c, asOf); s.Segment != scores[1].Segment || s.NoScore != scores[1].NoScore || s.R != scores[1].R {
				t.Errorf("%s: ScoreOf %+v, ScoreRFM %+v", tc.name, s, scores[1])
			}
		}
	}
}

func TestSegmentGrid(t *testing.T) {
	grid := map[string]string{
		"55": Champions, "54": Champions, "45": Loyal, "34": Loyal, "44": Loyal,
		"53": PotentialLoyalists, "42": PotentialLoyalists, "51": NewCustomers, "41": Promising,
		"33": NeedAttention, "31": AboutToSleep, "32": AboutToSleep, "25": CantLoseThem, "15": CantLoseThem,
		"24": AtRisk, "13": AtRisk, "22": Hibernating, "11": Hibernating,
	}
	for rf, want := range grid {
		if got := SegmentOf(int(rf[0]-'0'), int(rf[1]-'0')); got != want {
			t.Errorf("R%c F%c = %s, want %s", rf[0], rf[1], got, want)
		}
	}
}
