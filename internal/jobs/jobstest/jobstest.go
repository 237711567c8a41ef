// Package jobstest runs jobs without a queue: for tests and benchmarks that
// drive a jobs.Worker themselves.
package jobstest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/regulars/regulars/internal/jobs"
)

// Queue is a jobs.Sender that keeps the messages in memory.
type Queue struct{ Messages [][]byte }

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
		if err := w.Work(ctx, m); err != nil {
			return n, err
		}
	}
	return n, nil
}
