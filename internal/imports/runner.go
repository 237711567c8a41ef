package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/multipart"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/tabular"
)

// Store is the customer base and the import's row claims.
type Store interface {
	Customer(ctx context.Context, mid, cid string) (crm.Customer, error)
	CustomerByUnique(ctx context.Context, mid string, u crm.Unique) (crm.Customer, error)
	CreateCustomer(ctx context.Context, c crm.Customer) error
	UpdateCustomer(ctx context.Context, mid, cid string, fn func(crm.Customer) (crm.Customer, error)) (crm.Customer, error)
	RowClaims(ctx context.Context, mid, job string, us []crm.Unique) ([]*RowClaim, error)
	ClaimRow(ctx context.Context, mid, job string, us []crm.Unique, c RowClaim, expires time.Time) error
	ReleaseRow(ctx context.Context, mid, job string, us []crm.Unique, row int) error
}

// Points opens balances.
type Points interface {
	OpenBalance(ctx context.Context, mid, cid string, points int64, src loyalty.Source, actor string) (points.Result, error)
	AwardSignup(ctx context.Context, c crm.Customer, path loyalty.EnrolmentPath, actor string) (points.Result, error)
}

// Bucket holds the uploaded file and the report.
type Bucket interface {
	Size(ctx context.Context, key string) (int64, error)
	Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error)
	StartUpload(ctx context.Context, key, contentType, filename string) (string, error)
	UploadPart(ctx context.Context, key, uploadID string, n int32, body []byte) (multipart.Part, error)
	CompleteUpload(ctx context.Context, key, uploadID string, parts []multipart.Part) error
}

// Outcome is what became of a row.
type Outcome string

// Outcomes.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged" // the customer already had every value of the row
	Skipped   Outcome = "skipped"   // the customer exists and the import skips existing ones
	Rejected  Outcome = "rejected"  // nothing was written
)

// RowClaim is a row's hold, for one import, on each of its identifiers: a
// later row of the same import with one of them is a duplicate of Row, and
// Row processed again (after a crash) keeps its planned outcome and
// customer instead of finding the customer it created itself.
type RowClaim struct {
	Row        int
	Outcome    Outcome
	CustomerID string
	Changes    []crm.ColumnChange // what an update changes, for the report
}

// ReportHeader is the header row of an import's report. A rejected row has
// one line per problem, an updated row one line per column it changed
// (field the column, reason "old" → "new").
var ReportHeader = []string{"row", "outcome", "customer_id", "field", "reason"}

// ClaimTTL is how long row claims are kept: as long as the job's record.
const ClaimTTL = 30 * 24 * time.Hour

// Runner runs import jobs.
type Runner struct {
	store  Store
	points Points
	bucket Bucket
	now    func() time.Time
	log    *slog.Logger
	// PartSize is the report size at which a part is uploaded (S3's minimum
	// for every part but the last).
	PartSize int
	// ProgressEvery is how often the job's progress is saved between
	// checkpoints.
	ProgressEvery time.Duration
	// Limits bound the rows read.
	Limits tabular.Limits
	// Concurrency is how many rows are read and processed at once (a
	// window); their outcome is that of processing them one after another.
	// A slice stops between windows.
	Concurrency int
}

// DefaultConcurrency is the runner's Concurrency: as many rows at once as
// the SDK's HTTP client keeps idle connections to one host.
const DefaultConcurrency = 10

// NewRunner returns an import runner.
func NewRunner(store Store, pts Points, bucket Bucket, now func() time.Time, log *slog.Logger) *Runner {
	return &Runner{store: store, points: pts, bucket: bucket, now: now, log: log, PartSize: multipart.MinPartSize, ProgressEvery: 5 * time.Second,
		Concurrency: DefaultConcurrency}
}

// cursor is an import's checkpoint: every row before At has its report
// lines in the report's uploaded parts or in the Pending object.
type cursor struct {
	At      tabular.Position `json:"at"`
	Header  []string         `json:"header,omitempty"` // the header row, once read
	Report  multipart.Upload `json:"report"`
	Pending string           `json:"pending,omitempty"` // key of the report lines after the last part, saved by a paused slice
	Counts  jobs.Progress    `json:"counts"`
	Size    int64            `json:"size,omitempty"` // of a CSV file: its progress is the bytes read
	Done    bool             `json:"done"`           // every row is reported; the report only needs completing
}

// progress is the job's progress at the cursor.
func (c cursor) progress() jobs.Progress {
	p := c.Counts
	if c.Size > 0 {
		pct := min(c.At.Offset*100/c.Size, 100)
		p.Percent = &pct
	}
	return p
}

// Run does one slice of an import job.
func (r *Runner) Run(ctx context.Context, s jobs.Slice) (bool, error) {
	j := s.Job
	if j.Kind != jobs.CustomerImport {
		return false, fmt.Errorf("imports cannot run a %s job", j.Kind)
	}
	var p Params
	if err := unmarshal(j.Params, &p); err != nil {
		return false, err
	}
	var c cursor
	if j.Cursor != nil {
		if err := unmarshal(j.Cursor, &c); err != nil {
			return false, err
		}
	}
	if c.Report.ID == "" {
		c.Report.Key = ReportKey(j.MerchantID, j.ID)
		id, err := r.bucket.StartUpload(ctx, c.Report.Key, "text/csv; charset=utf-8", "import-report-"+j.ID+".csv")
		if err != nil {
			return false, err
		}
		c.Report.ID = id
		if err := checkpoint(ctx, s, c); err != nil {
			return false, err
		}
	}
	w := &report{runner: r, slice: s, cursor: c, part: multipart.NewCSVPart(r.PartSize, tabular.WriterOptions{})}
	switch {
	case c.Pending != "":
		if err := w.restore(ctx); err != nil {
			return false, err
		}
	case len(c.Report.Parts) == 0 && c.At == (tabular.Position{}):
		if err := w.part.Write(ReportHeader); err != nil {
			return false, err
		}
	}
	if !c.Done {
		paused, err := r.rows(ctx, w, p)
		if err != nil || paused {
			return false, err
		}
		w.cursor.Done = true
		if err := w.upload(ctx); err != nil {
			return false, err
		}
	}
	c = w.cursor
	if err := r.bucket.CompleteUpload(ctx, c.Report.Key, c.Report.ID, c.Report.Parts); err != nil {
		return false, err
	}
	j.Result.Report, j.Progress = c.Report.Key, c.progress()
	return true, nil
}

// rows processes the file's rows from the cursor on, a window of
// r.Concurrency rows at a time; it reports true when it paused because the
// slice ran out of time.
func (r *Runner) rows(ctx context.Context, w *report, p Params) (bool, error) {
	j := w.slice.Job
	rd, size, closeFile, err := r.open(ctx, j, p, w.cursor.At)
	if err != nil {
		return false, err
	}
	if p.Format == CSV {
		w.cursor.Size = size
	}
	defer closeFile()
	defer rd.Close()
	var layout crm.CSVLayout
	if w.cursor.Header != nil {
		if layout, err = crm.NewCSVLayout(w.cursor.Header, p.OpeningBalance, rd.Dates().Date); err != nil {
			return false, err
		}
	}
	saved := r.now()
	for {
		rows, at, eof, err := r.read(ctx, rd, w, p, &layout)
		if err != nil {
			return false, err
		}
		lines, err := r.window(ctx, j, p, rows)
		if err != nil {
			return false, err
		}
		for _, l := range lines {
			w.add(l...)
		}
		w.cursor.At = at
		if eof {
			return false, nil
		}
		if w.part.Full() {
			if err := w.upload(ctx); err != nil {
				return false, err
			}
		}
		now := r.now()
		if w.slice.Expired(now) {
			return true, w.pause(ctx)
		}
		if now.Sub(saved) >= r.ProgressEvery {
			saved = now
			j.Progress = w.cursor.progress()
			if err := w.slice.Save(ctx); err != nil {
				return false, err
			}
		}
	}
}

// read reads the next window of data rows, the header row first when it
// was not read yet (it sets layout), and validates them. It returns where
// the next window starts, and whether the file ends there.
func (r *Runner) read(ctx context.Context, rd *tabular.Reader, w *report, p Params, layout *crm.CSVLayout) ([]prepared, tabular.Position, bool, error) {
	j := w.slice.Job
	var rows []prepared
	at := w.cursor.At
	for len(rows) < max(1, r.Concurrency) {
		row, err := rd.Read()
		var rowErr *tabular.RowError
		switch {
		case err == io.EOF:
			if w.cursor.Header == nil {
				return nil, at, false, apperr.New(apperr.Unprocessable, "the file is empty: it needs a header row and customer rows")
			}
			return rows, at, true, nil
		case errors.As(err, &rowErr) && w.cursor.Header == nil:
			return nil, at, false, apperr.New(apperr.Unprocessable, "the header row (row %d) cannot be read: %s", row.Number, rowReason(rowErr))
		case errors.As(err, &rowErr):
			rows = append(rows, prepared{number: row.Number, lines: []Line{{Row: row.Number, Outcome: Rejected, Reason: rowReason(rowErr)}}})
		case err != nil:
			return nil, at, false, fatal(err)
		case w.cursor.Header == nil:
			if *layout, err = crm.NewCSVLayout(row.Cells, p.OpeningBalance, rd.Dates().Date); err != nil {
				return nil, at, false, err
			}
			w.cursor.Header = row.Cells
			j.Result.IgnoredColumns = layout.Unknown
			r.log.InfoContext(ctx, "import header read", "merchant", j.MerchantID, "job", j.ID, "row", row.Number, "ignored_columns", layout.Unknown)
		default:
			pr, err := r.prepare(j, p, *layout, row)
			if err != nil {
				return nil, at, false, err
			}
			rows = append(rows, pr)
		}
		at = row.Next
	}
	return rows, at, false, nil
}

// open returns a reader of the uploaded file from at on.
// It also returns the file's size.
func (r *Runner) open(ctx context.Context, j *jobs.Job, p Params, at tabular.Position) (*tabular.Reader, int64, func(), error) {
	key := UploadKey(j.MerchantID, j.ID, p.Format)
	size, err := r.bucket.Size(ctx, key)
	if err != nil {
		return nil, 0, nil, err
	}
	if p.Format == CSV {
		if at.Offset >= size { // every row was read: a range from the end is not satisfiable
			return tabular.NewCSVReader(strings.NewReader(""), at, r.Limits), size, func() {}, nil
		}
		body, err := r.bucket.Open(ctx, key, at.Offset)
		if err != nil {
			return nil, 0, nil, err
		}
		return tabular.NewCSVReader(body, at, r.Limits), size, func() { body.Close() }, nil
	}
	// An XLSX file is a zip: it is read from a local copy, made once per slice.
	if size > p.MaxBytes() {
		return nil, 0, nil, apperr.New(apperr.Unprocessable, "the file is %d bytes; an XLSX import reads at most %d", size, p.MaxBytes())
	}
	body, err := r.bucket.Open(ctx, key, 0)
	if err != nil {
		return nil, 0, nil, err
	}
	defer body.Close()
	f, err := os.CreateTemp("", "import-*.xlsx")
	if err != nil {
		return nil, 0, nil, err
	}
	done := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, body)
	if err != nil {
		done()
		return nil, 0, nil, fmt.Errorf("download %s: %w", key, err)
	}
	rd, err := tabular.NewXLSXReader(f, n, at, r.Limits)
	if err != nil {
		done()
		return nil, 0, nil, fatal(err)
	}
	return rd, size, done, nil
}

// fatal turns a reader's error about the file into one that fails the job.
func fatal(err error) error {
	for _, bad := range []error{tabular.ErrInvalidXLSX, tabular.ErrSharedStringsTooLarge, tabular.ErrInvalidPosition} {
		if errors.Is(err, bad) {
			return apperr.New(apperr.Unprocessable, "the file cannot be read: %v", err)
		}
	}
	return err
}

// rowReason is the report's reason for a row the reader could not read.
func rowReason(e *tabular.RowError) string {
	if errors.Is(e.Err, tabular.ErrRowTooLong) {
		return "the row is too long to read (more than 64 KiB)"
	}
	return "the row cannot be read: " + e.Err.Error()
}

// Line is one line of the report.
type Line struct {
	Row        int
	Outcome    Outcome
	CustomerID string
	Field      string
	Reason     string
}

func (l Line) record() []string {
	return []string{strconv.Itoa(l.Row), string(l.Outcome), l.CustomerID, l.Field, l.Reason}
}

// report writes report lines into the report's next part.
type report struct {
	runner *Runner
	slice  jobs.Slice
	cursor cursor
	part   *multipart.CSVPart
}

// add writes a row's lines and counts the row.
func (w *report) add(lines ...Line) {
	for _, l := range lines {
		_ = w.part.Write(l.record()) // to memory: Send reports any error
	}
	w.cursor.Counts.Processed++
	if lines[0].Outcome == Rejected {
		w.cursor.Counts.Rejected++
	} else {
		w.cursor.Counts.Written++
	}
}

// upload sends the part and checkpoints.
func (w *report) upload(ctx context.Context) error {
	if err := w.part.Send(ctx, &w.cursor.Report, w.runner.bucket); err != nil {
		return err
	}
	w.cursor.Pending = ""
	return checkpoint(ctx, w.slice, w.cursor)
}

// pause saves the lines not yet in a part (too few for one) as an object of
// their own, which the next slice reads back, and checkpoints.
func (w *report) pause(ctx context.Context) error {
	unsent, err := w.part.Unsent()
	if err != nil {
		return err
	}
	w.cursor.Pending = ""
	if len(unsent) > 0 {
		j := w.slice.Job
		key := fmt.Sprintf("imports/%s/%s/pending-%d-%d.csv", j.MerchantID, j.ID, j.Slices, w.cursor.At.Row)
		pending := multipart.Upload{Key: key}
		id, err := w.runner.bucket.StartUpload(ctx, key, "text/csv; charset=utf-8", "")
		if err != nil {
			return err
		}
		pending.ID = id
		if err := pending.Add(ctx, w.runner.bucket, unsent); err != nil {
			return err
		}
		if err := w.runner.bucket.CompleteUpload(ctx, key, id, pending.Parts); err != nil {
			return err
		}
		w.cursor.Pending = key
	}
	return checkpoint(ctx, w.slice, w.cursor)
}

// restore reads back the lines a paused slice saved.
func (w *report) restore(ctx context.Context) error {
	body, err := w.runner.bucket.Open(ctx, w.cursor.Pending, 0)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := w.part.Restore(body); err != nil {
		return fmt.Errorf("read %s: %w", w.cursor.Pending, err)
	}
	return nil
}

// checkpoint records the cursor, and the progress it has reached, in the job.
func checkpoint(ctx context.Context, s jobs.Slice, c cursor) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	s.Job.Cursor, s.Job.Progress = b, c.progress()
	return s.Save(ctx)
}

// unmarshal reads a job's parameters or cursor; what this code cannot read
// fails the job.
func unmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return apperr.New(apperr.Invalid, "the import's parameters are unreadable: %v", err)
	}
	return nil
}
