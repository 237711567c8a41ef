package nightly_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/regulars/regulars/infra/loader"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/ingest"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/nightly"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/purchase"
	"github.com/regulars/regulars/internal/tenant"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

var quiet = slog.New(slog.DiscardHandler)

// dataset applies the same synthetic purchases (through the ingest path, the
// queue aside) to a fresh table and returns the store, the merchant and the
// customers by external ID.
func dataset(t *testing.T, end time.Time) (*dynamo.Store, tenant.Merchant, map[string]string) {
	st := dynamo.New(dynamodb.NewFromConfig(awsCfg), localstack.ProvisionTest(t, awsCfg).Ref("Table"))
	m, _, err := seed.Merchant(t.Context(), st, "Nightly", "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := loyalty.DefaultProgram()
	p.Enabled = true
	if _, err := st.SaveProgram(t.Context(), m.ID, p, 0, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	in := ingest.New(st, points.New(st, time.Now), time.Now, quiet)
	for i, ps := range loader.Synthetic(120, end, 7) {
		ev := purchase.Event{EventID: fmt.Sprint("s", i), OrderID: fmt.Sprint("S-", i), Status: purchase.Paid, OccurredAt: ps.Date,
			Location: purchase.Location{ID: "centro", Name: "Centro"}, Customer: purchase.CustomerRef{ExternalID: "cust-" + ps.Customer},
			Currency: "EUR", Lines: []purchase.Line{{SKU: "MENU", Category: []string{"cafe", "bolleria", "menus"}[i%3], Quantity: 1, UnitPrice: ps.Amount}}}
		if _, err := in.Apply(t.Context(), m.ID, ev); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]string{}
	page := crm.Page{}
	q := crm.Query{Order: crm.OrderEnrolled, Limit: 100, Now: time.Now()}
	for {
		var err error
		if page, err = st.ListCustomers(t.Context(), m.ID, q); err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Customers {
			ids[c.ExternalID] = c.ID
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	return st, m, ids
}

// failingScores fails the second page of scores: the run dies halfway.
type failingScores struct {
	*dynamo.Store
	calls int
}

var errKilled = errors.New("killed")

func (f *failingScores) PutScores(ctx context.Context, mid string, scores []analytics.Score) error {
	if f.calls++; f.calls == 2 {
		return errKilled
	}
	return f.Store.PutScores(ctx, mid, scores)
}

func scoresOf(t *testing.T, st *dynamo.Store, mid string, ids map[string]string) map[string]analytics.Score {
	out := map[string]analytics.Score{}
	for ext, cid := range ids {
		s, err := st.Score(t.Context(), mid, cid)
		if err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		s.CustomerID = "" // differs between the two tables
		out[ext] = s
	}
	return out
}

// TestRestartedRunEqualsCleanRun: a run killed halfway and started again
// leaves exactly the results of one clean run.
func TestRestartedRunEqualsCleanRun(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	job := func(mid string) nightly.Job { return nightly.Job{MerchantID: mid, AsOf: "2026-10-31"} }

	cleanStore, cleanM, cleanIDs := dataset(t, asOf)
	clean := nightly.NewWorker(cleanStore, points.New(cleanStore, time.Now), time.Now, quiet)
	clean.PageSize = 25
	clean.Readers = 1 // the other runs read ten customers at once: the model must not depend on it
	run, err := clean.Run(t.Context(), job(cleanM.ID))
	if err != nil || run.Phase != analytics.PhaseDone || run.Scored != run.Customers || run.Customers != len(cleanIDs) {
		t.Fatalf("clean run: %+v %v", run, err)
	}
	if run.Model.BGNBD == nil {
		t.Logf("no fit: %s", run.Model.NoFit)
	}
	// Idempotent per merchant and date: a second run changes nothing.
	again, err := clean.Run(t.Context(), job(cleanM.ID))
	if err != nil || !reflect.DeepEqual(again.Model, run.Model) || !again.FinishedAt.Equal(*run.FinishedAt) {
		t.Fatalf("second run: %+v %v", again, err)
	}

	st, m, ids := dataset(t, asOf)
	flaky := &failingScores{Store: st}
	killed := nightly.NewWorker(flaky, points.New(st, time.Now), time.Now, quiet)
	killed.PageSize = 25
	if _, err := killed.Run(t.Context(), job(m.ID)); !errors.Is(err, errKilled) {
		t.Fatalf("the run was not killed: %v", err)
	}
	half, _, err := st.Run(t.Context(), m.ID, "2026-10-31")
	if err != nil || half.Phase != analytics.PhaseScore || half.Scored != 25 {
		t.Fatalf("after the kill: %+v %v", half, err)
	}
	restarted := nightly.NewWorker(st, points.New(st, time.Now), time.Now, quiet)
	restarted.PageSize = 25
	done, err := restarted.Run(t.Context(), job(m.ID))
	if err != nil || done.Phase != analytics.PhaseDone || done.Scored != done.Customers {
		t.Fatalf("restarted run: %+v %v", done, err)
	}
	if !reflect.DeepEqual(done.Model, run.Model) {
		t.Fatalf("models differ:\n%+v\n%+v", done.Model, run.Model)
	}
	want, got := scoresOf(t, cleanStore, cleanM.ID, cleanIDs), scoresOf(t, st, m.ID, ids)
	if !reflect.DeepEqual(want, got) {
		for ext := range want {
			if !reflect.DeepEqual(want[ext], got[ext]) {
				t.Fatalf("%s: clean %+v, restarted %+v", ext, want[ext], got[ext])
			}
		}
		t.Fatal("score sets differ")
	}
}

type captured struct{ bodies [][]byte }

func (c *captured) Send(_ context.Context, bodies [][]byte) error {
	c.bodies = append(c.bodies, bodies...)
	return nil
}

// The fan-out fixes each merchant's date when it queues the job: its own
// yesterday, in its time zone.
func TestFanOutFixesEachMerchantsYesterday(t *testing.T) {
	t.Parallel()
	st := dynamo.New(dynamodb.NewFromConfig(awsCfg), localstack.ProvisionTest(t, awsCfg).Ref("Table"))
	madrid, _, err := seed.Merchant(t.Context(), st, "Madrid", "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	lima, _, err := seed.Merchant(t.Context(), st, "Lima", "PEN", "America/Lima", tenant.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var sent captured
	// 23:30 UTC: already the 23rd in Madrid, still the 22nd in Lima.
	n, err := nightly.FanOut(t.Context(), st, &sent, "", time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC))
	if err != nil || n != 2 {
		t.Fatalf("fan-out: %d %v", n, err)
	}
	want := map[string]string{madrid.ID: "2026-11-22", lima.ID: "2026-11-21"}
	for _, b := range sent.bodies {
		var j nightly.Job
		if err := json.Unmarshal(b, &j); err != nil || want[j.MerchantID] != j.AsOf {
			t.Fatalf("job %s (%v), want %v", b, err, want)
		}
	}
}

// A badge defined after the customers earned their points is given by the
// nightly run's recomputation to every customer whose balance is in its
// interval, and to no one else.
func TestRunRecomputesBadges(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	st, m, ids := dataset(t, asOf)
	badge := loyalty.Badge{ID: "constante", Title: "Cliente constante", From: 100}
	if err := st.PutBadge(t.Context(), m.ID, badge, false); err != nil {
		t.Fatal(err)
	}
	w := nightly.NewWorker(st, points.New(st, time.Now), time.Now, quiet)
	if run, err := w.Run(t.Context(), nightly.Job{MerchantID: m.ID, AsOf: "2026-10-31"}); err != nil || run.Phase != analytics.PhaseDone {
		t.Fatalf("run: %+v %v", run, err)
	}
	holders := 0
	for ext, cid := range ids {
		acc, err := st.Account(t.Context(), m.ID, cid)
		if err != nil {
			t.Fatal(err)
		}
		want := acc.Wallet.Balance >= badge.From
		if got := slices.Contains(acc.Badges, badge.ID); got != want {
			t.Fatalf("%s: balance %d, holds the badge: %v", ext, acc.Wallet.Balance, got)
		}
		if want {
			holders++
		}
	}
	if holders == 0 || holders == len(ids) {
		t.Fatalf("%d of %d customers hold the badge: the test needs both kinds", holders, len(ids))
	}
}
