package imports_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/xuri/excelize/v2"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/exports"
	"github.com/regulars/regulars/internal/imports"
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

// env is freshly provisioned resources with a jobs worker whose queue is a
// slice: the test delivers the messages itself.
type env struct {
	t      *testing.T
	store  *dynamo.Store
	ddb    *dynamodb.Client
	table  string
	bucket *objects.Bucket
	points *points.Service
	worker *jobs.Worker
	queue  *jobstest.Queue
	runner *imports.Runner
	export *exports.Runner
}

func newEnv(t *testing.T) *env {
	res := localstack.ProvisionTest(t, awsCfg)
	ddb := dynamodb.NewFromConfig(awsCfg)
	e := &env{t: t, ddb: ddb, table: res.Ref("Table"), store: dynamo.New(ddb, res.Ref("Table")),
		bucket: objects.New(s3.NewFromConfig(awsCfg, localstack.S3PathStyle), res.Ref("ExportsBucket")), queue: &jobstest.Queue{}}
	log := slog.New(slog.DiscardHandler)
	e.points = points.New(e.store, time.Now)
	e.runner = imports.NewRunner(e.store, e.points, e.bucket, time.Now, log)
	e.export = exports.NewRunner(e.store, e.bucket, time.Now)
	e.worker = jobs.NewWorker(e.store, e.queue, map[jobs.Kind]jobs.Runner{jobs.CustomerImport: e.runner, jobs.CustomerExport: e.export}, time.Now, log)
	return e
}

func (e *env) merchant(name string) tenant.Merchant {
	m, _, err := seed.Merchant(e.t.Context(), e.store, name, "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// upload creates an import job and PUTs the file to its presigned URL with
// plain net/http, as a merchant's browser does.
func (e *env) upload(mid string, p imports.Params, file []byte) jobs.Job {
	e.t.Helper()
	if p.Country == "" {
		p.Country = "ES" // the merchants' Europe/Madrid, as POST /v1/imports records it
	}
	if err := p.Validate(); err != nil {
		e.t.Fatal(err)
	}
	j, err := jobs.New(mid, jobs.CustomerImport, p, "key:test", time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	j.Result.Object = imports.UploadKey(mid, j.ID, p.Format)
	url, _, err := e.bucket.PresignPut(e.t.Context(), j.Result.Object, p.ContentType(), time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	localstack.PutPresigned(e.t, url, p.ContentType(), file)
	j.State = jobs.Queued
	if j, err = jobs.Enqueue(e.t.Context(), e.store, e.queue, j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// drain delivers the queue's messages until none is left and returns the
// job as it ended.
func (e *env) drain(j jobs.Job) jobs.Job {
	e.t.Helper()
	if _, err := e.queue.Drain(e.t.Context(), e.worker); err != nil {
		e.t.Fatal(err)
	}
	j, err := e.store.Job(e.t.Context(), j.MerchantID, j.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *env) run(mid string, p imports.Params, file []byte) jobs.Job {
	e.t.Helper()
	j := e.drain(e.upload(mid, p, file))
	if j.State != jobs.Succeeded {
		e.t.Fatalf("job %s: %s (%s)", j.ID, j.State, j.Error)
	}
	return j
}

// report reads a job's report.
func (e *env) report(j jobs.Job) [][]string {
	e.t.Helper()
	rc, err := e.bucket.Open(e.t.Context(), j.Result.Report, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	r := tabular.NewCSVReader(rc, tabular.Position{}, tabular.Limits{})
	var rows [][]string
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			e.t.Fatal(err)
		}
		rows = append(rows, row.Cells)
	}
}

func csvFile(rows ...string) []byte { return []byte(strings.Join(rows, "\r\n") + "\r\n") }

// state is what the test compares before and after a re-run: every customer
// with its version and balance, and the number of ledger entries.
func (e *env) state(mid string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	page, err := e.store.ListCustomers(e.t.Context(), mid, crm.Query{Order: crm.OrderEnrolled, Limit: crm.MaxLimit, Now: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range page.Customers {
		entries, err := e.store.Entries(e.t.Context(), mid, c.ID, 100, "")
		if err != nil {
			e.t.Fatal(err)
		}
		out[c.Email+c.Phone] = fmt.Sprintf("%s v%d balance %d entries %d", c.ID, c.Version, c.Metrics.PointsBalance, len(entries.Entries))
	}
	return out
}

func (e *env) byEmail(mid, email string) (crm.Customer, bool) {
	e.t.Helper()
	c, err := e.store.CustomerByUnique(e.t.Context(), mid, crm.Unique{Kind: "email", Value: email})
	if apperr.CodeOf(err) == apperr.NotFound {
		return crm.Customer{}, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return c, true
}

// badFile has a row of every kind: created (with a balance to open),
// rejected for each reason, updated, unchanged, skipped-worthy.
func badFile() []byte {
	return csvFile(
		"Email,phone,given_name,birthday,tags,favorite,points_balance,colour",
		"ana@example.com,+34 600 111 222,Ana,1990-05-01,vip|café,sí,100,rojo", // 2 created
		",,Nadie,,,,,",                                          // 3 no identifier
		"bea@,,Bea,,,,,",                                        // 4 bad email
		"carla@example.com,12,Carla,,,,,",                       // 5 bad phone (in ES)
		"dani@example.com,,Dani,2999-01-01,,,,",                 // 6 bad birthday
		"eva@example.com,,Eva,,ok|***,,,",                       // 7 bad tag
		"ANA@example.com,,Ana otra,,,,,",                        // 8 duplicate of row 2
		"xavi@example.com,+34600000002,Xavi,,,,,",               // 9 conflicting identifiers
		"fede@example.com,,Fede,,,,,,extra",                     // 10 ragged
		`fran@example.com,,'=SUM(A1),,,,5,`,                     // 11 neutralised formula, created
		"xavi@example.com,,Xavier,,,,50,",                       // 12 updated (no balance for updates)
		"yago@example.com,+34600000002,Yago,,,,,",               // 13 unchanged
		"gus@example.com,,"+strings.Repeat("g", 70<<10)+",,,,,", // 14 oversized
		"hugo@example.com,,Hugo,,,maybe,,",                      // 15 bad boolean
	)
}

func (e *env) seedBase(mid string) (xavi, yago crm.Customer) {
	e.t.Helper()
	for _, p := range []crm.Profile{{Email: "xavi@example.com", GivenName: "Xavi"}, {Email: "yago@example.com", Phone: "+34600000002", GivenName: "Yago"}} {
		c, err := crm.New(mid, crm.Enrolment{Profile: p}, time.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.store.CreateCustomer(e.t.Context(), c); err != nil {
			e.t.Fatal(err)
		}
	}
	xavi, _ = e.byEmail(mid, "xavi@example.com")
	yago, _ = e.byEmail(mid, "yago@example.com")
	return xavi, yago
}

func TestImportReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.merchant("Importadora")
	xavi, yago := e.seedBase(m.ID)
	p := imports.Params{Format: imports.CSV, OpeningBalance: true, OnExisting: imports.Update}
	j := e.run(m.ID, p, badFile())
	ana, ok := e.byEmail(m.ID, "ana@example.com")
	if !ok {
		t.Fatal("ana was not created")
	}
	fran, ok := e.byEmail(m.ID, "fran@example.com")
	if !ok {
		t.Fatal("fran was not created")
	}
	want := [][]string{
		imports.ReportHeader,
		{"2", "created", ana.ID, "", ""},
		{"3", "rejected", "", "", "has none of external_id, card_number, email, phone"},
		{"4", "rejected", "", "/email", "must be an email address such as ana@example.com"},
		{"5", "rejected", "", "/phone", "is not a valid phone number of ES (+34)"},
		{"6", "rejected", "", "/birthday", "must be between 1900-01-01 and today"},
		{"7", "rejected", "", "/tags/1", "must contain a letter or digit"},
		{"8", "rejected", "", "/email", "duplicate of row 2"},
		{"9", "rejected", "", "/phone", fmt.Sprintf("conflicts with customers %s (by email) and %s (by phone)", xavi.ID, yago.ID)},
		{"10", "rejected", "", "", "has 9 cells, more than the 8 columns of the header"},
		{"11", "created", fran.ID, "", ""},
		{"12", "updated", xavi.ID, "/given_name", `"Xavi" → "Xavier"`},
		{"13", "unchanged", yago.ID, "", ""},
		{"14", "rejected", "", "", "the row is too long to read (more than 64 KiB)"},
		{"15", "rejected", "", "/favorite", "must be true, false, 1, 0, sí, si, yes or no"},
	}
	if got := e.report(j); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("report:\n%s\nwant:\n%s", lines(got), lines(want))
	}
	if pct := j.Progress.Percent; pct == nil || *pct != 100 {
		t.Fatalf("percent %v, want 100", pct)
	}
	if j.Progress.Percent = nil; j.Progress != (jobs.Progress{Processed: 14, Written: 4, Rejected: 10}) || !slices.Equal(j.Result.IgnoredColumns, []string{"colour"}) {
		t.Fatalf("progress %+v, ignored %v", j.Progress, j.Result.IgnoredColumns)
	}
	// Created customers carry the row's values; the formula is restored.
	if ana.Phone != "+34600111222" || ana.Birthday != "1990-05-01" || !slices.Equal(ana.Tags, []string{"vip", "café"}) || !ana.Favorite ||
		ana.Metrics.PointsBalance != 100 || fran.GivenName != "=SUM(A1)" || fran.Metrics.PointsBalance != 5 {
		t.Fatalf("ana %+v\nfran %+v", ana, fran)
	}
	entries, err := e.store.Entries(t.Context(), m.ID, ana.ID, 10, "")
	if err != nil || len(entries.Entries) != 1 || entries.Entries[0].Kind != "import" || entries.Entries[0].Points != 100 {
		t.Fatalf("ana's ledger: %+v, %v", entries, err)
	}
	// An update takes the row's values but opens no balance.
	if x, _ := e.byEmail(m.ID, "xavi@example.com"); x.GivenName != "Xavier" || x.Metrics.PointsBalance != 0 || x.Version != xavi.Version+1 {
		t.Fatalf("xavi %+v", x)
	}
	// No partial customers: nothing of a rejected row was written.
	for _, email := range []string{"carla@example.com", "dani@example.com", "eva@example.com", "fede@example.com", "gus@example.com", "hugo@example.com"} {
		if _, ok := e.byEmail(m.ID, email); ok {
			t.Errorf("rejected row's %s was created", email)
		}
	}
	if y, _ := e.byEmail(m.ID, "yago@example.com"); y.Version != yago.Version {
		t.Fatalf("an unchanged row wrote yago: v%d, was v%d", y.Version, yago.Version)
	}
	before := e.state(m.ID)

	// Running the same job's rows again from the start gives the same report
	// and changes nothing.
	again := j
	again.State, again.Cursor, again.Result.Report, again.Progress = jobs.Queued, nil, "", jobs.Progress{}
	if _, err := e.store.SaveJob(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Send(t.Context(), e.queue, again); err != nil {
		t.Fatal(err)
	}
	rerun := e.drain(j)
	if got := e.report(rerun); rerun.State != jobs.Succeeded || !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("re-run %s (%s):\n%s", rerun.State, rerun.Error, lines(got))
	}
	if after := e.state(m.ID); !maps.Equal(before, after) {
		t.Fatalf("the re-run changed the base:\n%v\n%v", before, after)
	}

	// A second import of the same file finds every customer as it is.
	second := e.run(m.ID, p, badFile())
	outcomes := map[string]string{}
	for _, r := range e.report(second)[1:] {
		outcomes[r[0]] += r[1]
	}
	for _, n := range []string{"2", "11", "12", "13"} {
		if outcomes[n] != "unchanged" {
			t.Errorf("second import, row %s: %s", n, outcomes[n])
		}
	}
	if outcomes["8"] != "rejected" {
		t.Errorf("second import, row 8: %s", outcomes["8"])
	}
	if after := e.state(m.ID); !maps.Equal(before, after) {
		t.Fatalf("the second import changed the base:\n%v\n%v", before, after)
	}

	// on_existing=skip leaves existing customers alone.
	skip := e.run(m.ID, imports.Params{Format: imports.CSV, OnExisting: imports.Skip}, csvFile("email,given_name", "xavi@example.com,Otro"))
	if got := e.report(skip); got[1][1] != "skipped" || got[1][2] != xavi.ID {
		t.Fatalf("skip: %v", got)
	}
}

// A file without an identifying column, or empty, fails the job with a
// clear error; nothing is written.
func TestImportBadFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.merchant("Importadora")
	for file, want := range map[string]string{
		"given_name,family_name\r\nAna,García\r\n": "no identifying column",
		"\r\n\r\n":                   "the file is empty",
		"email,EMAIL\r\na@b.es,\r\n": "names the column email twice",
	} {
		j := e.drain(e.upload(m.ID, imports.Params{Format: imports.CSV}, []byte(file)))
		if j.State != jobs.Failed || !strings.Contains(j.Error, want) {
			t.Errorf("%q: %s %q, want an error about %q", file, j.State, j.Error, want)
		}
	}
	j := e.drain(e.upload(m.ID, imports.Params{Format: imports.XLSX}, []byte("not a zip")))
	if j.State != jobs.Failed || !strings.Contains(j.Error, "cannot be read") {
		t.Errorf("bad xlsx: %s %q", j.State, j.Error)
	}
	if page, _ := e.store.ListCustomers(t.Context(), m.ID, crm.Query{Order: crm.OrderEnrolled, Limit: 10, Now: time.Now()}); len(page.Customers) != 0 {
		t.Fatalf("customers were written: %d", len(page.Customers))
	}
}

// An import resumed at every row (one row per slice, the report's lines
// carried between slices) gives the same report and the same customers as
// an import done in one slice.
func TestImportResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := imports.Params{Format: imports.CSV, OpeningBalance: true}
	one := e.merchant("Una vez")
	e.seedBase(one.ID)
	whole := e.run(one.ID, p, badFile())
	want := anonymous(e.report(whole))

	sliced := e.merchant("A trozos")
	e.seedBase(sliced.ID)
	e.worker.SliceLimit = time.Nanosecond // every slice stops after one window
	e.runner.Concurrency = 1              // of one row
	j := e.run(sliced.ID, p, badFile())
	if got := anonymous(e.report(j)); !slices.EqualFunc(got, want, slices.Equal) || j.Slices < 14 {
		t.Fatalf("%d slices:\n%s\nwant\n%s", j.Slices, lines(got), lines(want))
	}
	if !reflect.DeepEqual(j.Progress, whole.Progress) {
		t.Fatalf("progress %+v, want %+v", j.Progress, whole.Progress)
	}

	if a, b := anonymousState(e.state(one.ID)), anonymousState(e.state(sliced.ID)); !maps.Equal(a, b) {
		t.Fatalf("customers differ:\n%v\n%v", a, b)
	}
}

// Rows processed at once end as if processed one after another: a row
// sharing an identifier with an earlier row of its window waits for it, and
// so does a row that resolves to the customer an earlier row resolved to
// (the later row's values win), and a duplicate of either is a duplicate.
func TestImportWindowOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	file := csvFile(
		"email,phone,given_name",
		"zoe@example.com,,Zoe A",           // 2 updates Zoe
		",+34600000003,Zoe B",              // 3 updates Zoe too, by her phone: after row 2
		"new@example.com,,Nuevo",           // 4 created
		"new@example.com,+34600000009,Dos", // 5 duplicate of row 4: claims nothing
		",+34600000009,Nueve",              // 6 created: row 5 did not take the phone
		"zoe@example.com,,Zoe C",           // 7 duplicate of row 2
	)
	run := func(name string, concurrency int) (tenant.Merchant, [][]string) {
		m := e.merchant(name)
		zoe, err := crm.New(m.ID, crm.Enrolment{Profile: crm.Profile{Email: "zoe@example.com", Phone: "+34600000003", GivenName: "Zoe"}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateCustomer(t.Context(), zoe); err != nil {
			t.Fatal(err)
		}
		e.runner.Concurrency = concurrency
		return m, e.report(e.run(m.ID, imports.Params{Format: imports.CSV, OnExisting: imports.Update}, file))
	}
	at, report := run("A la vez", 6)
	zoe, _ := e.byEmail(at.ID, "zoe@example.com")
	nuevo, _ := e.byEmail(at.ID, "new@example.com")
	nueve, err := e.store.CustomerByUnique(t.Context(), at.ID, crm.Unique{Kind: "phone", Value: "+34600000009"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		imports.ReportHeader,
		{"2", "updated", zoe.ID, "/given_name", `"Zoe" → "Zoe A"`},
		{"3", "updated", zoe.ID, "/given_name", `"Zoe A" → "Zoe B"`},
		{"4", "created", nuevo.ID, "", ""},
		{"5", "rejected", "", "/email", "duplicate of row 4"},
		{"6", "created", nueve.ID, "", ""},
		{"7", "rejected", "", "/email", "duplicate of row 2"},
	}
	if !slices.EqualFunc(report, want, slices.Equal) {
		t.Fatalf("report:\n%s\nwant:\n%s", lines(report), lines(want))
	}
	if zoe.GivenName != "Zoe B" || nueve.GivenName != "Nueve" || nueve.ID == nuevo.ID {
		t.Fatalf("zoe %q, nueve %q (%s, nuevo %s)", zoe.GivenName, nueve.GivenName, nueve.ID, nuevo.ID)
	}
	one, sequential := run("Una a una", 1)
	if !slices.EqualFunc(anonymous(sequential), anonymous(report), slices.Equal) {
		t.Fatalf("one row at a time:\n%s\nsix at once:\n%s", lines(sequential), lines(report))
	}
	if a, b := anonymousState(e.state(one.ID)), anonymousState(e.state(at.ID)); !maps.Equal(a, b) {
		t.Fatalf("customers differ:\n%v\n%v", a, b)
	}
}

// An XLSX file imports like its CSV: formulas neutralised by the writer are
// restored, booleans and dates read.
func TestImportXLSX(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.merchant("Hoja")
	var buf bytes.Buffer
	if err := tabular.WriteXLSX(&buf, [][]string{
		{"email", "given_name", "favorite", "birthday", "points_balance"},
		{"ana@example.com", "=Ana", "TRUE", "32874", "7"},
		{},
		{"bea@example.com", "Bea", "FALSE", "", ""},
		{"ana@example.com", "Ana 2", "", "", ""},
	}); err != nil {
		t.Fatal(err)
	}
	j := e.run(m.ID, imports.Params{Format: imports.XLSX, OpeningBalance: true}, buf.Bytes())
	ana, _ := e.byEmail(m.ID, "ana@example.com")
	bea, _ := e.byEmail(m.ID, "bea@example.com")
	want := [][]string{imports.ReportHeader, {"2", "created", ana.ID, "", ""}, {"4", "created", bea.ID, "", ""},
		{"5", "rejected", "", "/email", "duplicate of row 2"}}
	if got := e.report(j); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("report:\n%s", lines(got))
	}
	if ana.GivenName != "=Ana" || !ana.Favorite || ana.Birthday != "1990-01-01" || ana.Metrics.PointsBalance != 7 || bea.Favorite {
		t.Fatalf("ana %+v bea %+v", ana, bea)
	}
}

// A workbook in the 1904 date system (older Excel for Mac) gives its dates,
// not the dates four years and a day earlier that the 1900 count would make
// of its serial numbers.
func TestImportXLSXDate1904(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.merchant("Mac")
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: new(true)}); err != nil {
		t.Fatal(err)
	}
	enrolled := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, row := range [][]any{
		{"email", "birthday", "enrolled_at"},
		{"mac@example.com", time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), enrolled},
	} {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	e.run(m.ID, imports.Params{Format: imports.XLSX}, buf.Bytes())
	c, _ := e.byEmail(m.ID, "mac@example.com")
	if c.Birthday != "1990-05-17" || !c.EnrolledAt.Equal(enrolled) {
		t.Fatalf("birthday %s, enrolled %s", c.Birthday, c.EnrolledAt)
	}
}

// A full export of one merchant imports into another as the same customers.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	from, to := e.merchant("Origen"), e.merchant("Destino")
	now := time.Now()
	profiles := []crm.Profile{
		{Email: "ana@example.com", GivenName: "Ana", FamilyName: "=García", Phone: "+34600111222", Tags: []string{"vip", "café"}, Favorite: true,
			Attributes: map[string]string{"talla": "M"}, Birthday: "--06-15", NewsletterConsent: true, DocumentNumber: "X1", DeviceType: "ios",
			Addresses: []crm.Address{{Label: "casa", Line1: "Calle Mayor, 1", City: "Madrid", PostalCode: "28001", Country: "ES", Primary: true}}},
		{ExternalID: "ext-2", CardNumber: "RG000000000002", GivenName: "Bea", Type: crm.TypeProspect},
	}
	for _, p := range profiles {
		c, err := crm.New(from.ID, crm.Enrolment{Profile: p}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	ex, err := jobs.New(from.ID, jobs.CustomerExport, exports.CustomerParams{Columns: crm.ColumnsFull, BOM: true, Query: crm.Query{Order: crm.OrderEnrolled, Now: now}}, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	if ex, err = jobs.Enqueue(t.Context(), e.store, e.queue, ex); err != nil {
		t.Fatal(err)
	}
	ex = e.drain(ex)
	rc, err := e.bucket.Open(t.Context(), ex.Result.Object, 0)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(rc)
	rc.Close()
	j := e.run(to.ID, imports.Params{Format: imports.CSV}, file)
	if j.Progress.Written != 2 || len(j.Result.IgnoredColumns) != 0 {
		t.Fatalf("progress %+v, ignored %v: %v", j.Progress, j.Result.IgnoredColumns, e.report(j))
	}
	for _, u := range []crm.Unique{{Kind: "email", Value: "ana@example.com"}, {Kind: "external_id", Value: "ext-2"}} {
		a, err := e.store.CustomerByUnique(t.Context(), from.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.store.CustomerByUnique(t.Context(), to.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		if changed := crm.ChangedFields(a, b); len(changed) != 0 || !a.EnrolledAt.Equal(b.EnrolledAt) {
			t.Fatalf("%s differs in %v:\n%+v\n%+v", u.Value, changed, a, b)
		}
	}
}

var ulid = regexp.MustCompile(`[0-9A-HJKMNP-TV-Z]{26}`)

// anonymous replaces customer IDs by their order of appearance.
func anonymous(rows [][]string) [][]string {
	seen := map[string]string{}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for k, c := range r {
			out[i][k] = ulid.ReplaceAllStringFunc(c, func(id string) string {
				if _, ok := seen[id]; !ok {
					seen[id] = fmt.Sprintf("C%d", len(seen)+1)
				}
				return seen[id]
			})
		}
	}
	return out
}

func anonymousState(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = ulid.ReplaceAllString(v, "ID")
	}
	return out
}

func lines(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%q\n", r)
	}
	return b.String()
}

// Erasing an imported customer erases the import's claims on their
// identifiers too: no item of the table names them afterwards.
func TestErasureOfAnImportedCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.merchant("Borrado")
	e.run(m.ID, imports.Params{Format: imports.CSV, OpeningBalance: true},
		csvFile("email,phone,given_name,points_balance", "olvido@example.com,+34600111333,Olvido,40", "queda@example.com,,Queda,0"))
	c, ok := e.byEmail(m.ID, "olvido@example.com")
	if !ok {
		t.Fatal("the row was not imported")
	}
	if err := e.store.DeleteCustomer(t.Context(), m.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, done, err := e.store.EraseCustomerData(t.Context(), m.ID, c.ID, 1000); err != nil || !done {
		t.Fatalf("erase: %v %v", done, err)
	}
	p := dynamodb.NewScanPaginator(e.ddb, &dynamodb.ScanInput{TableName: &e.table})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if s := fmt.Sprint(it); strings.Contains(s, c.ID) || strings.Contains(s, "olvido@example.com") || strings.Contains(s, "34600111333") {
				t.Fatalf("left behind: %.300s", s)
			}
		}
	}
	if _, ok := e.byEmail(m.ID, "queda@example.com"); !ok {
		t.Fatal("the other customer went too")
	}
}

// A created row is an enrolment: an active customer gets the program's
// signup points once, however often the import runs; a pending one and an
// updated one get none.
func TestImportAwardsSignup(t *testing.T) {
	e := newEnv(t)
	m := e.merchant("Importadora")
	prog := loyalty.DefaultProgram()
	prog.Enabled, prog.Actions.Signup = true, 30
	if _, err := e.store.SaveProgram(t.Context(), m.ID, prog, 0, "test", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	xavi, _ := e.seedBase(m.ID)
	file := csvFile("email,given_name,state", "nuevo@example.com,Nuevo,active", "espera@example.com,Espera,pending", "xavi@example.com,Xavier,")
	p := imports.Params{Format: imports.CSV, OnExisting: imports.Update}
	j := e.run(m.ID, p, file)
	balances := func() map[string]int64 {
		out := map[string]int64{}
		for _, email := range []string{"nuevo@example.com", "espera@example.com", "xavi@example.com"} {
			c, ok := e.byEmail(m.ID, email)
			if !ok {
				t.Fatalf("%s missing", email)
			}
			out[email] = c.Metrics.PointsBalance
		}
		return out
	}
	want := map[string]int64{"nuevo@example.com": 30, "espera@example.com": 0, "xavi@example.com": 0}
	if got := balances(); !maps.Equal(got, want) {
		t.Fatalf("balances %v, want %v", got, want)
	}
	again := j
	again.State, again.Cursor, again.Result.Report, again.Progress = jobs.Queued, nil, "", jobs.Progress{}
	if _, err := e.store.SaveJob(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Send(t.Context(), e.queue, again); err != nil {
		t.Fatal(err)
	}
	e.drain(j)
	if got := balances(); !maps.Equal(got, want) {
		t.Fatalf("after a re-run: balances %v, want %v", got, want)
	}
	if x, _ := e.byEmail(m.ID, "xavi@example.com"); x.ID != xavi.ID || x.GivenName != "Xavier" {
		t.Fatalf("xavi %+v", x)
	}
}

// A row's phone is read in the merchant's country: national input is
// accepted, and two spellings of one number are one identifier.
func TestImportReadsNationalPhones(t *testing.T) {
	e := newEnv(t)
	m := e.merchant("Importadora")
	j := e.run(m.ID, imports.Params{Format: imports.CSV}, csvFile("email,phone", "nacional@example.com,600 222 333", "otro@example.com,+34 600-222-333"))
	c, ok := e.byEmail(m.ID, "nacional@example.com")
	if !ok || c.Phone != "+34600222333" {
		t.Fatalf("national phone: %+v", c)
	}
	want := [][]string{imports.ReportHeader, {"2", "created", c.ID, "", ""}, {"3", "rejected", "", "/phone", "duplicate of row 2"}}
	if got := e.report(j); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("report:\n%s\nwant:\n%s", lines(got), lines(want))
	}
}

// By default a row that finds a customer leaves them as they are: an
// e-mail match does not rename anyone. With on_existing update, the report
// says what each column was and became.
func TestImportDoesNotOverwriteByDefault(t *testing.T) {
	e := newEnv(t)
	m := e.merchant("Importadora")
	xavi, _ := e.seedBase(m.ID)
	file := csvFile("email,given_name,tags,newsletter_consent", "xavi@example.com,Otro Nombre,nuevo,true")
	j := e.run(m.ID, imports.Params{Format: imports.CSV}, file)
	want := [][]string{imports.ReportHeader, {"2", "skipped", xavi.ID, "", ""}}
	if got := e.report(j); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("default import report:\n%s\nwant:\n%s", lines(got), lines(want))
	}
	if x, _ := e.byEmail(m.ID, "xavi@example.com"); x.GivenName != "Xavi" || x.Version != xavi.Version {
		t.Fatalf("the default import changed xavi: %+v", x)
	}
	j = e.run(m.ID, imports.Params{Format: imports.CSV, OnExisting: imports.Update}, file)
	want = [][]string{imports.ReportHeader,
		{"2", "updated", xavi.ID, "/given_name", `"Xavi" → "Otro Nombre"`},
		{"2", "updated", xavi.ID, "/tags", `"" → "nuevo"`},
		{"2", "updated", xavi.ID, "/newsletter_consent", `"false" → "true"`},
	}
	if got := e.report(j); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("update report:\n%s\nwant:\n%s", lines(got), lines(want))
	}
	if j.Progress.Written != 1 {
		t.Fatalf("progress %+v: one row written", j.Progress)
	}
	items, _, err := e.store.Timeline(t.Context(), m.ID, xavi.ID, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	given := 0
	for _, it := range items {
		if it.Event != nil && it.Event.Type == "consent_given" && it.Event.Data["source"] == "import" {
			given++
		}
	}
	if given != 1 {
		t.Fatalf("%d consent_given events from the import, want 1", given)
	}
}
