package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/gateway"
	"github.com/regulars/regulars/infra/template"
)

// meter is the counting proxy: a second gateway, outside the measured
// phases, whose DynamoDB client goes through it to DynamoDB Local (and the
// purchase consumer's, invoked directly). For each DynamoDB call the
// gateway's handler makes it notes the operation (from
// X-Amz-Target), sets ReturnConsumedCapacity: TOTAL on reads and writes and
// adds up the ConsumedCapacity DynamoDB Local answers, and keeps the bodies
// of successful TransactWriteItems (the shapes the points baselines replay).
// With rules on, it also reads every item a write call touches before and
// after the call and computes its write units by DynamoDB's rules
// (capacity.go): only for requests sent one at a time.
//
// The proxy rewrites request bodies, which breaks their SigV4 signatures:
// DynamoDB Local does not check them.
type meter struct {
	proxy *httputil.ReverseProxy
	ddb   *dynamodb.Client    // direct, for the reads of the rules
	keys  map[string][]string // key attributes of the tables the API writes, by name
	table template.Table
	url   string // the gateway behind the meter
	close func() // stops the gateway and the proxy; idempotent
	// ingest is the IngestFunction's SQS handler, built as
	// devserver.Consumers builds it, with its DynamoDB client through the
	// proxy too; ingestLog keeps the first error it logged.
	ingest    gateway.SQSHandler
	ingestLog *firstError

	mu    sync.Mutex
	rules bool
	t     tally
	err   error // the first failure of the meter itself
}

// tally is what the meter saw since the last take.
type tally struct {
	calls        []string
	rcu, wcu     float64 // ConsumedCapacity as DynamoDB Local returns it
	rulesWCU     WriteUnits
	written      int // items touched by successful write calls
	failed       int // calls answered with an error (a cancelled transaction)
	transactions [][]byte
}

type callKey struct{}

// meteredCall is one DynamoDB call on its way through the meter.
type meteredCall struct {
	op      string
	read    bool
	write   bool
	touched []touched
	before  []map[string]types.AttributeValue
	body    []byte
	rules   bool
}

var (
	readCalls  = map[string]bool{"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true}
	writeCalls = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}
)

// newMeter starts the proxy and a gateway whose DynamoDB client goes
// through it. close stops both.
func newMeter(ctx context.Context, e *environment, ddb *dynamodb.Client) (*meter, error) {
	m, proxy, err := startMeter(e, ddb)
	if err != nil {
		return nil, err
	}
	// The function's constructor reads the endpoint from the environment,
	// as it does in Lambda.
	endpoint := os.Getenv(endpointVarDynamoDB)
	os.Setenv(endpointVarDynamoDB, proxy.URL)
	gw, err := devserver.Gateway(ctx, e.tmpl, e.res, slog.New(slog.DiscardHandler))
	var consumers []gateway.Consumer
	m.ingestLog = &firstError{}
	if err == nil {
		consumers, err = devserver.Consumers(ctx, e.tmpl, e.res, slog.New(errorLog{slog.DiscardHandler, m.ingestLog}))
	}
	os.Setenv(endpointVarDynamoDB, endpoint)
	if err != nil {
		proxy.Close()
		return nil, err
	}
	for _, c := range consumers {
		if c.Function == ingestFunction {
			m.ingest = c.Handler
		}
	}
	if m.ingest == nil {
		proxy.Close()
		return nil, fmt.Errorf("template.yaml feeds no queue to %s, the purchase consumer the bench drives", ingestFunction)
	}
	srv := httptest.NewServer(gw)
	m.url = srv.URL
	var once sync.Once
	m.close = func() {
		once.Do(func() {
			srv.Close()
			proxy.Close()
		})
	}
	return m, nil
}

const endpointVarDynamoDB = "AWS_ENDPOINT_URL_DYNAMODB"

// startMeter starts the counting proxy alone, in front of the DynamoDB
// Local that AWS_ENDPOINT_URL_DYNAMODB names: a DynamoDB client whose
// endpoint is the returned server's URL has its calls counted. m.close
// stops it.
func startMeter(e *environment, ddb *dynamodb.Client) (*meter, *httptest.Server, error) {
	endpoint := os.Getenv(endpointVarDynamoDB)
	target, err := url.Parse(endpoint)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", endpointVarDynamoDB, err)
	}
	keys := make([]string, len(e.table.KeySchema))
	for i, k := range e.table.KeySchema {
		keys[i] = k.AttributeName
	}
	m := &meter{ddb: ddb, table: e.table, keys: map[string][]string{e.res.Ref(e.table.LogicalID): keys}}
	m.proxy = httputil.NewSingleHostReverseProxy(target)
	m.proxy.ModifyResponse = m.answered
	m.proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		m.fail(fmt.Errorf("forward to DynamoDB Local: %w", err))
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	proxy := httptest.NewServer(m)
	m.close = sync.OnceFunc(proxy.Close)
	return m, proxy, nil
}

func (m *meter) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil {
		m.err = err
	}
}

// setRules turns the before-and-after reads of the rules on or off.
func (m *meter) setRules(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rules = on
}

// take returns what the meter saw since the last take, and forgets it, or
// the first failure of the meter itself.
func (m *meter) take() (tally, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.t
	m.t = tally{}
	return t, m.err
}

func (m *meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	c := &meteredCall{op: op, read: readCalls[op], write: writeCalls[op]}
	m.mu.Lock()
	c.rules = m.rules
	m.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err == nil && (c.read || c.write) {
		body, err = withConsumedCapacity(body)
	}
	if err == nil && c.write {
		c.body = body
		c.touched, err = touchedItems(op, body, m.keys)
		if err == nil && c.rules {
			c.before, err = m.items(r.Context(), c.touched)
		}
	}
	if err != nil {
		m.fail(fmt.Errorf("%s: %w", op, err))
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	m.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// answered notes DynamoDB Local's answer to a call, and lets it through as is.
func (m *meter) answered(resp *http.Response) error {
	c, _ := resp.Request.Context().Value(callKey{}).(*meteredCall)
	if c == nil {
		return errors.New("a DynamoDB call lost its meter record")
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ok := resp.StatusCode == http.StatusOK
	var units float64
	if ok && (c.read || c.write) {
		var found bool
		if units, found = consumedUnits(body); !found {
			m.fail(fmt.Errorf("%s: DynamoDB Local returned no ConsumedCapacity", c.op))
		}
	}
	var rules WriteUnits
	if ok && c.write && c.rules {
		after, err := m.items(resp.Request.Context(), c.touched)
		if err != nil {
			m.fail(fmt.Errorf("%s: %w", c.op, err))
		}
		for i, t := range c.touched {
			rules.add(writeCost(c.before[i], after[i], t.tx, m.keys[t.table], m.table.GlobalSecondaryIndexes))
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.t.calls = append(m.t.calls, c.op)
	switch {
	case !ok:
		m.t.failed++
	case c.read:
		m.t.rcu += units
	case c.write:
		m.t.wcu += units
		m.t.written += len(c.touched)
		m.t.rulesWCU.add(rules)
		if c.op == "TransactWriteItems" {
			m.t.transactions = append(m.t.transactions, c.body)
		}
	}
	return nil
}

// items reads the items at the touched keys, directly from DynamoDB Local
// (nil for an absent item).
func (m *meter) items(ctx context.Context, ts []touched) ([]map[string]types.AttributeValue, error) {
	out := make([]map[string]types.AttributeValue, len(ts))
	for i, t := range ts {
		got, err := m.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.table), Key: t.key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("read a written item for the write units: %w", err)
		}
		out[i] = got.Item
	}
	return out, nil
}

// formatCalls counts operations in order of first call: "GetItem×2 + TransactWriteItems".
func formatCalls(ops []string) string {
	return formatCallsPer(ops, 1)
}

// formatCallsPer is formatCalls for the calls of n requests: each count is
// divided by n, e.g. "GetItem×4.5 + TransactWriteItems×1.8".
func formatCallsPer(ops []string, n int) string {
	var order []string
	count := map[string]int{}
	for _, op := range ops {
		if count[op] == 0 {
			order = append(order, op)
		}
		count[op]++
	}
	parts := make([]string, len(order))
	for i, op := range order {
		parts[i] = op
		switch per := float64(count[op]) / float64(max(n, 1)); {
		case n <= 1 && count[op] > 1:
			parts[i] += "×" + strconv.Itoa(count[op])
		case n > 1 && per != 1:
			parts[i] += "×" + strconv.FormatFloat(per, 'f', 1, 64)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " + ")
}

// contendedRequests is how many requests each client sends to the contended
// customer through the meter: the calls of a posting under contention.
const contendedRequests = 3

// capacity sends one request of each kind through the meter, alone, with the
// rules on, and returns the DynamoDB calls and capacity units of each; then
// the contended points variant under load, with its calls averaged per
// request (the rules' reads would serialize the clients: off for that).
func (pb *pointsBench) capacity(ctx context.Context, m *meter, clients int) ([]Capacity, error) {
	m.setRules(true)
	if _, err := m.take(); err != nil {
		return nil, err
	}
	var out []Capacity
	for _, r := range []struct {
		name string
		do   func() error
	}{
		{getCustomerRoute, func() error { return pb.get(ctx, m.url) }},
		{createCustomerRoute, func() error { _, err := pb.create(ctx, m.url); return err }},
		{earnName, func() error { return pb.postEntry(ctx, m.url, pb.spread[0], 1) }},
		{spendName, func() error { return pb.postEntry(ctx, m.url, pb.spread[0], -1) }},
		{redeemName, func() error { return pb.redeemOrder(ctx, m.url, pb.spread[0]) }},
	} {
		if err := r.do(); err != nil {
			return nil, fmt.Errorf("meter the DynamoDB calls: %w", err)
		}
		t, err := m.take()
		if err != nil {
			return nil, fmt.Errorf("meter the DynamoDB calls of %s: %w", r.name, err)
		}
		rules := t.rulesWCU
		out = append(out, Capacity{Operation: r.name, Clients: 1, Requests: 1, Calls: formatCalls(t.calls),
			ItemsWritten: float64(t.written), FailedCalls: float64(t.failed), RCU: t.rcu, WCU: t.wcu, Rules: &rules})
	}
	m.setRules(false)
	p, err := load{clients: clients, requests: contendedRequests}.run(ctx, func(ctx context.Context, _ int) error {
		return pb.postEntry(ctx, m.url, pb.hot, 1)
	})
	if err == nil && p.firstErr != nil {
		err = fmt.Errorf("%d of %d failed, the first: %w", p.errors, p.errors+len(p.latencies), p.firstErr)
	}
	if err != nil {
		return nil, fmt.Errorf("meter the DynamoDB calls of contended postings: %w", err)
	}
	t, err := m.take()
	if err != nil {
		return nil, err
	}
	n := float64(len(p.latencies))
	out = append(out, Capacity{Operation: earnName + " (one customer)", Customers: 1, Clients: clients, Requests: len(p.latencies),
		Calls: formatCallsPer(t.calls, len(p.latencies)), ItemsWritten: float64(t.written) / n, FailedCalls: float64(t.failed) / n,
		RCU: t.rcu / n, WCU: t.wcu / n})
	return out, nil
}
