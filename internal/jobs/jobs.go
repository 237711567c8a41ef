// Package jobs runs a merchant's long work — CSV exports, imports, the
// erasure of a large history — outside the HTTP request: a job is recorded,
// a message on the jobs queue names it, and the worker runs it in slices
// that each fit one invocation, saving the job's cursor as it goes. A slice
// that runs out of time queues the next one; a crashed slice is retried when
// its message comes back, from the last saved cursor.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
)

// Kind is what a job does.
type Kind string

// Kinds.
const (
	CustomerExport Kind = "customer_export" // the customer base (or a filtered part) as CSV
	LedgerExport   Kind = "ledger_export"   // the merchant's ledger entries of a period as CSV
	CustomerImport Kind = "customer_import" // customers from an uploaded CSV or XLSX file
	Erasure        Kind = "erasure"         // what is left of an erased customer's history
)

// State is where a job is in its life.
type State string

// States. A job starts queued, except an import, which waits for its file.
const (
	AwaitingUpload State = "awaiting_upload"
	Queued         State = "queued"
	Running        State = "running"
	Succeeded      State = "succeeded"
	Failed         State = "failed"
)

// Finished reports whether the job will not change any more.
func (s State) Finished() bool { return s == Succeeded || s == Failed }

// Progress counts a job's rows.
type Progress struct {
	Processed int64 `json:"processed"` // rows read (customers, entries, file rows, items)
	Written   int64 `json:"written"`   // rows written to the result, or applied
	Rejected  int64 `json:"rejected"`  // rows refused (imports)
	Total     int64 `json:"total"`     // rows expected, when known in advance; 0 otherwise
	// Percent is the share of the work done, 0 to 100, where it can be
	// known (a CSV import: the bytes of the file read); nil otherwise, and
	// 100 once the job succeeded.
	Percent *int64 `json:"percent"`
}

// Job is one piece of long work of a merchant.
type Job struct {
	ID         string          `json:"id"`
	MerchantID string          `json:"merchant_id"`
	Kind       Kind            `json:"kind"`
	State      State           `json:"state"`
	Params     json.RawMessage `json:"params"` // what was asked, kind-specific
	Cursor     json.RawMessage `json:"cursor"` // where the work is, kind-specific; nil before the start
	Progress   Progress        `json:"progress"`
	Result     Result          `json:"result"`
	Error      string          `json:"error,omitempty"` // why it failed, for the merchant
	Actor      string          `json:"actor"`           // the API key that asked, or a system name
	Slices     int             `json:"slices"`          // invocations that worked on it
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	UpdatedAt  time.Time       `json:"updated_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	// Version guards every save: two workers on the same job (a duplicate
	// message) cannot both advance it.
	Version int64 `json:"-"`
}

// Result is what a job produced.
type Result struct {
	Object   string `json:"object,omitempty"`   // the storage key of the file produced (export) or read (import)
	Report   string `json:"report,omitempty"`   // the storage key of the per-row report (import)
	Filename string `json:"filename,omitempty"` // the name a download is saved as
	Bytes    int64  `json:"bytes,omitempty"`    // size of the file produced
	// IgnoredColumns are the header cells of an imported file that name no
	// column the import reads.
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
}

// New returns a job of a merchant, queued (or awaiting its upload).
func New(mid string, kind Kind, params any, actor string, now time.Time) (Job, error) {
	p, err := json.Marshal(params)
	if err != nil {
		return Job{}, fmt.Errorf("job parameters: %w", err)
	}
	state := Queued
	if kind == CustomerImport {
		state = AwaitingUpload
	}
	now = now.UTC()
	return Job{ID: ids.New(now), MerchantID: mid, Kind: kind, State: state, Params: p, Actor: actor, CreatedAt: now, UpdatedAt: now}, nil
}

// Message is the body of a jobs-queue message: which job to work on.
type Message struct {
	MerchantID string `json:"merchant_id"`
	JobID      string `json:"job_id"`
}

// Store keeps jobs.
type Store interface {
	Job(ctx context.Context, mid, id string) (Job, error)
	// SaveJob writes j if the stored version is still j.Version (0: new)
	// and returns it with its new version; otherwise Conflict.
	SaveJob(ctx context.Context, j Job) (Job, error)
}

// Sender queues messages.
type Sender interface {
	Send(ctx context.Context, bodies [][]byte) error
}

// Slice is the part of a job a runner does in one invocation.
type Slice struct {
	Job *Job
	// Save records the job's cursor and progress (a checkpoint); after it
	// returns, a crash resumes from there.
	Save func(context.Context) error
	// Deadline is when the runner must have saved and returned; it is
	// before the invocation's own.
	Deadline time.Time
}

// Expired reports whether the slice must stop.
func (s Slice) Expired(now time.Time) bool { return !s.Deadline.IsZero() && !now.Before(s.Deadline) }

// Runner does the work of one kind of job: from the job's cursor until it
// is done (true) or the slice's deadline passes (false, after a save). An
// apperr error other than Unavailable/Conflict fails the job for good, with
// its message shown to the merchant; any other error is retried.
type Runner interface {
	Run(ctx context.Context, s Slice) (done bool, err error)
}

// Worker is the jobs queue's consumer.
type Worker struct {
	store   Store
	queue   Sender
	runners map[Kind]Runner
	now     func() time.Time
	log     *slog.Logger
	// Margin is the time kept before the invocation's deadline for the last
	// save and the next slice's message.
	Margin time.Duration
	// SliceLimit bounds a slice when the context has no deadline (the local
	// gateway, tests).
	SliceLimit time.Duration
}

// NewWorker returns a worker with its runners.
func NewWorker(store Store, queue Sender, runners map[Kind]Runner, now func() time.Time, log *slog.Logger) *Worker {
	return &Worker{store: store, queue: queue, runners: runners, now: now, log: log, Margin: 30 * time.Second, SliceLimit: 5 * time.Minute}
}

// Enqueue saves a new job and, unless it waits for an upload, queues it. A
// job the queue did not take is recorded as failed, so that it does not
// show as queued for ever; the caller's error says to try again.
func Enqueue(ctx context.Context, store Store, queue Sender, j Job) (Job, error) {
	j, err := store.SaveJob(ctx, j)
	if err != nil {
		return Job{}, err
	}
	if j.State == Queued {
		if err := Send(ctx, queue, j); err != nil {
			now := time.Now().UTC()
			j.State, j.Error, j.FinishedAt, j.UpdatedAt = Failed, "the job could not be queued; ask for it again", &now, now
			if _, serr := store.SaveJob(context.WithoutCancel(ctx), j); serr != nil {
				err = errors.Join(err, serr)
			}
			return Job{}, err
		}
	}
	return j, nil
}

// Send queues a message for j.
func Send(ctx context.Context, queue Sender, j Job) error {
	b, _ := json.Marshal(Message{MerchantID: j.MerchantID, JobID: j.ID}) // two strings always marshal
	return queue.Send(ctx, [][]byte{b})
}

// HandleSQS is the jobs function's handler: each message is one slice of one
// job. A message whose slice failed for a transient reason is reported, so
// that it comes back after the queue's visibility timeout.
func (w *Worker) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		var m Message
		err := json.Unmarshal([]byte(rec.Body), &m)
		if err == nil && (m.MerchantID == "" || m.JobID == "") {
			err = errors.New("a job message without merchant_id or job_id")
		}
		if err != nil {
			// Not a job: nothing will ever make it one. Logged and dropped.
			w.log.ErrorContext(ctx, "malformed job message", "message_id", rec.MessageId, "err", err)
			continue
		}
		if err := w.Work(ctx, m); err != nil {
			w.log.ErrorContext(ctx, "job slice failed; it is retried", "merchant", m.MerchantID, "job", m.JobID, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// Work runs one slice of the job m names: it marks the job running, lets
// its runner work until done or out of time, and then either finishes the
// job or queues the next slice. A job already finished is left alone (a
// duplicate message).
func (w *Worker) Work(ctx context.Context, m Message) error {
	j, err := w.store.Job(ctx, m.MerchantID, m.JobID)
	if apperr.CodeOf(err) == apperr.NotFound {
		w.log.WarnContext(ctx, "job message for no job", "merchant", m.MerchantID, "job", m.JobID)
		return nil
	}
	if err != nil {
		return err
	}
	if j.State.Finished() || j.State == AwaitingUpload {
		return nil
	}
	runner, ok := w.runners[j.Kind]
	if !ok {
		return w.finish(ctx, j, fmt.Errorf("no runner for jobs of kind %q", j.Kind)) // a deployment without that kind's runner
	}
	now := w.now().UTC()
	if j.State == Queued {
		j.State, j.StartedAt = Running, &now
	}
	j.Slices++
	j.UpdatedAt = now
	if j, err = w.store.SaveJob(ctx, j); err != nil {
		return err // Conflict: another worker has it; this message comes back
	}
	deadline := now.Add(w.SliceLimit)
	if d, ok := ctx.Deadline(); ok {
		deadline = d.Add(-w.Margin)
	}
	s := Slice{Job: &j, Deadline: deadline}
	s.Save = func(ctx context.Context) error {
		j.UpdatedAt = w.now().UTC()
		saved, err := w.store.SaveJob(ctx, j)
		if err != nil {
			return err
		}
		j = saved
		return nil
	}
	done, err := runner.Run(ctx, s)
	switch {
	case err != nil && permanent(err):
		return w.finish(ctx, j, err)
	case err != nil:
		return err
	case done:
		return w.finish(ctx, j, nil)
	}
	if err := s.Save(ctx); err != nil {
		return err
	}
	w.log.InfoContext(ctx, "job slice", "merchant", j.MerchantID, "job", j.ID, "kind", j.Kind, "slices", j.Slices, "processed", j.Progress.Processed)
	return Send(ctx, w.queue, j)
}

// permanent reports whether err fails the job for good: the merchant's
// request or data cannot succeed, however often it is retried.
func permanent(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Unprocessable, apperr.Forbidden:
		return true
	}
	return false
}

// reason is what the merchant is told about a failed job: the application
// error, never an internal one's detail (that is logged).
func reason(err error) string {
	if e := apperr.As(err); e != nil && e.Code != apperr.Internal {
		return e.Error()
	}
	return "an internal error stopped the job"
}

func (w *Worker) finish(ctx context.Context, j Job, cause error) error {
	now := w.now().UTC()
	j.State, j.FinishedAt, j.UpdatedAt = Succeeded, &now, now
	if cause == nil {
		done := int64(100)
		j.Progress.Percent = &done
	} else {
		j.State, j.Error = Failed, reason(cause)
	}
	if _, err := w.store.SaveJob(ctx, j); err != nil {
		return err
	}
	w.log.InfoContext(ctx, "job finished", "merchant", j.MerchantID, "job", j.ID, "kind", j.Kind, "state", j.State,
		"slices", j.Slices, "processed", j.Progress.Processed, "written", j.Progress.Written, "rejected", j.Progress.Rejected, "err", cause)
	return nil
}
