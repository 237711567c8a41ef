package exports_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/exports"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/jobs/jobstest"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/objects"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/tabular"
	"github.com/regulars/regulars/internal/tenant"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

// env is one merchant on freshly provisioned resources, with a jobs worker
// whose queue is a slice: the test delivers the messages itself.
type env struct {
	t        *testing.T
	store    *dynamo.Store
	ddb      *dynamodb.Client
	table    string
	bucket   *objects.Bucket
	merchant tenant.Merchant
	worker   *jobs.Worker
	queue    *jobstest.Queue
	runner   *exports.Runner
	clock    *clock
}

// clock is the jobs' clock: from a fixed instant, it moves on a second
// every time it is read, so a slice of SliceLimit d stops at the first
// check after d reads of it, however fast the machine runs the export.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newEnv(t *testing.T) *env {
	res := localstack.ProvisionTest(t, awsCfg)
	ddb := dynamodb.NewFromConfig(awsCfg)
	e := &env{t: t, ddb: ddb, table: res.Ref("Table"), store: dynamo.New(ddb, res.Ref("Table")),
		bucket: objects.New(s3.NewFromConfig(awsCfg, localstack.S3PathStyle), res.Ref("ExportsBucket")), queue: &jobstest.Queue{},
		clock: &clock{t: time.Date(2025, 6, 10, 10, 0, 0, 0, time.UTC)}}
	m, _, err := seed.Merchant(t.Context(), e.store, "Exportadora", "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.merchant = m
	e.runner = exports.NewRunner(e.store, e.bucket, e.clock.now)
	e.worker = jobs.NewWorker(e.store, e.queue, map[jobs.Kind]jobs.Runner{jobs.CustomerExport: e.runner, jobs.LedgerExport: e.runner},
		e.clock.now, slog.New(slog.DiscardHandler))
	return e
}

// run enqueues a job and delivers its messages until none is left; it
// returns the finished job and how many slices it took.
func (e *env) run(kind jobs.Kind, params any) jobs.Job {
	e.t.Helper()
	j, err := jobs.New(e.merchant.ID, kind, params, "test", e.clock.now())
	if err != nil {
		e.t.Fatal(err)
	}
	if j, err = jobs.Enqueue(e.t.Context(), e.store, e.queue, j); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.queue.Drain(e.t.Context(), e.worker); err != nil {
		e.t.Fatal(err)
	}
	if j, err = e.store.Job(e.t.Context(), e.merchant.ID, j.ID); err != nil {
		e.t.Fatal(err)
	}
	if j.State != jobs.Succeeded {
		e.t.Fatalf("job %s: %s (%s)", j.ID, j.State, j.Error)
	}
	return j
}

// read parses an exported file back (formula neutralisation undone).
func (e *env) read(key string) (raw []byte, rows [][]string) {
	e.t.Helper()
	rc, err := e.bucket.Open(e.t.Context(), key, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	raw, err = io.ReadAll(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	r := tabular.NewCSVReader(bytes.NewReader(raw), tabular.Position{}, tabular.Limits{})
	for {
		row, err := r.Read()
		if err == io.EOF {
			return raw, rows
		}
		if err != nil {
			e.t.Fatal(err)
		}
		rows = append(rows, row.Cells)
	}
}

// tricky are the values a spreadsheet or a CSV parser gets wrong.
var tricky = []string{"=HYPERLINK(\"http://x\",\"clic\")", "+SUM(1;2)", "-2+3", "@cmd", "Ana, María", "O\"Brien", "dos; partes", "Ñandú"}

// customer i: few name tokens and identifier claims, so that 100,000 of
// them seed quickly; the tricky values in columns that are not indexed.
func customer(t *testing.T, mid string, i int, now time.Time) crm.Customer {
	p := crm.Profile{GivenName: []string{"Ana", "Luis", "Ñandú", "Zoë"}[i%4], FamilyName: "García", Email: fmt.Sprintf("c%06d@example.com", i),
		Tags: []string{"vip", fmt.Sprintf("t%d", i%7)}, Attributes: map[string]string{"talla": "M", "nota": tricky[i%len(tricky)]},
		NewsletterConsent: i%2 == 0, Addresses: []crm.Address{{Line1: "Calle Mayor, 1", Line2: tricky[(i+1)%len(tricky)], City: "Madrid",
			PostalCode: "28001", Country: "ES", Primary: true}}}
	if i%3 == 0 {
		p.Phone = fmt.Sprintf("+346%08d", i)
	}
	c, err := crm.New(mid, crm.Enrolment{Profile: p}, now)
	if err != nil {
		t.Fatalf("customer %d: %v", i, err)
	}
	return c
}

// An export of 100,000 customers (5,000 of 1.4 kB rows, over one 5 MiB
// part, unless localstack.Long), in several slices and parts, reads back as exactly the rows
// of the stored customers: same values, neutralised formulas restored, one
// row each.
func TestExportRoundTrips(t *testing.T) {
	t.Parallel()
	n, pad := 5_000, crm.MaxAttributeValue
	if localstack.Long() {
		n, pad = 100_000, 0
	}
	e := newEnv(t)
	now := time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)
	cs := make([]crm.Customer, n)
	for i := range cs {
		cs[i] = customer(t, e.merchant.ID, i, now)
		if pad > 0 {
			cs[i].Attributes["relleno"] = strings.Repeat(string(rune('a'+i%26)), pad)
		}
	}
	start := time.Now()
	if err := seed.Profiles(t.Context(), e.ddb, e.table, cs, 8); err != nil { // the profiles: all an export reads
		t.Fatal(err)
	}
	t.Logf("seeded %d customers in %s", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	e.worker.SliceLimit = time.Second // a slice stops after each part: the next resumes from it
	j := e.run(jobs.CustomerExport, exports.CustomerParams{Columns: crm.ColumnsFull, BOM: true, Query: crm.Query{Order: crm.OrderEnrolled, Now: now}})
	if j.Progress.Written != int64(n) || j.Slices < 2 {
		t.Fatalf("%d rows written in %d slices, want %d in several", j.Progress.Written, j.Slices, n)
	}
	t.Logf("exported in %s", time.Since(start).Round(time.Millisecond))
	raw, rows := e.read(j.Result.Object)
	if !bytes.HasPrefix(raw, []byte("\xEF\xBB\xBFid,")) || !bytes.Contains(raw, []byte("\r\n")) {
		t.Fatalf("not a BOM-prefixed CRLF CSV: %q", raw[:40])
	}
	if !bytes.Contains(raw, []byte(`'=HYPERLINK`)) || bytes.Contains(raw, []byte(`,=HYPERLINK`)) {
		t.Fatal("a formula was not neutralised")
	}
	if len(rows) != n+1 || !slices.Equal(rows[0], crm.CSVHeader(crm.ColumnsFull)) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	byID := make(map[string]crm.Customer, n)
	for _, c := range cs {
		byID[c.ID] = c
	}
	for _, row := range rows[1:] {
		c, ok := byID[row[0]]
		if !ok {
			t.Fatalf("row of an unknown or repeated customer: %v", row)
		}
		delete(byID, row[0])
		if want := crm.CSVRecord(crm.ColumnsFull, c, "EUR", now); !slices.Equal(row, want) {
			t.Fatalf("customer %s:\n got %q\nwant %q", c.ID, row, want)
		}
	}
	if len(byID) != 0 {
		t.Fatalf("%d customers missing", len(byID))
	}
	t.Logf("%d rows, %d bytes, %d slices", n, j.Result.Bytes, j.Slices)
}

// The ledger export writes every entry of the period, signed, oldest first.
func TestLedgerExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Now()
	c := customer(t, e.merchant.ID, 1, now)
	if err := e.store.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	svc := points.New(e.store, time.Now)
	for i := range 5 {
		if _, err := svc.Post(t.Context(), e.merchant.ID, c.ID, points.Manual{Points: int64(10 * (i + 1)), Note: "=1+1", Actor: "key:test"}); err != nil {
			t.Fatal(err)
		}
	}
	j := e.run(jobs.LedgerExport, exports.LedgerParams{Filter: loyalty.MovementFilter{From: now.Add(-time.Hour), To: now.Add(time.Hour)}})
	_, rows := e.read(j.Result.Object)
	if len(rows) != 6 || !slices.Equal(rows[0], exports.LedgerHeader) {
		t.Fatalf("rows %q", rows)
	}
	for i, r := range rows[1:] {
		if r[3] != "earn" || r[4] != fmt.Sprint(10*(i+1)) || r[7] != "=1+1" || r[14] != r[1] { // a manual entry occurs when posted
			t.Fatalf("row %d: %q", i, r)
		}
	}
}

// A ledger export resumes after each part from the last entry it wrote,
// even inside a run of entries of one instant (ordered by ID): every entry
// is written once, in the ledger's order.
func TestLedgerExportResumes(t *testing.T) {
	t.Parallel()
	// Rows of 4.6 kB (about 650 bytes with localstack.Long): a full part,
	// then a last one in the next slice.
	n, note := 1_500, strings.Repeat("n", 4000)
	if localstack.Long() {
		n, note = 12_000, ""
	}
	e := newEnv(t)
	now := time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)
	c := customer(t, e.merchant.ID, 1, now)
	if err := e.store.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	res, err := points.New(e.store, func() time.Time { return now }).Post(t.Context(), e.merchant.ID, c.ID, points.Manual{Points: 1, Note: strings.Repeat("n", 500), Actor: "key:test"})
	if err != nil {
		t.Fatal(err)
	}
	// The entry's item, copied n-1 times under new IDs of the same instant.
	first := res.Entries[0]
	out, err := e.ddb.Scan(t.Context(), &dynamodb.ScanInput{TableName: &e.table, FilterExpression: aws.String("id = :id AND #t = :entry"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: first.ID}, ":entry": &types.AttributeValueMemberS{Value: "ledger_entry"}}})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("the entry's item: %v, %d items", err, len(out.Items))
	}
	want := []string{first.ID}
	items := make([]map[string]types.AttributeValue, 0, n-1)
	for range n - 1 {
		id := ids.New(first.CreatedAt)
		want = append(want, id)
		item := maps.Clone(out.Items[0])
		for k, v := range item {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				item[k] = &types.AttributeValueMemberS{Value: strings.ReplaceAll(s.Value, first.ID, id)}
			}
		}
		if note != "" {
			item["note"] = &types.AttributeValueMemberS{Value: note}
		}
		items = append(items, item)
	}
	if err := seed.BatchWrite(t.Context(), e.ddb, e.table, items); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)

	e.worker.SliceLimit = time.Nanosecond // every slice stops after one part
	j := e.run(jobs.LedgerExport, exports.LedgerParams{Filter: loyalty.MovementFilter{From: now.Add(-time.Hour), To: now.Add(time.Hour)}})
	_, rows := e.read(j.Result.Object)
	got := make([]string, 0, len(rows))
	for _, r := range rows[1:] {
		got = append(got, r[0])
	}
	if !slices.Equal(got, want) || j.Slices < 2 || j.Progress.Written != int64(n) {
		t.Fatalf("%d rows (%d written) in %d slices, want the %d entries in ID order in several", len(got), j.Progress.Written, j.Slices, n)
	}
}

// A presigned download works until it expires; the local stack's S3 front
// checks the expiry as S3 does. The expired URL is one signed on a past day
// (the bucket's clock), not one the test waits for.
func TestPresignedDownloadExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	j := e.run(jobs.CustomerExport, exports.CustomerParams{Columns: crm.ColumnsEmails, Query: crm.Query{Now: e.clock.now()}})
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	valid, _, err := e.bucket.PresignGet(t.Context(), j.Result.Object, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	signed := time.Date(2025, 6, 10, 10, 0, 0, 0, time.UTC)
	e.bucket.SetClock(func() time.Time { return signed })
	expired, exp, err := e.bucket.PresignGet(t.Context(), j.Result.Object, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(signed.Add(15 * time.Minute)) {
		t.Fatalf("expires at %v, want 15 minutes after %v", exp, signed)
	}
	if status, body := get(valid); status != http.StatusOK || !strings.HasPrefix(body, "email,") {
		t.Fatalf("download: %d %q", status, body)
	}
	if status, body := get(expired); status != http.StatusForbidden || !strings.Contains(body, "expired") {
		t.Fatalf("after expiry: %d %q", status, body)
	}
}
