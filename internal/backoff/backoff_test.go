package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDelays checks the documented limits: below 2^attempt ms up to
// attempt 5, and still random (not all equal) below MaxDelay after it.
func TestDelays(t *testing.T) {
	for attempt := range 10 {
		seen := map[time.Duration]bool{}
		for range 100 {
			d := delay(attempt)
			if d < 0 || d >= time.Millisecond<<min(attempt, capAttempt) || d >= MaxDelay {
				t.Fatalf("attempt %d: waits %v", attempt, d)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Fatalf("attempt %d: every wait is %v", attempt, seen)
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
