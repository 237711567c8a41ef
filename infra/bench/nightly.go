package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"

	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/nightly"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/purchase"
	"github.com/regulars/regulars/internal/tenant"
)

const (
	// nightlyVerified is how many stored scores, evenly spread over the
	// customers, the bench checks after the run.
	nightlyVerified = 500
	// nightlySeedWriters is how many clients write the seed at once.
	nightlySeedWriters = 4
	// nightlyMetered is the size of the second, metered run: enough
	// customers for three pages of the score phase (100 each).
	nightlyMetered = 250
	batchWriteMax  = 25
)

// benchNightly is table 8: the nightly worker (nightly.Worker.Run, what the
// NightlyFunction runs for one job) over n customers of a merchant of their
// own on DynamoDB Local, beside a raw Query of each customer's DAY# items,
// then the DynamoDB calls and units per customer of a smaller run through
// the counting proxy.
func benchNightly(ctx context.Context, e *environment, n int, asOf time.Time, progress func(string)) (*Nightly, error) {
	loc, err := time.LoadLocation(benchTimeZone)
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(e.aws, func(o *dynamodb.Options) { o.Logger = logging.Nop{} })
	table := e.res.Ref(e.table.LogicalID)
	st := dynamo.New(ddb, table)
	res := &Nightly{Customers: n, AsOf: asOf.Format(time.DateOnly)}

	mid, err := nightlyMerchant(ctx, st, "Bench Nightly")
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("nightly: seed %d customers with their DAY# and ORDER# items (BatchWriteItem, %d clients)", n, nightlySeedWriters))
	start := time.Now()
	sd, err := seedNightly(ctx, ddb, table, mid, n, asOf, loc, max(1, n/nightlyVerified), progress)
	if err != nil {
		return nil, err
	}
	res.SeedSeconds = time.Since(start).Seconds()
	res.TicketDays, res.Orders, res.SeedItems = sd.ticketDays, sd.orders, sd.items

	// The baseline reads each customer's DAY# items once, one customer
	// after another like the worker: the first half of the customers before
	// the run, the second half after it.
	baseline := dayQueries{ddb: ddb, table: table, seed: sd}
	half := n / 2
	progress(fmt.Sprintf("nightly: baseline, Query of the DAY# items of customers 1–%d, one after another", half))
	before := baseline.run(ctx, 0, half)

	progress(fmt.Sprintf("nightly: nightly.Worker.Run over %d customers, as of %s", n, res.AsOf))
	counter := &phaseCounter{db: ddb}
	logged := &firstError{}
	run, elapsed, runErr := runWorker(ctx, counter, table, mid, res.AsOf, logged)
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("nightly: baseline, Query of the DAY# items of customers %d–%d", half+1, n))
	after := baseline.run(ctx, half, n)

	res.Seconds = elapsed.Seconds()
	res.PerSecond = ratio(float64(n), res.Seconds)
	res.Phase, res.RunCustomers, res.Scored = run.Phase, run.Customers, run.Scored
	res.BGNBD, res.GammaGamma, res.NoFit = run.Model.BGNBD, run.Model.GammaGamma, run.Model.NoFit
	var all []string
	for _, p := range counter.phases {
		ph := NightlyPhase{Phase: p.phase, Seconds: p.elapsed.Seconds(), Calls: formatCallsPerCustomer(p.calls, n),
			CallsPerCustomer: ratio(float64(len(p.calls)), float64(n))}
		if p.phase != analytics.PhaseHousekeeping {
			ph.PerSecond = ratio(float64(n), p.elapsed.Seconds())
		}
		res.Phases = append(res.Phases, ph)
		all = append(all, p.calls...)
	}
	res.Calls, res.CallsPerCustomer = formatCallsPerCustomer(all, n), ratio(float64(len(all)), float64(n))
	res.BaselineOp = "Query DAY# items (ConsistentRead), 1 client"
	res.Baseline = summarize([]phase{before, after})
	res.RateRatio = ratio(res.PerSecond, res.Baseline.PerSecond)
	res.RoundRatioMin, res.RoundRatioMax = roundRatios([]float64{res.PerSecond, res.PerSecond}, res.Baseline.Rounds)
	res.HandlerError = logged.get()

	// Strict accounting: the run must end done with every customer scored,
	// and the scores it stored must be what the model gives for the
	// customers as seeded.
	fail := func(err error) {
		res.Errors++
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
	switch {
	case runErr != nil:
		fail(fmt.Errorf("nightly.Worker.Run: %w", runErr))
	case run.Phase != analytics.PhaseDone:
		fail(fmt.Errorf("the run ended in phase %q, not %q", run.Phase, analytics.PhaseDone))
	}
	if run.Customers != n || run.Scored != run.Customers {
		fail(fmt.Errorf("the run counted %d customers and scored %d, for %d seeded", run.Customers, run.Scored, n))
	}
	if run.Model.NoFit != "" {
		fail(fmt.Errorf("the run found no fit: %s", run.Model.NoFit))
	}
	if runErr == nil {
		progress(fmt.Sprintf("nightly: check %d stored scores and 12-month figures against the model", len(sd.sample)))
		started := run.StartedAt.In(loc)
		today := time.Date(started.Year(), started.Month(), started.Day(), 0, 0, 0, 0, time.UTC)
		for _, i := range slices.Sorted(maps.Keys(sd.sample)) {
			c := sd.sample[i]
			want := run.Model.ScoreOf(c, asOf)
			got, err := st.Score(ctx, mid, want.CustomerID)
			var profile crm.Customer
			if err == nil {
				profile, err = st.Customer(ctx, mid, c.ID)
			}
			t, r, m := c.Figures12M(today)
			switch pm := profile.Metrics; {
			case err != nil:
				fail(fmt.Errorf("read the score and profile of customer %d: %w", i, err))
			case !reflect.DeepEqual(got, want):
				fail(fmt.Errorf("customer %d: stored score %+v, want %+v", i, got, want))
			case pm.Tickets12M != t || pm.Revenue12M != r || pm.Margin12M != m:
				fail(fmt.Errorf("customer %d: 12-month figures %d, %d, %d on the profile, want %d, %d, %d", i,
					pm.Tickets12M, pm.Revenue12M, pm.Margin12M, t, r, m))
			default:
				res.Verified++
			}
		}
		res.Sampled = len(sd.sample)
	}
	for _, p := range []phase{before, after} {
		res.Errors += p.errors
		if res.FirstError == "" && p.firstErr != nil {
			res.FirstError = res.BaselineOp + ": " + p.firstErr.Error()
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}

	progress(fmt.Sprintf("nightly: meter the DynamoDB calls and units of a run over %d customers (counting proxy)", nightlyMetered))
	if res.Metered, err = meterNightly(ctx, e, ddb, asOf, loc); err != nil {
		return nil, err
	}
	return res, nil
}

// nightlyMerchant creates a merchant for a nightly run, with the default
// points program on (so that the badge recompute of the score phase reads
// what it reads in production).
func nightlyMerchant(ctx context.Context, st *dynamo.Store, name string) (string, error) {
	now := time.Now()
	m, _, err := seed.Merchant(ctx, st, name, "EUR", benchTimeZone, tenant.ScopeAdmin, now)
	if err != nil {
		return "", fmt.Errorf("seed the nightly merchant: %w", err)
	}
	p := loyalty.DefaultProgram()
	p.Enabled = true
	if _, err := st.SaveProgram(ctx, m.ID, p, 0, "bench", now); err != nil {
		return "", fmt.Errorf("the nightly merchant's program: %w", err)
	}
	return m.ID, nil
}

// runWorker runs the nightly worker as the NightlyFunction does for one
// job, with its DynamoDB calls counted by phase. The bench's deadline is
// not passed on: the worker would pause a minute before it (nightly's
// pauseMargin) and the run would end halfway; an interruption still stops
// it.
func runWorker(ctx context.Context, counter *phaseCounter, table, mid, asOf string, logged *firstError) (analytics.Run, time.Duration, error) {
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	stopRun := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	defer stopRun()
	wst := dynamo.New(counter, table)
	w := nightly.NewWorker(wst, points.New(wst, time.Now), time.Now, slog.New(errorLog{slog.DiscardHandler, logged}))
	start := time.Now()
	counter.begin(start)
	run, err := w.Run(runCtx, nightly.Job{MerchantID: mid, AsOf: asOf})
	elapsed := time.Since(start)
	counter.finish()
	return run, elapsed, err
}

// meterNightly runs the worker over nightlyMetered customers of another
// merchant through the counting proxy, with the write rules on, and returns
// the calls and units per customer of each phase.
func meterNightly(ctx context.Context, e *environment, ddb *dynamodb.Client, asOf time.Time, loc *time.Location) (*NightlyMetered, error) {
	table := e.res.Ref(e.table.LogicalID)
	st := dynamo.New(ddb, table)
	mid, err := nightlyMerchant(ctx, st, "Bench Nightly (metered)")
	if err != nil {
		return nil, err
	}
	if _, err := seedNightly(ctx, ddb, table, mid, nightlyMetered, asOf, loc, 0, func(string) {}); err != nil {
		return nil, err
	}
	m, proxy, err := startMeter(e, ddb)
	if err != nil {
		return nil, err
	}
	defer m.close()
	m.setRules(true)
	if _, err := m.take(); err != nil {
		return nil, err
	}
	metered := dynamodb.NewFromConfig(e.aws, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(proxy.URL)
		o.Logger = logging.Nop{}
	})
	out := &NightlyMetered{Customers: nightlyMetered}
	var tallyErr error
	counter := &phaseCounter{db: metered, ended: func(phase string, calls []string) {
		t, err := m.take()
		if err != nil {
			tallyErr = errors.Join(tallyErr, err)
		}
		per := func(v float64) float64 { return v / nightlyMetered }
		out.Phases = append(out.Phases, NightlyPhase{Phase: phase, Calls: formatCallsPerCustomer(t.calls, nightlyMetered),
			CallsPerCustomer: per(float64(len(t.calls))), RCU: per(t.rcu), WCU: per(t.wcu),
			Rules:        &WriteUnits{Table: per(t.rulesWCU.Table), GSI: per(t.rulesWCU.GSI), Total: per(t.rulesWCU.Total)},
			ItemsWritten: per(float64(t.written)), FailedCalls: per(float64(t.failed))})
	}}
	logged := &firstError{}
	run, _, runErr := runWorker(ctx, counter, table, mid, asOf.Format(time.DateOnly), logged)
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	switch {
	case runErr != nil:
		return nil, fmt.Errorf("the metered nightly run: %w (logged: %s)", runErr, logged.get())
	case tallyErr != nil:
		return nil, fmt.Errorf("meter the nightly run: %w", tallyErr)
	case run.Phase != analytics.PhaseDone || run.Scored != nightlyMetered || run.Customers != nightlyMetered:
		return nil, fmt.Errorf("the metered nightly run ended in phase %q with %d of %d customers scored", run.Phase, run.Scored, nightlyMetered)
	}
	var total tally
	for _, p := range out.Phases {
		out.CallsPerCustomer += p.CallsPerCustomer
		out.RCU += p.RCU
		out.WCU += p.WCU
		total.rulesWCU.add(*p.Rules)
	}
	out.Rules = &total.rulesWCU
	return out, nil
}

// seeded is what seedNightly wrote.
type seeded struct {
	pks        []string // each customer's partition key, by index
	days       []int    // each customer's DAY# items, by index
	sample     map[int]analytics.Customer
	ticketDays int
	orders     int
	items      int
}

// seedNightly writes n synthetic customers of merchant mid, with their
// DAY# and ORDER# items, straight to the table with BatchWriteItem: the
// shortcut that makes 100,000 customers affordable (ingest would take one
// transaction per purchase). The profile items and their identifier claim
// are the ones dynamo.Store.CreateCustomer writes (captured, not sent), with
// the metrics purchase.Update folds from the orders; the DAY# and ORDER#
// items are those of dynamo.Store.ApplyOrder (dayItem, orderItem), for one
// "paid" event per order. Every sampleEvery-th customer (0: none) is kept as
// the analysis should read it.
func seedNightly(ctx context.Context, ddb *dynamodb.Client, table, mid string, n int, asOf time.Time, loc *time.Location,
	sampleEvery int, progress func(string)) (*seeded, error) {
	now := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 23, 59, 59, 0, loc)
	out := &seeded{pks: make([]string, n), days: make([]int, n), sample: map[int]analytics.Customer{}}
	var mu sync.Mutex
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var done int
	for w := range nightlySeedWriters {
		wg.Go(func() {
			capture := &seed.Capture{}
			cst := dynamo.New(capture, table)
			var batch []map[string]types.AttributeValue
			flush := func() error {
				err := seed.BatchWrite(ctx, ddb, table, batch)
				batch = batch[:0]
				return err
			}
			for i := w; i < n; i += nightlySeedWriters {
				if ctx.Err() != nil {
					return
				}
				items, s, err := seedItems(ctx, cst, capture, mid, i, asOf, loc, now)
				if err != nil {
					cancel(fmt.Errorf("seed customer %d: %w", i, err))
					return
				}
				for _, it := range items {
					batch = append(batch, it)
					if len(batch) == batchWriteMax {
						if err := flush(); err != nil {
							cancel(err)
							return
						}
					}
				}
				mu.Lock()
				out.pks[i] = s.pk
				out.days[i] = len(s.stored.days)
				out.ticketDays += len(s.stored.days)
				out.orders += len(s.stored.orders)
				out.items += len(items)
				if sampleEvery > 0 && i%sampleEvery == 0 {
					out.sample[i] = s.stored.analysed
				}
				if done++; n >= 10000 && done%(n/10) == 0 {
					progress(fmt.Sprintf("nightly: seeded %d of %d customers", done, n))
				}
				mu.Unlock()
			}
			if len(batch) > 0 {
				if err := flush(); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// seedItem is one seeded customer.
type seedItem struct {
	pk     string
	stored synthStored
}

// seedItems returns every item of customer i: the profile and identifier
// claim CreateCustomer writes, the DAY# and the ORDER# items.
func seedItems(ctx context.Context, cst *dynamo.Store, capture *seed.Capture, mid string, i int, asOf time.Time, loc *time.Location,
	now time.Time) ([]map[string]types.AttributeValue, seedItem, error) {
	s, err := storedCustomer(mid, i, asOf, loc, now)
	if err != nil {
		return nil, seedItem{}, err
	}
	capture.Items = capture.Items[:0]
	if err := cst.CreateCustomer(ctx, s.customer); err != nil {
		return nil, seedItem{}, err
	}
	items := capture.Items
	if len(items) == 0 {
		return nil, seedItem{}, errors.New("CreateCustomer wrote no item")
	}
	pkAV, ok := items[0]["PK"].(*types.AttributeValueMemberS)
	if !ok {
		return nil, seedItem{}, errors.New("CreateCustomer's first item has no string PK")
	}
	pk := pkAV.Value
	for _, d := range s.days {
		av, err := attributevalue.MarshalMap(seedDayItem{PK: pk, SK: daySKPrefix + d.Date, Type: "ticket_day", Version: 1,
			Date: d.Date, Orders: d.Orders, Revenue: d.Revenue, Margin: d.Margin, Units: d.Units})
		if err != nil {
			return nil, seedItem{}, err
		}
		items = append(items, av)
	}
	for _, o := range s.orders {
		av, err := attributevalue.MarshalMap(seedOrderItem{PK: pk, SK: orderSKPrefix + o.OrderID, Type: "order", Version: 1,
			Order: o, UpdatedAt: o.At()})
		if err != nil {
			return nil, seedItem{}, err
		}
		items = append(items, av)
	}
	return items, seedItem{pk: pk, stored: s}, nil
}

// The key prefixes and item shapes of internal/dynamo (orders.go: dayItem,
// orderItem), which the bench cannot import; TestSeedItemsReadBack reads
// them back through the store.
const (
	daySKPrefix   = "DAY#"
	orderSKPrefix = "ORDER#"
)

type seedDayItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Date    string `dynamodbav:"date"`
	Orders  int64  `dynamodbav:"orders"`
	Revenue int64  `dynamodbav:"revenue"`
	Margin  int64  `dynamodbav:"margin"`
	Units   int64  `dynamodbav:"units"`
}

type seedOrderItem struct {
	PK        string         `dynamodbav:"PK"`
	SK        string         `dynamodbav:"SK"`
	Type      string         `dynamodbav:"type"`
	Version   int64          `dynamodbav:"version"`
	Order     purchase.Order `dynamodbav:"order"`
	UpdatedAt time.Time      `dynamodbav:"updated_at"`
}

// dayQueries is the baseline of table 8: one raw Query of a customer's
// DAY# items, as the store's TicketDays sends it, per customer.
type dayQueries struct {
	ddb   *dynamodb.Client
	table string
	seed  *seeded
}

// run queries the DAY# items of customers [from, to), one after another;
// a failed query, or one that finds other than the seeded count, is an
// error.
func (q dayQueries) run(ctx context.Context, from, to int) phase {
	var p phase
	start := time.Now()
	for i := from; i < to && ctx.Err() == nil; i++ {
		t0 := time.Now()
		found, err := q.days(ctx, q.seed.pks[i])
		if err == nil && found != q.seed.days[i] {
			err = fmt.Errorf("customer %d: %d DAY# items, %d seeded", i, found, q.seed.days[i])
		}
		if err != nil {
			p.errors++
			if p.firstErr == nil {
				p.firstErr = err
			}
			continue
		}
		p.latencies = append(p.latencies, time.Since(t0))
	}
	p.elapsed = time.Since(start)
	return p
}

func (q dayQueries) days(ctx context.Context, pk string) (int, error) {
	pages := dynamodb.NewQueryPaginator(q.ddb, &dynamodb.QueryInput{
		TableName:              &q.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":sk": &types.AttributeValueMemberS{Value: daySKPrefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	found := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		found += len(page.Items)
	}
	return found, nil
}

// phaseCounter is the worker's DynamoDB client: it counts every call the
// store makes, by phase of the run. The phase moves when the store saves
// the run item with a new phase (SaveRun, a PutItem of RUN#<as-of>): the
// save that ends a phase counts in it. ended, if set, is called as each
// phase ends (the metered run takes the counting proxy's tally there).
type phaseCounter struct {
	db    dynamo.API
	ended func(phase string, calls []string)

	mu      sync.Mutex
	phase   string
	started time.Time
	calls   []string
	phases  []phaseTally
}

type phaseTally struct {
	phase   string
	elapsed time.Duration
	calls   []string
}

func (c *phaseCounter) begin(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase, c.started, c.calls, c.phases = analytics.PhaseCollect, t, nil, nil
}

func (c *phaseCounter) note(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, op)
}

// moveTo ends the current phase if p is another.
func (c *phaseCounter) moveTo(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p == c.phase {
		return
	}
	c.end()
	c.phase, c.started, c.calls = p, time.Now(), nil
}

// finish ends the last phase, unless it is done (which makes no call).
func (c *phaseCounter) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.phase != analytics.PhaseDone || len(c.calls) > 0 {
		c.end()
	}
}

func (c *phaseCounter) end() {
	c.phases = append(c.phases, phaseTally{phase: c.phase, elapsed: time.Since(c.started), calls: c.calls})
	if c.ended != nil {
		c.ended(c.phase, c.calls)
	}
}

// runPhase is the phase of a run item being saved, or "".
func runPhase(item map[string]types.AttributeValue) string {
	sk, ok := item["SK"].(*types.AttributeValueMemberS)
	if !ok || !strings.HasPrefix(sk.Value, "RUN#") {
		return ""
	}
	run, ok := item["run"].(*types.AttributeValueMemberM)
	if !ok {
		return ""
	}
	p, _ := run.Value["Phase"].(*types.AttributeValueMemberS)
	if p == nil {
		return ""
	}
	return p.Value
}

func (c *phaseCounter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.note("GetItem")
	return c.db.GetItem(ctx, in, o...)
}

func (c *phaseCounter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.note("PutItem")
	out, err := c.db.PutItem(ctx, in, o...)
	if p := runPhase(in.Item); err == nil && p != "" {
		c.moveTo(p)
	}
	return out, err
}

func (c *phaseCounter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.note("UpdateItem")
	return c.db.UpdateItem(ctx, in, o...)
}

func (c *phaseCounter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.note("DeleteItem")
	return c.db.DeleteItem(ctx, in, o...)
}

func (c *phaseCounter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.note("Query")
	return c.db.Query(ctx, in, o...)
}

func (c *phaseCounter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.note("BatchGetItem")
	return c.db.BatchGetItem(ctx, in, o...)
}

func (c *phaseCounter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.note("BatchWriteItem")
	return c.db.BatchWriteItem(ctx, in, o...)
}

func (c *phaseCounter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.note("TransactWriteItems")
	return c.db.TransactWriteItems(ctx, in, o...)
}

// formatCallsPerCustomer is formatCalls for the calls of a run over n
// customers: each count per customer (perCustomer), e.g.
// "Query×4 + UpdateItem + PutItem×0.01".
func formatCallsPerCustomer(ops []string, n int) string {
	var order []string
	count := map[string]int{}
	for _, op := range ops {
		if count[op] == 0 {
			order = append(order, op)
		}
		count[op]++
	}
	parts := make([]string, len(order))
	for i, op := range order {
		parts[i] = op
		if per := float64(count[op]) / float64(max(n, 1)); per != 1 {
			parts[i] += "×" + perCustomer(per)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " + ")
}

// perCustomer prints a count per customer: two decimals at most, or two
// significant digits below 0.1 (a call per page of a large run).
func perCustomer(v float64) string {
	if v == 0 || v >= 0.1 {
		return trimFloat(v)
	}
	digits := int(math.Ceil(-math.Log10(v))) + 1
	s := strings.TrimRight(strconv.FormatFloat(v, 'f', digits, 64), "0")
	return strings.TrimSuffix(s, ".")
}
