// Package jobstest runs jobs without a queue: for tests and benchmarks that
// drive a jobs.Worker themselves.
package jobstest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/regulars/regulars/internal/jobs"
)

// Queue is a jobs.Sender that keeps the messages in memory.
type Queue struct {
	Messages [][]byte
	// Invocation, when set, is the time each delivery has: its context's
	// deadline, as Lambda gives an invocation its function's timeout (the
	// worker ends its slice that deadline's margin before it).
	Invocation time.Duration
}

// Send keeps the messages.
func (q *Queue) Send(_ context.Context, bodies [][]byte) error {
	q.Messages = append(q.Messages, bodies...)
	return nil
}

// Drain delivers the queued messages to w, one at a time and in order,
// until none is left (a paused slice queues the next one); it returns how
// many it delivered.
func (q *Queue) Drain(ctx context.Context, w *jobs.Worker) (int, error) {
	n := 0
	for len(q.Messages) > 0 {
		var m jobs.Message
		if err := json.Unmarshal(q.Messages[0], &m); err != nil {
			return n, fmt.Errorf("a message that is not a job's: %w", err)
		}
		q.Messages = q.Messages[1:]
		n++
		if err := q.deliver(ctx, w, m); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (q *Queue) deliver(ctx context.Context, w *jobs.Worker, m jobs.Message) error {
	if q.Invocation > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.Invocation)
		defer cancel()
	}
	return w.Work(ctx, m)
}
