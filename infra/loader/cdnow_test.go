package loader_test

import (
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/gateway"
	"github.com/regulars/regulars/infra/loader"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/nightly"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/tenant"
	"github.com/regulars/regulars/internal/webhook"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

// TestCDNOWThroughTheWebhook loads the CDNOW sample (6,919 purchases of
// 2,357 customers with localstack.Long; otherwise the 872 purchases of
// every eighth customer, a sample whose fit is well defined)
// through the signed webhook, the queue and the ingest consumer, and checks
// every customer's tickets, revenue and first and last purchase against what
// the file says (same-day purchases are one ticket); then runs the nightly
// analysis as of 1997-09-30 and checks its fits against a fit of the file's
// histories and, with the whole sample, against the published ones
// (internal/analytics checks those fits from the summary file too).
func TestCDNOWThroughTheWebhook(t *testing.T) {
	f, err := os.Open(cdnowPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ny, _ := time.LoadLocation("America/New_York")
	ps, err := loader.ParseCDNOW(f, ny)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 6919 {
		t.Fatalf("%d purchases, want 6919", len(ps))
	}
	if !localstack.Long() {
		ps = everyNthCustomer(ps, 8)
	}
	type want struct {
		dayRevenue  map[string]int64 // by local day
		revenue     int64
		first, last time.Time
	}
	expected := map[string]*want{}
	for _, p := range ps {
		w := expected[p.Customer]
		if w == nil {
			w = &want{dayRevenue: map[string]int64{}, first: p.Date, last: p.Date}
			expected[p.Customer] = w
		}
		w.dayRevenue[p.Date.In(ny).Format(time.DateOnly)] += p.Amount
		w.revenue += p.Amount
		w.first = minTime(w.first, p.Date)
		w.last = maxTime(w.last, p.Date)
	}
	if n := len(expected); n != 2357 && localstack.Long() {
		t.Fatalf("%d customers, want 2357", n)
	}

	l := newLocal(t)
	res, srv, consumers, store, log := l.res, l.srv, l.sys.Consumers, l.store, l.log
	m, _, err := seed.Merchant(t.Context(), store, "CDNOW", "USD", "America/New_York", tenant.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	secret := webhook.NewSecret()
	if _, err := store.RotateWebhookSecret(t.Context(), m.ID, tenant.WebhookSecret{ID: ids.New(time.Now()), Secret: secret, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p := loyalty.DefaultProgram()
	p.Enabled = true
	if _, err := store.SaveProgram(t.Context(), m.ID, p, 0, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	client := loader.Client{URL: srv.URL, Merchant: m.ID, Secret: secret, Currency: "USD"}
	if err := client.Load(t.Context(), ps, nil); err != nil {
		t.Fatal(err)
	}
	ingest := slices.IndexFunc(consumers, func(c gateway.Consumer) bool { return c.Function == "IngestFunction" })
	if ingest < 0 {
		t.Fatalf("no ingest consumer in %v", consumers)
	}
	api := sqs.NewFromConfig(awsCfg)
	if err := consumers[ingest].Drain(t.Context(), api, 4, log); err != nil {
		t.Fatal(err)
	}
	if dead, err := gateway.Queued(t.Context(), api, res.Ref("PurchasesDeadLetterQueue")); err != nil || dead != 0 {
		t.Fatalf("%d purchases dead-lettered (%v); the log above says why", dead, err)
	}

	for id, w := range expected {
		c, err := store.CustomerByUnique(t.Context(), m.ID, crm.Unique{Kind: "external_id", Value: "cust-" + id})
		if err != nil {
			t.Fatalf("customer %s: %v", id, err)
		}
		got := c.Metrics
		if got.Tickets != int64(len(w.dayRevenue)) || got.Revenue != w.revenue || got.FirstPurchaseAt == nil || got.LastVisitAt == nil ||
			!got.FirstPurchaseAt.Equal(w.first) || !got.LastVisitAt.Equal(w.last) {
			t.Fatalf("customer %s: tickets %d revenue %d first %v last %v; want %d, %d, %v, %v",
				id, got.Tickets, got.Revenue, got.FirstPurchaseAt, got.LastVisitAt, len(w.dayRevenue), w.revenue, w.first.UTC(), w.last.UTC())
		}
	}

	// The nightly analysis of what was ingested, as of the end of the 39-week
	// calibration period, fits what the file's histories fit; for the whole
	// sample, the published models within 1 %: BG/NBD r = 0.243, α = 4.414,
	// a = 0.793, b = 2.426 (weeks) and Gamma-Gamma p = 6.25, q = 3.74,
	// γ = 15.44 (dollars; the ledger keeps cents).
	asOf := time.Date(1997, 9, 30, 0, 0, 0, 0, ny)
	worker := nightly.NewWorker(store, points.New(store, time.Now), time.Now, log)
	run, err := worker.Run(t.Context(), nightly.Job{MerchantID: m.ID, AsOf: asOf.Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	bg, gg := run.Model.BGNBD, run.Model.GammaGamma
	if bg == nil || gg == nil {
		t.Fatalf("no fit: %s", run.Model.NoFit)
	}
	var hs []analytics.History
	for _, w := range expected {
		var tickets []analytics.Ticket
		for day, revenue := range w.dayRevenue {
			d, _ := time.ParseInLocation(time.DateOnly, day, ny)
			tickets = append(tickets, analytics.Ticket{Date: d, Revenue: revenue})
		}
		if h, ok := analytics.HistoryOf(tickets, asOf); ok {
			hs = append(hs, h)
		}
	}
	wantBG, err := analytics.FitBGNBD(hs)
	if err != nil {
		t.Fatal(err)
	}
	wantGG, err := analytics.FitGammaGamma(hs)
	if err != nil {
		t.Fatal(err)
	}
	type param struct {
		name      string
		got, want float64
	}
	check := func(of string, tolerance float64, ps []param) {
		for _, c := range ps {
			if math.Abs(c.got-c.want)/c.want > tolerance {
				t.Errorf("%s = %.4f, want %.4f (%s) within %g%%", c.name, c.got, c.want, of, tolerance*100)
			}
		}
	}
	check("the file's histories", 0.001, []param{{"r", bg.R, wantBG.R}, {"alpha", bg.Alpha, wantBG.Alpha}, {"a", bg.A, wantBG.A}, {"b", bg.B, wantBG.B},
		{"p", gg.P, wantGG.P}, {"q", gg.Q, wantGG.Q}, {"gamma", gg.Gamma, wantGG.Gamma}})
	if localstack.Long() {
		check("published", 0.01, []param{{"r", bg.R, 0.243}, {"alpha", bg.Alpha, 4.414}, {"a", bg.A, 0.793}, {"b", bg.B, 2.426},
			{"p", gg.P, 6.25}, {"q", gg.Q, 3.74}, {"gamma", gg.Gamma / 100, 15.44}})
	}
	t.Logf("%d customers: BG/NBD %+v, Gamma-Gamma %+v", len(expected), *bg, *gg)
}

// everyNthCustomer keeps the purchases of every nth customer, in the order
// they first appear.
func everyNthCustomer(ps []loader.Purchase, n int) []loader.Purchase {
	index := map[string]int{}
	var kept []loader.Purchase
	for _, p := range ps {
		i, ok := index[p.Customer]
		if !ok {
			i = len(index)
			index[p.Customer] = i
		}
		if i%n == 0 {
			kept = append(kept, p)
		}
	}
	return kept
}

func cdnowPath(t *testing.T) string {
	for _, p := range []string{"../../../shared/data/cdnow/CDNOW_sample.txt", os.Getenv("CDNOW_SAMPLE")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("the CDNOW sample (../shared/data/cdnow) is not beside the repository")
	return ""
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
