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
	// MaxDelay bounds one wait between two attempts.
	MaxDelay = 32 * time.Millisecond
	// Attempts bounds a contended write (a posting, an order, a merge,
	// the unprocessed items of a batch): its 59 waits take under 1.9 s in
	// all (about 0.9 s on average); the caller's context deadline bounds
	// them too.
	Attempts = 60
	// capAttempt is the attempt from which the waits stop growing:
	// 2^capAttempt ms = MaxDelay.
	capAttempt = 5
)

// jitter is the SDK's backoff, which counts in seconds: a random time below
// 2^attempt s. Wait scales its delays down by 1,000 (seconds to
// milliseconds) and never asks past capAttempt, so every wait stays random
// (the SDK's backoff gives its bare maximum past its cap, and writers
// contending for one item would then retry in step).
var jitter = retry.NewExponentialJitterBackoff(MaxDelay * 1000)

// Wait sleeps before the attempt after attempt (counted from 0): a random
// time below 2^min(attempt, 5) ms. It returns the context's error if the
// context ends first.
func Wait(ctx context.Context, attempt int) error {
	t := time.NewTimer(delay(attempt))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func delay(attempt int) time.Duration {
	d, _ := jitter.BackoffDelay(min(attempt, capAttempt), nil) // it fails only past math.MaxInt64 ns
	return d / 1000
}
