package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/logging"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/gateway"
	"github.com/regulars/regulars/infra/loader"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/purchase"
	"github.com/regulars/regulars/internal/purchasemsg"
	"github.com/regulars/regulars/internal/tenant"
	"github.com/regulars/regulars/internal/webhook"
)

// The purchases benchmarks: the signed webhook that accepts purchase events
// onto the queue, beside raw SendMessageBatch calls to the same queue; the
// ingest consumer draining the queue, beside raw TransactWriteItems of one
// purchase's items; and the DynamoDB calls and capacity units of one
// purchase of each kind.

// Names of template.yaml that the purchases benchmarks drive.
const (
	webhookRoute    = "POST /v1/webhooks/{merchantId}/purchases"
	webhookFunction = "WebhookFunction"
	ingestFunction  = "IngestFunction"
	webhookQueueVar = "PURCHASES_QUEUE_URL" // the webhook's queue, in its environment
)

const (
	syntheticSeed    = 20261122              // of loader.Synthetic: every run ingests the same history
	sqsBatchMax      = 10                    // entries per SendMessageBatch, as internal/queue sends them
	drainTimeout     = 3 * time.Minute       // bound of one drain of the queue
	emptyQueuePause  = 10 * time.Millisecond // between looks at a queue that is not empty yet
	baselineSuffix   = "#bench-buy"          // of the copies the ingest baseline updates
	webhookIDPattern = "msg_bench_%06d"      // unique webhook-id of each delivery
)

// Capacity rows of the purchases (table 5).
const (
	ingestFirstName     = "ingest: first purchase (new customer)"
	ingestNewDayName    = "ingest: repeat purchase, new day"
	ingestSameDayName   = "ingest: 2nd purchase, same day"
	ingestRefundName    = "ingest: partial refund"
	ingestDuplicateName = "ingest: duplicate event"
)

// webhookName names the webhook request of n events in the capacity table.
func webhookName(n int) string {
	if n == 1 {
		return webhookRoute + " (1 event)"
	}
	return fmt.Sprintf("%s (%d events)", webhookRoute, n)
}

// purchasesBench drives purchase events through the signed webhook and the
// ingest consumer, and the same queue and table through the raw SDK for the
// baselines.
type purchasesBench struct {
	*pointsBench
	sqs        *sqs.Client
	consumer   gateway.Consumer // the IngestFunction's event source, as devserver.Consumers builds it
	queue, dlq string           // URLs of its queue and of that queue's dead-letter queue
	secret     string           // the merchant's webhook signing secret
	hooks      atomic.Int64     // makes webhook ids unique
	events     atomic.Int64     // makes event and order IDs of setup unique

	// The webhook bodies of the load (one event, loader.BatchSize events)
	// and the queue messages the webhook makes of them, which the SQS
	// baselines send.
	single, batch         []byte
	singleMsgs, batchMsgs []string

	// ingestLog keeps the first error line of the consumer's log (and of
	// PollOnce's, pollLog): formatted and dropped, as in Lambda.
	ingestLog *firstError
	pollLog   *slog.Logger

	buy      []*posting // one purchase's transaction, one copy per poller
	capacity []Capacity // of the webhook and of one purchase of each kind
}

// setupPurchases gives the bench merchant a webhook secret, builds the
// bodies of the webhook load, meters one webhook delivery of each size and
// one purchase of each kind (alone, rules on), and captures, per poller, the
// transaction of a customer's repeat purchase: the baseline's writes.
func (pb *pointsBench) setupPurchases(ctx context.Context, e *environment, m *meter, pollers int, progress func(string)) (*purchasesBench, error) {
	pu := &purchasesBench{pointsBench: pb, sqs: sqs.NewFromConfig(e.aws, func(o *sqs.Options) { o.Logger = logging.Nop{} }), ingestLog: &firstError{}}
	pu.pollLog = slog.New(errorLog{slog.NewJSONHandler(io.Discard, nil), pu.ingestLog})
	consumers, err := devserver.Consumers(ctx, e.tmpl, e.res, pu.pollLog)
	if err != nil {
		return nil, err
	}
	for _, c := range consumers {
		if c.Function == ingestFunction {
			pu.consumer = c
		}
	}
	if pu.consumer.Handler == nil {
		return nil, fmt.Errorf("template.yaml feeds no queue to %s, the purchase consumer the bench drives", ingestFunction)
	}
	pu.queue = pu.consumer.QueueURL
	for _, q := range e.tmpl.Queues {
		if e.res.Ref(q.LogicalID) == pu.queue && q.RedrivePolicy != nil {
			pu.dlq = e.res.Ref(q.RedrivePolicy.DeadLetterQueue)
		}
	}
	if pu.dlq == "" {
		return nil, fmt.Errorf("the queue of %s has no dead-letter queue in template.yaml", ingestFunction)
	}
	for _, f := range e.tmpl.Functions {
		if f.LogicalID != webhookFunction {
			continue
		}
		env, err := e.res.FunctionEnv(f)
		if err != nil {
			return nil, err
		}
		if env[webhookQueueVar] != pu.queue {
			return nil, fmt.Errorf("%s sends to %q, not to the queue of %s (%s): the bench measures one queue", webhookFunction, env[webhookQueueVar], ingestFunction, pu.queue)
		}
	}

	now := time.Now()
	st := dynamo.New(pb.ddb, pb.table)
	fresh := tenant.WebhookSecret{ID: ids.New(now), Secret: webhook.NewSecret(), CreatedAt: now}
	if _, err := st.RotateWebhookSecret(ctx, pb.merchant.ID, fresh); err != nil {
		return nil, fmt.Errorf("give the bench merchant a webhook secret: %w", err)
	}
	pu.secret = fresh.Secret

	// The load's events: the latest purchases of the synthetic history.
	history := loader.Synthetic(loader.BatchSize, now, syntheticSeed)
	evs := make([]map[string]any, loader.BatchSize)
	for i := range evs {
		evs[i] = pu.event(history[i%len(history)], "hook")
	}
	if pu.single, err = json.Marshal(evs[0]); err != nil {
		return nil, err
	}
	if pu.batch, err = json.Marshal(map[string]any{"events": evs}); err != nil {
		return nil, err
	}
	if pu.singleMsgs, err = pu.messages(pu.single); err != nil {
		return nil, err
	}
	if pu.batchMsgs, err = pu.messages(pu.batch); err != nil {
		return nil, err
	}

	if err := pu.meterPurchases(ctx, m); err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("purchases: one customer and one repeat purchase per poller (%d), for the baseline", pollers))
	for i := range pollers {
		p, err := pu.capturePurchase(ctx, m, fmt.Sprintf("bench-base-%d", i))
		if err != nil {
			return nil, err
		}
		pu.buy = append(pu.buy, p)
	}
	for _, p := range pu.buy[1:] {
		if len(p.items) != len(pu.buy[0].items) {
			return nil, fmt.Errorf("repeat purchases wrote %d and %d items", len(pu.buy[0].items), len(p.items))
		}
	}
	return pu, nil
}

// event is the webhook event of a purchase (loader.Purchase.Event) under an
// event and order ID unique to this run, starting with prefix.
func (pu *purchasesBench) event(p loader.Purchase, prefix string) map[string]any {
	n := pu.events.Add(1)
	ev := p.Event(int(n), pu.merchant.Currency)
	ev["event_id"], ev["order_id"] = fmt.Sprintf("%s-%d", prefix, n), fmt.Sprintf("%s-order-%d", prefix, n)
	return ev
}

// messages returns the queue messages the webhook makes of a body: the same
// decoding, validation and encoding, under a webhook-id of the same length.
func (pu *purchasesBench) messages(body []byte) ([]string, error) {
	evs, err := purchasemsg.DecodePayload(body, pu.merchant.Currency, pu.merchant.Country, time.Now())
	if err != nil {
		return nil, fmt.Errorf("a webhook body of the bench is not valid: %w", err)
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		msg, err := purchasemsg.Encode(pu.merchant.ID, fmt.Sprintf(webhookIDPattern, 0), e)
		if err != nil {
			return nil, err
		}
		out[i] = string(msg)
	}
	return out, nil
}

// deliver posts a signed webhook body, under a new webhook-id, to the
// gateway at base and checks that it accepted all its events.
func (pu *purchasesBench) deliver(ctx context.Context, base string, body []byte, events int) error {
	id := fmt.Sprintf(webhookIDPattern, pu.hooks.Add(1))
	now := time.Now()
	sig, err := webhook.Sign(pu.secret, id, now, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/webhooks/"+pu.merchant.ID+"/purchases", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderID, id)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	answer, err := pu.do(req, http.StatusAccepted)
	if err != nil {
		return err
	}
	var accepted struct {
		Accepted  int  `json:"accepted"`
		Duplicate bool `json:"duplicate"`
	}
	if err := json.Unmarshal(answer, &accepted); err != nil || accepted.Accepted != events || accepted.Duplicate {
		return fmt.Errorf("POST %s: accepted %s, want %d events (%v)", req.URL.Path, answer, events, err)
	}
	return nil
}

// sendMessages is the webhook's baseline: the same queue messages sent with
// raw SendMessageBatch calls of up to ten, as internal/queue sends them.
func (pu *purchasesBench) sendMessages(ctx context.Context, bodies []string) error {
	for start := 0; start < len(bodies); start += sqsBatchMax {
		chunk := bodies[start:min(start+sqsBatchMax, len(bodies))]
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(chunk))
		for i := range chunk {
			entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: &chunk[i]}
		}
		out, err := pu.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &pu.queue, Entries: entries})
		if err != nil {
			return err
		}
		if len(out.Successful) != len(entries) {
			return fmt.Errorf("SendMessageBatch: %d of %d messages accepted", len(out.Successful), len(entries))
		}
	}
	return nil
}

// purge empties the queue that the webhook and its baselines fill.
func (pu *purchasesBench) purge(ctx context.Context) error {
	_, err := pu.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &pu.queue})
	return err
}

// ingestOne hands one purchase event to the meter's ingest consumer as one
// SQS message, the body the webhook would have queued, and fails unless the
// consumer applied it.
func (pu *purchasesBench) ingestOne(ctx context.Context, m *meter, ev map[string]any) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	msgs, err := pu.messages(body)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("bench-%d", pu.events.Add(1))
	resp, err := m.ingest(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: msgs[0],
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}, EventSource: "aws:sqs", AWSRegion: "us-east-1"}}})
	if err == nil && len(resp.BatchItemFailures) > 0 {
		err = errors.New(m.ingestLog.get())
	}
	if err != nil {
		return fmt.Errorf("ingest event %s of order %s: %w", ev["event_id"], ev["order_id"], err)
	}
	return nil
}

// localNoon returns noon of the merchant's calendar day daysAgo days before
// today, plus offset.
func (pu *purchasesBench) localNoon(daysAgo int, offset time.Duration) time.Time {
	y, mo, d := time.Now().In(pu.merchant.Location()).Date()
	return time.Date(y, mo, d-daysAgo, 12, 0, 0, 0, pu.merchant.Location()).Add(offset)
}

// meterPurchases meters, with the rules on, one webhook delivery of each
// size, then one purchase of each kind through the ingest consumer: a new
// customer's first purchase, a repeat purchase on a new day, a second
// purchase the same day, a partial refund of it, and the repeat purchase's
// event again.
func (pu *purchasesBench) meterPurchases(ctx context.Context, m *meter) error {
	m.setRules(true)
	defer m.setRules(false)
	if _, err := m.take(); err != nil {
		return err
	}
	customer := "bench-cap"
	buy := func(daysAgo int, offset time.Duration) map[string]any {
		return pu.event(loader.Purchase{Customer: customer, Date: pu.localNoon(daysAgo, offset), Units: 2, Amount: 2500}, "cap")
	}
	first, newDay, sameDay := buy(3, 0), buy(2, 0), buy(2, time.Hour)
	refund := pu.event(loader.Purchase{Customer: customer, Date: pu.localNoon(2, 2*time.Hour), Units: 2, Amount: 2500}, "cap")
	refund["order_id"], refund["status"] = sameDay["order_id"], string(purchase.PartiallyRefunded)
	delete(refund, "lines")
	refund["refund_lines"] = []map[string]any{{"sku": "CD", "quantity": 1, "amount": 1250}}
	for _, r := range []struct {
		name string
		do   func() error
	}{
		{webhookName(1), func() error { return pu.deliver(ctx, m.url, pu.single, 1) }},
		{webhookName(loader.BatchSize), func() error { return pu.deliver(ctx, m.url, pu.batch, loader.BatchSize) }},
		{ingestFirstName, func() error { return pu.ingestOne(ctx, m, first) }},
		{ingestNewDayName, func() error { return pu.ingestOne(ctx, m, newDay) }},
		{ingestSameDayName, func() error { return pu.ingestOne(ctx, m, sameDay) }},
		{ingestRefundName, func() error { return pu.ingestOne(ctx, m, refund) }},
		{ingestDuplicateName, func() error { return pu.ingestOne(ctx, m, newDay) }},
	} {
		if err := r.do(); err != nil {
			return fmt.Errorf("meter the DynamoDB calls of %s: %w", r.name, err)
		}
		t, err := m.take()
		if err != nil {
			return fmt.Errorf("meter the DynamoDB calls of %s: %w", r.name, err)
		}
		rules := t.rulesWCU
		pu.capacity = append(pu.capacity, Capacity{Operation: r.name, Clients: 1, Requests: 1, Calls: formatCalls(t.calls),
			ItemsWritten: float64(t.written), FailedCalls: float64(t.failed), RCU: t.rcu, WCU: t.wcu, Rules: &rules})
	}
	if pu.capacity[len(pu.capacity)-1].ItemsWritten != 0 {
		return fmt.Errorf("a duplicate purchase event wrote %v items, want none", pu.capacity[len(pu.capacity)-1].ItemsWritten)
	}
	return pu.purge(ctx) // the two metered deliveries
}

// capturePurchase ingests a customer's first purchase, then a repeat
// purchase on a new day through the meter, and turns the transaction of the
// second into a baseline posting.
func (pu *purchasesBench) capturePurchase(ctx context.Context, m *meter, customer string) (*posting, error) {
	for daysAgo := 3; daysAgo >= 2; daysAgo-- {
		if _, err := m.take(); err != nil {
			return nil, err
		}
		ev := pu.event(loader.Purchase{Customer: customer, Date: pu.localNoon(daysAgo, 0), Units: 2, Amount: 2500}, "base")
		if err := pu.ingestOne(ctx, m, ev); err != nil {
			return nil, err
		}
	}
	t, err := m.take()
	if err != nil {
		return nil, err
	}
	if len(t.transactions) != 1 {
		return nil, fmt.Errorf("a repeat purchase made %d successful TransactWriteItems (%s), want 1", len(t.transactions), formatCalls(t.calls))
	}
	return newPosting(ctx, pu.ddb, pu.hashKey, t.transactions[0], baselineSuffix)
}

// webhookOps are the webhook's operations and their SQS baselines. Every
// phase of each is followed by a purge of the queue.
func (pu *purchasesBench) webhookOps(base string) []*operation {
	after := pu.purge
	return []*operation{
		{name: "SendMessageBatch ×1 (1 message)", after: after,
			do: allClients(func(ctx context.Context) error { return pu.sendMessages(ctx, pu.singleMsgs) })},
		{name: webhookName(1), after: after,
			do: allClients(func(ctx context.Context) error { return pu.deliver(ctx, base, pu.single, 1) })},
		{name: fmt.Sprintf("SendMessageBatch ×%d (%d messages each)", (len(pu.batchMsgs)+sqsBatchMax-1)/sqsBatchMax, sqsBatchMax), after: after,
			do: allClients(func(ctx context.Context) error { return pu.sendMessages(ctx, pu.batchMsgs) })},
		{name: webhookName(loader.BatchSize), after: after,
			do: allClients(func(ctx context.Context) error { return pu.deliver(ctx, base, pu.batch, loader.BatchSize) })},
	}
}

// benchWebhook measures the webhook with one event and with a full batch
// per request, beside the raw SendMessageBatch calls of the same messages,
// in interleaved (ABBA) rounds of their own, after the API's.
func (pu *purchasesBench) benchWebhook(ctx context.Context, base string, cfg Config, calls map[string]string, progress func(string)) ([]Comparison, error) {
	if err := pu.purge(ctx); err != nil {
		return nil, err
	}
	ops := pu.webhookOps(base)
	l := load{clients: cfg.Clients, duration: cfg.Phase, requests: cfg.Requests}
	if err := measure(ctx, l, cfg.Warmup, cfg.Rounds, ops, progress); err != nil {
		return nil, err
	}
	var out []Comparison
	for i, n := range []int{1, loader.BatchSize} {
		b, a := summarize(ops[2*i].phases), summarize(ops[2*i+1].phases)
		lo, hi := roundRatios(a.Rounds, b.Rounds)
		out = append(out, Comparison{Operation: webhookRoute, Events: n, Calls: calls[ops[2*i+1].name], API: a, BaselineOp: ops[2*i].name,
			Baseline: b, RateRatio: ratio(a.PerSecond, b.PerSecond), P50Ratio: ratio(a.P50, b.P50), RoundRatioMin: lo, RoundRatioMax: hi})
	}
	return out, nil
}

// drained is the outcome of one drain of the queue by the pollers.
type drained struct {
	applied, failed int // messages the consumer applied and failed (each attempt)
	pollErrors      int // PollOnce errors: a receive, delete or visibility change that failed
	firstErr        error
	batches         []time.Duration // each PollOnce that received messages
	elapsed         time.Duration   // from the start to the last batch settled
}

// drain runs pollers that each call PollOnce, as the local gateway's Poll
// does, until the queue holds no message: none visible, in flight or
// delayed. They receive without Poll's 1 s long poll (the same calls when
// messages are waiting), so that the drain ends as soon as the queue is
// empty.
func (pu *purchasesBench) drain(ctx context.Context, pollers int) (drained, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, drainTimeout, fmt.Errorf("the purchase queue did not empty within %s", drainTimeout))
	defer cancel()
	var (
		mu   sync.Mutex
		d    drained
		last time.Time
		wg   sync.WaitGroup
	)
	fail := func(err error) {
		if d.firstErr == nil {
			d.firstErr = err
		}
	}
	c := pu.consumer
	handle := c.Handler
	c.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		resp, err := handle(ctx, ev)
		failed := len(resp.BatchItemFailures)
		if err != nil {
			failed = len(ev.Records)
		}
		mu.Lock()
		defer mu.Unlock()
		d.applied += len(ev.Records) - failed
		d.failed += failed
		if failed > 0 {
			fail(fmt.Errorf("the consumer failed %d of %d messages", failed, len(ev.Records)))
		}
		return resp, err
	}
	start := time.Now()
	for range pollers {
		wg.Go(func() {
			for ctx.Err() == nil {
				t := time.Now()
				n, err := c.PollOnce(ctx, pu.sqs, 0, pu.pollLog)
				done := time.Now()
				mu.Lock()
				if err != nil && ctx.Err() == nil {
					d.pollErrors++
					fail(err)
				}
				if n > 0 {
					d.batches = append(d.batches, done.Sub(t))
					if done.After(last) {
						last = done
					}
				}
				mu.Unlock()
				if n > 0 {
					continue
				}
				switch left, err := gateway.Queued(ctx, pu.sqs, pu.queue); {
				case err != nil && ctx.Err() == nil:
					mu.Lock()
					d.pollErrors++
					fail(err)
					mu.Unlock()
				case err == nil && left == 0:
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(emptyQueuePause):
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return d, context.Cause(ctx)
	}
	if !last.IsZero() {
		d.elapsed = last.Sub(start)
	}
	return d, nil
}

// syntheticPurchases returns n purchases of loader.Synthetic's history
// (about four per customer), whole customers but the last, in the order
// they happened: a point of sale's feed.
func syntheticPurchases(n int, end time.Time) []loader.Purchase {
	var ps []loader.Purchase
	for customers := n/2 + 1; len(ps) < n; customers *= 2 {
		ps = loader.Synthetic(customers, end, syntheticSeed)
	}
	ps = ps[:n]
	for i := range ps {
		ps[i].Date = ps[i].Date.Truncate(time.Second) // occurred_at has seconds
	}
	slices.SortStableFunc(ps, func(a, b loader.Purchase) int { return a.Date.Compare(b.Date) })
	return ps
}

// enqueue delivers purchases through the signed webhook at base, in
// batches of loader.BatchSize events.
func (pu *purchasesBench) enqueue(ctx context.Context, base string, ps []loader.Purchase) error {
	for start := 0; start < len(ps); start += loader.BatchSize {
		chunk := ps[start:min(start+loader.BatchSize, len(ps))]
		evs := make([]map[string]any, len(chunk))
		for i, p := range chunk {
			evs[i] = pu.event(p, "buy")
		}
		body, err := json.Marshal(map[string]any{"events": evs})
		if err != nil {
			return err
		}
		if err := pu.deliver(ctx, base, body, len(evs)); err != nil {
			return fmt.Errorf("enqueue purchases through the webhook: %w", err)
		}
	}
	return nil
}

// benchIngest enqueues the synthetic purchases through the webhook, a slice
// per round, and after each enqueue measures the consumer draining the
// queue with pollers concurrent pollers; each round also runs a phase of the
// baseline (each poller its own copy of one purchase's transaction), in ABBA
// order. A warm-up slice and phase come first. It then checks every
// customer's ticket count and the dead-letter queue.
func (pu *purchasesBench) benchIngest(ctx context.Context, base string, cfg Config, progress func(string)) (*Ingest, error) {
	warm := 0
	if cfg.Warmup > 0 {
		warm = min(cfg.Pollers*pu.consumer.BatchSize, cfg.Purchases)
	}
	all := syntheticPurchases(warm+cfg.Purchases, time.Now())
	res := &Ingest{Purchases: cfg.Purchases, Pollers: cfg.Pollers, BatchSize: pu.consumer.BatchSize, BaselineOp: pu.buy[0].label()}
	var attempts atomic.Int64
	baseLoad := load{clients: cfg.Pollers, duration: cfg.Phase, requests: cfg.Requests}
	baseline := func(ctx context.Context, c int) error { return pu.writeOwn(ctx, pu.buy[c], &attempts) }
	var phases []phase
	var runs []drained
	warmApplied := 0
	if warm > 0 {
		progress(fmt.Sprintf("warm-up ingest: enqueue and drain %d purchases", warm))
		if err := pu.enqueue(ctx, base, all[:warm]); err != nil {
			return nil, err
		}
		d, err := pu.drain(ctx, cfg.Pollers)
		if err != nil {
			return nil, err
		}
		res.addErrors(d) // discarded figures, but every purchase counts
		warmApplied = d.applied
		progress("warm-up " + res.BaselineOp)
		if _, err := (load{clients: cfg.Pollers, duration: cfg.Warmup}).run(ctx, baseline); err != nil {
			return nil, err
		}
	}
	rest := all[warm:]
	for r := range cfg.Rounds {
		chunk := rest[r*len(rest)/cfg.Rounds : (r+1)*len(rest)/cfg.Rounds]
		ingest := func() error {
			progress(fmt.Sprintf("round %d/%d: enqueue %d purchases through the webhook", r+1, cfg.Rounds, len(chunk)))
			if err := pu.enqueue(ctx, base, chunk); err != nil {
				return err
			}
			progress(fmt.Sprintf("round %d/%d: ingest them with %d pollers", r+1, cfg.Rounds, cfg.Pollers))
			d, err := pu.drain(ctx, cfg.Pollers)
			runs = append(runs, d)
			return err
		}
		base := func() error {
			progress(fmt.Sprintf("round %d/%d: %s", r+1, cfg.Rounds, res.BaselineOp))
			before := attempts.Load()
			p, err := baseLoad.run(ctx, baseline)
			p.attempts = attempts.Load() - before
			phases = append(phases, p)
			return err
		}
		steps := []func() error{ingest, base}
		if r%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, err
			}
		}
	}

	res.Baseline = summarize(phases)
	var batches []time.Duration
	var elapsed time.Duration
	for _, d := range runs {
		res.addErrors(d)
		res.Applied += d.applied
		batches = append(batches, d.batches...)
		elapsed += d.elapsed
		res.Rounds = append(res.Rounds, ratio(float64(d.applied), d.elapsed.Seconds()))
	}
	slices.Sort(batches)
	res.Seconds = elapsed.Seconds()
	res.PerSecond = ratio(float64(res.Applied), elapsed.Seconds())
	res.BatchP50, res.BatchP99 = ms(percentile(batches, 0.50)), ms(percentile(batches, 0.99))
	res.RateRatio = ratio(res.PerSecond, res.Baseline.PerSecond)
	res.RoundRatioMin, res.RoundRatioMax = roundRatios(res.Rounds, res.Baseline.Rounds)

	progress("verify: ticket counts of every customer, dead-letter queue")
	if err := pu.verify(ctx, all, warmApplied+res.Applied, res); err != nil {
		return nil, err
	}
	res.HandlerError = pu.ingestLog.get()
	res.Errors = res.FailedMessages + res.PollErrors + res.Lost + res.DeadLettered + res.TicketMismatches + res.Baseline.Errors
	return res, nil
}

func (res *Ingest) addErrors(d drained) {
	res.FailedMessages += d.failed
	res.PollErrors += d.pollErrors
	if res.FirstError == "" && d.firstErr != nil {
		res.FirstError = d.firstErr.Error()
	}
}

// verify checks, after the run, that every purchase was applied exactly
// once: as many messages applied as purchases enqueued, none dead-lettered,
// and each customer's ticket count equal to the distinct local dates of
// their purchases (all purchases of a day are one ticket).
func (pu *purchasesBench) verify(ctx context.Context, all []loader.Purchase, applied int, res *Ingest) error {
	loc := pu.merchant.Location()
	dates := map[string]map[string]bool{} // external ID → local dates
	for _, p := range all {
		ext := "cust-" + p.Customer // as loader.Purchase.Event names the customer
		if dates[ext] == nil {
			dates[ext] = map[string]bool{}
		}
		dates[ext][purchase.LocalDate(p.Date, loc)] = true
	}
	res.Customers = len(dates)
	dead, err := gateway.Queued(ctx, pu.sqs, pu.dlq)
	if err != nil {
		return err
	}
	res.DeadLettered = dead
	res.Lost = max(0, len(all)-applied-dead) // neither applied nor dead-lettered

	st := dynamo.New(pu.ddb, pu.table)
	work := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ext := range work {
				c, err := st.CustomerByUnique(ctx, pu.merchant.ID, crm.Unique{Kind: "external_id", Value: ext})
				want := int64(len(dates[ext]))
				mu.Lock()
				switch {
				case err != nil:
					res.TicketMismatches++
					if res.FirstError == "" {
						res.FirstError = fmt.Sprintf("customer %s: %v", ext, err)
					}
				case c.Metrics.Tickets != want:
					res.TicketMismatches++
					if res.FirstError == "" {
						res.FirstError = fmt.Sprintf("customer %s: %d tickets, want %d (distinct local dates of their purchases)", ext, c.Metrics.Tickets, want)
					}
				default:
					res.Verified++
				}
				mu.Unlock()
			}
		})
	}
	for ext := range dates {
		work <- ext
	}
	close(work)
	wg.Wait()
	return ctx.Err()
}
