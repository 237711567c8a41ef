package analytics

import (
	"time"
)

// Run phases, in order. A run is resumable: the model is stored at the end
// of collect, and score pages are written from the stored cursor, so a run
// restarted after a failure writes exactly what one clean run writes.
const (
	PhaseCollect      = "collect"
	PhaseScore        = "score"
	PhaseHousekeeping = "housekeeping"
	PhaseDone         = "done"
)

// Run is one merchant's analysis as of a date.
type Run struct {
	MerchantID string
	AsOf       string // YYYY-MM-DD, in the merchant's time zone
	Phase      string
	Cursor     string // position of the score phase in the customer list
	Model      Model
	Customers  int
	Scored     int
	StartedAt  time.Time
	FinishedAt *time.Time
}

// Model is what the collect phase learns from all customers.
type Model struct {
	Version    string
	RFM        RFMModel
	BGNBD      *BGNBD
	GammaGamma *GammaGamma
	NoFit      string // why there is no prediction, when there is none
}

// Score is one customer's analysis, stored on the customer's own key.
type Score struct {
	CustomerID string
	AsOf       string
	Version    string
	R, F, M    int
	Margin     int
	Segment    string // empty when NoScore is set
	NoScore    string // why a customer with a ticket in the window has no RFM scores (RFMModel.NoScore)
	Recency    int64  // days since the last ticket, -1 without tickets
	Tickets12M int64
	Revenue12M int64
	Margin12M  int64
	Affinity   Affinity
	Prediction *Prediction
	NoPredict  string
}

// Customer is what the analysis reads of one customer.
type Customer struct {
	ID     string
	Days   []DayFigures     // ticket days, any order
	Spend  map[string]int64 // net spend by category of the orders in the window
	Margin bool             // whether any cost is known
}

// DayFigures is one ticket day's figures.
type DayFigures struct {
	Date    time.Time // local midnight, as a UTC date
	Revenue int64
	Margin  int64
}

// window returns the customer's RFM input over the 12 months up to asOf, and
// the 12-month figures.
func (c Customer) window(asOf time.Time) (RFMInput, int64) {
	from := asOf.AddDate(-1, 0, 0)
	in := RFMInput{CustomerID: c.ID, Recency: -1}
	var margin int64
	var last time.Time
	for _, d := range c.Days {
		if !d.Date.After(from) || d.Date.After(asOf) {
			continue
		}
		in.Tickets++
		in.Revenue += d.Revenue
		margin += d.Margin
		if d.Date.After(last) {
			last = d.Date
		}
	}
	if in.Tickets > 0 {
		in.Recency = int64(days(last, asOf))
		if c.Margin {
			in.Margin = &margin
		}
	}
	return in, margin
}

// Figures12M are the customer's tickets, revenue and margin over the 12
// months up to end.
func (c Customer) Figures12M(end time.Time) (tickets, revenue, margin int64) {
	in, margin := c.window(end)
	return in.Tickets, in.Revenue, margin
}

// history returns the models' view of the customer as of asOf.
func (c Customer) history(asOf time.Time) (History, bool) {
	ts := make([]Ticket, len(c.Days))
	for i, d := range c.Days {
		ts[i] = Ticket{Date: d.Date, Revenue: d.Revenue}
	}
	return HistoryOf(ts, asOf)
}

// Learn builds the model from every customer: RFM cut-points over the
// window, and the BG/NBD and Gamma-Gamma fits over all histories (or why
// there is no fit).
func Learn(customers []Customer, asOf time.Time) Model {
	inputs := make([]RFMInput, 0, len(customers))
	var hs []History
	for _, c := range customers {
		in, _ := c.window(asOf)
		inputs = append(inputs, in)
		if h, ok := c.history(asOf); ok {
			hs = append(hs, h)
		}
	}
	rfm, _ := ScoreRFM(inputs)
	m := Model{Version: RFMVersion + "+bgnbd-gg-v1", RFM: rfm}
	bg, err := FitBGNBD(hs)
	if err != nil {
		m.NoFit = err.Error()
		return m
	}
	gg, err := FitGammaGamma(hs)
	if err != nil {
		m.NoFit = err.Error()
		return m
	}
	m.BGNBD, m.GammaGamma = &bg, &gg
	return m
}

// ScoreOf scores one customer against a learnt model.
func (m Model) ScoreOf(c Customer, asOf time.Time) Score {
	in, margin := c.window(asOf)
	rfm := m.RFM.score(in)
	s := Score{CustomerID: c.ID, AsOf: asOf.Format("2006-01-02"), Version: m.Version,
		R: rfm.R, F: rfm.F, M: rfm.M, Margin: rfm.Margin, Segment: rfm.Segment, NoScore: rfm.NoScore,
		Recency: in.Recency, Tickets12M: in.Tickets, Revenue12M: in.Revenue, Margin12M: margin,
		Affinity: AffinityOf(c.Spend, in.Tickets)}
	h, ok := c.history(asOf)
	switch {
	case m.BGNBD == nil:
		s.NoPredict = m.NoFit
	case !ok:
		s.NoPredict = "no purchase before the as-of date"
	default:
		p := Predict(*m.BGNBD, *m.GammaGamma, h)
		if p.Reason != "" {
			s.NoPredict = p.Reason
		} else {
			s.Prediction = &p
		}
	}
	return s
}
