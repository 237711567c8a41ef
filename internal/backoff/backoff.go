// Package backoff paces retries: the adapters' optimistic-concurrency loops
// (a write cancelled by a concurrent one is read again and retried) and
// their batch writes (items or messages the service left unprocessed are
// sent again). One jittered exponential backoff, the AWS SDK's
// retry.ExponentialJitterBackoff, serves dynamo, queue and the bench, which
// do not import each other. Each loop keeps its own attempt limit and its
// own error for running out of attempts.
package backoff

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

const (
	// MaxDelay is the longest wait between two attempts.
	MaxDelay = 50 * time.Millisecond
	// Attempts bounds a contended write (a posting, an order, a merge,
	// the unprocessed items of a batch): its 59 waits take under 2.72 s in
	// all (63 ms for the first six, MaxDelay each after); the caller's
	// context deadline bounds them too.
	Attempts = 60
)

// jitter is the SDK's backoff, which counts in seconds: below 2^attempt s
// while that is under its maximum, the maximum after. Its maximum is
// MaxDelay × 1,000 and Wait divides its delays by 1,000.
var jitter = retry.NewExponentialJitterBackoff(MaxDelay * 1000)

// Wait sleeps before the attempt after attempt (counted from 0): a random
// time below 2^attempt ms up to attempt 5 (32 ms), MaxDelay from attempt 6
// on. It returns the context's error if the context ends first.
func Wait(ctx context.Context, attempt int) error {
	d, err := jitter.BackoffDelay(attempt, nil)
	if err != nil {
		return err
	}
	t := time.NewTimer(d / 1000)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
