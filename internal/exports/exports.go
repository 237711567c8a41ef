// Package exports writes CSV files of a merchant's data — the customer base
// (or a filtered part of it) and the points ledger — into the exports
// bucket as jobs: rows stream from the table into a multipart upload in
// parts of a few megabytes, so memory stays constant whatever the size, and
// each uploaded part is a checkpoint a later slice resumes from.
package exports

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/multipart"
	"github.com/regulars/regulars/internal/tabular"
	"github.com/regulars/regulars/internal/tenant"
)

// Bucket is where files are uploaded.
type Bucket interface {
	StartUpload(ctx context.Context, key, contentType, filename string) (string, error)
	UploadPart(ctx context.Context, key, uploadID string, n int32, body []byte) (multipart.Part, error)
	CompleteUpload(ctx context.Context, key, uploadID string, parts []multipart.Part) error
}

// Store is what exports read.
type Store interface {
	Merchant(ctx context.Context, mid string) (tenant.Merchant, error)
	ListCustomers(ctx context.Context, mid string, q crm.Query) (crm.Page, error)
	Movements(ctx context.Context, mid string, from, to time.Time, fn func(loyalty.Entry) bool) error
}

// CustomerParams is what a customer export asks for.
type CustomerParams struct {
	Columns crm.Columns `json:"columns"`
	BOM     bool        `json:"bom"`
	// Query is the customer list's filters (its Now decides "active").
	Query crm.Query `json:"query"`
}

// LedgerParams is what a ledger export asks for.
type LedgerParams struct {
	BOM    bool                   `json:"bom"`
	Filter loyalty.MovementFilter `json:"filter"`
}

// Runner runs both kinds of export.
type Runner struct {
	store  Store
	bucket Bucket
	now    func() time.Time // the clock a slice's deadline is checked against
	// PartSize is the size at which a part is uploaded; S3 needs at least
	// multipart.MinPartSize for every part but the last.
	PartSize int
	// PageSize is how many customers one list request asks for.
	PageSize int
}

// NewRunner returns an export runner that reads the time from now.
func NewRunner(store Store, bucket Bucket, now func() time.Time) *Runner {
	return &Runner{store: store, bucket: bucket, now: now, PartSize: multipart.MinPartSize, PageSize: crm.MaxLimit}
}

// ContentType is the media type of every export.
const ContentType = "text/csv; charset=utf-8"

// cursor is an export's position: its upload, and where the rows of its
// uploaded parts end.
type cursor struct {
	Upload multipart.Upload `json:"upload"`
	// After is where the next part starts: the customer list's cursor, or
	// the ID and time of the last ledger entry written.
	After   string    `json:"after"`
	AfterAt time.Time `json:"after_at"`
	Rows    int64     `json:"rows"` // data rows in the uploaded parts
	Done    bool      `json:"done"` // nothing left to read
}

// Run does one slice of an export job.
func (r *Runner) Run(ctx context.Context, s jobs.Slice) (bool, error) {
	j := s.Job
	m, err := r.store.Merchant(ctx, j.MerchantID)
	if err != nil {
		return false, err
	}
	var c cursor
	if j.Cursor != nil {
		if err := unmarshal(j.Cursor, &c); err != nil {
			return false, err
		}
	}
	var bom bool
	var header []string
	var name string
	switch j.Kind {
	case jobs.CustomerExport:
		var p CustomerParams
		if err := unmarshal(j.Params, &p); err != nil {
			return false, err
		}
		bom, header, name = p.BOM, crm.CSVHeader(p.Columns), "customers"
	case jobs.LedgerExport:
		var p LedgerParams
		if err := unmarshal(j.Params, &p); err != nil {
			return false, err
		}
		bom, header, name = p.BOM, LedgerHeader, "points-ledger"
	default:
		return false, fmt.Errorf("exports cannot run a %s job", j.Kind)
	}
	if c.Upload.ID == "" {
		j.Result.Filename = fmt.Sprintf("%s-%s.csv", name, j.CreatedAt.In(m.Location()).Format("2006-01-02"))
		c.Upload.Key = fmt.Sprintf("exports/%s/%s/%s", m.ID, j.ID, j.Result.Filename)
		if c.Upload.ID, err = r.bucket.StartUpload(ctx, c.Upload.Key, ContentType, j.Result.Filename); err != nil {
			return false, err
		}
		if err := r.checkpoint(ctx, s, c); err != nil {
			return false, err
		}
	}
	w := &partWriter{runner: r, slice: s, cursor: c,
		part: multipart.NewCSVPart(r.PartSize, tabular.WriterOptions{BOM: bom && len(c.Upload.Parts) == 0})}
	if len(c.Upload.Parts) == 0 {
		if err := w.part.Write(header); err != nil {
			return false, err
		}
	}
	if !c.Done {
		var paused bool
		if j.Kind == jobs.CustomerExport {
			paused, err = r.customers(ctx, w, m)
		} else {
			paused, err = r.ledger(ctx, w, m)
		}
		if err != nil || paused {
			return false, err
		}
	}
	// The last part may be smaller than the others (or hold the header alone).
	w.cursor.Done = true
	if err := w.upload(ctx); err != nil {
		return false, err
	}
	c = w.cursor
	if err := r.bucket.CompleteUpload(ctx, c.Upload.Key, c.Upload.ID, c.Upload.Parts); err != nil {
		return false, err
	}
	j.Result.Object, j.Result.Bytes = c.Upload.Key, c.Upload.Bytes
	j.Progress.Processed, j.Progress.Written = c.Rows, c.Rows
	return true, nil
}

// customers writes the customer rows from the cursor on; it reports true
// when it paused at a part boundary because the slice ran out of time.
func (r *Runner) customers(ctx context.Context, w *partWriter, m tenant.Merchant) (bool, error) {
	var p CustomerParams
	if err := unmarshal(w.slice.Job.Params, &p); err != nil {
		return false, err
	}
	q := p.Query
	q.Limit, q.Cursor = r.PageSize, w.cursor.After
	for {
		page, err := r.store.ListCustomers(ctx, m.ID, q)
		if err != nil {
			return false, err
		}
		for _, c := range page.Customers {
			if err := w.row(crm.CSVRecord(p.Columns, c, m.Currency, q.Now)); err != nil {
				return false, err
			}
		}
		if page.NextCursor == "" {
			return false, nil
		}
		q.Cursor = page.NextCursor
		if w.part.Full() {
			w.cursor.After = page.NextCursor
			if err := w.upload(ctx); err != nil {
				return false, err
			}
			if w.slice.Expired(r.now()) {
				return true, nil
			}
		}
	}
}

// LedgerHeader is the header row of a ledger export. Points are signed;
// created_at is when the entry was posted (the rows' order), occurred_at when
// what it records happened.
var LedgerHeader = []string{"entry_id", "created_at", "customer_id", "kind", "points", "balance_after", "reason", "note",
	"actor", "source_type", "source_id", "location", "voids", "voided_by", "occurred_at"}

// ledger writes the ledger rows from the cursor on, oldest first.
func (r *Runner) ledger(ctx context.Context, w *partWriter, m tenant.Merchant) (bool, error) {
	var p LedgerParams
	if err := unmarshal(w.slice.Job.Params, &p); err != nil {
		return false, err
	}
	from, skipping := p.Filter.From, w.cursor.After != ""
	if skipping {
		from = w.cursor.AfterAt // entries of that instant up to After were written
	}
	var paused bool
	var ferr error
	err := r.store.Movements(ctx, m.ID, from, p.Filter.To, func(e loyalty.Entry) bool {
		if skipping && e.CreatedAt.Equal(w.cursor.AfterAt) && e.ID <= w.cursor.After {
			return true // written before the checkpoint
		}
		skipping = false
		if !p.Filter.Match(e) {
			return true
		}
		if ferr = w.row(LedgerRecord(e)); ferr != nil {
			return false
		}
		if w.part.Full() {
			w.cursor.After, w.cursor.AfterAt = e.ID, e.CreatedAt
			if ferr = w.upload(ctx); ferr != nil {
				return false
			}
			paused = w.slice.Expired(r.now())
			return !paused
		}
		return true
	})
	if err == nil {
		err = ferr
	}
	return paused, err
}

// LedgerRecord is one entry's row of a ledger export.
func LedgerRecord(e loyalty.Entry) []string {
	return []string{e.ID, e.CreatedAt.UTC().Format(time.RFC3339Nano), e.CustomerID, string(e.Kind), strconv.FormatInt(e.Points, 10),
		strconv.FormatInt(e.BalanceAfter, 10), e.Reason, e.Note, e.Actor, e.Source.Type, e.Source.ID, e.Location, e.Voids, e.VoidedBy,
		e.OccurredAt.UTC().Format(time.RFC3339Nano)}
}

// partWriter writes rows into the export's next part.
type partWriter struct {
	runner  *Runner
	slice   jobs.Slice
	cursor  cursor
	part    *multipart.CSVPart
	pending int64 // rows in the part
}

func (w *partWriter) row(rec []string) error {
	w.pending++
	return w.part.Write(rec)
}

// upload sends the part and records it, with the cursor, in the job: the
// checkpoint a later slice resumes from.
func (w *partWriter) upload(ctx context.Context) error {
	if err := w.part.Send(ctx, &w.cursor.Upload, w.runner.bucket); err != nil {
		return err
	}
	w.cursor.Rows += w.pending
	w.pending = 0
	return w.runner.checkpoint(ctx, w.slice, w.cursor)
}

func (r *Runner) checkpoint(ctx context.Context, s jobs.Slice, c cursor) error {
	b, err := marshal(c)
	if err != nil {
		return err
	}
	s.Job.Cursor = b
	s.Job.Progress.Processed, s.Job.Progress.Written = c.Rows, c.Rows
	return s.Save(ctx)
}

func marshal(v any) ([]byte, error) { return json.Marshal(v) }

// unmarshal reads a job's parameters or cursor; what this code cannot read
// fails the job.
func unmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return apperr.New(apperr.Invalid, "the export's parameters are unreadable: %v", err)
	}
	return nil
}
