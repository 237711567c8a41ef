package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regulars/regulars/internal/analytics"
)

// Report is the outcome of one run: every figure beside the baseline measured
// in the same run. WriteText prints it as tables; it also encodes as JSON.
type Report struct {
	Date      time.Time `json:"date"`
	GoVersion string    `json:"go_version"` // the output of `go version`
	GOOS      string    `json:"goos"`
	GOARCH    string    `json:"goarch"`
	NumCPU    int       `json:"nproc"`
	// Load is the 1-minute load average at the start and the end of the run
	// (Linux only): how busy the shared machine was with other work too.
	Load     *Load        `json:"load,omitempty"`
	Settings Settings     `json:"settings"`
	API      []Comparison `json:"api"`
	// Points are the points operations beside raw transactions that write
	// the same items.
	Points []Comparison `json:"points"`
	// Webhook is the purchase webhook (one event, a full batch) beside raw
	// SendMessageBatch calls of the same messages to the same queue.
	Webhook []Comparison `json:"webhook"`
	// Ingest is the purchase consumer draining the queue beside raw
	// transactions of one purchase's items.
	Ingest *Ingest `json:"ingest,omitempty"`
	// Capacity is the DynamoDB calls and capacity units of API requests,
	// webhook deliveries and ingested purchases.
	Capacity  []Capacity       `json:"capacity"`
	Functions []FunctionResult `json:"functions"`
	// Compute is the nightly analysis of synthetic customers in memory
	// beside a plain sort of as many keys (table 7).
	Compute *AnalyticsCompute `json:"analytics_compute,omitempty"`
	// Nightly is the nightly worker end to end on DynamoDB Local beside raw
	// queries of the same customers' DAY# items (table 8).
	Nightly *Nightly `json:"nightly,omitempty"`
	// Exports is the customer export and import jobs end to end on
	// DynamoDB Local and the local S3 beside raw DynamoDB Local calls
	// (table 9).
	Exports *Exports `json:"exports,omitempty"`
	// Errors counts the failed requests of every operation (API requests
	// that did not answer 200/201, SDK calls that failed). A report with
	// errors is not valid.
	Errors int `json:"errors"`
	// HandlerError is the first error line the API's handler logged, if any
	// (a 500 answers only "internal error").
	HandlerError string `json:"handler_error,omitempty"`
}

// Load is the 1-minute load average at the start and the end of the run.
type Load struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Settings are the bounds the run used.
type Settings struct {
	Clients           int    `json:"clients"`
	Phase             string `json:"phase"`               // duration of each measured phase ("" in count mode)
	RequestsPerClient int    `json:"requests_per_client"` // per phase; 0 in duration mode
	Rounds            int    `json:"rounds"`
	Warmup            string `json:"warmup"`
	InitRuns          int    `json:"init_runs"`
	Purchases         int    `json:"purchases"` // ingested end to end in the measured rounds
	Pollers           int    `json:"pollers"`
	// AnalyticsCustomers and NightlyCustomers size tables 7 and 8 (0: not run).
	AnalyticsCustomers int `json:"analytics_customers"`
	NightlyCustomers   int `json:"nightly_customers"`
	// ExportCustomers and ImportRows size table 9 (0: not run).
	ExportCustomers int `json:"export_customers"`
	ImportRows      int `json:"import_rows"`
	// Only lists the tables run ("": all).
	Only string `json:"only,omitempty"`
}

// Comparison is one API operation beside a raw DynamoDB baseline.
type Comparison struct {
	Operation string `json:"operation"` // e.g. GET /v1/customers/{customerId}
	Calls     string `json:"calls"`     // the DynamoDB calls one API request makes, alone
	// Customers is how many customers the clients of a points operation
	// post to: one each (Customers = clients), or all the same one.
	Customers int `json:"customers,omitempty"`
	// Events is the purchase events per webhook request (and the messages
	// per baseline request).
	Events     int        `json:"events_per_request,omitempty"`
	API        Throughput `json:"api"`
	BaselineOp string     `json:"baseline_op"` // e.g. GetItem (ConsistentRead)
	Baseline   Throughput `json:"baseline"`
	RateRatio  float64    `json:"req_per_s_ratio"`
	P50Ratio   float64    `json:"p50_ratio"`
	// RoundRatioMin and RoundRatioMax bound the req/s ratio of single rounds.
	RoundRatioMin float64 `json:"round_req_per_s_ratio_min"`
	RoundRatioMax float64 `json:"round_req_per_s_ratio_max"`
}

// Capacity is the DynamoDB calls and capacity units of one API request,
// metered by the counting proxy outside the measured phases. Clients 1: one
// request sent alone. More: the figures are averages per request over
// Requests requests sent by Clients concurrent clients.
type Capacity struct {
	Operation    string  `json:"operation"`
	Customers    int     `json:"customers,omitempty"` // 1: every client posts to the same customer
	Clients      int     `json:"clients"`
	Requests     int     `json:"requests"`
	Calls        string  `json:"calls"`         // e.g. GetItem×2 + TransactWriteItems
	ItemsWritten float64 `json:"items_written"` // by successful write calls
	FailedCalls  float64 `json:"failed_calls"`  // calls answered with an error, e.g. a cancelled transaction
	// RCU and WCU are the ConsumedCapacity DynamoDB Local returned for the
	// reads and the successful writes (ReturnConsumedCapacity: TOTAL).
	RCU float64 `json:"rcu"`
	WCU float64 `json:"wcu_local"`
	// Rules is the write units by DynamoDB's rules, from the written items'
	// sizes before and after each write (capacity.go); only for requests
	// sent alone.
	Rules *WriteUnits `json:"wcu_rules,omitempty"`
}

// Ingest is the purchase consumer (IngestFunction) draining the queue, the
// way the local gateway drives it, beside raw TransactWriteItems of the
// items one purchase writes, and the checks made after the run.
type Ingest struct {
	Purchases int `json:"purchases"` // enqueued in the measured rounds (the warm-up's not counted)
	Applied   int `json:"applied"`   // messages of the measured rounds the consumer applied
	Customers int `json:"customers"` // customers of all the purchases ingested, warm-up included
	Pollers   int `json:"pollers"`
	BatchSize int `json:"batch_size"` // messages per receive (the event source's BatchSize)
	// PerSecond is Applied over the drains' total time, each from its start
	// to the last batch settled.
	PerSecond float64   `json:"purchases_per_s"`
	Seconds   float64   `json:"drain_s"`
	BatchP50  float64   `json:"batch_p50_ms"` // one PollOnce: receive, the handler on the batch, deletes
	BatchP99  float64   `json:"batch_p99_ms"`
	Rounds    []float64 `json:"round_purchases_per_s"`
	// Baseline is each poller's own copy of one repeat purchase's
	// transaction, written like the points baselines (writeOwn).
	BaselineOp    string     `json:"baseline_op"`
	Baseline      Throughput `json:"baseline"`
	RateRatio     float64    `json:"purchases_per_tx_ratio"`
	RoundRatioMin float64    `json:"round_ratio_min"`
	RoundRatioMax float64    `json:"round_ratio_max"`
	// Errors of the ingest, each counted: messages the consumer failed
	// (every attempt, warm-up included), PollOnce calls that failed,
	// purchases neither applied nor dead-lettered, dead-lettered messages,
	// customers whose ticket count is not the distinct local dates of their
	// purchases (or who were not found); Errors adds the baseline's.
	FailedMessages   int    `json:"failed_messages"`
	PollErrors       int    `json:"poll_errors"`
	Lost             int    `json:"lost"`
	DeadLettered     int    `json:"dead_lettered"`
	TicketMismatches int    `json:"ticket_mismatches"`
	Verified         int    `json:"customers_verified"`
	FirstError       string `json:"first_error,omitempty"`
	HandlerError     string `json:"handler_error,omitempty"` // the first error line the consumer logged
	Errors           int    `json:"errors"`
}

// AnalyticsCompute is the nightly analysis of synthetic customers in
// memory: analytics.Learn, then Model.ScoreOf for each customer, beside
// slices.Sort of as many int64 keys, measured in the same run.
type AnalyticsCompute struct {
	Customers  int    `json:"customers"`
	AsOf       string `json:"as_of"`
	TicketDays int    `json:"ticket_days"`
	Repeaters  int    `json:"repeat_customers"` // with more than one ticket day
	// InputMiB is the live heap of the customers themselves.
	InputMiB   float64       `json:"input_heap_mib"`
	GOMAXPROCS int           `json:"gomaxprocs"`
	Steps      []ComputeStep `json:"steps"` // Learn, ScoreOf, both
	// Baseline is the median of the sorts; BaselineRuns every sort's wall
	// time, in order (the first before the analysis, the rest after).
	Baseline     ComputeStep           `json:"baseline"`
	BaselineRuns []float64             `json:"baseline_runs_ms"`
	BGNBD        *analytics.BGNBD      `json:"bgnbd,omitempty"`
	GammaGamma   *analytics.GammaGamma `json:"gamma_gamma,omitempty"`
	NoFit        string                `json:"no_fit,omitempty"`
	Predicted    int                   `json:"predicted"` // customers with a prediction
	Segments     map[string]int        `json:"segments"`
	// MaxRSSMiB is the process's peak resident set over the whole bench so
	// far (getrusage), 0 where unknown.
	MaxRSSMiB  float64 `json:"process_max_rss_mib"`
	Errors     int     `json:"errors"` // 1 when Learn found no fit
	FirstError string  `json:"first_error,omitempty"`
}

// ComputeStep is one measured step of table 7.
type ComputeStep struct {
	Step          string  `json:"step"`
	WallMs        float64 `json:"wall_ms"`
	CPUMs         float64 `json:"cpu_ms"`     // user + system time of the process, all threads
	CoresBusy     float64 `json:"cores_busy"` // CPU over wall
	PerCustomerUs float64 `json:"wall_us_per_customer"`
	// GCShare is the runtime's estimate of the share of Go CPU time spent
	// in the garbage collector.
	GCShare float64 `json:"gc_cpu_share"`
	// PeakHeapMiB is the highest heap (objects, live or not yet swept)
	// over the heap before the step, which holds the input; PeakMappedMiB
	// the same for the memory the Go runtime holds from the OS.
	PeakHeapMiB   float64 `json:"peak_heap_delta_mib"`
	PeakMappedMiB float64 `json:"peak_mapped_delta_mib"`
	WallRatio     float64 `json:"wall_ratio"` // wall over the baseline's
	CPURatio      float64 `json:"cpu_ratio"`
}

// Nightly is the nightly worker over one merchant's synthetic customers on
// DynamoDB Local, beside a raw Query of each customer's DAY# items, and the
// DynamoDB calls and units per customer of a smaller metered run.
type Nightly struct {
	Customers int    `json:"customers"` // seeded
	AsOf      string `json:"as_of"`
	// What the seed wrote with BatchWriteItem (not through ingest), and
	// how long it took: setup, not a figure to compare.
	TicketDays  int     `json:"ticket_days"`
	Orders      int     `json:"orders"`
	SeedItems   int     `json:"seed_items"`
	SeedSeconds float64 `json:"seed_s"`
	// The run: its final phase and counts, its wall time, customers/s.
	Phase            string         `json:"phase"`
	RunCustomers     int            `json:"run_customers"`
	Scored           int            `json:"scored"`
	Seconds          float64        `json:"run_s"`
	PerSecond        float64        `json:"customers_per_s"`
	Phases           []NightlyPhase `json:"phases"`
	Calls            string         `json:"calls_per_customer"`
	CallsPerCustomer float64        `json:"calls_per_customer_total"`
	BaselineOp       string         `json:"baseline_op"`
	// Baseline is one Query per customer: its rounds are the first half of
	// the customers (before the run) and the second (after it).
	Baseline      Throughput `json:"baseline"`
	RateRatio     float64    `json:"customers_per_query_ratio"`
	RoundRatioMin float64    `json:"round_ratio_min"`
	RoundRatioMax float64    `json:"round_ratio_max"`
	// The model the run learnt.
	BGNBD      *analytics.BGNBD      `json:"bgnbd,omitempty"`
	GammaGamma *analytics.GammaGamma `json:"gamma_gamma,omitempty"`
	NoFit      string                `json:"no_fit,omitempty"`
	// Verified of Sampled stored scores equal the model's score of the
	// customer as seeded.
	Sampled  int             `json:"scores_sampled"`
	Verified int             `json:"scores_verified"`
	Metered  *NightlyMetered `json:"metered,omitempty"`
	// Errors: the run failed, ended in another phase than done, scored
	// other than every customer, found no fit; each wrong or unreadable
	// stored score; each failed baseline query (or one that found another
	// number of DAY# items than seeded).
	Errors       int    `json:"errors"`
	FirstError   string `json:"first_error,omitempty"`
	HandlerError string `json:"handler_error,omitempty"` // the first error the worker logged
}

// NightlyPhase is one phase of a nightly run: its time (measured run) or
// its units (metered run), with the DynamoDB calls per customer.
type NightlyPhase struct {
	Phase            string      `json:"phase"`
	Seconds          float64     `json:"seconds,omitempty"`
	PerSecond        float64     `json:"customers_per_s,omitempty"`
	Calls            string      `json:"calls_per_customer"`
	CallsPerCustomer float64     `json:"calls_per_customer_total"`
	RCU              float64     `json:"rcu_per_customer,omitempty"`
	WCU              float64     `json:"wcu_local_per_customer,omitempty"`
	Rules            *WriteUnits `json:"wcu_rules_per_customer,omitempty"`
	ItemsWritten     float64     `json:"items_written_per_customer,omitempty"`
	FailedCalls      float64     `json:"failed_calls_per_customer,omitempty"`
}

// NightlyMetered is a nightly run through the counting proxy, per customer.
type NightlyMetered struct {
	Customers        int            `json:"customers"`
	Phases           []NightlyPhase `json:"phases"`
	CallsPerCustomer float64        `json:"calls_per_customer_total"`
	RCU              float64        `json:"rcu_per_customer"`
	WCU              float64        `json:"wcu_local_per_customer"`
	Rules            *WriteUnits    `json:"wcu_rules_per_customer"`
}

// Exports is table 9: customer exports of a tenth of the seeded customers
// and of all of them, and a customer import, each run end to end through
// jobs.Worker.Work beside raw DynamoDB Local calls of the same run.
type Exports struct {
	Customers int `json:"customers"` // seeded for the full export
	// The seed (seed.Customers, BatchWriteItem): setup, not a figure to
	// compare.
	SeedSeconds   float64     `json:"seed_s"`
	SeedPerSecond float64     `json:"seed_customers_per_s"`
	Runs          []ExportRun `json:"exports"` // the tenth, then the full export
	ImportRows    int         `json:"import_rows"`
	Import        *ImportRun  `json:"import,omitempty"`
	Errors        int         `json:"errors"`
	HandlerError  string      `json:"handler_error,omitempty"` // the first error the worker logged
}

// ExportRun is one CustomerExport (full columns, no filter) of a merchant's
// customers beside a raw Query of the index partition it reads.
type ExportRun struct {
	Customers int     `json:"customers"`
	Rows      int64   `json:"rows"` // the job's written rows
	Bytes     int64   `json:"bytes"`
	Parts     int     `json:"parts"`
	Slices    int     `json:"slices"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"rows_per_s"`
	// Calls are the DynamoDB calls per row (job saves included);
	// ItemsReadPerRow the items the export's Queries returned per row.
	Calls           string  `json:"calls_per_row"`
	CallsPerRow     float64 `json:"calls_per_row_total"`
	ItemsReadPerRow float64 `json:"items_read_per_row"`
	// The Go heap during the export (runtime/metrics every 10 ms):
	// HeapBefore after a GC, the peak of the heap's objects (live or not
	// yet swept), and the peaks over the heap before of it and of the live
	// heap (as of each GC).
	HeapBeforeMiB    float64 `json:"heap_before_mib"`
	PeakHeapMiB      float64 `json:"peak_heap_mib"`
	PeakHeapDeltaMiB float64 `json:"peak_heap_delta_mib"`
	PeakLiveDeltaMiB float64 `json:"peak_live_heap_delta_mib"`
	HeapSamples      int     `json:"heap_samples"`
	BaselineOp       string  `json:"baseline_op"`
	// Baseline is the raw Query of the partition, once before the export
	// and once after it.
	Baseline      ScanBaseline `json:"baseline"`
	RateRatio     float64      `json:"rows_per_item_ratio"`
	RoundRatioMin float64      `json:"round_ratio_min"`
	RoundRatioMax float64      `json:"round_ratio_max"`
	RowsRead      int          `json:"rows_read_back"` // data rows of the file read back
	Errors        int          `json:"errors"`
	FirstError    string       `json:"first_error,omitempty"`
}

// ScanBaseline is a raw paginated read of a partition, in rounds.
type ScanBaseline struct {
	Items     int       `json:"items"`
	Pages     int       `json:"pages"`
	PerSecond float64   `json:"items_per_s"` // over the rounds' total time
	Rounds    []float64 `json:"round_items_per_s"`
	PageP50   float64   `json:"page_p50_ms"`
	PageMax   float64   `json:"page_max_ms"`
}

// ImportRun is one CustomerImport of an uploaded CSV file into an empty
// merchant beside raw CreateCustomer calls of as many customers.
type ImportRun struct {
	Rows        int     `json:"rows"`
	Bytes       int64   `json:"bytes"`
	Written     int64   `json:"written"`
	Rejected    int64   `json:"rejected"`
	Slices      int     `json:"slices"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"rows_per_s"`
	Calls       string  `json:"calls_per_row"`
	CallsPerRow float64 `json:"calls_per_row_total"`
	// The Go heap during the import, over the heap after a GC before it,
	// as for an export.
	PeakHeapDeltaMiB float64 `json:"peak_heap_delta_mib"`
	PeakLiveDeltaMiB float64 `json:"peak_live_heap_delta_mib"`
	BaselineOp       string  `json:"baseline_op"`
	// Baseline is half of the rows' customers created before the import,
	// half after it.
	Baseline      Throughput `json:"baseline"`
	RateRatio     float64    `json:"rows_per_create_ratio"`
	RoundRatioMin float64    `json:"round_ratio_min"`
	RoundRatioMax float64    `json:"round_ratio_max"`
	Sampled       int        `json:"customers_sampled"`
	Verified      int        `json:"customers_verified"`
	Errors        int        `json:"errors"`
	FirstError    string     `json:"first_error,omitempty"`
}

// FunctionResult is one function of template.yaml beside the hello-world
// baseline.
type FunctionResult struct {
	LogicalID    string  `json:"logical_id"`
	Package      string  `json:"package"`        // ./functions/<dir>
	SizeMiB      float64 `json:"arm64_size_mib"` // linux/arm64, as deployed
	HelloSizeMiB float64 `json:"hello_arm64_size_mib"`
	SizeRatio    float64 `json:"size_ratio"`
	Init         Latency `json:"init"` // host architecture
	HelloInit    Latency `json:"hello_init"`
	InitRatio    float64 `json:"init_p50_ratio"`
}

// WriteText prints the report as plain-text tables with a header line and
// footnotes. A report with errors says so first and last.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	banner := ""
	if r.Errors > 0 {
		banner = fmt.Sprintf("!!! FAILED REQUESTS: %d. THESE FIGURES ARE NOT VALID (see the errors column) !!!\n", r.Errors)
		b.WriteString(banner + "\n")
	}
	fmt.Fprintf(&b, "Regulars benchmarks, %s · %s · %s/%s · nproc %d\n",
		r.Date.UTC().Format("2006-01-02 15:04 UTC"), r.GoVersion, r.GOOS, r.GOARCH, r.NumCPU)
	if r.Load != nil {
		fmt.Fprintf(&b, "load average (1 min): %.2f at start, %.2f at end\n", r.Load.Start, r.Load.End)
	}
	s := r.Settings
	phase := s.Phase
	if s.RequestsPerClient > 0 {
		phase = fmt.Sprintf("%d requests per client", s.RequestsPerClient)
	}
	fmt.Fprintf(&b, "clients: %d · rounds: %d, each phase %s · warm-up: %s · cold starts per binary: %d · purchases: %d, pollers: %d\n",
		s.Clients, s.Rounds, phase, s.Warmup, s.InitRuns, s.Purchases, s.Pollers)
	fmt.Fprintf(&b, "nightly analytics: %d customers in memory, %d on DynamoDB Local · exports: %d customers (and a tenth) · import: %d rows\n",
		s.AnalyticsCustomers, s.NightlyCustomers, s.ExportCustomers, s.ImportRows)
	if s.Only != "" {
		fmt.Fprintf(&b, "only: %s\n", s.Only)
	}

	if len(r.API) > 0 {
		b.WriteString("\n1. API through the local gateway vs raw DynamoDB Local (same table, same item shapes)\n\n")
		writeComparisons(&b, r.API, false)
	}
	if len(r.Points) > 0 {
		b.WriteString("\n2. Points operations through the local gateway vs raw TransactWriteItems of the same items on DynamoDB Local\n\n")
		writeComparisons(&b, r.Points, true)
	}
	if len(r.Webhook) > 0 {
		b.WriteString("\n3. Purchase webhook through the local gateway vs raw SendMessageBatch of the same messages to the same queue\n\n")
		writeWebhook(&b, r.Webhook)
	}
	if len(r.API)+len(r.Points)+len(r.Webhook) > 0 {
		if r.HandlerError != "" {
			fmt.Fprintf(&b, "  first error the API or the webhook logged: %s\n", r.HandlerError)
		}
		shown := map[string]bool{}
		for _, c := range slices.Concat(r.API, r.Points, r.Webhook) {
			for _, op := range []struct {
				name string
				t    Throughput
			}{{c.Operation, c.API}, {c.BaselineOp, c.Baseline}} {
				if op.t.FirstError != "" && !shown[op.name] {
					shown[op.name] = true
					fmt.Fprintf(&b, "  first error of %s: %s\n", op.name, op.t.FirstError)
				}
			}
		}
	}
	if r.Ingest != nil {
		b.WriteString("\n4. Purchase ingest end to end (queue → IngestFunction) vs raw TransactWriteItems of one purchase's items on DynamoDB Local\n\n")
		writeIngest(&b, r.Ingest)
	}
	if len(r.Capacity) > 0 {
		b.WriteString("\n5. DynamoDB calls and capacity units per API request, webhook delivery and ingested purchase (counting proxy, outside the measured phases)\n\n")
		t := table{left: 3, header: []string{"operation", "load", "DynamoDB calls per request",
			"items written", "RCU (Local)", "WCU (Local)", "WCU (rules)", "of which GSI"}}
		for _, c := range r.Capacity {
			load := "alone"
			if c.Clients > 1 {
				load = fmt.Sprintf("%d clients, 1 customer (mean of %d)", c.Clients, c.Requests)
			}
			calls := c.Calls
			if c.FailedCalls > 0 {
				calls += fmt.Sprintf(" (%s failed)", trimFloat(c.FailedCalls))
			}
			rules, gsi := "—", "—"
			if c.Rules != nil {
				rules, gsi = trimFloat(c.Rules.Total), trimFloat(c.Rules.GSI)
			}
			t.rows = append(t.rows, []string{c.Operation, load, calls, trimFloat(c.ItemsWritten),
				trimFloat(c.RCU), trimFloat(c.WCU), rules, gsi})
		}
		t.write(&b)
	}

	if len(r.Functions) > 0 {
		fmt.Fprintf(&b, "\n6. Lambda binaries: size as deployed (linux/arm64), cold init on this host (%s/%s)\n\n", r.GOOS, r.GOARCH)
		t := table{left: 2, header: []string{"function", "package",
			"arm64 MiB", "hello MiB", "size ratio",
			"init p50 ms", "init max ms", "hello p50", "hello max", "init ratio"}}
		for _, f := range r.Functions {
			t.rows = append(t.rows, []string{f.LogicalID, f.Package,
				fmt.Sprintf("%.2f", f.SizeMiB), fmt.Sprintf("%.2f", f.HelloSizeMiB), fmt.Sprintf("%.2f×", f.SizeRatio),
				fmt.Sprintf("%.1f", f.Init.P50), fmt.Sprintf("%.1f", f.Init.Max),
				fmt.Sprintf("%.1f", f.HelloInit.P50), fmt.Sprintf("%.1f", f.HelloInit.Max),
				fmt.Sprintf("%.2f×", f.InitRatio)})
		}
		t.write(&b)
	}

	if r.Compute != nil {
		fmt.Fprintf(&b, "\n7. Nightly analytics compute in memory (%d synthetic customers, as of %s) vs slices.Sort of as many int64 keys in this run\n\n",
			r.Compute.Customers, r.Compute.AsOf)
		writeCompute(&b, r.Compute)
	}
	if r.Nightly != nil {
		fmt.Fprintf(&b, "\n8. Nightly run end to end (nightly.Worker.Run, %d customers, as of %s) on DynamoDB Local vs a raw Query of each customer's DAY# items\n\n",
			r.Nightly.Customers, r.Nightly.AsOf)
		writeNightly(&b, r.Nightly)
	}

	if r.Exports != nil {
		fmt.Fprintf(&b, "\n9. Customer export and import jobs end to end (jobs.Worker.Work, slices) on DynamoDB Local and the local S3 vs raw DynamoDB Local calls\n\n")
		writeExports(&b, r.Exports)
	}

	b.WriteString("\n" + footnote)
	if banner != "" {
		b.WriteString("\n" + banner)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeComparisons prints API operations beside their baselines; points
// tables add the customers the clients post to and the baseline's
// transactions per operation.
func writeComparisons(b *strings.Builder, cs []Comparison, points bool) {
	header := []string{"operation", "baseline op", "req/s", "p50 ms", "p99 ms", "base req/s", "base p50", "base p99",
		"req/s ratio", "p50 ratio", "round ratios", "errors"}
	if points {
		header = slices.Insert(header, 1, "customers")
		header = slices.Insert(header, len(header)-1, "base tx/op")
	}
	t := table{left: 2, header: header}
	if points {
		t.left = 3
	}
	for _, c := range cs {
		row := []string{c.Operation, c.BaselineOp,
			fmt.Sprintf("%.0f", c.API.PerSecond), fmt.Sprintf("%.2f", c.API.P50), fmt.Sprintf("%.2f", c.API.P99),
			fmt.Sprintf("%.0f", c.Baseline.PerSecond), fmt.Sprintf("%.2f", c.Baseline.P50), fmt.Sprintf("%.2f", c.Baseline.P99),
			fmt.Sprintf("%.2f×", c.RateRatio), fmt.Sprintf("%.2f×", c.P50Ratio),
			fmt.Sprintf("%.2f–%.2f", c.RoundRatioMin, c.RoundRatioMax),
			fmt.Sprintf("%d/%d", c.API.Errors, c.Baseline.Errors)}
		if points {
			customers := fmt.Sprintf("%d, 1 per client", c.Customers)
			if c.Customers == 1 {
				customers = "1, all clients"
			}
			row = slices.Insert(row, 1, customers)
			row = slices.Insert(row, len(row)-1, fmt.Sprintf("%.2f", c.Baseline.AttemptsPerOp))
		}
		t.rows = append(t.rows, row)
	}
	t.write(b)
}

// writeWebhook prints the webhook beside its SQS baselines, with events/s.
func writeWebhook(b *strings.Builder, cs []Comparison) {
	t := table{left: 2, header: []string{"operation", "baseline op", "events", "req/s", "events/s", "p50 ms", "p99 ms",
		"base req/s", "base p50", "base p99", "req/s ratio", "p50 ratio", "round ratios", "errors"}}
	for _, c := range cs {
		t.rows = append(t.rows, []string{c.Operation, c.BaselineOp, strconv.Itoa(c.Events),
			fmt.Sprintf("%.0f", c.API.PerSecond), fmt.Sprintf("%.0f", c.API.PerSecond*float64(c.Events)),
			fmt.Sprintf("%.2f", c.API.P50), fmt.Sprintf("%.2f", c.API.P99),
			fmt.Sprintf("%.0f", c.Baseline.PerSecond), fmt.Sprintf("%.2f", c.Baseline.P50), fmt.Sprintf("%.2f", c.Baseline.P99),
			fmt.Sprintf("%.2f×", c.RateRatio), fmt.Sprintf("%.2f×", c.P50Ratio),
			fmt.Sprintf("%.2f–%.2f", c.RoundRatioMin, c.RoundRatioMax),
			fmt.Sprintf("%d/%d", c.API.Errors, c.Baseline.Errors)})
	}
	t.write(b)
}

// writeIngest prints the ingest beside its baseline, then what the checks
// after the run found.
func writeIngest(b *strings.Builder, in *Ingest) {
	t := table{left: 2, header: []string{"operation", "baseline op", "purchases", "customers", "purchases/s", "batch p50", "batch p99",
		"base tx/s", "base p50", "base p99", "purchases/tx ratio", "round ratios", "base tx/op", "errors"}}
	t.rows = append(t.rows, []string{fmt.Sprintf("ingest: %d pollers, batches of %d", in.Pollers, in.BatchSize), in.BaselineOp,
		strconv.Itoa(in.Purchases), strconv.Itoa(in.Customers), fmt.Sprintf("%.0f", in.PerSecond),
		fmt.Sprintf("%.2f", in.BatchP50), fmt.Sprintf("%.2f", in.BatchP99),
		fmt.Sprintf("%.0f", in.Baseline.PerSecond), fmt.Sprintf("%.2f", in.Baseline.P50), fmt.Sprintf("%.2f", in.Baseline.P99),
		fmt.Sprintf("%.2f×", in.RateRatio), fmt.Sprintf("%.2f–%.2f", in.RoundRatioMin, in.RoundRatioMax),
		fmt.Sprintf("%.2f", in.Baseline.AttemptsPerOp), fmt.Sprintf("%d/%d", in.Errors-in.Baseline.Errors, in.Baseline.Errors)})
	t.write(b)
	fmt.Fprintf(b, "  applied %d of %d purchases in %.1f s of draining; checked after the run: %d of %d customers have as many tickets as distinct\n"+
		"  local dates of purchases; dead-lettered: %d; failed messages: %d; failed polls: %d; lost: %d\n",
		in.Applied, in.Purchases, in.Seconds, in.Verified, in.Customers, in.DeadLettered, in.FailedMessages, in.PollErrors, in.Lost)
	if in.FirstError != "" {
		fmt.Fprintf(b, "  first error of the ingest: %s\n", in.FirstError)
	}
	if in.Baseline.FirstError != "" {
		fmt.Fprintf(b, "  first error of %s: %s\n", in.BaselineOp, in.Baseline.FirstError)
	}
	if in.HandlerError != "" {
		fmt.Fprintf(b, "  first error the consumer logged: %s\n", in.HandlerError)
	}
}

// writeCompute prints the analysis steps beside the sort, then the input,
// the baseline's runs and the fit.
func writeCompute(b *strings.Builder, c *AnalyticsCompute) {
	t := table{left: 1, header: []string{"step", "wall s", "CPU s", "cores busy", "wall µs/customer", "peak heap Δ MiB",
		"sort ms", "sort CPU ms", "wall ratio", "CPU ratio"}}
	for _, st := range c.Steps {
		t.rows = append(t.rows, []string{st.Step, fmt.Sprintf("%.2f", st.WallMs/1000), fmt.Sprintf("%.2f", st.CPUMs/1000),
			fmt.Sprintf("%.2f", st.CoresBusy), fmt.Sprintf("%.2f", st.PerCustomerUs), fmt.Sprintf("%.1f", st.PeakHeapMiB),
			fmt.Sprintf("%.1f", c.Baseline.WallMs), fmt.Sprintf("%.1f", c.Baseline.CPUMs), ratioText(st.WallRatio), ratioText(st.CPURatio)})
	}
	t.write(b)
	runs := make([]string, len(c.BaselineRuns))
	for i, r := range c.BaselineRuns {
		runs[i] = fmt.Sprintf("%.1f", r)
	}
	fmt.Fprintf(b, "  input: %d customers, %d ticket days (%d customers with more than one), %.0f MiB of live heap; GOMAXPROCS %d; process peak RSS %.0f MiB\n",
		c.Customers, c.TicketDays, c.Repeaters, c.InputMiB, c.GOMAXPROCS, c.MaxRSSMiB)
	fmt.Fprintf(b, "  baseline: slices.Sort, in place, of a copy of the %d revenues (%.1f MiB), %d runs (%d before the analysis, the rest after): %s ms; median %.1f ms\n",
		c.Customers, mib(int64(c.Customers)*8), len(c.BaselineRuns), computeSortBefore, strings.Join(runs, ", "), c.Baseline.WallMs)
	fmt.Fprintf(b, "  fit: %s; predictions for %d of %d customers; GC share of Go CPU: Learn %.0f%%, ScoreOf %.0f%%; errors: %d\n",
		fitText(c.BGNBD, c.GammaGamma, c.NoFit), c.Predicted, c.Customers, 100*c.Steps[0].GCShare, 100*c.Steps[1].GCShare, c.Errors)
	if c.FirstError != "" {
		fmt.Fprintf(b, "  first error: %s\n", c.FirstError)
	}
}

// writeNightly prints the run's phases and the run beside its baseline,
// what the checks found, then the metered run's calls and units.
func writeNightly(b *strings.Builder, n *Nightly) {
	t := table{left: 3, header: []string{"phase", "DynamoDB calls per customer", "baseline op", "customers", "seconds", "customers/s", "calls",
		"base customers/s", "base p50", "base p99", "customers/query ratio", "round ratios", "errors"}}
	for _, p := range n.Phases {
		rate := "—" // housekeeping works per customer with expiring points or due gifts, not per customer
		if p.PerSecond > 0 {
			rate = fmt.Sprintf("%.0f", p.PerSecond)
		}
		t.rows = append(t.rows, []string{p.Phase, p.Calls, "", strconv.Itoa(n.Customers), fmt.Sprintf("%.2f", p.Seconds),
			rate, fmt.Sprintf("%.2f", p.CallsPerCustomer), "", "", "", "", "", ""})
	}
	t.rows = append(t.rows, []string{"whole run", n.Calls, n.BaselineOp, strconv.Itoa(n.Customers), fmt.Sprintf("%.2f", n.Seconds),
		fmt.Sprintf("%.0f", n.PerSecond), fmt.Sprintf("%.2f", n.CallsPerCustomer), fmt.Sprintf("%.0f", n.Baseline.PerSecond),
		fmt.Sprintf("%.2f", n.Baseline.P50), fmt.Sprintf("%.2f", n.Baseline.P99), ratioText(n.RateRatio),
		fmt.Sprintf("%.2f–%.2f", n.RoundRatioMin, n.RoundRatioMax), strconv.Itoa(n.Errors)})
	t.write(b)
	fmt.Fprintf(b, "  seeded straight to the table with BatchWriteItem, not through ingest: %d customers, %d ticket days, %d orders (%d items) in %.1f s\n",
		n.Customers, n.TicketDays, n.Orders, n.SeedItems, n.SeedSeconds)
	fmt.Fprintf(b, "  the run ended in phase %s with %d customers, %d scored; checked: %d of %d sampled customers have the model's score and their 12-month figures\n",
		n.Phase, n.RunCustomers, n.Scored, n.Verified, n.Sampled)
	fmt.Fprintf(b, "  fit: %s\n", fitText(n.BGNBD, n.GammaGamma, n.NoFit))
	if n.FirstError != "" {
		fmt.Fprintf(b, "  first error: %s\n", n.FirstError)
	}
	if n.HandlerError != "" {
		fmt.Fprintf(b, "  first error the worker logged: %s\n", n.HandlerError)
	}
	if m := n.Metered; m != nil {
		fmt.Fprintf(b, "\n  DynamoDB calls and capacity units per customer of a second run through the counting proxy (%d customers of another merchant)\n\n", m.Customers)
		mt := table{left: 2, header: []string{"  phase", "DynamoDB calls per customer", "calls", "items written", "RCU (Local)", "WCU (Local)", "WCU (rules)", "of which GSI"}}
		for _, p := range m.Phases {
			rules, gsi := "—", "—"
			if p.Rules != nil {
				rules, gsi = trimFloat(p.Rules.Total), trimFloat(p.Rules.GSI)
			}
			mt.rows = append(mt.rows, []string{"  " + p.Phase, p.Calls, trimFloat(p.CallsPerCustomer), trimFloat(p.ItemsWritten),
				trimFloat(p.RCU), trimFloat(p.WCU), rules, gsi})
		}
		rules, gsi := "—", "—"
		if m.Rules != nil {
			rules, gsi = trimFloat(m.Rules.Total), trimFloat(m.Rules.GSI)
		}
		var items float64
		for _, p := range m.Phases {
			items += p.ItemsWritten
		}
		mt.rows = append(mt.rows, []string{"  whole run", "", trimFloat(m.CallsPerCustomer), trimFloat(items), trimFloat(m.RCU), trimFloat(m.WCU), rules, gsi})
		mt.write(b)
	}
}

// writeExports prints the exports beside the raw Query, their memory, and
// the import beside raw creates.
func writeExports(b *strings.Builder, x *Exports) {
	if len(x.Runs) > 0 {
		t := table{left: 2, header: []string{"job", "baseline op", "rows", "seconds", "rows/s", "base items/s", "rows/item ratio",
			"round ratios", "slices", "parts", "MiB", "calls/row", "items read/row", "peak heap MiB", "peak heap Δ", "peak live Δ", "errors"}}
		for _, r := range x.Runs {
			t.rows = append(t.rows, []string{fmt.Sprintf("export of %d customers", r.Customers), r.BaselineOp, strconv.FormatInt(r.Rows, 10),
				fmt.Sprintf("%.1f", r.Seconds), fmt.Sprintf("%.0f", r.PerSecond), fmt.Sprintf("%.0f", r.Baseline.PerSecond),
				ratioText(r.RateRatio), fmt.Sprintf("%.2f–%.2f", r.RoundRatioMin, r.RoundRatioMax), strconv.Itoa(r.Slices),
				strconv.Itoa(r.Parts), fmt.Sprintf("%.1f", mib(r.Bytes)), trimFloat(r.CallsPerRow), trimFloat(r.ItemsReadPerRow),
				fmt.Sprintf("%.1f", r.PeakHeapMiB), fmt.Sprintf("%.1f", r.PeakHeapDeltaMiB), fmt.Sprintf("%.1f", r.PeakLiveDeltaMiB),
				strconv.Itoa(r.Errors)})
		}
		t.write(b)
		fmt.Fprintf(b, "  seeded with seed.Profiles (BatchWriteItem of the profile items CreateCustomer writes: all an export reads): %d customers in %.1f s (%.0f/s), and a tenth of them for another merchant\n",
			x.Customers, x.SeedSeconds, x.SeedPerSecond)
		for _, r := range x.Runs {
			fmt.Fprintf(b, "  export of %d: DynamoDB calls per row %s; baseline %d items in %d pages per round, page p50 %.2f ms (max %.2f); heap %.1f MiB before, %d samples; %d of %d rows read back\n",
				r.Customers, r.Calls, r.Baseline.Items/max(len(r.Baseline.Rounds), 1), r.Baseline.Pages/max(len(r.Baseline.Rounds), 1),
				r.Baseline.PageP50, r.Baseline.PageMax, r.HeapBeforeMiB, r.HeapSamples, r.RowsRead, r.Customers)
			if r.FirstError != "" {
				fmt.Fprintf(b, "  first error of the export of %d: %s\n", r.Customers, r.FirstError)
			}
		}
		if len(x.Runs) == 2 {
			fmt.Fprintf(b, "  memory: peak heap Δ %.1f MiB for %d customers, %.1f MiB for %d (%s); peak live heap Δ %.1f and %.1f MiB\n",
				x.Runs[1].PeakHeapDeltaMiB, x.Runs[1].Customers, x.Runs[0].PeakHeapDeltaMiB, x.Runs[0].Customers,
				ratioText(ratio(x.Runs[1].PeakHeapDeltaMiB, x.Runs[0].PeakHeapDeltaMiB)), x.Runs[1].PeakLiveDeltaMiB, x.Runs[0].PeakLiveDeltaMiB)
		}
	}
	if in := x.Import; in != nil {
		if len(x.Runs) > 0 {
			b.WriteString("\n")
		}
		t := table{left: 2, header: []string{"job", "baseline op", "rows", "seconds", "rows/s", "base creates/s", "base p50", "base p99",
			"rows/create ratio", "round ratios", "slices", "calls/row", "peak heap Δ", "peak live Δ", "errors"}}
		t.rows = append(t.rows, []string{fmt.Sprintf("import of %d CSV rows", in.Rows), in.BaselineOp, strconv.FormatInt(in.Written, 10),
			fmt.Sprintf("%.1f", in.Seconds), fmt.Sprintf("%.0f", in.PerSecond), fmt.Sprintf("%.0f", in.Baseline.PerSecond),
			fmt.Sprintf("%.2f", in.Baseline.P50), fmt.Sprintf("%.2f", in.Baseline.P99), ratioText(in.RateRatio),
			fmt.Sprintf("%.2f–%.2f", in.RoundRatioMin, in.RoundRatioMax), strconv.Itoa(in.Slices), trimFloat(in.CallsPerRow),
			fmt.Sprintf("%.1f", in.PeakHeapDeltaMiB), fmt.Sprintf("%.1f", in.PeakLiveDeltaMiB), strconv.Itoa(in.Errors)})
		t.write(b)
		fmt.Fprintf(b, "  file: %d rows, %.1f MiB; created %d, rejected %d; DynamoDB calls per row %s; checked: %d of %d sampled customers read back by e-mail as in the file\n",
			in.Rows, mib(in.Bytes), in.Written, in.Rejected, in.Calls, in.Verified, in.Sampled)
		if in.FirstError != "" {
			fmt.Fprintf(b, "  first error of the import: %s\n", in.FirstError)
		}
	}
	if x.HandlerError != "" {
		fmt.Fprintf(b, "  first error the jobs worker logged: %s\n", x.HandlerError)
	}
}

// fitText prints the fitted parameters, or why there is no fit.
func fitText(bg *analytics.BGNBD, gg *analytics.GammaGamma, noFit string) string {
	if bg == nil || gg == nil {
		return "none: " + noFit
	}
	return fmt.Sprintf("BG/NBD r=%.3f α=%.3f a=%.3f b=%.3f; Gamma-Gamma p=%.3f q=%.3f γ=%.1f", bg.R, bg.Alpha, bg.A, bg.B, gg.P, gg.Q, gg.Gamma)
}

// ratioText prints a ratio with two decimals, or none from 100×.
func ratioText(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// trimFloat prints a figure with at most two decimals and no trailing zeroes.
func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

const footnote = `Baselines (each measured in this run, on this machine, beside the figure it divides):
- Ratios are API/baseline: a req/s ratio below 1× and a p50 ratio above 1× are what the API costs
  on top of the raw calls. "round ratios" is the lowest and highest req/s ratio of single rounds,
  a measure of this machine's noise. "errors" is API/baseline failures (must be 0/0).
- Load: every client sends one request at a time, for a fixed time (or count) per phase. Phases
  of the operations alternate in ABBA order over the rounds, so drift hits both sides alike;
  a warm-up phase of each operation is discarded. Clients, gateway and handler share this Go
  process; DynamoDB Local (a JVM) shares the machine's cores.
- GET baseline: a raw GetItem (ConsistentRead) of the same profile item in the same table with the
  AWS SDK.
- POST baselines: a raw PutItem of the profile item that one API create writes (fresh key), and a
  raw TransactWriteItems of all the items one API create writes (profile, unique-identifier
  claims, name tokens; each conditioned on attribute_not_exists), the fairest baseline.
- Points ("…" is /v1/customers/{customerId}; program on, 10 points per 5.00): +1 and -1 are manual
  movements, redemptions a checkout commit of 100 points on a 20.00 cart under a new order_ref.
  "1 per client": each client posts to its own customer; "all clients": every client posts to
  the same customer, whose postings serialize on its profile's version (ledger.go Post).
- Points baselines: the TransactWriteItems one posting of that kind made in setup, captured by the
  counting proxy and sent again on copies of its items (profile update conditioned on the
  version, entry put, redemption put, counter-shard ADD): per client on its own copies, with the
  version its last write left; for "all clients", on one copy, each attempt reading the version
  first (GetItem) and retrying with Post's backoff.Wait when the version moved or the transaction
  conflicted. "base tx/op" is the transactions the baseline sent per operation, retries included.
- Webhook (table 3): signed POSTs (Standard Webhooks, the merchant's whsec_ secret, a new
  webhook-id each) of one event or a batch of 100, answered 202 once SQS accepted every event.
  Baseline: the same queue messages the webhook makes of that body, sent to the same fauxqs queue
  with raw SendMessageBatch calls of up to ten (1 call for 1 event, 10 for 100). The queue is
  purged after every phase of either side.
- Ingest (table 4): synthetic purchases (infra/loader.Synthetic, about 4 per customer, in date
  order) are enqueued through the webhook, a slice per round, then pollers call the consumer's
  PollOnce (devserver.Consumers, batches of 10, partial batch failures) until the queue holds no
  message; purchases/s is purchases applied over the drains' time. Baseline: each poller's own
  copy of the transaction one repeat purchase made in setup (profile update conditioned on its
  version, entry, order, day, visit, order claim, counter-shard ADD), as the points baselines.
  A first purchase also creates its customer (a second transaction), so the ingest sends about
  1 + customers/purchases transactions per purchase. After the run every customer's ticket
  count must equal the distinct local dates of their purchases, and the dead-letter queue must be
  empty; any failed message, failed poll, lost or dead-lettered purchase or mismatch is an error.
- Calls and capacity (table 5): a second gateway sends its DynamoDB calls through a counting
  proxy, which sets ReturnConsumedCapacity: TOTAL and adds up what DynamoDB Local returns: RCU for
  reads, WCU for successful writes. DynamoDB Local prices a TransactWriteItems per table and
  index as a whole, not per item (three small items: 2 units where DynamoDB charges 6), so
  "WCU (rules)" is computed by DynamoDB's rules from the items read before and after each write:
  1 unit per KB of the larger version of each item, ×2 in a transaction, plus the writes to each
  GSI that holds the item (standard rate; "of which GSI"). Requests are sent alone; the contended
  row is a mean under load, with cancelled transactions counted as failed calls. Ingest rows: one
  queue message handed to the consumer's handler (the webhook's encoding of the event).
- Size: the Lambda binary exactly as "make build" builds it (linux/arm64, -trimpath -s -w), beside
  a hello-world Lambda (infra/bench/hello) built the same way.
- Cold init: process start to its first GET /2018-06-01/runtime/invocation/next on a local stand-in
  of the Lambda Runtime API, i.e. main's init plus the runtime's start, with the function's
  environment from template.yaml. Measured on the host architecture (the deployed arm64 binary
  cannot run here), beside the hello-world Lambda; runs alternate, after one discarded run each.
- Analytics compute (table 7): synthetic customers (BG/NBD purchases and Gamma-Gamma spend, fixed
  seed, two years of history) built in memory, then analytics.Learn (RFM cut-points, BG/NBD and
  Gamma-Gamma maximum likelihood) and Model.ScoreOf for every customer, each step after a GC.
  "CPU s" is user + system time of the whole process (getrusage), the time per core; "cores busy"
  is CPU over wall; "peak heap Δ" the highest Go heap (runtime/metrics, sampled every 5 ms) over
  the heap that holds the input. Baseline: slices.Sort of a copy of the customers' revenues
  (int64), the median of 5 runs, 3 before the analysis and 2 after it.
- Nightly run (table 8): a merchant of its own with the default points program and synthetic
  customers written straight to the table with BatchWriteItem (profile and identifier claim as
  CreateCustomer writes them, DAY# and ORDER# items as ApplyOrder writes them; not through
  ingest), then nightly.Worker.Run for the merchant, as the NightlyFunction runs one job. Calls are
  counted by phase at the store's DynamoDB client. Baseline: one raw Query (ConsistentRead) of
  each customer's DAY# items, one customer after another like the worker: half of the customers
  before the run, half after. The run must end done with every customer scored, and sampled
  stored scores must equal the model's score of the customer as seeded. The units come from a
  second run over 250 customers through the counting proxy of table 5, with the write rules on.
- Exports and imports (table 9): customers with full profiles (names, e-mail, phone, tags,
  attributes, address) written with seed.Customers for one merchant, and a tenth as many for
  another. Each export is a CustomerExport job (all columns, no filter) run through
  jobs.Worker.Work message after message, as the jobs function runs it: ListCustomers pages of 100
  streamed into a multipart upload on the local S3, a checkpoint per part. Baseline: a raw
  paginated Query of the same GSI1 partition, in the same order and with the Limit ListCustomers
  sends, nothing done with the items, once before the export and once after it; the ratio is
  rows/s over items/s. Memory: the Go heap sampled every 10 ms during the export after a GC; the
  peak of the heap's objects (live or not yet swept) and of the live heap, each over the heap
  before the export; the tenth export shows whether they grow with the base. The file is read
  back: it must hold one row per customer, each customer once. The import uploads a CSV file
  (internal/tabular's writer, the export's profile columns) and runs a CustomerImport job into
  an empty merchant; baseline: dynamo.Store.CreateCustomer of the same customers in another empty
  merchant from as many clients as the import processes rows at once (imports.DefaultConcurrency),
  half before it and half after; the heap is sampled during the import as during an export.
  Every row must be created, and sampled customers read back by e-mail with the file's values.
`

// table renders rows in aligned columns: the first left columns
// left-aligned (names), the others right-aligned (figures).
type table struct {
	header []string
	left   int
	rows   [][]string
}

func (t table) write(b *strings.Builder) {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range append([][]string{t.header}, t.rows...) {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i < t.left {
				line.WriteString(cell + pad)
			} else {
				line.WriteString(pad + cell)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
