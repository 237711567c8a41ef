package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/nightly"
)

// WithRuns lets the API queue analytics runs on demand.
func (s *Server) WithRuns(runs Sender) *Server {
	s.runs = runs
	return s
}

type startRunJSON struct {
	AsOf string `json:"as_of"`
}

type queuedRunJSON struct {
	AsOf   string `json:"as_of"`
	Status string `json:"status"`
}

// startRun queues the merchant's analytics run for a date (a backfill, or a
// re-run): the worker runs it like the nightly schedule does, once per date.
func (s *Server) startRun(ctx context.Context, r *request) (response, error) {
	var in startRunJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	day, err := nightly.ParseAsOf(in.AsOf)
	if err != nil {
		return response{}, err
	}
	// Only complete days: a run is done once per date, so a run of today
	// would leave out the rest of the day (and block tonight's run).
	if today := r.now.In(r.merchant.Location()); !day.Before(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)) {
		return response{}, apperr.Field("/as_of", "must be a day before today in the merchant's time zone")
	}
	if s.runs == nil {
		return response{}, apperr.New(apperr.Internal, "the analytics queue is not configured")
	}
	body, err := json.Marshal(nightly.Job{MerchantID: r.merchant.ID, AsOf: in.AsOf})
	if err != nil {
		return response{}, err
	}
	if err := s.runs.Send(ctx, [][]byte{body}); err != nil {
		return response{}, err
	}
	resp := jsonResponse(http.StatusAccepted, queuedRunJSON{AsOf: in.AsOf, Status: "queued"})
	resp.headers["Location"] = "/v1/analytics/runs/" + in.AsOf
	return resp, nil
}

type cutsJSON struct {
	Recency   []int64 `json:"recency_days"`
	Frequency []int64 `json:"frequency"`
	Monetary  []int64 `json:"monetary"`
	Margin    []int64 `json:"margin"`
}

type bgnbdJSON struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
}

type gammaGammaJSON struct {
	P     float64 `json:"p"`
	Q     float64 `json:"q"`
	Gamma float64 `json:"gamma"`
}

type runJSON struct {
	AsOf       string          `json:"as_of"`
	Phase      string          `json:"phase"`
	Customers  int             `json:"customers"`
	Scored     int             `json:"scored"`
	Version    string          `json:"version"`
	Cuts       cutsJSON        `json:"rfm_cut_points"`
	BGNBD      *bgnbdJSON      `json:"bgnbd"`
	GammaGamma *gammaGammaJSON `json:"gamma_gamma"`
	NoFit      string          `json:"no_fit"`
	NoRFM      string          `json:"rfm_no_score"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

func (s *Server) getRun(ctx context.Context, r *request) (response, error) {
	asOf := r.path["asOf"]
	if _, err := nightly.ParseAsOf(asOf); err != nil {
		return response{}, apperr.New(apperr.NotFound, "no analytics run for %q", asOf)
	}
	run, _, err := s.store.Run(ctx, r.merchant.ID, asOf)
	if err != nil {
		return response{}, err
	}
	m := run.Model
	days := make([]int64, len(m.RFM.Recency)) // stored negated: more recent is higher
	for i, c := range m.RFM.Recency {
		days[len(days)-1-i] = -c
	}
	out := runJSON{AsOf: run.AsOf, Phase: run.Phase, Customers: run.Customers, Scored: run.Scored,
		Version: m.Version, Cuts: cutsJSON{Recency: days, Frequency: m.RFM.Frequency, Monetary: m.RFM.Monetary, Margin: m.RFM.MarginCuts},
		NoFit: m.NoFit, NoRFM: m.RFM.NoScore, StartedAt: run.StartedAt, FinishedAt: run.FinishedAt}
	if b := m.BGNBD; b != nil {
		j := bgnbdJSON(*b)
		out.BGNBD = &j
	}
	if g := m.GammaGamma; g != nil {
		j := gammaGammaJSON(*g)
		out.GammaGamma = &j
	}
	return jsonResponse(http.StatusOK, out), nil
}

type customerAnalyticsJSON struct {
	CustomerID string `json:"customer_id"`
	AsOf       string `json:"as_of"`
	Version    string `json:"version"`
	RFM        struct {
		R       int     `json:"r"`
		F       int     `json:"f"`
		M       int     `json:"m"`
		Margin  int     `json:"margin"`
		Segment *string `json:"segment"`
		NoScore string  `json:"no_score"`
	} `json:"rfm"`
	RecencyDays int64 `json:"recency_days"`
	Tickets12M  int64 `json:"tickets_12m"`
	Revenue12M  int64 `json:"revenue_12m"`
	Affinity    struct {
		Primary          string `json:"primary"`
		PrimaryShareBP   int64  `json:"primary_share_bp"`
		Secondary        string `json:"secondary"`
		SecondaryShareBP int64  `json:"secondary_share_bp"`
		Reason           string `json:"reason"`
	} `json:"affinity"`
	Prediction *struct {
		PAlive         float64 `json:"p_alive"`
		Expected90Days float64 `json:"expected_tickets_90d"`
		Value12Months  int64   `json:"value_12m"`
	} `json:"prediction"`
	NoPrediction string `json:"no_prediction"`
	Currency     string `json:"currency"`
}

func (s *Server) getCustomerAnalytics(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	if _, err := s.store.Customer(ctx, r.merchant.ID, cid); err != nil {
		return response{}, err
	}
	sc, err := s.store.Score(ctx, r.merchant.ID, cid)
	if err != nil {
		return response{}, err
	}
	out := customerAnalyticsJSON{CustomerID: cid, AsOf: sc.AsOf, Version: sc.Version, RecencyDays: sc.Recency,
		Tickets12M: sc.Tickets12M, Revenue12M: sc.Revenue12M, NoPrediction: sc.NoPredict, Currency: r.merchant.Currency}
	out.RFM.R, out.RFM.F, out.RFM.M, out.RFM.Margin, out.RFM.NoScore = sc.R, sc.F, sc.M, sc.Margin, sc.NoScore
	if sc.NoScore == "" {
		out.RFM.Segment = &sc.Segment
	}
	a := sc.Affinity
	out.Affinity.Primary, out.Affinity.PrimaryShareBP, out.Affinity.Secondary, out.Affinity.SecondaryShareBP, out.Affinity.Reason =
		a.Primary, a.PrimaryShareBP, a.Secondary, a.SecondaryShareBP, a.Reason
	if p := sc.Prediction; p != nil {
		out.Prediction = &struct {
			PAlive         float64 `json:"p_alive"`
			Expected90Days float64 `json:"expected_tickets_90d"`
			Value12Months  int64   `json:"value_12m"`
		}{p.PAlive, p.Expected90Days, p.Value12Months}
	}
	return jsonResponse(http.StatusOK, out), nil
}
