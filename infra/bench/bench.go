// Package bench is `make bench`: in one bounded run on the local stack it
// measures the API through the local gateway against raw DynamoDB Local calls
// on the same table (customers, and points operations against the raw
// transactions that write the same items), the purchase webhook against raw
// SQS sends to the same queue, the ingest consumer draining the queue
// against raw transactions of one purchase's items, meters the DynamoDB
// calls and capacity units of one request (or purchase) of each, and
// measures the size and cold init of every Lambda binary of template.yaml
// against a hello-world Lambda, and the nightly analytics (the analysis of
// synthetic customers in memory against a plain sort of as many keys, the
// nightly worker end to end against raw queries of the same customers'
// ticket days), and the customer export and import jobs end to end (against
// raw Queries of the partition the export reads, and raw CreateCustomer
// calls), each figure beside a baseline
// measured in the same run (this machine is small, shared and noisy: only
// same-run ratios mean something). docs/benchmarks.md explains each figure.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/template"
)

// Config bounds a run.
type Config struct {
	Clients  int           // concurrent clients of each load phase
	Phase    time.Duration // duration of each measured phase, unless Requests > 0
	Requests int           // requests per client per phase; 0: run for Phase
	Rounds   int           // measured phases per operation
	Warmup   time.Duration // discarded phase per operation before the rounds; 0: none
	Runs     int           // cold starts per binary
	Timeout  time.Duration // bound of the whole run
	// Purchases is how many purchases the measured rounds ingest end to
	// end, split evenly over the rounds; Pollers is how many pollers drain
	// the queue at once (and clients the ingest baseline has).
	Purchases int
	Pollers   int
	// AnalyticsCustomers is how many synthetic customers the nightly
	// analysis runs over in memory (table 7); NightlyCustomers how many the
	// nightly worker runs over on DynamoDB Local (table 8). 0 skips a table.
	AnalyticsCustomers int
	NightlyCustomers   int
	// ExportCustomers is how many customers table 9 exports (and a tenth
	// as many in a second export); ImportRows how many CSV rows it
	// imports. 0 skips that part.
	ExportCustomers int
	ImportRows      int
	// Only runs these tables alone (a comma-separated list of tableNames);
	// "": all.
	Only string
}

// tableNames name the tables -only selects: api is tables 1 to 5.
var tableNames = []string{"api", "functions", "analytics", "nightly", "exports"}

// runs reports whether the run includes the tables named name.
func (c Config) runs(name string) bool {
	if c.Only == "" {
		return true
	}
	for t := range strings.SplitSeq(c.Only, ",") {
		if strings.TrimSpace(t) == name {
			return true
		}
	}
	return false
}

// DefaultConfig keeps tables 1 to 6 under two minutes on a 2-core machine
// once the build cache is warm; tables 7 and 8 run at the sizes the
// analytics issue asks for (1,000,000 customers in memory) or can afford
// (5,000 on DynamoDB Local), and take longer (docs/benchmarks.md).
func DefaultConfig() Config {
	return Config{Clients: 8, Phase: 750 * time.Millisecond, Rounds: 4, Warmup: 500 * time.Millisecond, Runs: 10, Timeout: time.Hour,
		Purchases: 1000, Pollers: 5, AnalyticsCustomers: 1_000_000, NightlyCustomers: 5000, ExportCustomers: 20_000, ImportRows: 2000}
}

// RegisterFlags binds c to flags of fs, with c's values as defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.Clients, "clients", c.Clients, "concurrent clients, each sending one request at a time")
	fs.DurationVar(&c.Phase, "phase", c.Phase, "duration of each measured phase of each operation")
	fs.IntVar(&c.Requests, "requests", c.Requests, "requests per client per phase instead of -phase (0: use -phase)")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "measured phases per operation, in ABBA order (even is best)")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "discarded warm-up phase per operation (0: none)")
	fs.IntVar(&c.Runs, "runs", c.Runs, "cold starts per Lambda binary and per baseline")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "bound of the whole run")
	fs.IntVar(&c.Purchases, "purchases", c.Purchases, "purchases ingested end to end over the rounds (about 4 per customer)")
	fs.IntVar(&c.Pollers, "pollers", c.Pollers, "concurrent pollers of the purchase queue (and clients of the ingest baseline)")
	fs.IntVar(&c.AnalyticsCustomers, "analytics-customers", c.AnalyticsCustomers, "synthetic customers of the nightly analysis in memory (0: skip table 7)")
	fs.IntVar(&c.NightlyCustomers, "nightly-customers", c.NightlyCustomers, "customers of the nightly run end to end on DynamoDB Local (0: skip table 8)")
	fs.IntVar(&c.ExportCustomers, "export-customers", c.ExportCustomers, "customers of the export end to end in table 9, beside a tenth as many (0: skip the exports)")
	fs.IntVar(&c.ImportRows, "import-rows", c.ImportRows, "CSV rows of the import end to end in table 9 (0: skip the import)")
	fs.StringVar(&c.Only, "only", c.Only, "run only these tables, comma-separated: "+strings.Join(tableNames, ", ")+" (api: tables 1 to 5)")
}

// minAnalyticsCustomers is the least a nightly analysis table runs with:
// enough customers for the models to fit (analytics.MinCustomers and
// MinRepeaters, with margin).
const minAnalyticsCustomers = 100

// minExportCustomers is the least an export table runs with: its second
// export, of a tenth as many, still fills pages.
const minExportCustomers = 1000

func (c Config) validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{{"clients", c.Clients}, {"rounds", c.Rounds}, {"runs", c.Runs}, {"pollers", c.Pollers}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("-%s must be at least 1, not %d", f.name, f.v))
		}
	}
	if c.Purchases < c.Rounds {
		errs = append(errs, fmt.Errorf("-purchases must be at least -rounds (%d), not %d", c.Rounds, c.Purchases))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"analytics-customers", c.AnalyticsCustomers}, {"nightly-customers", c.NightlyCustomers}} {
		if f.v != 0 && f.v < minAnalyticsCustomers {
			errs = append(errs, fmt.Errorf("-%s must be 0 (skip) or at least %d, not %d", f.name, minAnalyticsCustomers, f.v))
		}
	}
	if c.ExportCustomers != 0 && c.ExportCustomers < minExportCustomers {
		errs = append(errs, fmt.Errorf("-export-customers must be 0 (skip) or at least %d, not %d", minExportCustomers, c.ExportCustomers))
	}
	if c.ImportRows < 0 {
		errs = append(errs, fmt.Errorf("-import-rows must not be negative, not %d", c.ImportRows))
	}
	if c.Only != "" {
		for t := range strings.SplitSeq(c.Only, ",") {
			if !slices.Contains(tableNames, strings.TrimSpace(t)) {
				errs = append(errs, fmt.Errorf("-only: no table %q (tables: %s)", t, strings.Join(tableNames, ", ")))
			}
		}
	}
	if c.Requests < 0 {
		errs = append(errs, fmt.Errorf("-requests must not be negative, not %d", c.Requests))
	}
	if c.Requests == 0 && c.Phase <= 0 {
		errs = append(errs, fmt.Errorf("-phase must be positive when -requests is 0, not %s", c.Phase))
	}
	if c.Warmup < 0 || c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-warmup must not be negative and -timeout must be positive (%s, %s)", c.Warmup, c.Timeout))
	}
	return errors.Join(errs...)
}

func (c Config) settings() Settings {
	s := Settings{Clients: c.Clients, RequestsPerClient: c.Requests, Rounds: c.Rounds, Warmup: c.Warmup.String(), InitRuns: c.Runs,
		Purchases: c.Purchases, Pollers: c.Pollers, AnalyticsCustomers: c.AnalyticsCustomers, NightlyCustomers: c.NightlyCustomers,
		ExportCustomers: c.ExportCustomers, ImportRows: c.ImportRows, Only: c.Only}
	if c.Requests == 0 {
		s.Phase = c.Phase.String()
	}
	return s
}

// environment is what the benchmarks run against.
type environment struct {
	root  string // the repository: the directory of template.yaml
	tmpl  *template.Template
	table template.Table // the table the API uses (logical ID Table)
	res   localstack.Resources
	aws   aws.Config
}

func (e *environment) keyOfType(keyType string) string {
	for _, k := range e.table.KeySchema {
		if k.KeyType == keyType {
			return k.AttributeName
		}
	}
	return ""
}

func (e *environment) hashKey() string  { return e.keyOfType("HASH") }
func (e *environment) rangeKey() string { return e.keyOfType("RANGE") }

// Run runs every benchmark and returns the report; progress receives a line
// per step. Everything it starts or creates is gone when it returns.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("the bench did not finish within -timeout %s", cfg.Timeout))
	defer cancel()
	start := time.Now()
	say := func(s string) { fmt.Fprintf(progress, "bench: %5.1fs %s\n", time.Since(start).Seconds(), s) }
	rep, err := run(ctx, cfg, say)
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return rep, err
}

func run(ctx context.Context, cfg Config, say func(string)) (*Report, error) {
	rep := &Report{Date: time.Now(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(), Settings: cfg.settings()}
	if start, ok := loadAverage(); ok {
		rep.Load = &Load{Start: start}
	}
	out, err := exec.CommandContext(ctx, "go", "version").Output()
	if err != nil {
		return nil, fmt.Errorf("go version: %w", err)
	}
	rep.GoVersion = strings.TrimSpace(string(out))

	e, release, err := prepare(ctx, say)
	if err != nil {
		return nil, err
	}
	defer release()
	if cfg.runs("functions") {
		if rep.Functions, err = benchFunctions(ctx, e, cfg.Runs, say); err != nil {
			return nil, err
		}
	}
	if cfg.runs("api") {
		api, err := benchAPI(ctx, e, cfg, say)
		if err != nil {
			return nil, err
		}
		rep.API, rep.Points, rep.Capacity, rep.HandlerError, rep.Errors = api.api, api.points, api.capacity, api.handlerError, api.failed
		rep.Webhook, rep.Ingest = api.webhook, api.ingest
	}
	loc, err := time.LoadLocation(benchTimeZone)
	if err != nil {
		return nil, err
	}
	asOf := analyticsAsOf(time.Now(), loc)
	if cfg.AnalyticsCustomers > 0 && cfg.runs("analytics") {
		if rep.Compute, err = benchCompute(ctx, cfg.AnalyticsCustomers, asOf, say); err != nil {
			return nil, err
		}
		rep.Errors += rep.Compute.Errors
	}
	if cfg.NightlyCustomers > 0 && cfg.runs("nightly") {
		if rep.Nightly, err = benchNightly(ctx, e, cfg.NightlyCustomers, asOf, say); err != nil {
			return nil, err
		}
		rep.Errors += rep.Nightly.Errors
	}
	if (cfg.ExportCustomers > 0 || cfg.ImportRows > 0) && cfg.runs("exports") {
		if rep.Exports, err = benchExports(ctx, e, cfg.ExportCustomers, cfg.ImportRows, say); err != nil {
			return nil, err
		}
		rep.Errors += rep.Exports.Errors
	}
	if end, ok := loadAverage(); ok && rep.Load != nil {
		rep.Load.End = end
	}
	return rep, nil
}

// loadAverage returns the 1-minute load average, where /proc/loadavg has it.
func loadAverage() (float64, bool) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(data), " ")
	v, err := strconv.ParseFloat(first, 64)
	return v, err == nil
}

// prepare finds the template and the stack, and provisions the template's
// resources under a unique prefix. release stops the stack it started, or
// deletes the resources from a stack that outlives the bench.
func prepare(ctx context.Context, say func(string)) (_ *environment, release func(), err error) {
	path, err := template.Find()
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := template.Load(path)
	if err != nil {
		return nil, nil, err
	}
	e := &environment{root: filepath.Dir(path), tmpl: tmpl}
	found := false
	for _, t := range tmpl.Tables {
		if t.LogicalID == "Table" {
			e.table, found = t, true
		}
	}
	if !found {
		return nil, nil, errors.New("template.yaml declares no table Table, the one the API uses")
	}

	stack, err := useStack(ctx, say)
	if err != nil {
		return nil, nil, err
	}
	stop := func() {
		if stack == nil {
			return
		}
		if err := stack.Stop(); err != nil {
			say(fmt.Sprintf("warning: stop the local stack: %v", err))
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	if e.aws, err = config.LoadDefaultConfig(ctx); err != nil {
		return nil, nil, fmt.Errorf("load AWS config for the local stack: %w", err)
	}
	names := localstack.Names{Prefix: localstack.UniquePrefix("bench")}
	say("provision template.yaml as " + names.Prefix + "-*")
	if e.res, err = localstack.Provision(ctx, e.aws, tmpl, names); err != nil {
		return nil, nil, fmt.Errorf("provision: %w", err)
	}
	return e, func() {
		if stack != nil {
			stop() // and everything in it
			return
		}
		if err := deprovision(e); err != nil {
			say(fmt.Sprintf("warning: delete %s-*: %v", names.Prefix, err))
		}
	}, nil
}

// endpointVars point the SDK at the local stack; `stack exec` sets them all.
var endpointVars = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3"}

// useStack checks the stack that endpointVars point to (all of them, on
// loopback: no request of the bench may leave this machine) and returns nil,
// or starts a stack when none is set, exports its environment and returns it.
func useStack(ctx context.Context, say func(string)) (*localstack.Stack, error) {
	var set []string
	for _, v := range endpointVars {
		if endpoint := os.Getenv(v); endpoint != "" {
			if !loopback(endpoint) {
				return nil, fmt.Errorf("%s=%s is not a loopback address: the bench only sends traffic to this machine", v, endpoint)
			}
			set = append(set, v)
		}
	}
	switch len(set) {
	case len(endpointVars):
		return nil, nil
	case 0:
	default:
		return nil, fmt.Errorf("only %s of %s are set: run inside `go run ./infra/cmd/stack exec --` or set none", strings.Join(set, ", "), strings.Join(endpointVars, ", "))
	}
	say("no stack in the environment: starting DynamoDB Local and fauxqs")
	stack, err := localstack.Start(ctx, localstack.Options{})
	if err != nil {
		return nil, err
	}
	for k, v := range stack.Env() {
		os.Setenv(k, v)
	}
	return stack, nil
}

func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// deprovision deletes the provisioned tables, queues and buckets from a stack
// that outlives the bench, even after an interruption.
func deprovision(e *environment) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	ddb := dynamodb.NewFromConfig(e.aws)
	for _, t := range e.tmpl.Tables {
		_, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(e.res.Ref(t.LogicalID))})
		errs = append(errs, err)
	}
	q := sqs.NewFromConfig(e.aws)
	for _, queue := range e.tmpl.Queues {
		_, err := q.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(e.res.Ref(queue.LogicalID))})
		errs = append(errs, err)
	}
	s := s3.NewFromConfig(e.aws, localstack.S3PathStyle)
	for _, b := range e.tmpl.Buckets {
		_, err := s.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(e.res.Ref(b.LogicalID))})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
