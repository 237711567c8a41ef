package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/jobs/jobstest"
)

// memStore keeps jobs with the same version guard as the table.
type memStore struct{ jobs map[string]jobs.Job }

func (m *memStore) Job(_ context.Context, mid, id string) (jobs.Job, error) {
	j, ok := m.jobs[mid+"/"+id]
	if !ok {
		return jobs.Job{}, apperr.New(apperr.NotFound, "job not found")
	}
	return j, nil
}

func (m *memStore) SaveJob(_ context.Context, j jobs.Job) (jobs.Job, error) {
	if stored := m.jobs[j.MerchantID+"/"+j.ID]; stored.Version != j.Version {
		return jobs.Job{}, apperr.New(apperr.Conflict, "job changed concurrently")
	}
	j.Version++
	m.jobs[j.MerchantID+"/"+j.ID] = j
	return j, nil
}

// runner does what its steps say, one per slice.
type runner struct {
	steps []func(s jobs.Slice) (bool, error)
	calls int
}

func (r *runner) Run(ctx context.Context, s jobs.Slice) (bool, error) {
	step := r.steps[min(r.calls, len(r.steps)-1)]
	r.calls++
	return step(s)
}

func pause(s jobs.Slice) (bool, error) {
	s.Job.Progress.Processed++
	return false, s.Save(context.Background())
}

func done(s jobs.Slice) (bool, error) { s.Job.Progress.Written = 7; return true, nil }

func TestWorker(t *testing.T) {
	transient := errors.New("DynamoDB is throttling")
	for _, tc := range []struct {
		name      string
		steps     []func(jobs.Slice) (bool, error)
		state     jobs.State
		slices    int
		error     string
		stuck     bool // the last slice's error is returned: its message comes back
		processed int64
	}{
		{name: "one slice", steps: []func(jobs.Slice) (bool, error){done}, state: jobs.Succeeded, slices: 1},
		{name: "three slices", steps: []func(jobs.Slice) (bool, error){pause, pause, done}, state: jobs.Succeeded, slices: 3, processed: 2},
		{name: "the merchant's data fails it", steps: []func(jobs.Slice) (bool, error){pause, func(jobs.Slice) (bool, error) {
			return false, apperr.Field("/email", "is not an email")
		}}, state: jobs.Failed, slices: 2, processed: 1, error: "invalid: The request is invalid. (/email: is not an email)"},
		{name: "an internal error is retried", steps: []func(jobs.Slice) (bool, error){func(jobs.Slice) (bool, error) {
			return false, apperr.New(apperr.Internal, "a secret detail")
		}}, state: jobs.Running, slices: 1, stuck: true},
		{name: "a transient error is retried", steps: []func(jobs.Slice) (bool, error){func(jobs.Slice) (bool, error) { return false, transient }},
			state: jobs.Running, slices: 1, stuck: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &memStore{jobs: map[string]jobs.Job{}}
			q := &jobstest.Queue{}
			r := &runner{steps: tc.steps}
			w := jobs.NewWorker(st, q, map[jobs.Kind]jobs.Runner{jobs.Erasure: r}, time.Now, slog.New(slog.DiscardHandler))
			j, err := jobs.New("M1", jobs.Erasure, map[string]string{"customer_id": "C1"}, "test", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if j, err = jobs.Enqueue(t.Context(), st, q, j); err != nil || j.State != jobs.Queued || len(q.Messages) != 1 {
				t.Fatalf("enqueue: %+v %v, %d messages", j, err, len(q.Messages))
			}
			_, err = q.Drain(t.Context(), w)
			if tc.stuck != (err != nil) {
				t.Fatalf("drain: %v", err)
			}
			got, _ := st.Job(t.Context(), "M1", j.ID)
			if got.State != tc.state || got.Slices != tc.slices || got.Error != tc.error || got.Progress.Processed != tc.processed {
				t.Fatalf("job %s, %d slices, error %q, processed %d", got.State, got.Slices, got.Error, got.Progress.Processed)
			}
			if tc.state == jobs.Succeeded && (got.Progress.Percent == nil || *got.Progress.Percent != 100 || got.FinishedAt == nil || got.Progress.Written != 7) {
				t.Fatalf("succeeded job: %+v", got)
			}
			// A message of a finished job (a duplicate) changes nothing.
			if tc.state.Finished() {
				if err := jobs.Send(t.Context(), q, got); err != nil {
					t.Fatal(err)
				}
				if _, err := q.Drain(t.Context(), w); err != nil {
					t.Fatal(err)
				}
				if again, _ := st.Job(t.Context(), "M1", j.ID); again.Version != got.Version || r.calls != len(tc.steps) {
					t.Fatal("a duplicate message ran the job again")
				}
			}
		})
	}
}

// A job no runner of this deployment can run fails, without the detail.
func TestNoRunner(t *testing.T) {
	st := &memStore{jobs: map[string]jobs.Job{}}
	q := &jobstest.Queue{}
	w := jobs.NewWorker(st, q, nil, time.Now, slog.New(slog.DiscardHandler))
	j, _ := jobs.New("M1", jobs.LedgerExport, nil, "test", time.Now())
	if _, err := jobs.Enqueue(t.Context(), st, q, j); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Drain(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Job(t.Context(), "M1", j.ID); got.State != jobs.Failed || got.Error != "an internal error stopped the job" {
		t.Fatalf("%s %q", got.State, got.Error)
	}
}

// The SQS handler drops what is not a job message and reports the slices
// that failed, so that only they come back.
func TestHandleSQS(t *testing.T) {
	st := &memStore{jobs: map[string]jobs.Job{}}
	q := &jobstest.Queue{}
	r := &runner{steps: []func(jobs.Slice) (bool, error){func(jobs.Slice) (bool, error) { return false, errors.New("outage") }}}
	w := jobs.NewWorker(st, q, map[jobs.Kind]jobs.Runner{jobs.Erasure: r}, time.Now, slog.New(slog.DiscardHandler))
	j, _ := jobs.New("M1", jobs.Erasure, nil, "test", time.Now())
	if _, err := jobs.Enqueue(t.Context(), st, q, j); err != nil {
		t.Fatal(err)
	}
	imp, _ := jobs.New("M1", jobs.CustomerImport, nil, "test", time.Now())
	if _, err := jobs.Enqueue(t.Context(), st, q, imp); err != nil || len(q.Messages) != 1 {
		t.Fatalf("an import waiting for its file was queued: %v", err)
	}
	resp, err := w.HandleSQS(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "bad", Body: "not json"},
		{MessageId: "empty", Body: `{}`},
		{MessageId: "gone", Body: `{"merchant_id":"M1","job_id":"01J00000000000000000000000"}`},
		{MessageId: "waiting", Body: `{"merchant_id":"M1","job_id":"` + imp.ID + `"}`},
		{MessageId: "fails", Body: string(q.Messages[0])},
	}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "fails" {
		t.Fatalf("%+v %v", resp, err)
	}
}

type brokenQueue struct{}

func (brokenQueue) Send(context.Context, [][]byte) error { return errors.New("SQS is down") }

// A job the queue does not take is failed at once, not left queued.
func TestEnqueueFailure(t *testing.T) {
	st := &memStore{jobs: map[string]jobs.Job{}}
	j, _ := jobs.New("M1", jobs.CustomerExport, nil, "test", time.Now())
	if _, err := jobs.Enqueue(t.Context(), st, brokenQueue{}, j); err == nil {
		t.Fatal("no error")
	}
	if got, _ := st.Job(t.Context(), "M1", j.ID); got.State != jobs.Failed || got.Error == "" || got.FinishedAt == nil {
		t.Fatalf("%+v", got)
	}
}
