package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/checked"
	"github.com/regulars/regulars/internal/cursor"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

// maxReportEntries bounds the movements one report reads for its summary;
// beyond, the summary says it is truncated (the export path handles more).
const maxReportEntries = 100_000

// movementFilter is the report's filter and its page.
type movementFilter struct {
	loyalty.MovementFilter
	listPage
	afterEntry string // the cursor opened: the last entry ID returned
}

func parseMovementFilter(q map[string]string, now time.Time) (movementFilter, error) {
	page, err := parsePage(q, "from", "to", "customer_id", "min", "max", "kind", "reason", "location")
	var fe apperr.Fields
	fe.Merge("", err)
	f := movementFilter{listPage: page, MovementFilter: loyalty.MovementFilter{To: now, From: now.AddDate(0, 0, -30), Customer: q["customer_id"],
		Reason: q["reason"], Location: q["location"], Kind: loyalty.Kind(q["kind"])}}
	day := func(name string, v string, end bool) time.Time {
		t, ok := parseInstant(v, end)
		if !ok {
			fe.Add("?"+name, "must be a date YYYY-MM-DD or an RFC 3339 time")
		}
		return t
	}
	if v, ok := q["from"]; ok {
		f.From = day("from", v, false)
	}
	if v, ok := q["to"]; ok {
		f.To = day("to", v, true)
	}
	if f.To.Before(f.From) {
		fe.Add("?to", "must not be before from")
	}
	for name, dst := range map[string]**int64{"min": &f.Min, "max": &f.Max} {
		if v, ok := q[name]; ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				fe.Add("?"+name, "must be an integer number of points (negative for debits)")
			}
			*dst = &n
		}
	}
	if f.Kind != "" && !slices.Contains(loyalty.Kinds, f.Kind) {
		fe.Add("?kind", "is not an entry kind")
	}
	if f.Customer != "" && !ids.Valid(f.Customer) {
		fe.Add("?customer_id", "must be a customer ID")
	}
	return f, fe.Err()
}

// reportList is the list a report's cursor continues: the merchant's
// movements with exactly the filters given (the page's own parameters
// aside).
func reportList(mid string, q map[string]string) cursor.List {
	filters := make(map[string]string, len(q))
	for k, v := range q {
		if k != "cursor" && k != "limit" {
			filters[k] = v
		}
	}
	return cursor.Of(mid, "points-report", filters)
}

// parseInstant reads a bound of a period: an RFC 3339 time, or a date
// YYYY-MM-DD in UTC from its first instant (or, for an end, up to its last).
func parseInstant(v string, end bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if end {
			return t.Add(24*time.Hour - time.Microsecond), true
		}
		return t, true
	}
	return time.Time{}, false
}

type reportSummaryJSON struct {
	Operations    int64 `json:"operations"`
	PointsTotal   int64 `json:"points_total"`
	AveragePoints int64 `json:"average_points"` // rounded toward zero
	Truncated     bool  `json:"truncated"`
}

type reportTotalsJSON struct {
	OutstandingBalance int64  `json:"outstanding_balance"`
	Liability          int64  `json:"liability"` // minor units at the redemption rate
	Currency           string `json:"currency"`
	OperationsAllTime  int64  `json:"operations_all_time"`
}

type reportJSON struct {
	From       time.Time         `json:"from"`
	To         time.Time         `json:"to"`
	Data       []entryJSON       `json:"data"`
	NextCursor *string           `json:"next_cursor"`
	Summary    reportSummaryJSON `json:"summary"`
	Totals     reportTotalsJSON  `json:"totals"`
}

// pointsReport is the points report: movements filtered by date, customer,
// value, kind, reason and location, their count and average, and the
// outstanding balance with its value as a liability.
func (s *Server) pointsReport(ctx context.Context, r *request) (response, error) {
	f, err := parseMovementFilter(r.query, r.now)
	if err != nil {
		return response{}, err
	}
	list := reportList(r.merchant.ID, r.query)
	if f.cursor != "" { // empty: the first page
		b, ok := s.cursors.Open(f.cursor, list)
		if !ok || !ids.Valid(string(b)) {
			return response{}, apperr.Field("?cursor", "is not a cursor of this report with these filters; start again without it")
		}
		f.afterEntry = string(b)
	}
	out := reportJSON{From: f.From.UTC(), To: f.To.UTC(), Data: []entryJSON{}}
	passedCursor := f.afterEntry == ""
	var read int
	var sumErr error
	err = s.store.Movements(ctx, r.merchant.ID, f.From, f.To, func(e loyalty.Entry) bool {
		if read++; read > maxReportEntries {
			out.Summary.Truncated = true
			return false
		}
		if !f.Match(e) {
			return true
		}
		out.Summary.Operations++
		if out.Summary.PointsTotal, sumErr = checked.Add(out.Summary.PointsTotal, e.Points); sumErr != nil {
			return false
		}
		switch {
		case !passedCursor:
			passedCursor = e.ID == f.afterEntry
		case len(out.Data) < f.limit:
			out.Data = append(out.Data, entryOf(e))
		case out.NextCursor == nil:
			c := s.cursors.Seal(list, []byte(out.Data[len(out.Data)-1].ID))
			out.NextCursor = &c
		}
		return true
	})
	if err == nil {
		err = sumErr
	}
	if err != nil {
		return response{}, err
	}
	if out.Summary.Operations > 0 {
		out.Summary.AveragePoints = out.Summary.PointsTotal / out.Summary.Operations
	}
	outstanding, ops, err := s.store.Outstanding(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	pv, err := s.store.Program(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	liability, err := pv.Program.Redemption.Value(max(outstanding, 0))
	if err != nil {
		return response{}, err
	}
	out.Totals = reportTotalsJSON{OutstandingBalance: outstanding, Liability: liability,
		Currency: r.merchant.Currency, OperationsAllTime: ops}
	return jsonResponse(http.StatusOK, out), nil
}
