// Package nightly runs the nightly analysis: a scheduled fan-out queues one
// job per merchant; a worker analyses one merchant as of a date in resumable
// phases (collect → score → housekeeping → done), recorded in a run item so
// that a run is idempotent per merchant and date and a restart after a
// failure writes exactly what one clean run writes.
package nightly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/purchase"
	"github.com/regulars/regulars/internal/tenant"
)

// Store is what the nightly run reads and writes.
type Store interface {
	points.GiftStore
	Merchant(ctx context.Context, mid string) (tenant.Merchant, error)
	MerchantIDs(ctx context.Context) ([]string, error)
	TicketDays(ctx context.Context, mid, cid string) ([]purchase.Day, error)
	Orders(ctx context.Context, mid, cid string) ([]purchase.Order, error)
	Run(ctx context.Context, mid, asOf string) (analytics.Run, int64, error)
	SaveRun(ctx context.Context, mid string, run analytics.Run, read int64) (int64, error)
	PutScores(ctx context.Context, mid string, scores []analytics.Score) error
	Refresh12Months(ctx context.Context, mid, cid string, tickets, revenue, margin int64) error
	CustomersWithExpiry(ctx context.Context, mid string, asOf time.Time) ([]string, error)
	Segments(ctx context.Context, mid string) ([]analytics.Segment, error)
	SegmentMemberships(ctx context.Context, mid, cid string) ([]string, error)
	MoveSegments(ctx context.Context, mid, cid string, entered, left []string, at time.Time) error
}

// Sender queues jobs.
type Sender interface {
	Send(ctx context.Context, bodies [][]byte) error
}

// Job asks for one merchant's run; an empty AsOf means yesterday in the
// merchant's time zone.
type Job struct {
	MerchantID string `json:"merchant_id"`
	AsOf       string `json:"as_of,omitempty"`
}

// FanOut queues a job per merchant (the scheduled function). Without a date,
// each job carries its merchant's yesterday, fixed now: a job that resumes
// after midnight still finishes the same date.
func FanOut(ctx context.Context, store Store, sender Sender, asOf string, now time.Time) (int, error) {
	mids, err := store.MerchantIDs(ctx)
	if err != nil {
		return 0, err
	}
	bodies := make([][]byte, len(mids))
	for i, mid := range mids {
		day := asOf
		if day == "" {
			m, err := store.Merchant(ctx, mid)
			if err != nil {
				return 0, err
			}
			day = now.In(m.Location()).AddDate(0, 0, -1).Format("2006-01-02")
		}
		if bodies[i], err = json.Marshal(Job{MerchantID: mid, AsOf: day}); err != nil {
			return 0, err
		}
	}
	return len(mids), sender.Send(ctx, bodies)
}

// Worker runs jobs.
type Worker struct {
	store  Store
	points *points.Service
	now    func() time.Time
	log    *slog.Logger
	// PageSize is the customers scored per step of the score phase.
	PageSize int
	// Readers is how many customers the collect and score phases handle
	// at once.
	Readers int
}

// NewWorker returns a worker.
func NewWorker(store Store, svc *points.Service, now func() time.Time, log *slog.Logger) *Worker {
	return &Worker{store: store, points: svc, now: now, log: log, PageSize: 100, Readers: 10}
}

// ErrPaused says a run stopped to resume in the next invocation (its
// function was running out of time); the job's message is retried.
var ErrPaused = errors.New("run paused before the function's deadline; it resumes from its cursor")

// pauseMargin is the time kept before the invocation's deadline.
const pauseMargin = 60 * time.Second

// ParseAsOf reads a YYYY-MM-DD date.
func ParseAsOf(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, apperr.Field("/as_of", "must be a date YYYY-MM-DD")
	}
	return t, nil
}

// Run analyses one merchant as of a date, resuming a run that stopped.
func (w *Worker) Run(ctx context.Context, job Job) (analytics.Run, error) {
	m, err := w.store.Merchant(ctx, job.MerchantID)
	if err != nil {
		return analytics.Run{}, err
	}
	loc := m.Location()
	if job.AsOf == "" {
		job.AsOf = w.now().In(loc).AddDate(0, 0, -1).Format("2006-01-02")
	}
	asOf, err := ParseAsOf(job.AsOf)
	if err != nil {
		return analytics.Run{}, err
	}
	run, version, err := w.store.Run(ctx, m.ID, job.AsOf)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		run = analytics.Run{MerchantID: m.ID, AsOf: job.AsOf, Phase: analytics.PhaseCollect, StartedAt: w.now().UTC()}
		if version, err = w.store.SaveRun(ctx, m.ID, run, 0); err != nil {
			return analytics.Run{}, err
		}
	case err != nil:
		return analytics.Run{}, err
	}
	for run.Phase != analytics.PhaseDone {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < pauseMargin {
			return run, ErrPaused
		}
		switch run.Phase {
		case analytics.PhaseCollect:
			err = w.collect(ctx, &run, asOf, loc)
		case analytics.PhaseScore:
			err = w.scorePage(ctx, &run, asOf, loc)
		case analytics.PhaseHousekeeping:
			err = w.housekeeping(ctx, &run, asOf, loc)
		default:
			return run, fmt.Errorf("run %s: unknown phase %q", run.AsOf, run.Phase)
		}
		if err != nil {
			return run, err
		}
		if version, err = w.store.SaveRun(ctx, m.ID, run, version); err != nil {
			return run, err
		}
	}
	w.log.InfoContext(ctx, "analytics run", "merchant", m.ID, "as_of", run.AsOf, "customers", run.Customers, "scored", run.Scored, "no_fit", run.Model.NoFit)
	return run, nil
}

// customers pages through the merchant's customers in a stable order
// (enrolment), from a cursor.
func (w *Worker) customers(ctx context.Context, mid, cursor string) (crm.Page, error) {
	return w.store.ListCustomers(ctx, mid, crm.Query{Order: crm.OrderEnrolled, Limit: w.PageSize, Cursor: cursor, Now: w.now()})
}

// dataOf reads what the analysis needs of one customer.
func (w *Worker) dataOf(ctx context.Context, mid, cid string, asOf time.Time, loc *time.Location) (analytics.Customer, error) {
	days, err := w.store.TicketDays(ctx, mid, cid)
	if err != nil {
		return analytics.Customer{}, err
	}
	orders, err := w.store.Orders(ctx, mid, cid)
	if err != nil {
		return analytics.Customer{}, err
	}
	c := analytics.Customer{ID: cid, Spend: map[string]int64{}}
	for _, d := range days {
		date, err := time.Parse("2006-01-02", d.Date)
		if err != nil {
			return analytics.Customer{}, fmt.Errorf("ticket day %q: %w", d.Date, err)
		}
		c.Days = append(c.Days, analytics.DayFigures{Date: date, Revenue: d.Revenue, Margin: d.Margin})
	}
	from := asOf.AddDate(-1, 0, 0)
	for _, o := range orders {
		at := o.At().In(loc) // the merchant's local day, as for tickets
		day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		if !day.After(from) || day.After(asOf) {
			continue
		}
		for cat, s := range o.SpendByCategory() {
			c.Spend[cat] += s
		}
		if cost, _ := o.Cost(); cost > 0 {
			c.Margin = true
		}
	}
	return c, nil
}

// collect reads every customer, w.Readers at a time (in the list's order,
// so that the model does not depend on which read ended first), and learns
// the model.
func (w *Worker) collect(ctx context.Context, run *analytics.Run, asOf time.Time, loc *time.Location) error {
	var all []analytics.Customer
	cursor := ""
	for {
		page, err := w.customers(ctx, run.MerchantID, cursor)
		if err != nil {
			return err
		}
		data := make([]analytics.Customer, len(page.Customers))
		var g errgroup.Group
		g.SetLimit(w.Readers)
		for i, c := range page.Customers {
			g.Go(func() (err error) {
				data[i], err = w.dataOf(ctx, run.MerchantID, c.ID, asOf, loc)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		all = append(all, data...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	run.Model = analytics.Learn(all, asOf)
	run.Customers, run.Phase, run.Cursor = len(all), analytics.PhaseScore, ""
	return nil
}

// scorePage scores one page of customers against the stored model, refreshes
// their 12-month figures and badges (w.Readers customers at a time: each
// writes only its own items), and moves the cursor.
func (w *Worker) scorePage(ctx context.Context, run *analytics.Run, asOf time.Time, loc *time.Location) error {
	page, err := w.customers(ctx, run.MerchantID, run.Cursor)
	if err != nil {
		return err
	}
	segments, err := w.store.Segments(ctx, run.MerchantID)
	if err != nil {
		return err
	}
	now := w.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	refresh := !asOf.Before(today.AddDate(0, 0, -1)) // a backfill leaves today's figures alone
	scores := make([]analytics.Score, len(page.Customers))
	var g errgroup.Group
	g.SetLimit(w.Readers)
	for i, c := range page.Customers {
		g.Go(func() error {
			data, err := w.dataOf(ctx, run.MerchantID, c.ID, asOf, loc)
			if err != nil {
				return err
			}
			s := run.Model.ScoreOf(data, asOf)
			scores[i] = s
			if refresh {
				// The profile's 12-month figures end today, not at as-of: purchases
				// since then stay counted.
				t, r, m := data.Figures12M(today)
				if err := w.store.Refresh12Months(ctx, run.MerchantID, c.ID, t, r, m); err != nil {
					return err
				}
			}
			acc, err := w.store.Account(ctx, run.MerchantID, c.ID) // after the refresh: what the segments and badges start from
			if err != nil {
				return err
			}
			if err := w.moveSegments(ctx, run.MerchantID, c, acc.Badges, s, segments, asOf); err != nil {
				return err
			}
			if err := w.points.RecomputeBadges(ctx, run.MerchantID, acc); err != nil && apperr.CodeOf(err) != apperr.NotFound {
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := w.store.PutScores(ctx, run.MerchantID, scores); err != nil {
		return err
	}
	run.Scored += len(scores)
	run.Cursor = page.NextCursor
	if page.NextCursor == "" {
		run.Phase = analytics.PhaseHousekeeping
	}
	return nil
}

// moveSegments recomputes a customer's dynamic segments (badges are the
// badges they hold) and records who entered and left (a segment deleted
// since is left).
func (w *Worker) moveSegments(ctx context.Context, mid string, c crm.Customer, badges []string, s analytics.Score, segments []analytics.Segment, asOf time.Time) error {
	f := FactsOf(c, badges, s, asOf)
	var in []string
	for _, seg := range segments {
		if seg.Rule.Matches(f) {
			in = append(in, seg.ID)
		}
	}
	was, err := w.store.SegmentMemberships(ctx, mid, c.ID)
	if err != nil {
		return err
	}
	ch := loyalty.Diff(was, in)
	return w.store.MoveSegments(ctx, mid, c.ID, ch.Gained, ch.Lost, time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 23, 59, 59, 0, time.UTC))
}

// FactsOf gathers what segment rules test about a customer as of a date.
func FactsOf(c crm.Customer, badges []string, s analytics.Score, asOf time.Time) analytics.Facts {
	end := asOf.Add(24*time.Hour - time.Nanosecond)
	days := int64(-1)
	if v := c.Metrics.LastVisitAt; v != nil && !v.After(end) {
		days = int64(end.Sub(*v) / (24 * time.Hour))
	}
	var month int64
	if b := c.Birthday; len(b) >= 7 {
		if m, err := strconv.Atoi(b[len(b)-5 : len(b)-3]); err == nil {
			month = int64(m)
		}
	}
	return analytics.Facts{
		Strings: map[string]string{"rfm_segment": s.Segment, "affinity": s.Affinity.Primary, "favorite_location": c.Metrics.FavoriteLocation(),
			"state": string(c.State), "type": string(c.Type)},
		Numbers: map[string]int64{"points_balance": c.Metrics.PointsBalance, "days_since_purchase": days, "birthday_month": month,
			"ltv": c.Metrics.Revenue, "tickets": c.Metrics.Tickets, "tickets_12m": s.Tickets12M, "revenue_12m": s.Revenue12M},
		Bools: map[string]bool{"active": days >= 0 && days <= 30},
		Lists: map[string][]string{"badge": badges, "tag": c.TagKeys()},
	}
}

// housekeeping posts the day's points expiry and periodic gifts, each
// idempotent for the date.
func (w *Worker) housekeeping(ctx context.Context, run *analytics.Run, asOf time.Time, loc *time.Location) error {
	end := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 23, 59, 59, 0, loc)
	due, err := w.store.CustomersWithExpiry(ctx, run.MerchantID, end)
	if err != nil {
		return err
	}
	for _, cid := range due {
		if _, err := w.points.Expire(ctx, run.MerchantID, cid, end); err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
	}
	if _, err := points.RunGifts(ctx, w.points, w.store, run.MerchantID, loc, end); err != nil {
		return err
	}
	now := w.now().UTC()
	run.Phase, run.FinishedAt = analytics.PhaseDone, &now
	return nil
}

// HandleSQS is the worker Lambda's handler: one job per message; a job that
// fails (or pauses) is retried from where it stopped.
func (w *Worker) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		var job Job
		err := json.Unmarshal([]byte(rec.Body), &job)
		if err == nil {
			_, err = w.Run(ctx, job)
		}
		if err != nil {
			w.log.ErrorContext(ctx, "analytics run stopped", "merchant", job.MerchantID, "as_of", job.AsOf, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// HandleSchedule is the scheduled function's handler: it queues a job for
// every merchant, each to run as of its own yesterday.
func HandleSchedule(store Store, sender Sender, log *slog.Logger) func(context.Context, events.EventBridgeEvent) error {
	return func(ctx context.Context, _ events.EventBridgeEvent) error {
		n, err := FanOut(ctx, store, sender, "", time.Now())
		if err != nil {
			log.ErrorContext(ctx, "nightly fan-out failed", "merchants", n, "err", err)
			return err
		}
		log.InfoContext(ctx, "nightly fan-out", "merchants", n)
		return nil
	}
}
