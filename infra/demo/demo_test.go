package demo_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/demo"
	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/purchase"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

// TestSeededDemoIsConsistent seeds the demo through the real paths and
// checks every customer: the balance is the sum of the ledger, the metrics
// are what the orders say; the named customers bought, some customers
// redeemed a reward, the nightly run scored the base, and the duplicate to
// merge has orders too.
func TestSeededDemoIsConsistent(t *testing.T) {
	res := localstack.ProvisionTest(t, awsCfg)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	sys, err := devserver.Assemble(t.Context(), res, log)
	if err != nil {
		t.Fatal(err)
	}
	gw, consumers := sys.Gateway, sys.Consumers
	st := dynamo.New(dynamodb.NewFromConfig(awsCfg), res.Ref("Table"))
	now := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := demo.Purchases("", 40, now, loc) // synthetic: no file
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Seed(t.Context(), demo.Env{Store: st, Gateway: gw, Consumers: consumers, SQS: sqs.NewFromConfig(awsCfg), Log: log}, ps, now)
	if err != nil {
		t.Fatal(err)
	}
	mid := d.Merchant.ID
	var all []crm.Customer
	q := crm.Query{Order: crm.OrderEnrolled, Limit: 100, Now: now}
	for {
		page, err := st.ListCustomers(t.Context(), mid, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Customers...)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	if len(all) != d.Customers || len(all) < 40 {
		t.Fatalf("%d customers listed, the seed says %d", len(all), d.Customers)
	}
	var buyers, holders, redeemed, mariaJose int
	for _, c := range all {
		var sum int64
		cursor := ""
		for {
			page, err := st.Entries(t.Context(), mid, c.ID, 100, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Entries {
				sum += e.Points
				if e.Kind == loyalty.KindRedeem {
					redeemed++
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if sum != c.Metrics.PointsBalance {
			t.Errorf("customer %s: balance %d, entries sum to %d", c.ID, c.Metrics.PointsBalance, sum)
		}
		orders, err := st.Orders(t.Context(), mid, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _, err := purchase.Fold(orders, loc, now)
		if err != nil {
			t.Fatal(err)
		}
		got := c.Metrics
		if got.Tickets != want.Tickets || got.Revenue != want.Revenue || got.Units != want.Units ||
			!sameTime(got.LastVisitAt, want.LastVisitAt) || !sameTime(got.FirstPurchaseAt, want.FirstPurchaseAt) {
			t.Errorf("customer %s: metrics %+v, its %d orders say %+v", c.ID, got, len(orders), want)
		}
		if len(orders) > 0 {
			buyers++
			if c.GivenName == "María José" {
				mariaJose++
			}
		}
		if c.Metrics.PointsBalance > 0 {
			holders++
		}
	}
	if buyers < 40 || holders == 0 || redeemed == 0 || mariaJose != 2 {
		t.Errorf("%d buyers, %d with points, %d redemptions, %d María José with orders; want 40+, some, some, 2 (the duplicate)", buyers, holders, redeemed, mariaJose)
	}
	asOf := now.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
	run, _, err := st.Run(t.Context(), mid, asOf)
	if err != nil || run.Phase != "done" || run.Scored != len(all) || run.Model.RFM.NoScore != "" {
		t.Fatalf("run %s: %+v, %v", asOf, run, err)
	}
	scored := slices.IndexFunc(all, func(c crm.Customer) bool {
		s, err := st.Score(t.Context(), mid, c.ID)
		return err == nil && s.Tickets12M > 0 && s.Segment != ""
	})
	if scored < 0 {
		t.Error("no buyer has an RFM segment")
	}
}

// TestPurchasesMoveTheLogToYesterday: the demo takes the log's first
// customers, renumbered in order of appearance, with the log's last day
// moved to yesterday in the merchant's zone.
func TestPurchasesMoveTheLogToYesterday(t *testing.T) {
	file := filepath.Join(t.TempDir(), "log.txt")
	log := " 00004 0001 19970101  2   29.33\n 00021 0002 19970102  3   63.34\n 00004 0001 19970118  1   14.96\n 00050 0003 19970120  1   10.00\n"
	if err := os.WriteFile(file, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 29, 0, 30, 0, 0, loc) // the night summer time starts
	ps, err := demo.Purchases(file, 2, now, loc)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Customer+" "+p.Date.In(loc).Format("2006-01-02 15:04")+" "+p.Date.In(loc).Weekday().String()[:3])
	}
	want := []string{"demo-1 2026-03-09 12:00 Mon", "demo-2 2026-03-10 12:00 Tue", "demo-1 2026-03-26 12:00 Thu"}
	if !slices.Equal(got, want) {
		t.Errorf("purchases %q, want %q", got, want)
	}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}
