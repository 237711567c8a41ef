package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/exports"
	"github.com/regulars/regulars/internal/imports"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/jobs/jobstest"
	"github.com/regulars/regulars/internal/multipart"
	"github.com/regulars/regulars/internal/objects"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/tabular"
	"github.com/regulars/regulars/internal/tenant"
)

const (
	// exportSeedWriters is how many clients write the seed at once, and
	// exportSeedChunk how many customers are built in memory at a time.
	exportSeedWriters = 8
	exportSeedChunk   = 10_000
	// exportSmallDivisor sizes the second export, whose memory sits beside
	// the full one's: constant memory means the same peak at a tenth of N.
	exportSmallDivisor = 10
	// exportMemoryEvery is how often the heap is sampled during an export.
	exportMemoryEvery = 10 * time.Millisecond
	// importVerified is how many imported customers, evenly spread, are
	// read back by e-mail after the import.
	importVerified = 200
)

// jobsInvocation is the time each job message is delivered with: the
// JobsFunction's Timeout in template.yaml (900 s), as Lambda gives it. The
// worker's slice ends its margin (30 s) before, so a long export runs in
// slices as it would in Lambda, not in one slice as long as the bench's
// own deadline.
const jobsInvocation = 900 * time.Second

// exportQueryLimit is the Limit of the baseline's Query: twice the page the
// export's ListCustomers reads without filters (crm.MaxLimit), so the raw
// scan makes half the calls and the ratio errs on the export's side.
var exportQueryLimit = int32(2 * crm.MaxLimit)

// benchExports is table 9: the customer export (exports.Runner through
// jobs.Worker.Work, slice after slice, into a multipart upload on the local
// S3) over n seeded customers and over a tenth of them, each beside a raw
// paginated Query of the same index partition on DynamoDB Local, with the
// peak heap of each export; then the customer import (imports.Runner
// through the worker) of m uploaded CSV rows into an empty merchant beside
// raw CreateCustomer calls of as many customers, from as many clients as
// the import processes rows at once.
func benchExports(ctx context.Context, e *environment, n, m int, progress func(string)) (*Exports, error) {
	ddb := dynamodb.NewFromConfig(e.aws, func(o *dynamodb.Options) { o.Logger = logging.Nop{} })
	table := e.res.Ref(e.table.LogicalID)
	st := dynamo.New(ddb, table)
	s3c := s3.NewFromConfig(e.aws, localstack.S3PathStyle, func(o *s3.Options) { o.Logger = logging.Nop{} })
	bucket := objects.New(s3c, e.res.Ref("ExportsBucket"))
	defer emptyBucket(s3c, bucket.Name(), progress) // the bucket is deleted with the other resources
	res := &Exports{Customers: n, ImportRows: m}
	logged := &firstError{}
	log := slog.New(errorLog{slog.DiscardHandler, logged})
	now := time.Now()

	if n > 0 {
		small := max(1, n/exportSmallDivisor)
		mids := map[int]string{}
		for _, size := range []int{n, small} {
			mt, _, err := seed.Merchant(ctx, st, fmt.Sprintf("Bench Export %d", size), "EUR", benchTimeZone, tenant.ScopeAdmin, now)
			if err != nil {
				return nil, fmt.Errorf("seed the export merchant: %w", err)
			}
			mids[size] = mt.ID
			progress(fmt.Sprintf("exports: seed %d customer profiles (seed.Profiles, %d writers)", size, exportSeedWriters))
			start := time.Now()
			if err := seedExportCustomers(ctx, ddb, table, mt.ID, size, now, progress); err != nil {
				return nil, err
			}
			if size == n {
				res.SeedSeconds = time.Since(start).Seconds()
				res.SeedPerSecond = ratio(float64(n), res.SeedSeconds)
			}
		}
		// The smaller export first, then the full one: each after a GC, each
		// beside a raw Query of its own partition before and after it.
		for _, size := range []int{small, n} {
			if err := context.Cause(ctx); err != nil {
				return nil, err
			}
			run, err := benchExport(ctx, ddb, table, bucket, mids[size], size, now, log, progress)
			if err != nil {
				return nil, err
			}
			res.Errors += run.Errors
			res.Runs = append(res.Runs, *run)
		}
	}
	if m > 0 {
		imp, err := benchImport(ctx, ddb, table, bucket, m, now, log, progress)
		if err != nil {
			return nil, err
		}
		res.Errors += imp.Errors
		res.Import = imp
	}
	res.HandlerError = logged.get()
	return res, context.Cause(ctx)
}

// benchProfile is customer i's profile: what a merchant's CRM holds (two
// names, e-mail, phone for two customers in three, tags, attributes, a
// postal address), distinct identifiers for each i.
func benchProfile(i int) crm.Profile {
	given := []string{"Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "María", "Daniel", "Julia", "Pablo", "Paula", "Álvaro"}
	family := []string{"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín Ruiz", "Jiménez", "Díaz"}
	cities := []struct{ city, region, postal string }{{"Madrid", "Madrid", "28013"}, {"Barcelona", "Cataluña", "08002"},
		{"Valencia", "Comunidad Valenciana", "46002"}, {"Sevilla", "Andalucía", "41004"}, {"Bilbao", "País Vasco", "48005"}}
	tags := [][]string{{"vip"}, {"newsletter", "online"}, {"tienda-centro"}, {"vip", "cumpleaños-marzo", "tienda-norte"}, nil}
	city := cities[i%len(cities)]
	p := crm.Profile{
		ExternalID: fmt.Sprintf("ERP-%08d", i),
		GivenName:  given[i%len(given)],
		FamilyName: family[(i/len(given))%len(family)],
		Email:      fmt.Sprintf("cliente.%d@example.com", i),
		Birthday:   fmt.Sprintf("19%02d-%02d-%02d", 50+i%50, 1+i%12, 1+i%28),
		Tags:       tags[i%len(tags)],
		Attributes: map[string]string{"talla": []string{"S", "M", "L", "XL"}[i%4], "canal": []string{"tienda", "web", "app"}[i%3]},
		Addresses: []crm.Address{{Label: "casa", Line1: fmt.Sprintf("Calle Mayor, %d", 1+i%200), Line2: fmt.Sprintf("%dº %c", 1+i%8, 'A'+rune(i%4)),
			City: city.city, Region: city.region, PostalCode: city.postal, Country: "ES", Primary: true}},
		NewsletterConsent: i%2 == 0,
	}
	if i%3 != 2 {
		p.Phone = fmt.Sprintf("+346%08d", i)
	}
	return p
}

// benchCustomer is customer i of merchant mid, as the API would create it.
func benchCustomer(mid string, i int, now time.Time) (crm.Customer, error) {
	return crm.New(mid, crm.Enrolment{Profile: benchProfile(i)}, now)
}

// seedExportCustomers writes the profiles of n customers of merchant mid (all
// an export reads) with seed.Profiles,
// exportSeedChunk at a time (a million customers are not held in memory at
// once).
func seedExportCustomers(ctx context.Context, ddb *dynamodb.Client, table, mid string, n int, now time.Time, progress func(string)) error {
	cs := make([]crm.Customer, 0, min(n, exportSeedChunk))
	next := n / 10
	for from := 0; from < n; from += exportSeedChunk {
		cs = cs[:0]
		for i := from; i < min(n, from+exportSeedChunk); i++ {
			c, err := benchCustomer(mid, i, now)
			if err != nil {
				return fmt.Errorf("customer %d: %w", i, err)
			}
			cs = append(cs, c)
		}
		if err := seed.Profiles(ctx, ddb, table, cs, exportSeedWriters); err != nil {
			return fmt.Errorf("seed customers %d–%d: %w", from, from+len(cs), err)
		}
		if done := from + len(cs); n >= 100_000 && done >= next {
			progress(fmt.Sprintf("exports: seeded %d of %d customers", done, n))
			next += n / 10
		}
	}
	return nil
}

// benchExport runs one customer export of merchant mid's n customers
// end to end, beside the raw Query of the partition it reads before and
// after it, and checks the file.
func benchExport(ctx context.Context, ddb *dynamodb.Client, table string, bucket *objects.Bucket, mid string, n int, now time.Time,
	log *slog.Logger, progress func(string)) (*ExportRun, error) {
	run := &ExportRun{Customers: n, BaselineOp: fmt.Sprintf("Query GSI1 M#<mid>#CUSTOMERS, Limit %d, 1 client", exportQueryLimit)}
	fail := func(err error) {
		run.Errors++
		if run.FirstError == "" {
			run.FirstError = err.Error()
		}
	}
	baseline := func(round string) scanRound {
		progress(fmt.Sprintf("exports: baseline, raw Query of the %d customers' index partition (%s)", n, round))
		r := rawCustomerQuery(ctx, ddb, table, mid)
		if r.err == nil && r.items != n {
			r.err = fmt.Errorf("the raw Query read %d items of the partition, %d seeded", r.items, n)
		}
		if r.err != nil {
			fail(fmt.Errorf("baseline (%s): %w", round, r.err))
		}
		return r
	}
	before := baseline("before the export")
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}

	progress(fmt.Sprintf("exports: CustomerExport of %d customers through jobs.Worker.Work", n))
	items := &itemCounter{API: ddb}
	counter := &phaseCounter{db: items}
	wst := dynamo.New(counter, table)
	runner := exports.NewRunner(wst, bucket, time.Now)
	q := &jobstest.Queue{Invocation: jobsInvocation}
	w := jobs.NewWorker(wst, q, map[jobs.Kind]jobs.Runner{jobs.CustomerExport: runner}, time.Now, log)
	params := exports.CustomerParams{Columns: crm.ColumnsFull, Query: crm.Query{Now: now}}

	runtime.GC()
	heap0, live0 := heapNow()
	sampler := startHeapSampler(exportMemoryEvery)
	counter.begin(time.Now())
	start := time.Now()
	j, runErr := runJob(ctx, wst, w, q, mid, jobs.CustomerExport, params, nil)
	elapsed := time.Since(start)
	counter.finish()
	peakHeap, peakLive, samples := sampler.stop()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	run.HeapBeforeMiB, run.PeakHeapMiB = mib(int64(heap0)), mib(int64(peakHeap))
	run.PeakHeapDeltaMiB, run.PeakLiveDeltaMiB = mib(int64(peakHeap)-int64(heap0)), mib(int64(peakLive)-int64(live0))
	run.HeapSamples = samples

	after := baseline("after the export")
	run.Seconds = elapsed.Seconds()
	run.Rows, run.Bytes, run.Slices, run.Parts = j.Progress.Written, j.Result.Bytes, j.Slices, exportParts(j.Cursor)
	run.PerSecond = ratio(float64(run.Rows), run.Seconds)
	var calls []string
	for _, p := range counter.phases {
		calls = append(calls, p.calls...)
	}
	run.Calls, run.CallsPerRow = formatCallsPerCustomer(calls, n), ratio(float64(len(calls)), float64(n))
	run.ItemsReadPerRow = ratio(float64(items.items.Load()), float64(n))
	run.Baseline = scanSummary([]scanRound{before, after})
	run.RateRatio = ratio(run.PerSecond, run.Baseline.PerSecond)
	run.RoundRatioMin, run.RoundRatioMax = roundRatios([]float64{run.PerSecond, run.PerSecond}, run.Baseline.Rounds)

	switch {
	case runErr != nil:
		fail(fmt.Errorf("the export: %w", runErr))
	case j.State != jobs.Succeeded:
		fail(fmt.Errorf("the export ended %s: %s", j.State, j.Error))
	case run.Rows != int64(n):
		fail(fmt.Errorf("the export wrote %d rows, %d seeded", run.Rows, n))
	default:
		progress(fmt.Sprintf("exports: read the %d-row file back", n))
		rows, distinct, err := countExport(ctx, bucket, j.Result.Object)
		run.RowsRead = rows
		switch {
		case err != nil:
			fail(fmt.Errorf("read the export back: %w", err))
		case rows != n || distinct != n:
			fail(fmt.Errorf("the file holds %d data rows of %d distinct customers, %d seeded", rows, distinct, n))
		}
	}
	return run, nil
}

// runJob enqueues a job of kind (prepare, if set, runs first: an import's
// upload) and works its messages until none is left; it returns the job as
// stored at the end.
func runJob(ctx context.Context, st *dynamo.Store, w *jobs.Worker, q *jobstest.Queue, mid string, kind jobs.Kind, params any,
	prepare func(jobs.Job) error) (jobs.Job, error) {
	j, err := jobs.New(mid, kind, params, "bench", time.Now())
	if err != nil {
		return jobs.Job{}, err
	}
	if prepare != nil {
		if err := prepare(j); err != nil {
			return jobs.Job{}, err
		}
		j.State = jobs.Queued // the file is uploaded: what starting the import does
	}
	if j, err = jobs.Enqueue(ctx, st, q, j); err != nil {
		return jobs.Job{}, err
	}
	if _, err := q.Drain(ctx, w); err != nil {
		return jobs.Job{}, fmt.Errorf("slice: %w", err)
	}
	return st.Job(ctx, mid, j.ID)
}

// exportParts is the number of parts an export's cursor records.
func exportParts(cursor json.RawMessage) int {
	var c struct {
		Upload multipart.Upload `json:"upload"`
	}
	if json.Unmarshal(cursor, &c) != nil {
		return 0
	}
	return len(c.Upload.Parts)
}

// countExport reads an exported file and returns its data rows and the
// distinct customer IDs (first column) among them.
func countExport(ctx context.Context, bucket *objects.Bucket, key string) (rows, distinct int, err error) {
	body, err := bucket.Open(ctx, key, 0)
	if err != nil {
		return 0, 0, err
	}
	defer body.Close()
	r := tabular.NewCSVReader(body, tabular.Position{}, tabular.Limits{})
	seen := map[string]struct{}{}
	header := true
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows, len(seen), nil
		}
		if err != nil {
			return rows, len(seen), err
		}
		if header {
			if len(row.Cells) == 0 || row.Cells[0] != "id" {
				return 0, 0, fmt.Errorf("header %v", row.Cells)
			}
			header = false
			continue
		}
		rows++
		seen[row.Cells[0]] = struct{}{}
	}
}

// itemCounter counts the items the Queries it passes on return.
type itemCounter struct {
	dynamo.API
	items atomic.Int64
}

func (c *itemCounter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.API.Query(ctx, in, o...)
	if err == nil {
		c.items.Add(int64(len(out.Items)))
	}
	return out, err
}

// scanRound is one raw read of a merchant's customer partition.
type scanRound struct {
	items, pages int
	elapsed      time.Duration
	pageTimes    []time.Duration
	err          error
}

// rawCustomerQuery reads the whole GSI1 partition of merchant mid's
// customers, as the export's ListCustomers does (same index, key condition,
// order and Limit), with the raw SDK and nothing done with the items.
func rawCustomerQuery(ctx context.Context, ddb *dynamodb.Client, table, mid string) scanRound {
	pages := dynamodb.NewQueryPaginator(ddb, &dynamodb.QueryInput{
		TableName:                 &table,
		IndexName:                 aws.String("GSI1"),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "M#" + mid + "#CUSTOMERS"}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(exportQueryLimit),
	})
	var r scanRound
	start := time.Now()
	for pages.HasMorePages() {
		t0 := time.Now()
		page, err := pages.NextPage(ctx)
		if err != nil {
			r.err = err
			break
		}
		r.pageTimes = append(r.pageTimes, time.Since(t0))
		r.items += len(page.Items)
		r.pages++
	}
	r.elapsed = time.Since(start)
	return r
}

// scanSummary combines the rounds of a raw read: items/s over their total
// time, each round's items/s, and the page latencies.
func scanSummary(rounds []scanRound) ScanBaseline {
	var s ScanBaseline
	var elapsed time.Duration
	var pageTimes []time.Duration
	for _, r := range rounds {
		s.Items += r.items
		s.Pages += r.pages
		elapsed += r.elapsed
		s.Rounds = append(s.Rounds, ratio(float64(r.items), r.elapsed.Seconds()))
		pageTimes = append(pageTimes, r.pageTimes...)
	}
	s.PerSecond = ratio(float64(s.Items), elapsed.Seconds())
	l := summarizeLatency(pageTimes)
	s.PageP50, s.PageMax = l.P50, l.Max
	return s
}

// heapNow returns the heap's objects (live, or dead and not yet swept) and
// the live heap as of the last GC, in bytes.
func heapNow() (heap, live uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// heapSampler records the highest heap and live heap while it runs.
type heapSampler struct {
	done, stopped    chan struct{}
	peakHeap, peakLv uint64
	samples          int
}

func startHeapSampler(every time.Duration) *heapSampler {
	t := time.NewTicker(every)
	return sampleHeapOn(t.C, t.Stop)
}

// sampleHeapOn samples the heap at every tick until stop, which calls
// stopTicks.
func sampleHeapOn(ticks <-chan time.Time, stopTicks func()) *heapSampler {
	s := &heapSampler{done: make(chan struct{}), stopped: make(chan struct{})}
	s.peakHeap, s.peakLv = heapNow()
	go func() {
		defer close(s.stopped)
		defer stopTicks()
		for {
			select {
			case <-s.done:
				return
			case <-ticks:
				s.sample()
			}
		}
	}()
	return s
}

func (s *heapSampler) sample() {
	h, l := heapNow()
	s.peakHeap, s.peakLv = max(s.peakHeap, h), max(s.peakLv, l)
	s.samples++
}

// stop ends the sampling (after a last sample) and returns the peaks.
func (s *heapSampler) stop() (heap, live uint64, samples int) {
	close(s.done)
	<-s.stopped
	s.sample()
	return s.peakHeap, s.peakLv, s.samples
}

// benchImport uploads a CSV file of m customer rows and runs the customer
// import of it into an empty merchant through the worker, beside raw
// CreateCustomer calls of the same customers in another empty merchant, from
// as many clients as the import processes rows at once: half before the
// import, half after. The Go heap is sampled during the import.
func benchImport(ctx context.Context, ddb *dynamodb.Client, table string, bucket *objects.Bucket, m int, now time.Time,
	log *slog.Logger, progress func(string)) (*ImportRun, error) {
	st := dynamo.New(ddb, table)
	run := &ImportRun{Rows: m, BaselineOp: fmt.Sprintf("CreateCustomer (dynamo.Store, TransactWriteItems), %d clients", imports.DefaultConcurrency)}
	fail := func(err error) {
		run.Errors++
		if run.FirstError == "" {
			run.FirstError = err.Error()
		}
	}
	var mids [2]string
	for i, name := range []string{"Bench Import", "Bench Import (baseline)"} {
		mt, _, err := seed.Merchant(ctx, st, name, "EUR", benchTimeZone, tenant.ScopeAdmin, now)
		if err != nil {
			return nil, fmt.Errorf("seed the import merchant: %w", err)
		}
		mids[i] = mt.ID
	}
	mid, baseMid := mids[0], mids[1]

	// The baseline creates from as many clients as the import processes
	// rows at once.
	clients := imports.DefaultConcurrency
	creates := func(from, to int) phase {
		progress(fmt.Sprintf("exports: baseline, CreateCustomer of rows %d–%d, %d clients", from+1, to, clients))
		var (
			p    phase
			mu   sync.Mutex
			next atomic.Int64
			wg   sync.WaitGroup
		)
		next.Store(int64(from))
		start := time.Now()
		for range clients {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < to && ctx.Err() == nil; i = int(next.Add(1) - 1) {
					c, err := benchCustomer(baseMid, i, now)
					t0 := time.Now()
					if err == nil {
						err = st.CreateCustomer(ctx, c)
					}
					d := time.Since(t0)
					mu.Lock()
					if err == nil {
						p.latencies = append(p.latencies, d)
					} else if p.errors++; p.firstErr == nil {
						p.firstErr = err
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		p.elapsed = time.Since(start)
		return p
	}
	half := m / 2
	before := creates(0, half)
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}

	counter := &phaseCounter{db: ddb}
	wst := dynamo.New(counter, table)
	runner := imports.NewRunner(wst, points.New(wst, time.Now), bucket, time.Now, log)
	runner.Concurrency = clients
	q := &jobstest.Queue{Invocation: jobsInvocation}
	w := jobs.NewWorker(wst, q, map[jobs.Kind]jobs.Runner{jobs.CustomerImport: runner}, time.Now, log)
	params := imports.Params{Format: imports.CSV, OnExisting: imports.Update}
	upload := func(j jobs.Job) error {
		progress(fmt.Sprintf("exports: upload a CSV of %d customer rows", m))
		size, err := uploadImportFile(ctx, bucket, imports.UploadKey(mid, j.ID, imports.CSV), m, now)
		run.Bytes = size
		return err
	}
	progress(fmt.Sprintf("exports: CustomerImport of %d rows through jobs.Worker.Work", m))
	var (
		start        time.Time
		sampler      *heapSampler
		heap0, live0 uint64
	)
	counter.begin(time.Now())
	j, runErr := runJob(ctx, wst, w, q, mid, jobs.CustomerImport, params, func(j jobs.Job) error {
		err := upload(j)
		// The upload is not the import's: its calls and memory are not counted.
		runtime.GC()
		heap0, live0 = heapNow()
		sampler = startHeapSampler(exportMemoryEvery)
		counter.begin(time.Now())
		start = time.Now()
		return err
	})
	elapsed := time.Since(start)
	counter.finish()
	if sampler != nil {
		peakHeap, peakLive, _ := sampler.stop()
		run.PeakHeapDeltaMiB, run.PeakLiveDeltaMiB = mib(int64(peakHeap)-int64(heap0)), mib(int64(peakLive)-int64(live0))
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	after := creates(half, m)

	run.Seconds = elapsed.Seconds()
	run.Written, run.Rejected, run.Slices = j.Progress.Written, j.Progress.Rejected, j.Slices
	run.PerSecond = ratio(float64(run.Written), run.Seconds)
	var calls []string
	for _, p := range counter.phases {
		calls = append(calls, p.calls...)
	}
	run.Calls, run.CallsPerRow = formatCallsPerCustomer(calls, m), ratio(float64(len(calls)), float64(m))
	run.Baseline = summarize([]phase{before, after})
	run.RateRatio = ratio(run.PerSecond, run.Baseline.PerSecond)
	run.RoundRatioMin, run.RoundRatioMax = roundRatios([]float64{run.PerSecond, run.PerSecond}, run.Baseline.Rounds)
	if run.Baseline.FirstError != "" {
		fail(fmt.Errorf("%s: %s", run.BaselineOp, run.Baseline.FirstError))
		run.Errors += run.Baseline.Errors - 1
	}

	switch {
	case runErr != nil:
		fail(fmt.Errorf("the import: %w", runErr))
	case j.State != jobs.Succeeded:
		fail(fmt.Errorf("the import ended %s: %s", j.State, j.Error))
	case run.Written != int64(m) || run.Rejected != 0:
		fail(fmt.Errorf("the import created %d customers and rejected %d rows, of %d", run.Written, run.Rejected, m))
	default:
		progress(fmt.Sprintf("exports: read back %d imported customers by e-mail", min(m, importVerified)))
		every := max(1, m/importVerified)
		for i := 0; i < m; i += every {
			want := benchProfile(i)
			c, err := st.CustomerByUnique(ctx, mid, crm.Unique{Kind: "email", Value: want.Email})
			run.Sampled++
			switch {
			case err != nil:
				fail(fmt.Errorf("imported row %d: %w", i+2, err))
			case c.ExternalID != want.ExternalID || c.Phone != want.Phone || strings.Join(c.Tags, "|") != strings.Join(want.Tags, "|") ||
				len(c.Addresses) != 1 || c.Addresses[0].City != want.Addresses[0].City || c.Attributes["talla"] != want.Attributes["talla"]:
				fail(fmt.Errorf("imported row %d: customer %+v, want the profile %+v", i+2, c.Profile, want))
			default:
				run.Verified++
			}
		}
	}
	return run, nil
}

// importColumns are the columns of the bench's import file: the profile
// columns of an export, without its id.
var importColumns = crm.ProfileColumns[1:]

// importRecord is customer i's row of the import file.
func importRecord(i int, now time.Time) ([]string, error) {
	c, err := benchCustomer("import", i, now)
	if err != nil {
		return nil, err
	}
	return crm.CSVRecord(crm.ColumnsFull, c, "EUR", now)[1:len(crm.ProfileColumns)], nil
}

// uploadImportFile writes the import file of m rows, with internal/tabular's
// writer, straight into a multipart upload of key, and returns its size.
func uploadImportFile(ctx context.Context, bucket *objects.Bucket, key string, m int, now time.Time) (int64, error) {
	id, err := bucket.StartUpload(ctx, key, imports.CSVContentType, "")
	if err != nil {
		return 0, err
	}
	up := multipart.Upload{Key: key, ID: id}
	var buf bytes.Buffer
	w := tabular.NewWriter(&buf, tabular.WriterOptions{})
	if err := w.Write(importColumns); err != nil {
		return 0, err
	}
	for i := range m {
		rec, err := importRecord(i, now)
		if err != nil {
			return 0, fmt.Errorf("row %d: %w", i+2, err)
		}
		if err := w.Write(rec); err != nil {
			return 0, err
		}
		if i%1000 == 999 {
			if err := w.Flush(); err != nil {
				return 0, err
			}
			if buf.Len() >= multipart.MinPartSize {
				if err := up.Add(ctx, bucket, buf.Bytes()); err != nil {
					return 0, err
				}
				buf.Reset()
			}
		}
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if buf.Len() > 0 || len(up.Parts) == 0 {
		if err := up.Add(ctx, bucket, buf.Bytes()); err != nil {
			return 0, err
		}
	}
	if err := bucket.CompleteUpload(ctx, key, id, up.Parts); err != nil {
		return 0, err
	}
	return up.Bytes, nil
}

// emptyBucket deletes the files the table wrote, even after an
// interruption.
func emptyBucket(s3c *s3.Client, name string, progress func(string)) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pages := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: &name})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			progress(fmt.Sprintf("warning: list the files of %s: %v", name, err))
			return
		}
		for _, o := range page.Contents {
			if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &name, Key: o.Key}); err != nil {
				progress(fmt.Sprintf("warning: delete %s: %v", aws.ToString(o.Key), err))
				return
			}
		}
	}
}
