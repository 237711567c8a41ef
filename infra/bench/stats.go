package bench

import (
	"math"
	"slices"
	"time"
)

// percentile returns the q-quantile (0 < q ≤ 1) of sorted samples by the
// nearest-rank method: the smallest sample with at least q of all samples at
// or below it. It returns 0 for no samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// ms converts a duration to fractional milliseconds, the unit of every
// latency in the report.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ratio returns a/b, or 0 when b is 0 (a baseline that measured nothing).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// phase is the outcome of one measured phase of one operation.
type phase struct {
	latencies []time.Duration // of the requests that succeeded
	errors    int
	firstErr  error
	elapsed   time.Duration // wall time from the first request to the last answer
	attempts  int64         // DynamoDB calls of an operation that retries (operation.attempts)
}

func (p phase) perSecond() float64 {
	if p.elapsed <= 0 {
		return 0
	}
	return float64(len(p.latencies)) / p.elapsed.Seconds()
}

// Throughput summarizes the phases of one operation.
type Throughput struct {
	Requests   int       `json:"requests"` // that succeeded
	Errors     int       `json:"errors"`
	FirstError string    `json:"first_error,omitempty"`
	PerSecond  float64   `json:"req_per_s"` // successful requests over the phases' total wall time
	P50        float64   `json:"p50_ms"`
	P99        float64   `json:"p99_ms"`
	Rounds     []float64 `json:"round_req_per_s"` // req/s of each round, in order
	// Attempts counts the transactions a retrying baseline sent, failed ones
	// included (0: not counted); AttemptsPerOp divides it by Requests.
	Attempts      int64   `json:"attempts,omitempty"`
	AttemptsPerOp float64 `json:"attempts_per_op,omitempty"`
}

// summarize combines the phases (one per round) of an operation.
func summarize(phases []phase) Throughput {
	var t Throughput
	var all []time.Duration
	var elapsed time.Duration
	for _, p := range phases {
		all = append(all, p.latencies...)
		elapsed += p.elapsed
		t.Errors += p.errors
		if t.FirstError == "" && p.firstErr != nil {
			t.FirstError = p.firstErr.Error()
		}
		t.Rounds = append(t.Rounds, p.perSecond())
		t.Attempts += p.attempts
	}
	slices.Sort(all)
	t.Requests = len(all)
	if elapsed > 0 {
		t.PerSecond = float64(len(all)) / elapsed.Seconds()
	}
	t.P50, t.P99 = ms(percentile(all, 0.50)), ms(percentile(all, 0.99))
	t.AttemptsPerOp = ratio(float64(t.Attempts), float64(t.Requests))
	return t
}

// Latency summarizes repeated runs of a one-off measurement (a cold start).
type Latency struct {
	Runs int     `json:"runs"`
	P50  float64 `json:"p50_ms"`
	Max  float64 `json:"max_ms"`
}

func summarizeLatency(samples []time.Duration) Latency {
	sorted := slices.Sorted(slices.Values(samples))
	l := Latency{Runs: len(sorted), P50: ms(percentile(sorted, 0.50))}
	if len(sorted) > 0 {
		l.Max = ms(sorted[len(sorted)-1])
	}
	return l
}

// roundRatios returns the lowest and highest per-round ratio a/b of two
// operations measured in the same rounds: how much the noise of this machine
// moved the ratio from one round to the next.
func roundRatios(a, b []float64) (lo, hi float64) {
	for i := range min(len(a), len(b)) {
		r := ratio(a[i], b[i])
		if i == 0 || r < lo {
			lo = r
		}
		if i == 0 || r > hi {
			hi = r
		}
	}
	return lo, hi
}
