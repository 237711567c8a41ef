package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDelays checks the documented limits: below 2^attempt ms up to
// attempt 5, MaxDelay from attempt 6 on.
func TestDelays(t *testing.T) {
	for attempt := range 10 {
		for range 100 {
			d, err := jitter.BackoffDelay(attempt, nil)
			if err != nil {
				t.Fatal(err)
			}
			d /= 1000
			if attempt <= 5 && d >= time.Millisecond<<attempt || attempt > 5 && d != MaxDelay {
				t.Fatalf("attempt %d: waits %v", attempt, d)
			}
		}
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Wait(ctx, 9); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}
