package ingest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/gateway"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/tenant"
	"github.com/regulars/regulars/internal/webhook"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

// env is the whole purchase path as `make run` wires it: the gateway with
// the webhook function, the queue, and the ingest consumer.
type env struct {
	t        *testing.T
	url      string
	store    *dynamo.Store
	sqs      *sqs.Client
	consumer gateway.Consumer
	dlq      string
	merchant tenant.Merchant
	secret   string
}

func newEnv(t *testing.T, program loyalty.Program) *env {
	t.Helper()
	res := localstack.ProvisionTest(t, awsCfg)
	log := slog.New(slog.DiscardHandler)
	sys, err := devserver.Assemble(t.Context(), res, log)
	if err != nil {
		t.Fatal(err)
	}
	gw, consumers := sys.Gateway, sys.Consumers
	i := slices.IndexFunc(consumers, func(c gateway.Consumer) bool { return c.Function == "IngestFunction" })
	if i < 0 {
		t.Fatalf("no ingest consumer in %v", consumers)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	e := &env{t: t, url: srv.URL, store: dynamo.New(dynamodb.NewFromConfig(awsCfg), res.Ref("Table")), sqs: sqs.NewFromConfig(awsCfg),
		consumer: consumers[i], dlq: res.Ref("PurchasesDeadLetterQueue")}
	e.consumer.RetryDelay = 0
	m, _, err := seed.Merchant(t.Context(), e.store, "Café Central", "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.merchant = m
	e.secret = webhook.NewSecret()
	if _, err := e.store.RotateWebhookSecret(t.Context(), m.ID, tenant.WebhookSecret{ID: ids.New(time.Now()), Secret: e.secret, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if program.Redemption.Points == 0 {
		program = loyalty.DefaultProgram()
		program.Enabled = true
	}
	if _, err := e.store.SaveProgram(t.Context(), m.ID, program, 0, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

// deliver signs and posts a webhook body; it returns the status.
func (e *env) deliver(body []byte, id string, at time.Time, secret string) (int, string) {
	e.t.Helper()
	sig, err := webhook.Sign(secret, id, at, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(e.t.Context(), "POST", e.url+"/v1/webhooks/"+e.merchant.ID+"/purchases", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) send(events ...map[string]any) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"events": events})
	if status, b := e.deliver(body, "msg_"+ids.New(time.Now()), time.Now(), e.secret); status != http.StatusAccepted {
		e.t.Fatalf("delivery: %d %s", status, b)
	}
}

// drain feeds the consumer until the queue is empty.
func (e *env) drain() {
	e.t.Helper()
	if err := e.consumer.Drain(e.t.Context(), e.sqs, 1, slog.New(slog.DiscardHandler)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) queued(url string) int {
	e.t.Helper()
	n, err := gateway.Queued(e.t.Context(), e.sqs, url)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// day is when the tests' purchases happen: 12:00 in Madrid, so an event an
// hour later is the same local day and one three days earlier is another,
// whatever the time the tests run at. (Deliveries are signed with the wall
// clock, which the webhook checks them against.)
var day = time.Date(2025, 6, 10, 10, 0, 0, 0, time.UTC)

func event(id, order, status string, at time.Time, customer map[string]any, lines ...map[string]any) map[string]any {
	if lines == nil {
		lines = []map[string]any{}
	}
	return map[string]any{"event_id": id, "order_id": order, "status": status, "occurred_at": at.Format(time.RFC3339),
		"location": map[string]any{"id": "centro", "name": "Centro"}, "customer": customer, "currency": "EUR", "lines": lines}
}

func line(sku string, qty, price int64) map[string]any {
	return map[string]any{"sku": sku, "name": sku, "quantity": qty, "unit_price": price}
}

func (e *env) customerBy(email string) crm.Customer {
	e.t.Helper()
	c, err := e.store.CustomerByUnique(e.t.Context(), e.merchant.ID, crm.Unique{Kind: "email", Value: email})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) ledger(cid string) (int64, []loyalty.Entry) {
	e.t.Helper()
	acc, err := e.store.Account(e.t.Context(), e.merchant.ID, cid)
	if err != nil {
		e.t.Fatal(err)
	}
	page, err := e.store.Entries(e.t.Context(), e.merchant.ID, cid, 100, "")
	if err != nil {
		e.t.Fatal(err)
	}
	var sum int64
	for _, x := range page.Entries {
		sum += x.Points
	}
	if sum != acc.Wallet.Balance || acc.Wallet.Balance < 0 {
		e.t.Fatalf("balance %d, sum of entries %d", acc.Wallet.Balance, sum)
	}
	return acc.Wallet.Balance, page.Entries
}

// Paid arrives before created, and everything twice: one earning, one ticket.
func TestOutOfOrderAndDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, loyalty.Program{})
	ana := map[string]any{"email": "ana@example.com", "given_name": "Ana"}
	at := day
	paid := event("e2", "T-1", "paid", at.Add(time.Minute), ana, line("CAFE", 3, 250), line("TARTA", 1, 500))
	created := event("e1", "T-1", "created", at, ana, line("CAFE", 3, 250), line("TARTA", 1, 500))
	e.send(paid, paid)
	e.send(created)
	e.drain()
	e.send(paid, created) // a point of sale retrying the whole day
	e.drain()
	c := e.customerBy("ana@example.com")
	bal, entries := e.ledger(c.ID)
	// 12.50 net (no tax here) at 10 points per 5.00 → 20 points, once.
	if bal != 20 || len(entries) != 1 || entries[0].Kind != loyalty.KindEarn {
		t.Fatalf("balance %d, entries %+v", bal, entries)
	}
	m := c.Metrics
	if m.Tickets != 1 || m.Revenue != 1250 || m.Units != 4 || m.LastVisitAt == nil || c.GivenName != "Ana" || m.FirstStore != "Centro" {
		t.Fatalf("metrics %+v", m)
	}
	// A second order the same local day is the same ticket; another day is a new one.
	e.send(event("e3", "T-2", "paid", at.Add(time.Hour), ana, line("CAFE", 1, 250)))
	e.send(event("e4", "T-3", "paid", at.AddDate(0, 0, -3), ana, line("CAFE", 2, 250)))
	e.drain()
	c = e.customerBy("ana@example.com")
	if c.Metrics.Tickets != 2 || c.Metrics.Revenue != 2000 || c.Metrics.AOV() != 1000 {
		t.Fatalf("metrics after three orders on two days: %+v", c.Metrics)
	}
	if !c.Metrics.FirstPurchaseAt.Equal(at.AddDate(0, 0, -3).UTC().Truncate(time.Second)) {
		t.Fatalf("first purchase %v", c.Metrics.FirstPurchaseAt)
	}
}

// Points earned, mostly spent, then the order is refunded: within_balance
// takes back what is left and never goes below zero.
func TestRefundAfterPointsWereSpent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, loyalty.Program{})
	bea := map[string]any{"email": "bea@example.com"}
	at := day
	e.send(event("e1", "R-1", "paid", at, bea, line("MENU", 1, 5000))) // 50.00 → 100 points
	e.drain()
	c := e.customerBy("bea@example.com")
	svc := points.New(e.store, time.Now)
	if _, err := svc.Post(t.Context(), e.merchant.ID, c.ID, points.Manual{Points: -80, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	partial := event("e2", "R-1", "partially_refunded", at.Add(time.Minute), bea)
	partial["refund_lines"] = []map[string]any{{"sku": "MENU", "quantity": 0, "amount": 1000}} // 10.00 of 50.00 → 20 points back
	e.send(partial)
	e.drain()
	if bal, _ := e.ledger(c.ID); bal != 0 {
		t.Fatalf("after the partial refund: %d", bal)
	}
	e.send(event("e3", "R-1", "refunded", at.Add(2*time.Minute), bea))
	e.drain()
	bal, entries := e.ledger(c.ID)
	if bal != 0 {
		t.Fatalf("after the full refund: %d (%+v)", bal, entries)
	}
	c = e.customerBy("bea@example.com")
	if c.Metrics.Revenue != 0 || c.Metrics.Tickets != 1 {
		t.Fatalf("revenue after a full refund: %+v", c.Metrics)
	}
}

// A poison message in a batch of ten: nine are applied, the tenth is retried
// alone and lands in the dead-letter queue after five receives.
func TestPoisonMessageIsDeadLettered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, loyalty.Program{})
	var bodies [][]byte
	for i := range 9 {
		ev := event(fmt.Sprint("p", i), fmt.Sprint("P-", i), "paid", day, map[string]any{"email": fmt.Sprintf("c%d@example.com", i)}, line("CAFE", 1, 500))
		b, _ := json.Marshal(map[string]any{"merchant_id": e.merchant.ID, "webhook_id": "w", "event": ev})
		bodies = append(bodies, b)
	}
	bodies = append(bodies[:4], append([][]byte{[]byte(`{"merchant_id":"` + e.merchant.ID + `","webhook_id":"w","event":{"event_id":"bad","currency":"USD"}}`)}, bodies[4:]...)...)
	url := e.consumer.QueueURL
	for _, b := range bodies {
		if _, err := e.sqs.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(b))}); err != nil {
			t.Fatal(err)
		}
	}
	e.consumer.BatchSize = 10
	n, err := e.consumer.PollOnce(t.Context(), e.sqs, time.Second, slog.New(slog.DiscardHandler))
	if err != nil || n != 10 {
		t.Fatalf("first batch: %d %v", n, err)
	}
	for i := range 9 {
		if _, err := e.store.CustomerByUnique(t.Context(), e.merchant.ID, crm.Unique{Kind: "email", Value: fmt.Sprintf("c%d@example.com", i)}); err != nil {
			t.Fatalf("event %d not applied: %v", i, err)
		}
	}
	if q := e.queued(url); q != 1 {
		t.Fatalf("%d messages left, want the poison one", q)
	}
	for range 10 {
		if _, err := e.consumer.PollOnce(t.Context(), e.sqs, time.Second, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	if q, d := e.queued(url), e.queued(e.dlq); q != 0 || d != 1 {
		t.Fatalf("queue %d, dead-letter queue %d; want 0 and 1", q, d)
	}
}

// Bad signature, stale timestamp, malformed body: refused, nothing queued.
func TestRejectedDeliveriesQueueNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, loyalty.Program{})
	good, _ := json.Marshal(event("e1", "X-1", "paid", day, map[string]any{"email": "x@example.com"}, line("A", 1, 100)))
	for _, tc := range []struct {
		name   string
		body   []byte
		at     time.Time
		secret string
		status int
	}{
		{"bad signature", good, time.Now(), webhook.NewSecret(), http.StatusUnauthorized},
		{"stale timestamp", good, time.Now().Add(-6 * time.Minute), e.secret, http.StatusUnauthorized},
		{"malformed body", []byte(`{"event_id":`), time.Now(), e.secret, http.StatusBadRequest},
		{"invalid event", []byte(`{"events":[{"event_id":"e","order_id":"o","status":"shipped","occurred_at":"2026-01-01T00:00:00Z","customer":{"anonymous":true},"currency":"EUR","lines":[]}]}`), time.Now(), e.secret, http.StatusBadRequest},
	} {
		if status, body := e.deliver(tc.body, "msg_"+tc.name, tc.at, tc.secret); status != tc.status {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
	if q := e.queued(e.consumer.QueueURL); q != 0 {
		t.Fatalf("%d messages queued by refused deliveries", q)
	}
	// A repeated webhook-id is accepted and not queued again.
	for range 2 {
		if status, body := e.deliver(good, "msg_same", time.Now(), e.secret); status != http.StatusAccepted {
			t.Fatalf("%d %s", status, body)
		}
	}
	if q := e.queued(e.consumer.QueueURL); q != 1 {
		t.Fatalf("%d messages for one delivery sent twice", q)
	}
}

// Erasing a customer with purchases, points, visits and days leaves no item
// of theirs in the table, order claims included: the same order ID can later
// belong to someone new.
func TestErasureAfterPurchases(t *testing.T) {
	t.Parallel()
	e := newEnv(t, loyalty.Program{})
	lola := map[string]any{"email": "lola@example.com"}
	at := day
	e.send(event("e1", "Z-1", "paid", at, lola, line("CAFE", 2, 500)), event("e2", "Z-2", "paid", at.AddDate(0, 0, -1), lola, line("TE", 1, 300)))
	e.drain()
	c := e.customerBy("lola@example.com")
	if err := e.store.DeleteCustomer(t.Context(), e.merchant.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, done, err := e.store.EraseCustomerData(t.Context(), e.merchant.ID, c.ID, 1000); err != nil || !done {
		t.Fatalf("erase: done %v, %v", done, err)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	tableName := e.store.Table()
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &tableName})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if s := fmt.Sprint(it); strings.Contains(s, c.ID) || strings.Contains(s, "lola@example.com") || strings.Contains(s, "Z-1") {
				t.Fatalf("left behind: %s", s)
			}
		}
	}
	// A later event of the same order enrols a new customer instead of failing.
	e.send(event("e3", "Z-1", "refunded", at.Add(time.Hour), lola))
	e.drain()
	if again := e.customerBy("lola@example.com"); again.ID == c.ID || e.queued(e.dlq) != 0 {
		t.Fatalf("re-enrolment after erasure: %s, dead letters %d", again.ID, e.queued(e.dlq))
	}
}

// A purchase that names a merged duplicate by its customer ID is the
// survivor's: the tombstone refuses every change.
func TestPurchaseOfAMergedDuplicate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, loyalty.Program{})
	at := day
	e.send(event("e1", "M-1", "paid", at, map[string]any{"email": "sobrevive@example.com"}, line("CAFE", 1, 500)),
		event("e2", "M-2", "paid", at, map[string]any{"email": "duplicado@example.com"}, line("CAFE", 1, 700)))
	e.drain()
	survivor, dup := e.customerBy("sobrevive@example.com"), e.customerBy("duplicado@example.com")
	svc := points.New(e.store, time.Now)
	if _, err := svc.Merge(t.Context(), e.store, e.merchant.ID, survivor.ID, dup.ID, "test", time.UTC, 0); err != nil {
		t.Fatal(err)
	}
	e.send(event("e3", "M-3", "paid", at.Add(time.Hour), map[string]any{"customer_id": dup.ID}, line("TE", 1, 300)))
	e.drain()
	if e.queued(e.dlq) != 0 {
		t.Fatal("the purchase was dead-lettered")
	}
	got, err := e.store.Customer(t.Context(), e.merchant.ID, survivor.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Metrics.Revenue != 1500 || got.Metrics.Tickets != 1 {
		t.Fatalf("survivor: revenue %d, tickets %d; want 1500 and 1 (one local day)", got.Metrics.Revenue, got.Metrics.Tickets)
	}
}

// A purchase that crosses every one of 200 badges is applied whole: the
// points, the 200 badges held, each badge's holder list and the timeline's
// 200 badge_gained events (a DynamoDB transaction takes 100 items at most).
func TestPurchaseCrossingManyBadges(t *testing.T) {
	e := newEnv(t, loyalty.Program{})
	const n = 200
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	var badges []string
	for i := range n {
		b := loyalty.Badge{ID: ids.New(at), Title: "Nivel " + strconv.Itoa(i), From: int64(i + 1), Basis: loyalty.BasisBalance}
		if err := e.store.PutBadge(t.Context(), e.merchant.ID, b, false); err != nil {
			t.Fatal(err)
		}
		badges = append(badges, b.ID)
	}
	ana := map[string]any{"email": "ana@example.com"}
	e.send(event("e1", "T-1", "paid", day, ana, line("CAFE", 1, 10_000))) // 100.00 → 200 points
	e.drain()
	if q := e.queued(e.dlq); q != 0 {
		t.Fatalf("%d messages dead-lettered", q)
	}
	c := e.customerBy("ana@example.com")
	bal, entries := e.ledger(c.ID)
	if bal != n || len(entries) != 1 {
		t.Fatalf("balance %d, entries %+v", bal, entries)
	}
	acc, err := e.store.Account(t.Context(), e.merchant.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Badges) != n || acc.EventsPending {
		t.Fatalf("%d badges held, events pending %v", len(acc.Badges), acc.EventsPending)
	}
	for _, bid := range badges {
		page, err := e.store.BadgeHolders(t.Context(), e.merchant.ID, bid, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Customers) != 1 || page.Customers[0].ID != c.ID {
			t.Fatalf("holders of %s: %+v", bid, page.Customers)
		}
	}
	gained := map[string]bool{}
	for cursor := ""; ; {
		items, next, err := e.store.Timeline(t.Context(), e.merchant.ID, c.ID, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Event != nil && it.Event.Type == "badge_gained" {
				gained[it.Event.Data["badge_id"]] = true
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(gained) != n {
		t.Fatalf("%d badge_gained events", len(gained))
	}
}

// A program of 10^9 points per minor unit and a purchase of 10^11 (both
// within their bounds) once posted a wrapped balance of −2.9e18: now the
// event fails (422: the points do not fit int64), nothing of the order is
// written, and the message stays on the queue for a fixed program.
func TestOverflowingPointsWriteNothing(t *testing.T) {
	p := loyalty.DefaultProgram()
	p.Enabled = true
	p.Earning.PointsPerStep, p.Earning.StepAmount = 1_000_000_000, 1
	e := newEnv(t, p)
	e.send(event("o1", "O-1", "paid", day, map[string]any{"email": "ana@example.com"}, line("TV", 1, 1_000_000_000_00)))
	n, err := e.consumer.PollOnce(t.Context(), e.sqs, time.Second, slog.New(slog.DiscardHandler))
	if err != nil || n != 1 {
		t.Fatalf("poll: %d %v", n, err)
	}
	c := e.customerBy("ana@example.com") // enrolled before the points were computed
	if bal, entries := e.ledger(c.ID); bal != 0 || len(entries) != 0 || c.Metrics.Revenue != 0 {
		t.Fatalf("balance %d, entries %+v, revenue %d", bal, entries, c.Metrics.Revenue)
	}
	if q := e.queued(e.consumer.QueueURL); q != 1 {
		t.Fatalf("%d messages on the queue, want the failed one", q)
	}
}

// A prospect (contact details, no purchase) who buys becomes direct, once:
// the event delivered twice records one type change.
func TestProspectWhoBuysBecomesDirect(t *testing.T) {
	e := newEnv(t, loyalty.Program{})
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	p, err := crm.New(e.merchant.ID, crm.Enrolment{Profile: crm.Profile{Email: "prospecto@example.com", Type: crm.TypeProspect}}, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateCustomer(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	who := map[string]any{"email": "prospecto@example.com"}
	e.send(event("e1", "P-1", "paid", at.Add(time.Minute), who, line("CAFE", 1, 500)))
	e.send(event("e1", "P-1", "paid", at.Add(time.Minute), who, line("CAFE", 1, 500)))
	e.drain()
	got := e.customerBy("prospecto@example.com")
	if got.Type != crm.TypeDirect || got.Metrics.Tickets != 1 {
		t.Fatalf("after buying: type %s, tickets %d; want direct, 1", got.Type, got.Metrics.Tickets)
	}
	items, _, err := e.store.Timeline(t.Context(), e.merchant.ID, got.ID, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if it.Event != nil && it.Event.Type == "profile_updated" && it.Event.Data["fields"] == "type" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d type changes on the timeline, want 1", n)
	}
}

// A customer enrolled by their first purchase gets the signup points once:
// the event delivered twice, and a customer whose enrolling delivery failed
// before the award (in the base, no purchase yet), each end with one signup
// entry. Under signup_on card, a purchase enrolment earns none.
func TestPurchaseEnrolmentAwardsSignupOnce(t *testing.T) {
	prog := loyalty.DefaultProgram()
	prog.Enabled, prog.Actions.Signup = true, 40
	e := newEnv(t, prog)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	crashed, err := crm.New(e.merchant.ID, crm.Enrolment{Profile: crm.Profile{Email: "caido@example.com"}, EnrolledAt: &at}, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateCustomer(t.Context(), crashed); err != nil {
		t.Fatal(err)
	}
	nuevo := event("e1", "S-1", "paid", at, map[string]any{"email": "nuevo@example.com"}, line("CAFE", 1, 500))
	e.send(nuevo, nuevo, event("e2", "S-2", "paid", at, map[string]any{"email": "caido@example.com"}, line("CAFE", 1, 500)))
	e.drain()
	e.send(nuevo, event("e3", "S-3", "paid", at.Add(time.Hour), map[string]any{"email": "nuevo@example.com"}, line("CAFE", 1, 500)))
	e.drain()
	signups := func(email string) (int, int64) {
		bal, entries := e.ledger(e.customerBy(email).ID)
		n := 0
		for _, x := range entries {
			if x.Reason == "signup" {
				n++
			}
		}
		return n, bal
	}
	if n, bal := signups("nuevo@example.com"); n != 1 || bal != 40+10+10 {
		t.Fatalf("nuevo: %d signup entries, balance %d; want 1 and 60", n, bal)
	}
	if n, bal := signups("caido@example.com"); n != 1 || bal != 40+10 {
		t.Fatalf("caido: %d signup entries, balance %d; want 1 and 50", n, bal)
	}

	prog.Actions.SignupOn = loyalty.SignupCard
	if _, err := e.store.SaveProgram(t.Context(), e.merchant.ID, prog, 1, "test", at); err != nil {
		t.Fatal(err)
	}
	e.send(event("e4", "S-4", "paid", at, map[string]any{"email": "tarjeta@example.com"}, line("CAFE", 1, 500)))
	e.drain()
	if n, bal := signups("tarjeta@example.com"); n != 0 || bal != 10 {
		t.Fatalf("signup_on card: %d signup entries, balance %d; want 0 and 10", n, bal)
	}
}

// The webhook reads a phone in the merchant's country: a national number
// enrols the customer in E.164, and the same number spelt internationally
// finds them again.
func TestPurchasePhonesInTheMerchantsCountry(t *testing.T) {
	e := newEnv(t, loyalty.Program{})
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	e.send(event("e1", "F-1", "paid", at, map[string]any{"phone": "600 111 222"}, line("CAFE", 1, 500)))
	e.drain()
	e.send(event("e2", "F-2", "paid", at.Add(24*time.Hour), map[string]any{"phone": "+34 600 11 12 22"}, line("CAFE", 1, 500)))
	e.drain()
	c, err := e.store.CustomerByUnique(t.Context(), e.merchant.ID, crm.Unique{Kind: "phone", Value: "+34600111222"})
	if err != nil || c.Metrics.Tickets != 2 {
		t.Fatalf("customer %+v, %v; want one customer with 2 tickets", c, err)
	}
	body, _ := json.Marshal(event("e3", "F-3", "paid", at, map[string]any{"phone": "+34 12345"}, line("CAFE", 1, 500)))
	if status, b := e.deliver(body, "msg_bad_phone", time.Now(), e.secret); status != http.StatusBadRequest || !strings.Contains(b, "/customer/phone") {
		t.Fatalf("invalid phone: %d %s", status, b)
	}
}

// A queue message whose customer name holds a control character enrols
// nobody (the name was once dropped and the customer enrolled as ""): it
// stays on the queue, for the dead-letter queue. (The webhook refuses such
// a name with 400, and purchase.TestValidate covers a time too far ahead.)
func TestControlCharacterInANameIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, loyalty.Program{})
	ev := event("c1", "C-1", "paid", time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), map[string]any{"email": "control@example.com", "given_name": "Ana\u0007"}, line("CAFE", 1, 500))
	msg, _ := json.Marshal(map[string]any{"merchant_id": e.merchant.ID, "webhook_id": "w", "event": ev})
	url := e.consumer.QueueURL
	if _, err := e.sqs.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(msg))}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.consumer.PollOnce(t.Context(), e.sqs, time.Second, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if c, err := e.store.CustomerByUnique(t.Context(), e.merchant.ID, crm.Unique{Kind: "email", Value: "control@example.com"}); err == nil {
		t.Fatalf("enrolled %q from a name with a control character", c.GivenName)
	}
	if q := e.queued(url); q != 1 {
		t.Fatalf("%d messages on the queue, want the refused one", q)
	}
}
