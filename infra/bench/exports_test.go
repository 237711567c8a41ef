package bench

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/multipart"
)

// Every bench customer is valid, with its own identifiers, and its row of
// the import file reads back as the same profile.
func TestBenchCustomersAndImportRows(t *testing.T) {
	now := time.Now()
	layout, err := crm.NewCSVLayout(importColumns, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(layout.Unknown) != 0 {
		t.Fatalf("import columns unknown to the import: %v", layout.Unknown)
	}
	seen := map[string]int{}
	for i := range 3000 {
		c, err := benchCustomer("M1", i, now)
		if err != nil {
			t.Fatalf("customer %d: %v", i, err)
		}
		for _, u := range c.Uniques() {
			k := u.Kind + ":" + u.Value
			if j, dup := seen[k]; dup {
				t.Fatalf("customers %d and %d share %s", j, i, k)
			}
			seen[k] = i
		}
		if c.Email == "" || c.ExternalID == "" || len(c.Addresses) != 1 || len(c.Attributes) == 0 {
			t.Fatalf("customer %d lacks profile data: %+v", i, c.Profile)
		}
		rec, err := importRecord(i, now)
		if err != nil {
			t.Fatal(err)
		}
		row, err := layout.Parse(rec)
		if err != nil {
			t.Fatalf("row of customer %d: %v", i, err)
		}
		got, err := row.New("M1", now)
		if err != nil {
			t.Fatalf("row of customer %d: %v", i, err)
		}
		if got.Email != c.Email || got.Phone != c.Phone || got.ExternalID != c.ExternalID || got.GivenName != c.GivenName ||
			strings.Join(got.Tags, "|") != strings.Join(c.Tags, "|") || len(got.Addresses) != 1 || got.Addresses[0] != c.Addresses[0] {
			t.Fatalf("customer %d: the row reads back as %+v, want %+v", i, got.Profile, c.Profile)
		}
	}
}

func TestScanSummary(t *testing.T) {
	s := scanSummary([]scanRound{
		{items: 1000, pages: 5, elapsed: time.Second, pageTimes: []time.Duration{time.Millisecond, 3 * time.Millisecond}},
		{items: 1000, pages: 5, elapsed: 3 * time.Second, pageTimes: []time.Duration{2 * time.Millisecond}},
	})
	if s.Items != 2000 || s.Pages != 10 || s.PerSecond != 500 || len(s.Rounds) != 2 || s.Rounds[0] != 1000 || s.PageMax != 3 || s.PageP50 != 2 {
		t.Fatalf("%+v", s)
	}
}

func TestExportParts(t *testing.T) {
	b, _ := json.Marshal(map[string]any{"upload": multipart.Upload{Key: "k", ID: "u", Parts: []multipart.Part{{Number: 1}, {Number: 2}}}})
	if n := exportParts(b); n != 2 {
		t.Fatalf("%d parts, want 2", n)
	}
	if n := exportParts(nil); n != 0 {
		t.Fatalf("%d parts of no cursor", n)
	}
}

func TestConfigOnly(t *testing.T) {
	c := DefaultConfig()
	if !c.runs("api") || !c.runs("exports") {
		t.Fatal("no -only runs every table")
	}
	c.Only = "exports, nightly"
	if c.runs("api") || !c.runs("exports") || !c.runs("nightly") {
		t.Fatalf("-only %q", c.Only)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	c.Only = "exports,tables"
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), `"tables"`) {
		t.Fatalf("-only %q: %v", c.Only, err)
	}
	c = DefaultConfig()
	c.ExportCustomers = 10
	if err := c.validate(); err == nil {
		t.Fatal("-export-customers 10 accepted")
	}
}

// The sampler keeps the peak of its samples: 64 MiB held at a tick and freed
// before it stops (the test gives the ticks, instead of waiting for a
// ticker's).
func TestHeapSamplerSeesTheHeapItGrows(t *testing.T) {
	runtime.GC()
	before, _ := heapNow()
	ticks, stopped := make(chan time.Time), false
	s := sampleHeapOn(ticks, func() { stopped = true })
	keep := make([][]byte, 0, 64)
	for range 64 {
		keep = append(keep, make([]byte, 1<<20))
	}
	ticks <- time.Time{}
	runtime.KeepAlive(keep)
	runtime.GC()
	if now, _ := heapNow(); now >= before+32<<20 {
		t.Fatalf("64 MiB not freed: heap %d from %d", now, before)
	}
	peak, _, samples := s.stop()
	if peak < before+48<<20 || samples != 2 || !stopped {
		t.Fatalf("peak %d from %d, %d samples, ticks stopped %v", peak, before, samples, stopped)
	}
}

func TestWriteTextExports(t *testing.T) {
	x := &Exports{Customers: 1000, SeedSeconds: 2, SeedPerSecond: 500, ImportRows: 10,
		Runs: []ExportRun{{Customers: 100, Rows: 100, PeakHeapDeltaMiB: 3, Baseline: ScanBaseline{Rounds: []float64{1, 1}}},
			{Customers: 1000, Rows: 1000, PeakHeapDeltaMiB: 3.3, RateRatio: 0.5, Baseline: ScanBaseline{Rounds: []float64{1, 1}}}},
		Import: &ImportRun{Rows: 10, Written: 10, RateRatio: 0.4, BaselineOp: "CreateCustomer"}}
	var b strings.Builder
	if err := (&Report{Exports: x}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"9. Customer export and import", "export of 1000 customers", "0.50×", "(1.10×)", "import of 10 CSV rows", "0.40×"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestExportsAgainstTheLocalStack runs table 9 small: both exports and the
// import must succeed with every row accounted for.
func TestExportsAgainstTheLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local stack")
	}
	e, _ := testEnvironment(t)
	x, err := benchExports(t.Context(), e, minExportCustomers, 50, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if x.Errors != 0 || len(x.Runs) != 2 || x.Import == nil {
		t.Fatalf("%d errors, %d exports, import %v: %+v", x.Errors, len(x.Runs), x.Import, x)
	}
	for _, r := range x.Runs {
		if r.Rows != int64(r.Customers) || r.RowsRead != r.Customers || r.Baseline.Items != 2*r.Customers || r.RateRatio == 0 || r.PeakHeapMiB == 0 {
			t.Errorf("export %+v", r)
		}
	}
	if in := x.Import; in.Written != 50 || in.Verified != in.Sampled || in.Sampled == 0 || in.Baseline.Requests != 50 || in.RateRatio == 0 {
		t.Errorf("import %+v", in)
	}
	var b strings.Builder
	if err := (&Report{Exports: x}).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
}
