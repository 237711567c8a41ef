package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// requestTimeout bounds one request of a load phase, on either side.
const requestTimeout = 10 * time.Second

// load bounds one phase: clients concurrent clients, each sending one request
// at a time for duration, or requests requests each when requests > 0.
type load struct {
	clients  int
	duration time.Duration
	requests int
}

// run measures do under the load; do learns which client (0 to clients-1)
// sends the request. Each request gets its own deadline; a failed request is
// counted, not retried. It returns early only when ctx ends.
func (l load) run(ctx context.Context, do func(ctx context.Context, client int) error) (phase, error) {
	var (
		mu sync.Mutex
		p  phase
		wg sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(l.duration)
	for client := range l.clients {
		wg.Go(func() {
			var (
				lat    []time.Duration
				errors int
				first  error
			)
			for i := 0; ctx.Err() == nil; i++ {
				if l.requests > 0 && i == l.requests || l.requests == 0 && !time.Now().Before(deadline) {
					break
				}
				rctx, cancel := context.WithTimeout(ctx, requestTimeout)
				t := time.Now()
				err := do(rctx, client)
				d := time.Since(t)
				cancel()
				switch {
				case err == nil:
					lat = append(lat, d)
				case ctx.Err() == nil: // not the interruption of the whole run
					errors++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			p.latencies = append(p.latencies, lat...)
			p.errors += errors
			if p.firstErr == nil {
				p.firstErr = first
			}
		})
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	return p, ctx.Err()
}

// operation is one measured request kind with its phases.
type operation struct {
	name   string
	do     func(ctx context.Context, client int) error
	phases []phase // one per round
	// attempts, if set, counts the DynamoDB calls of an operation that
	// retries (a baseline's transactions, failed ones included): each
	// phase records how many it made.
	attempts func() int64
	// after, if set, runs after each of the operation's phases, warm-up
	// included, outside the measured time: e.g. purging the queue the
	// phase filled, so that no phase runs against a longer queue.
	after func(context.Context) error
}

// runAfter runs the operation's after, if any.
func (op *operation) runAfter(ctx context.Context) error {
	if op.after == nil {
		return nil
	}
	if err := op.after(ctx); err != nil {
		return fmt.Errorf("after a phase of %s: %w", op.name, err)
	}
	return nil
}

// allClients adapts a request that does not depend on the client.
func allClients(do func(context.Context) error) func(context.Context, int) error {
	return func(ctx context.Context, _ int) error { return do(ctx) }
}

// measure warms every operation up, then runs rounds of one phase per
// operation, in ABBA order: odd rounds run the operations in reverse, so that
// a drift over the run (a growing table, a JIT still compiling, a neighbour's
// load) weighs on each operation alike.
func measure(ctx context.Context, l load, warmup time.Duration, rounds int, ops []*operation, progress func(string)) error {
	if warmup > 0 {
		for _, op := range ops {
			progress("warm-up " + op.name)
			if _, err := (load{clients: l.clients, duration: warmup}).run(ctx, op.do); err != nil {
				return err
			}
			if err := op.runAfter(ctx); err != nil {
				return err
			}
		}
	}
	for r := range rounds {
		order := slices.Clone(ops)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, op := range order {
			progress(fmt.Sprintf("round %d/%d: %s", r+1, rounds, op.name))
			var before int64
			if op.attempts != nil {
				before = op.attempts()
			}
			p, err := l.run(ctx, op.do)
			if err != nil {
				return err
			}
			if op.attempts != nil {
				p.attempts = op.attempts() - before
			}
			op.phases = append(op.phases, p)
			if err := op.runAfter(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
