package loader_test

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/gateway"
	"github.com/regulars/regulars/infra/loader"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/purchasemsg"
	"github.com/regulars/regulars/internal/tenant"
	"github.com/regulars/regulars/internal/webhook"
)

// TestEventLineIsTheCDs: a purchase's event has one line whose quantity is
// the CDs bought and whose net is exactly the amount, whether or not the
// amount divides by the CDs (the metrics' units are then CDs, not purchases).
func TestEventLineIsTheCDs(t *testing.T) {
	at := time.Date(1997, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ units, amount int64 }{{1, 1496}, {2, 2933}, {3, 6334}, {4, 0}, {7, 100}, {40, 1}} {
		ev := loader.Purchase{Customer: "4", Date: at, Units: tc.units, Amount: tc.amount}.Event(1, "USD")
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := purchasemsg.DecodePayload(body, "USD", "US", at)
		if err != nil {
			t.Fatalf("%d CDs for %d: the webhook refuses the event: %v", tc.units, tc.amount, err)
		}
		if ls := evs[0].Lines; len(ls) != 1 || ls[0].Quantity != tc.units || ls[0].Loyalty().Net() != tc.amount {
			t.Errorf("%d CDs for %d: lines %+v", tc.units, tc.amount, ls)
		}
	}
}

// TestLoadInTheMerchantZone: the loader dates a file's purchases in the
// merchant's time zone, which it reads from the API, so a purchase lands on
// the file's calendar day for the merchant (Madrid noon is already the next
// day at UTC+14); and the customer's units are the CDs.
func TestLoadInTheMerchantZone(t *testing.T) {
	const zone = "Pacific/Kiritimati" // UTC+14
	l := newLocal(t)
	srv, consumers, store, log := l.srv, l.sys.Consumers, l.store, l.log
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) // the merchant's and its secret's creation: any past instant
	m, key, err := seed.Merchant(t.Context(), store, "Lejos", "USD", zone, tenant.ScopeRead, now)
	if err != nil {
		t.Fatal(err)
	}
	secret := webhook.NewSecret()
	if _, err := store.RotateWebhookSecret(t.Context(), m.ID, tenant.WebhookSecret{ID: ids.New(now), Secret: secret, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	loc, err := loader.MerchantZone(t.Context(), srv.URL, key, nil)
	if err != nil || loc.String() != zone {
		t.Fatalf("MerchantZone = %v, %v; want %s", loc, err, zone)
	}
	ps, err := loader.ParseCDNOW(strings.NewReader(" 00001 0001 19970101  3   29.33\n 00001 0001 19970105  2   10.00\n"), loc)
	if err != nil {
		t.Fatal(err)
	}
	if err := (loader.Client{URL: srv.URL, Merchant: m.ID, Secret: secret, Currency: "USD"}).Load(t.Context(), ps, nil); err != nil {
		t.Fatal(err)
	}
	ingest := slices.IndexFunc(consumers, func(c gateway.Consumer) bool { return c.Function == "IngestFunction" })
	if err := consumers[ingest].Drain(t.Context(), sqs.NewFromConfig(awsCfg), 1, log); err != nil {
		t.Fatal(err)
	}
	c, err := store.CustomerByUnique(t.Context(), m.ID, crm.Unique{Kind: "external_id", Value: "cust-1"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Metrics
	if got.Units != 5 || got.Revenue != 3933 || got.Tickets != 2 || got.FirstPurchaseAt == nil || got.LastVisitAt == nil {
		t.Fatalf("metrics %+v; want 5 units (CDs), revenue 3933, 2 tickets", got)
	}
	if first, last := got.FirstPurchaseAt.In(loc).Format(time.DateOnly), got.LastVisitAt.In(loc).Format(time.DateOnly); first != "1997-01-01" || last != "1997-01-05" {
		t.Errorf("purchases on %s and %s in %s; the file says 1997-01-01 and 1997-01-05", first, last, zone)
	}
}

// TestParseCDNOWRefusesNoCDs: a purchase of no CDs is not a line the
// webhook accepts; the parser says which line.
func TestParseCDNOWRefusesNoCDs(t *testing.T) {
	if _, err := loader.ParseCDNOW(strings.NewReader(" 00004 0001 19970101  0   0.00\n"), time.UTC); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v", err)
	}
}

// local is the whole local system over a fresh table, its gateway served
// over HTTP until the test ends.
type local struct {
	res   localstack.Resources
	sys   devserver.System
	srv   *httptest.Server
	store *dynamo.Store
	log   *slog.Logger // failures (a dead-lettered purchase and why) reach the test's output
}

func newLocal(t *testing.T) local {
	t.Helper()
	res := localstack.ProvisionTest(t, awsCfg)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	sys, err := devserver.Assemble(t.Context(), res, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sys.Gateway)
	t.Cleanup(srv.Close)
	return local{res: res, sys: sys, srv: srv, store: dynamo.New(dynamodb.NewFromConfig(awsCfg), res.Ref("Table")), log: log}
}
