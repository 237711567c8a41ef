package bench

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func durations(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one sample", durations(7), 0.99, 7 * time.Millisecond},
		{"median of odd count", durations(1, 2, 3, 4, 5), 0.5, 3 * time.Millisecond},
		{"median of even count is the lower middle", durations(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"p99 of 100", durations(hundred...), 0.99, 99 * time.Millisecond},
		{"p99 of 10 is the max", durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{"max", durations(1, 2, 3), 1, 3 * time.Millisecond},
	} {
		if got := percentile(tc.sorted, tc.q); got != tc.want {
			t.Errorf("%s: percentile(%v, %v) = %v, want %v", tc.name, tc.sorted, tc.q, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	boom := errors.New("boom")
	got := summarize([]phase{
		{latencies: durations(4, 1, 3), elapsed: time.Second},
		{latencies: durations(2), errors: 2, firstErr: boom, elapsed: time.Second},
	})
	if got.Requests != 4 || got.Errors != 2 || got.FirstError != "boom" {
		t.Errorf("requests, errors, first error = %d, %d, %q; want 4, 2, boom", got.Requests, got.Errors, got.FirstError)
	}
	if got.PerSecond != 2 || got.P50 != 2 || got.P99 != 4 {
		t.Errorf("req/s, p50, p99 = %v, %v, %v; want 2, 2, 4", got.PerSecond, got.P50, got.P99)
	}
	if len(got.Rounds) != 2 || got.Rounds[0] != 3 || got.Rounds[1] != 1 {
		t.Errorf("round req/s = %v, want [3 1]", got.Rounds)
	}
	if lo, hi := roundRatios([]float64{3, 1}, []float64{6, 1}); lo != 0.5 || hi != 1 {
		t.Errorf("roundRatios = %v–%v, want 0.5–1", lo, hi)
	}
	if l := summarizeLatency(durations(30, 10, 20)); l.Runs != 3 || l.P50 != 20 || l.Max != 30 {
		t.Errorf("summarizeLatency = %+v, want 3 runs, p50 20, max 30", l)
	}
}

func TestTableAlignsNamesLeftAndFiguresRight(t *testing.T) {
	var b strings.Builder
	table{left: 1, header: []string{"op", "ratio"}, rows: [][]string{
		{"GET /x", "0.31×"},
		{"POST", "12.00×"},
	}}.write(&b)
	want := "" +
		"op       ratio\n" +
		"GET /x   0.31×\n" + // × is one column wide, not two bytes
		"POST    12.00×\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFormatCalls(t *testing.T) {
	for _, tc := range []struct {
		ops  []string
		want string
	}{
		{nil, "none"},
		{[]string{"GetItem", "GetItem", "GetItem"}, "GetItem×3"},
		{[]string{"GetItem", "GetItem", "TransactWriteItems"}, "GetItem×2 + TransactWriteItems"},
	} {
		if got := formatCalls(tc.ops); got != tc.want {
			t.Errorf("formatCalls(%q) = %q, want %q", tc.ops, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
	c := DefaultConfig()
	c.Phase, c.Requests = 0, 50
	if err := c.validate(); err != nil {
		t.Errorf("count mode without a phase: %v", err)
	}
	c = DefaultConfig()
	c.Clients, c.Phase = 0, 0
	err := c.validate()
	if err == nil || !strings.Contains(err.Error(), "-clients") || !strings.Contains(err.Error(), "-phase") {
		t.Errorf("validate() = %v, want errors for -clients and -phase", err)
	}
}

func TestLambdaPackage(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "functions", "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := lambdaPackage(root, "ApiFunction"); err != nil || got != "./functions/api" {
		t.Errorf("lambdaPackage(ApiFunction) = %q, %v; want ./functions/api", got, err)
	}
	for _, id := range []string{"WorkerFunction", "Api", "Function"} {
		if got, err := lambdaPackage(root, id); err == nil {
			t.Errorf("lambdaPackage(%s) = %q, want an error", id, got)
		}
	}
}

func TestPanicSite(t *testing.T) {
	stack := `goroutine 158 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
github.com/regulars/regulars/internal/httpapi.(*Server).Handle.func1()
	/src/internal/httpapi/server.go:144 +0xc5
panic({0xba4d60?, 0x2598b7c06258?})
	/usr/local/go/src/runtime/panic.go:860 +0x13a
golang.org/x/text/transform.String({0xc98ef8, 0x2598b7de7020}, {0x2598b818a1a0, 0x1b})
	/root/go/pkg/mod/golang.org/x/text@v0.43.0/transform/transform.go:650 +0xb0f
github.com/regulars/regulars/internal/crm.Fold({0x2598b818a1a0, 0x1b})
	/src/internal/crm/normalize.go:86 +0x4c
github.com/regulars/regulars/internal/dynamo.(*Store).CreateCustomer(_, {_, _})
	/src/internal/dynamo/customers.go:181 +0x606
`
	if got, want := panicSite(stack), "internal/crm.Fold (normalize.go:86)"; got != want {
		t.Errorf("panicSite = %q, want %q", got, want)
	}
	if got := panicSite("goroutine 1 [running]:\nmain.main()\n"); got != "" {
		t.Errorf("panicSite of a stack without a panic = %q, want empty", got)
	}
}

func TestFormatCallsPer(t *testing.T) {
	ops := []string{"GetItem", "GetItem", "GetItem", "TransactWriteItems", "GetItem", "TransactWriteItems", "Query", "Query"}
	if got, want := formatCallsPer(ops, 2), "GetItem×2.0 + TransactWriteItems + Query"; got != want {
		t.Errorf("formatCallsPer(…, 2) = %q, want %q", got, want)
	}
	if got, want := formatCallsPer(ops[:5], 4), "GetItem + TransactWriteItems×0.2"; got != want {
		t.Errorf("formatCallsPer(…, 4) = %q, want %q", got, want)
	}
}

func TestTrimFloat(t *testing.T) {
	for f, want := range map[float64]string{0: "0", 3: "3", 6.75: "6.75", 1.5: "1.5", 2.126: "2.13"} {
		if got := trimFloat(f); got != want {
			t.Errorf("trimFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestSummarizeAttempts(t *testing.T) {
	got := summarize([]phase{
		{latencies: durations(1, 1), elapsed: time.Second, attempts: 5},
		{latencies: durations(1, 1), elapsed: time.Second, attempts: 3},
	})
	if got.Attempts != 8 || got.AttemptsPerOp != 2 {
		t.Errorf("attempts, per op = %d, %v; want 8, 2", got.Attempts, got.AttemptsPerOp)
	}
}

func TestWriteTextPointsAndCapacity(t *testing.T) {
	rep := &Report{Date: time.Now(), Errors: 1,
		Points: []Comparison{{Operation: earnName, Customers: 8, BaselineOp: "TransactWriteItems (3 items)",
			API: Throughput{PerSecond: 90, Errors: 1, FirstError: "POST x: status 409"}, Baseline: Throughput{PerSecond: 180, AttemptsPerOp: 1}, RateRatio: 0.5},
			{Operation: earnName + " (one customer)", Customers: 1, BaselineOp: "GetItem + TransactWriteItems (3 items), retried",
				Baseline: Throughput{AttemptsPerOp: 4.126}}},
		Capacity: []Capacity{{Operation: earnName, Clients: 1, Requests: 1, Calls: "GetItem×5 + Query×2 + TransactWriteItems",
			ItemsWritten: 3, RCU: 5, WCU: 14, Rules: &WriteUnits{Table: 6, GSI: 4, Total: 10}},
			{Operation: earnName + " (one customer)", Customers: 1, Clients: 8, Requests: 24, Calls: "GetItem×7.0 + TransactWriteItems×3.0", FailedCalls: 2}},
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"FAILED REQUESTS: 1", "2. Points operations", "8, 1 per client", "1, all clients", "4.13",
		"first error of " + earnName + ": POST x: status 409", "5. DynamoDB calls", "8 clients, 1 customer (mean of 24)",
		"TransactWriteItems×3.0 (2 failed)", "      10             4\n", "—"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("encode the report as JSON: %v", err)
	}
}

func TestConfigValidatePurchases(t *testing.T) {
	c := DefaultConfig()
	c.Purchases, c.Pollers = 3, 0
	err := c.validate()
	if err == nil || !strings.Contains(err.Error(), "-purchases") || !strings.Contains(err.Error(), "-pollers") {
		t.Errorf("validate() = %v, want errors for -purchases and -pollers", err)
	}
}

func TestSyntheticPurchases(t *testing.T) {
	end := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ps := syntheticPurchases(2000, end)
	if len(ps) != 2000 {
		t.Fatalf("%d purchases, want 2000", len(ps))
	}
	customers := map[string]bool{}
	for i, p := range ps {
		customers[p.Customer] = true
		if i > 0 && p.Date.Before(ps[i-1].Date) {
			t.Fatalf("purchase %d (%s) is before purchase %d (%s): want date order", i, p.Date, i-1, ps[i-1].Date)
		}
		if p.Date.Nanosecond() != 0 || p.Date.After(end) {
			t.Fatalf("purchase %d at %s: want whole seconds, not after %s", i, p.Date, end)
		}
	}
	// loader.Synthetic makes about four purchases per customer.
	if n := len(customers); n < 300 || n > 700 {
		t.Errorf("%d customers for 2000 purchases, want about 500", n)
	}
	again := syntheticPurchases(2000, end)
	for i := range ps {
		if ps[i] != again[i] {
			t.Fatalf("purchase %d differs between two calls: %+v, %+v", i, ps[i], again[i])
		}
	}
}

func TestWriteTextPurchases(t *testing.T) {
	rep := &Report{Date: time.Now(),
		Webhook: []Comparison{{Operation: webhookRoute, Events: 100, BaselineOp: "SendMessageBatch ×10 (10 messages each)",
			API: Throughput{PerSecond: 30, P50: 90}, Baseline: Throughput{PerSecond: 80, P50: 40}, RateRatio: 0.375}},
		Ingest: &Ingest{Purchases: 1000, Applied: 1000, Customers: 260, Verified: 260, Pollers: 5, BatchSize: 10, PerSecond: 42,
			BaselineOp: "TransactWriteItems (7 items)", Baseline: Throughput{PerSecond: 84, AttemptsPerOp: 1}, RateRatio: 0.5,
			Errors: 2, DeadLettered: 2, FirstError: "the consumer failed 1 of 10 messages"},
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"3. Purchase webhook", "     100     30      3000", "0.38×",
		"4. Purchase ingest", "ingest: 5 pollers, batches of 10", "0.50×", "2/0", "260 of 260 customers", "dead-lettered: 2",
		"first error of the ingest: the consumer failed 1 of 10 messages"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("encode the report as JSON: %v", err)
	}
}
