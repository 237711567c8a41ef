package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/exports"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/jobs"
)

// jobStore keeps jobs.
type jobStore interface {
	Job(ctx context.Context, mid, id string) (jobs.Job, error)
	SaveJob(ctx context.Context, j jobs.Job) (jobs.Job, error)
}

// fileStore signs the URLs through which merchants download what a job
// produced and upload what an import reads.
type fileStore interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, time.Time, error)
	PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (string, time.Time, error)
	Size(ctx context.Context, key string) (int64, error)
}

// DownloadTTL is how long a download URL works; a new one is signed at
// every GET of the job.
const DownloadTTL = 15 * time.Minute

// WithJobs lets the server queue jobs on the jobs queue and sign the URLs
// of their files.
func (s *Server) WithJobs(queue Sender, files fileStore) *Server {
	s.jobQueue, s.files = queue, files
	return s
}

type linkJSON struct {
	URL       string    `json:"url"`
	Method    string    `json:"method"`
	ExpiresAt time.Time `json:"expires_at"`
}

type jobJSON struct {
	ID         string        `json:"id"`
	Kind       jobs.Kind     `json:"kind"`
	State      jobs.State    `json:"state"`
	Progress   jobs.Progress `json:"progress"`
	Error      *string       `json:"error"`
	CreatedAt  time.Time     `json:"created_at"`
	StartedAt  *time.Time    `json:"started_at"`
	FinishedAt *time.Time    `json:"finished_at"`
	Filename   *string       `json:"filename,omitempty"`
	Bytes      *int64        `json:"bytes,omitempty"`
	Download   *linkJSON     `json:"download,omitempty"` // a succeeded export's file
	Upload     *linkJSON     `json:"upload,omitempty"`   // where an import's file goes, while it waits for it
	Report     *linkJSON     `json:"report,omitempty"`   // a finished import's per-row report
	// IgnoredColumns are the header cells of an import's file that name no
	// column it reads.
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
}

// jobOf renders a job with freshly signed links to its files.
func (s *Server) jobOf(ctx context.Context, j jobs.Job) (jobJSON, error) {
	out := jobJSON{ID: j.ID, Kind: j.Kind, State: j.State, Progress: j.Progress, CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt}
	if j.Error != "" {
		out.Error = &j.Error
	}
	if j.Result.Filename != "" && j.State == jobs.Succeeded {
		out.Filename, out.Bytes = &j.Result.Filename, &j.Result.Bytes
	}
	link := func(key string) (*linkJSON, error) {
		url, exp, err := s.files.PresignGet(ctx, key, DownloadTTL)
		if err != nil {
			return nil, err
		}
		return &linkJSON{URL: url, Method: http.MethodGet, ExpiresAt: exp}, nil
	}
	var err error
	switch {
	case j.State == jobs.Succeeded && j.Result.Object != "" && j.Kind != jobs.CustomerImport:
		out.Download, err = link(j.Result.Object)
	case j.State.Finished() && j.Result.Report != "":
		out.Report, err = link(j.Result.Report)
	case j.State == jobs.AwaitingUpload && j.Kind == jobs.CustomerImport:
		out.Upload, err = s.uploadLink(ctx, j)
	}
	if len(j.Result.IgnoredColumns) > 0 {
		out.IgnoredColumns = j.Result.IgnoredColumns
	}
	return out, err
}

func (s *Server) jobsConfigured() error {
	if s.jobQueue == nil || s.files == nil {
		return apperr.New(apperr.Internal, "the jobs queue or the exports bucket is not configured")
	}
	return nil
}

type exportRequestJSON struct {
	Type    string            `json:"type"`
	Columns string            `json:"columns"`
	Filters map[string]string `json:"filters"`
	BOM     bool              `json:"bom"`
}

// createExport queues a CSV export of the customer base (with the customer
// list's filters) or of the points ledger (with the report's filters).
func (s *Server) createExport(ctx context.Context, r *request) (response, error) {
	var in exportRequestJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	if err := s.jobsConfigured(); err != nil {
		return response{}, err
	}
	var (
		j   jobs.Job
		err error
	)
	for _, k := range []string{"limit", "cursor"} {
		if _, ok := in.Filters[k]; ok {
			return response{}, apperr.Field("/filters/"+k, "is a paging parameter, not a filter: an export has every match")
		}
	}
	switch in.Type {
	case "customers":
		cols := crm.Columns(in.Columns)
		switch cols {
		case "":
			cols = crm.ColumnsFull
		case crm.ColumnsFull, crm.ColumnsEmails:
		default:
			return response{}, apperr.Field("/columns", "must be full or emails")
		}
		q, perr := parseListQuery(in.Filters, r.now)
		if perr != nil {
			return response{}, underFilters(perr)
		}
		q = q.WithNationalPhone(in.Filters["q"], r.merchant.Country)
		if perr := s.knownSegment(ctx, r, q.Segment, "/filters/segment"); perr != nil {
			return response{}, perr
		}
		if _, asked := in.Filters["newsletter_consent"]; cols == crm.ColumnsEmails && !asked {
			consented := true // an e-mail list is for mailing: only those who consented, unless asked otherwise
			q.NewsletterConsent = &consented
		}
		j, err = jobs.New(r.merchant.ID, jobs.CustomerExport, exports.CustomerParams{Columns: cols, BOM: in.BOM, Query: q}, r.actor(), r.now)
	case "ledger":
		if in.Columns != "" {
			return response{}, apperr.Field("/columns", "applies to customer exports only")
		}
		f, perr := parseMovementFilter(in.Filters, r.now)
		if perr != nil {
			return response{}, underFilters(perr)
		}
		j, err = jobs.New(r.merchant.ID, jobs.LedgerExport, exports.LedgerParams{BOM: in.BOM, Filter: f.MovementFilter}, r.actor(), r.now)
	default:
		return response{}, apperr.Field("/type", "must be customers or ledger")
	}
	if err != nil {
		return response{}, err
	}
	if j, err = jobs.Enqueue(ctx, s.store, s.jobQueue, j); err != nil {
		return response{}, err
	}
	return s.jobResponse(ctx, http.StatusAccepted, j)
}

// underFilters moves the query-parameter paths of the list's and the
// report's parsers ("?tag") under the request's filters ("/filters/tag").
func underFilters(err error) error {
	e := apperr.As(err)
	if e == nil {
		return err
	}
	c := *e
	c.Fields = make([]apperr.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		c.Fields[i] = apperr.FieldError{Path: "/filters/" + apperr.PointerToken(strings.TrimPrefix(f.Path, "?")), Message: f.Message}
	}
	return &c
}

func (s *Server) jobResponse(ctx context.Context, status int, j jobs.Job) (response, error) {
	out, err := s.jobOf(ctx, j)
	if err != nil {
		return response{}, err
	}
	resp := jsonResponse(status, out)
	resp.headers["Location"] = "/v1/jobs/" + j.ID
	return resp, nil
}

// getJob answers a job's state and progress, with fresh links to its files.
func (s *Server) getJob(ctx context.Context, r *request) (response, error) {
	id := r.path["jobId"]
	if !ids.Valid(id) {
		return response{}, apperr.New(apperr.NotFound, "job not found")
	}
	if err := s.jobsConfigured(); err != nil {
		return response{}, err
	}
	j, err := s.store.Job(ctx, r.merchant.ID, id)
	if err != nil {
		return response{}, err
	}
	out, err := s.jobOf(ctx, j)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, out), nil
}
