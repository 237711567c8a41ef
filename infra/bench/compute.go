package bench

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/regulars/regulars/internal/analytics"
)

// computeSortRuns is how many times the baseline sorts the keys: the first
// part before the analysis, the rest after it, and the median is the
// baseline.
const (
	computeSortRuns   = 5
	computeSortBefore = 3
)

// memorySampleEvery is how often a step's peak memory is sampled.
const memorySampleEvery = 5 * time.Millisecond

// benchCompute is table 7: the nightly analysis of n synthetic customers in
// memory (analytics.Learn, then Model.ScoreOf for each customer, what the
// nightly worker does between its DynamoDB reads and writes), beside a plain
// slices.Sort of n int64 keys (the customers' revenues) in the same run.
func benchCompute(ctx context.Context, n int, asOf time.Time, progress func(string)) (*AnalyticsCompute, error) {
	loc, err := time.LoadLocation(benchTimeZone)
	if err != nil {
		return nil, err
	}
	runtime.GC()
	empty, _ := memoryNow()
	progress(fmt.Sprintf("analytics: build %d synthetic customers in memory", n))
	var customers []analytics.Customer
	var keys []int64
	if err := interruptible(ctx, func() { customers, keys = synthCustomers(n, asOf, loc) }); err != nil {
		return nil, err
	}
	runtime.GC()
	input, _ := memoryNow()
	res := &AnalyticsCompute{Customers: n, AsOf: asOf.Format(time.DateOnly), GOMAXPROCS: runtime.GOMAXPROCS(0),
		InputMiB: mib(int64(input) - int64(empty))}
	for _, c := range customers {
		res.TicketDays += len(c.Days)
		if len(c.Days) > 1 {
			res.Repeaters++
		}
	}

	var sorts []stepUsage
	sortOnce := func() error {
		s := slices.Clone(keys)
		u, err := measureStep(ctx, func() { slices.Sort(s) })
		if err == nil && !slices.IsSorted(s) {
			err = fmt.Errorf("slices.Sort left %d keys unsorted", len(s))
		}
		sorts = append(sorts, u)
		return err
	}
	progress(fmt.Sprintf("analytics: baseline, slices.Sort of %d int64 keys ×%d", n, computeSortBefore))
	for range computeSortBefore {
		if err := sortOnce(); err != nil {
			return nil, err
		}
	}

	progress(fmt.Sprintf("analytics: analytics.Learn over %d customers (RFM cut-points, BG/NBD and Gamma-Gamma maximum likelihood)", n))
	var model analytics.Model
	learn, err := measureStep(ctx, func() { model = analytics.Learn(customers, asOf) })
	if err != nil {
		return nil, err
	}
	res.NoFit = model.NoFit
	res.BGNBD, res.GammaGamma = model.BGNBD, model.GammaGamma
	if model.NoFit != "" {
		res.Errors++
		res.FirstError = "analytics.Learn found no fit: " + model.NoFit
	}

	progress(fmt.Sprintf("analytics: Model.ScoreOf for each of the %d customers", n))
	segments := map[string]int{}
	score, err := measureStep(ctx, func() {
		for i, c := range customers {
			if i%10000 == 0 && ctx.Err() != nil {
				return
			}
			s := model.ScoreOf(c, asOf)
			segments[s.Segment]++
			if s.Prediction != nil {
				res.Predicted++
			}
		}
	})
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return nil, err
	}
	res.Segments = segments

	progress(fmt.Sprintf("analytics: baseline, slices.Sort of %d int64 keys ×%d", n, computeSortRuns-computeSortBefore))
	for range computeSortRuns - computeSortBefore {
		if err := sortOnce(); err != nil {
			return nil, err
		}
	}
	walls := make([]time.Duration, len(sorts))
	for i, s := range sorts {
		walls[i] = s.wall
		res.BaselineRuns = append(res.BaselineRuns, ms(s.wall))
	}
	slices.Sort(walls)
	median := walls[len(walls)/2]
	var base stepUsage
	for _, s := range sorts {
		if s.wall == median {
			base = s
			break
		}
	}
	res.Baseline = base.result(fmt.Sprintf("slices.Sort of %d int64 keys (revenues), median of %d", n, computeSortRuns), n, base)

	total := stepUsage{wall: learn.wall + score.wall, cpu: learn.cpu + score.cpu, cpuOK: learn.cpuOK && score.cpuOK,
		gcCPU: learn.gcCPU + score.gcCPU, goCPU: learn.goCPU + score.goCPU,
		peakHeap: max(learn.peakHeap, score.peakHeap), peakMapped: max(learn.peakMapped, score.peakMapped)}
	res.Steps = []ComputeStep{
		learn.result("analytics.Learn (RFM cut-points, BG/NBD + Gamma-Gamma ML)", n, base),
		score.result(fmt.Sprintf("Model.ScoreOf × %d", n), n, base),
		total.result("Learn + ScoreOf", n, base),
	}
	if _, rss, ok := processUsage(); ok {
		res.MaxRSSMiB = mib(rss)
	}
	customers, keys = nil, nil
	runtime.GC()
	debug.FreeOSMemory()
	return res, nil
}

// interruptible runs f and returns when it returns or when ctx ends (f may
// go on until the process exits: the analysis cannot be stopped halfway).
func interruptible(ctx context.Context, f func()) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// stepUsage is what one step of table 7 took.
type stepUsage struct {
	wall, cpu    time.Duration
	cpuOK        bool
	gcCPU, goCPU float64 // the runtime's estimates of GC and of all Go CPU time, s
	peakHeap     uint64  // the highest heap (objects, live or not yet swept) over the heap before the step, bytes
	peakMapped   uint64  // the same for the memory the runtime holds from the OS
}

func (u stepUsage) result(name string, n int, base stepUsage) ComputeStep {
	s := ComputeStep{Step: name, WallMs: ms(u.wall), PerCustomerUs: float64(u.wall) / float64(time.Microsecond) / float64(max(n, 1)),
		PeakHeapMiB: mib(int64(u.peakHeap)), PeakMappedMiB: mib(int64(u.peakMapped)), WallRatio: ratio(float64(u.wall), float64(base.wall))}
	if u.cpuOK {
		s.CPUMs = ms(u.cpu)
		s.CoresBusy = ratio(float64(u.cpu), float64(u.wall))
		s.CPURatio = ratio(float64(u.cpu), float64(base.cpu))
	}
	if u.goCPU > 0 {
		s.GCShare = u.gcCPU / u.goCPU
	}
	return s
}

// measureStep runs f after a collection, and measures its wall time, the
// process's CPU time and the highest heap over the heap before it (sampled
// every memorySampleEvery, and at the end).
func measureStep(ctx context.Context, f func()) (stepUsage, error) {
	runtime.GC()
	heap0, mapped0 := memoryNow()
	gc0, go0 := cpuClasses()
	var (
		mu               sync.Mutex
		peakHeap, peakMp = heap0, mapped0
	)
	sample := func() {
		h, m := memoryNow()
		mu.Lock()
		peakHeap, peakMp = max(peakHeap, h), max(peakMp, m)
		mu.Unlock()
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(memorySampleEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	cpu0, _, ok0 := processUsage()
	start := time.Now()
	err := interruptible(ctx, f)
	wall := time.Since(start)
	cpu1, _, ok1 := processUsage()
	sample()
	close(stop)
	<-stopped
	gc1, go1 := cpuClasses()
	u := stepUsage{wall: wall, cpu: cpu1 - cpu0, cpuOK: ok0 && ok1, gcCPU: gc1 - gc0, goCPU: go1 - go0}
	u.peakHeap, u.peakMapped = peakHeap-heap0, peakMp-mapped0
	return u, err
}

// memoryNow returns the heap's objects (live, or dead and not yet swept)
// and the memory the runtime holds from the OS (mapped, not released), in
// bytes.
func memoryNow() (heap, mapped uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64() - s[2].Value.Uint64()
}

// cpuClasses returns the runtime's estimates of the CPU time spent in GC
// and in all Go code (user code, GC and scavenging), in seconds.
func cpuClasses() (gc, all float64) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/user:cpu-seconds"},
		{Name: "/cpu/classes/scavenge/total:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64(), s[0].Value.Float64() + s[1].Value.Float64() + s[2].Value.Float64()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
