package analytics

import (
	"slices"
)

// RFMVersion names the scoring method stored with every result.
const RFMVersion = "rfm-quintile-v1"

// RFMInput is one customer's figures over the 12 months before as-of.
type RFMInput struct {
	CustomerID string
	Tickets    int64 // F; 0 when the customer had no ticket in the window
	Recency    int64 // R: days since the last ticket
	Revenue    int64 // M: net revenue, minor units
	Margin     *int64
}

// Cuts are the cut-points of one score: a value's score is 1 plus the number
// of cut-points it beats. Duplicate cut-points are dropped, so when values
// pile up the score has fewer levels.
type Cuts []int64

// cutsOf returns the quintile cut-points (nearest rank at 20, 40, 60, 80 %)
// of the values, deduplicated.
func cutsOf(values []int64) Cuts {
	if len(values) == 0 {
		return nil
	}
	s := slices.Clone(values)
	slices.Sort(s)
	var cuts Cuts
	for k := 1; k <= 4; k++ {
		rank := (k*len(s) + 4) / 5 // ceil(k/5 · n), 1-based
		cuts = append(cuts, s[rank-1])
	}
	return slices.Compact(cuts)
}

// higher scores a value where more is better: 1 + cut-points strictly below it.
func (c Cuts) higher(v int64) int {
	n := 1
	for _, cut := range c {
		if v > cut {
			n++
		}
	}
	return n
}

// MinRFMCustomers is the smallest number of customers with a ticket in the
// window for which quintile scores mean anything: below it (4 customers per
// quintile) a run scores nobody, and says why instead of labelling.
const MinRFMCustomers = 20

// NoRFMScore is the reason stored on a model, and on the scores of customers
// with a ticket in the window, when the base is below MinRFMCustomers.
const NoRFMScore = "fewer than 20 customers with a ticket in the 12 months: RFM scores are not meaningful"

// RFMScore is one customer's result.
type RFMScore struct {
	CustomerID string
	R, F, M    int // 1–5, 5 best; 0 when the customer had no ticket in the window or the model has NoScore
	Margin     int // 0 when no margin is known
	Segment    string
	NoScore    string // why a customer with a ticket in the window has no scores and no segment
}

// RFMModel is what a run stores beside the scores. Recency cut-points are
// on negated days (more recent is higher), so that every score is "more is
// better" with the same quintile rule.
type RFMModel struct {
	Version              string
	Recency, Frequency   Cuts
	Monetary, MarginCuts Cuts
	NoScore              string // NoRFMScore below MinRFMCustomers, else empty
}

// score scores one customer's window against the model: Hibernating with
// zero scores without a ticket in the window (whatever the base), no scores
// and no segment when the model has NoScore.
func (m RFMModel) score(c RFMInput) RFMScore {
	s := RFMScore{CustomerID: c.CustomerID, Segment: Hibernating}
	switch {
	case c.Tickets == 0:
	case m.NoScore != "":
		s.Segment, s.NoScore = "", m.NoScore
	default:
		s.R, s.F, s.M = m.Recency.higher(-c.Recency), m.Frequency.higher(c.Tickets), m.Monetary.higher(c.Revenue)
		if c.Margin != nil {
			s.Margin = m.MarginCuts.higher(*c.Margin)
		}
		s.Segment = SegmentOf(s.R, s.F)
	}
	return s
}

// Segments of the standard R×F grid.
const (
	Champions          = "champions"
	Loyal              = "loyal"
	PotentialLoyalists = "potential_loyalists"
	NewCustomers       = "new_customers"
	Promising          = "promising"
	NeedAttention      = "need_attention"
	AboutToSleep       = "about_to_sleep"
	AtRisk             = "at_risk"
	CantLoseThem       = "cant_lose_them"
	Hibernating        = "hibernating"
)

// SegmentOf places an R and F score on the standard grid.
func SegmentOf(r, f int) string {
	switch {
	case r == 0 || f == 0:
		return Hibernating
	case r == 5 && f >= 4:
		return Champions
	case r >= 3 && f >= 4:
		return Loyal
	case r >= 4 && f >= 2:
		return PotentialLoyalists
	case r == 5 && f == 1:
		return NewCustomers
	case r == 4 && f == 1:
		return Promising
	case r == 3 && f == 3:
		return NeedAttention
	case r == 3:
		return AboutToSleep
	case f == 5:
		return CantLoseThem
	case f >= 3:
		return AtRisk
	}
	return Hibernating
}

// ScoreRFM scores every customer against cut-points computed over the
// customers with a ticket in the window; the others are Hibernating with
// zero scores and do not move the cut-points. Below MinRFMCustomers with a
// ticket, the model has NoScore and nobody with a ticket is scored.
func ScoreRFM(in []RFMInput) (RFMModel, []RFMScore) {
	var rs, fs, ms, gs []int64
	for _, c := range in {
		if c.Tickets == 0 {
			continue
		}
		rs, fs, ms = append(rs, -c.Recency), append(fs, c.Tickets), append(ms, c.Revenue)
		if c.Margin != nil {
			gs = append(gs, *c.Margin)
		}
	}
	model := RFMModel{Version: RFMVersion, Recency: cutsOf(rs), Frequency: cutsOf(fs), Monetary: cutsOf(ms), MarginCuts: cutsOf(gs)}
	if len(rs) > 0 && len(rs) < MinRFMCustomers {
		model.NoScore = NoRFMScore
	}
	out := make([]RFMScore, len(in))
	for i, c := range in {
		out[i] = model.score(c)
	}
	return model, out
}
