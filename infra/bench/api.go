package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/tenant"
)

// Routes of template.yaml that the bench drives.
const (
	getCustomerRoute    = "GET /v1/customers/{customerId}"
	createCustomerRoute = "POST /v1/customers"
)

// apiBench drives the API through the local gateway, and the same table
// through the raw SDK for the baselines.
type apiBench struct {
	client   *http.Client
	key      string          // admin API key of the bench merchant
	merchant tenant.Merchant // the bench merchant
	ddb      *dynamodb.Client
	table    string
	hashKey  string // name of the table's partition key

	customer   string                            // ID of the customer that GETs read
	profileKey map[string]types.AttributeValue   // key of its profile item
	written    []map[string]types.AttributeValue // the items one API create wrote, profile first

	seq atomic.Int64 // makes emails, phones and baseline keys unique
}

// statusError is an API answer other than the one expected.
type statusError struct {
	method, path string
	status, want int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d, want %d: %s", e.method, e.path, e.status, e.want, e.body)
}

// apiResults are the figures of benchAPI.
type apiResults struct {
	api, points  []Comparison
	webhook      []Comparison
	ingest       *Ingest
	capacity     []Capacity
	handlerError string // the first error the handler logged
	failed       int    // failed requests of the measured phases
}

// benchAPI compares GET and POST customer requests and points operations
// through the gateway with raw DynamoDB calls on the same table, then the
// purchase webhook and ingest with their baselines, and meters the DynamoDB
// calls and capacity units of one request (or purchase) of each.
func benchAPI(ctx context.Context, e *environment, cfg Config, progress func(string)) (*apiResults, error) {
	logged := &firstError{}
	gw, err := devserver.Gateway(ctx, e.tmpl, e.res, slog.New(errorLog{slog.NewJSONHandler(io.Discard, nil), logged}))
	if err != nil {
		return nil, err
	}
	base, stop, err := serve(gw)
	if err != nil {
		return nil, err
	}
	defer stop()

	// The baselines' SDK logs nothing: against DynamoDB Local each
	// cancelled transaction would log a spurious "response did not match
	// expected checksum" warning (aws/aws-sdk-go-v2#3545: error answers
	// carry no X-Amz-Crc32).
	ddb := dynamodb.NewFromConfig(e.aws, func(o *dynamodb.Options) { o.Logger = logging.Nop{} })
	b := &apiBench{
		client:  &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConns: cfg.Clients, MaxIdleConnsPerHost: cfg.Clients}},
		ddb:     ddb,
		table:   e.res.Ref(e.table.LogicalID),
		hashKey: e.hashKey(),
	}
	defer b.client.CloseIdleConnections()
	if err := b.setup(ctx, base, e.rangeKey()); err != nil {
		return nil, err
	}
	m, err := newMeter(ctx, e, b.ddb)
	if err != nil {
		return nil, err
	}
	defer m.close()
	progress("points: program, customers, first postings")
	pb, err := b.setupPoints(ctx, m, cfg.Clients)
	if err != nil {
		return nil, err
	}
	progress("meter the DynamoDB calls and capacity units of one request of each kind")
	capacity, err := pb.capacity(ctx, m, cfg.Clients)
	if err != nil {
		return nil, err
	}
	progress("purchases: webhook secret, meter one webhook delivery and one purchase of each kind")
	pu, err := pb.setupPurchases(ctx, e, m, cfg.Pollers, progress)
	if err != nil {
		return nil, err
	}
	capacity = append(capacity, pu.capacity...)
	m.close() // idle from here on
	calls := map[string]string{}
	for _, c := range capacity {
		if c.Clients == 1 {
			calls[c.Operation] = c.Calls
		}
	}

	getItem := &operation{name: "GetItem (ConsistentRead)", do: allClients(b.getItem)}
	apiGet := &operation{name: getCustomerRoute, do: allClients(func(ctx context.Context) error { return b.get(ctx, base) })}
	putItem := &operation{name: "PutItem (profile item)", do: allClients(b.putItem)}
	transact := &operation{name: fmt.Sprintf("TransactWriteItems (%d items)", len(b.written)), do: allClients(b.transactWrite)}
	apiCreate := &operation{name: createCustomerRoute, do: allClients(func(ctx context.Context) error {
		_, err := b.create(ctx, base)
		return err
	})}
	p := pb.operations(base)
	ops := []*operation{getItem, apiGet, putItem, transact, apiCreate,
		p.earnBase, p.earn, p.spend, p.redeemBase, p.redeem, p.hotBase, p.hot}
	l := load{clients: cfg.Clients, duration: cfg.Phase, requests: cfg.Requests}
	if err := measure(ctx, l, cfg.Warmup, cfg.Rounds, ops, progress); err != nil {
		return nil, err
	}

	stats := make(map[*operation]Throughput, len(ops))
	res := &apiResults{capacity: capacity}
	for _, op := range ops {
		stats[op] = summarize(op.phases)
		res.failed += stats[op].Errors
	}
	compare := func(api, base *operation, customers int) Comparison {
		a, bs := stats[api], stats[base]
		lo, hi := roundRatios(a.Rounds, bs.Rounds)
		return Comparison{Operation: api.name, Calls: calls[api.name], Customers: customers, API: a, BaselineOp: base.name, Baseline: bs,
			RateRatio: ratio(a.PerSecond, bs.PerSecond), P50Ratio: ratio(a.P50, bs.P50), RoundRatioMin: lo, RoundRatioMax: hi}
	}
	res.api = []Comparison{compare(apiGet, getItem, 0), compare(apiCreate, putItem, 0), compare(apiCreate, transact, 0)}
	calls[p.hot.name] = calls[earnName]
	res.points = []Comparison{compare(p.earn, p.earnBase, cfg.Clients), compare(p.spend, p.earnBase, cfg.Clients),
		compare(p.redeem, p.redeemBase, cfg.Clients), compare(p.hot, p.hotBase, 1)}

	if res.webhook, err = pu.benchWebhook(ctx, base, cfg, calls, progress); err != nil {
		return nil, err
	}
	for _, c := range res.webhook {
		res.failed += c.API.Errors + c.Baseline.Errors
	}
	if res.ingest, err = pu.benchIngest(ctx, base, cfg, progress); err != nil {
		return nil, err
	}
	res.failed += res.ingest.Errors
	res.handlerError = logged.get()
	return res, nil
}

// serve serves h on a free loopback port and returns its base URL and a
// function that shuts it down.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for the gateway: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// setup creates the bench merchant and one customer through the API, and
// reads back every item that create wrote: the shapes the baselines write.
func (b *apiBench) setup(ctx context.Context, base, rangeKey string) error {
	st := dynamo.New(b.ddb, b.table)
	m, key, err := seed.Merchant(ctx, st, "Bench Café", "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
	if err != nil {
		return fmt.Errorf("seed the bench merchant: %w", err)
	}
	b.key, b.merchant = key, m
	body, err := b.create(ctx, base)
	if err != nil {
		return fmt.Errorf("create the bench customer: %w", err)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
		return fmt.Errorf("create the bench customer: no id in the answer %s (%v)", body, err)
	}
	b.customer = created.ID
	if b.written, err = b.itemsOf(ctx, created.ID); err != nil {
		return err
	}
	for _, item := range b.written {
		if _, ok := item[b.hashKey].(*types.AttributeValueMemberS); !ok {
			return fmt.Errorf("item %v of table %s: partition key %s is not a string", item, b.table, b.hashKey)
		}
	}
	b.profileKey = map[string]types.AttributeValue{b.hashKey: b.written[0][b.hashKey]}
	if rangeKey != "" {
		b.profileKey[rangeKey] = b.written[0][rangeKey]
	}
	return nil
}

// itemsOf scans the table for the items that name a customer, the profile
// (the item whose id is the customer's) first.
func (b *apiBench) itemsOf(ctx context.Context, id string) ([]map[string]types.AttributeValue, error) {
	var profile map[string]types.AttributeValue
	var others []map[string]types.AttributeValue
	pages := dynamodb.NewScanPaginator(b.ddb, &dynamodb.ScanInput{TableName: &b.table, ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s for the items of customer %s: %w", b.table, id, err)
		}
		for _, item := range page.Items {
			switch {
			case !mentions(item, id):
			case isString(item["id"], id):
				profile = item
			default:
				others = append(others, item)
			}
		}
	}
	if profile == nil {
		return nil, fmt.Errorf("table %s holds no profile item (id = %s) of the customer the API created", b.table, id)
	}
	return append([]map[string]types.AttributeValue{profile}, others...), nil
}

// mentions reports whether a string attribute of item contains s.
func mentions(item map[string]types.AttributeValue, s string) bool {
	for _, v := range item {
		if str, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(str.Value, s) {
			return true
		}
	}
	return false
}

func isString(v types.AttributeValue, s string) bool {
	str, ok := v.(*types.AttributeValueMemberS)
	return ok && str.Value == s
}

// get reads the bench customer through the API at base.
func (b *apiBench) get(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/customers/"+b.customer, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.key)
	_, err = b.do(req, http.StatusOK)
	return err
}

// create creates a customer with a unique email and phone through the API at
// base, and returns the answer's body.
func (b *apiBench) create(ctx context.Context, base string) ([]byte, error) {
	n := b.seq.Add(1)
	body := fmt.Sprintf(`{"given_name":"María José","family_name":"García López","email":"bench-%d@example.com",`+
		`"phone":"+3460%07d","tags":["bench","vip"],"newsletter_consent":true}`, n, n)
	return b.send(ctx, http.MethodPost, base+"/v1/customers", body, http.StatusCreated)
}

// do sends req and returns the body of an answer with status want.
func (b *apiBench) do(req *http.Request, want int) ([]byte, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != want {
		return nil, &statusError{method: req.Method, path: req.URL.Path, status: resp.StatusCode, want: want, body: string(body)}
	}
	return body, nil
}

// getItem is the GET baseline: the same profile item, read as the API reads it.
func (b *apiBench) getItem(ctx context.Context) error {
	out, err := b.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: &b.table, Key: b.profileKey, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	if out.Item == nil {
		return errors.New("GetItem found no profile item")
	}
	return nil
}

// putItem is the plain POST baseline: the profile item under a fresh key.
func (b *apiBench) putItem(ctx context.Context) error {
	_, err := b.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.table, Item: b.rekey(b.written[0], b.seq.Add(1)),
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": b.hashKey}})
	return err
}

// transactWrite is the fair POST baseline: every item an API create writes,
// under fresh keys, in one transaction.
func (b *apiBench) transactWrite(ctx context.Context) error {
	n := b.seq.Add(1)
	items := make([]types.TransactWriteItem, len(b.written))
	for i, item := range b.written {
		items[i] = types.TransactWriteItem{Put: &types.Put{TableName: &b.table, Item: b.rekey(item, n),
			ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": b.hashKey}}}
	}
	_, err := b.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// rekey returns a copy of item whose partition key ends in "#bench-n": the
// same shape and size, under a key that no other write uses.
func (b *apiBench) rekey(item map[string]types.AttributeValue, n int64) map[string]types.AttributeValue {
	out := maps.Clone(item)
	pk := item[b.hashKey].(*types.AttributeValueMemberS).Value // checked by setup
	out[b.hashKey] = &types.AttributeValueMemberS{Value: pk + "#bench-" + strconv.FormatInt(n, 10)}
	return out
}

// errorLog is the gateway's log: every line is formatted, as in Lambda, and
// dropped, but the first error line is kept, to say why an API request failed.
type errorLog struct {
	slog.Handler
	first *firstError
}

func (h errorLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.first.keep(r)
	}
	return h.Handler.Handle(ctx, r)
}

func (h errorLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return errorLog{h.Handler.WithAttrs(attrs), h.first}
}

func (h errorLog) WithGroup(name string) slog.Handler {
	return errorLog{h.Handler.WithGroup(name), h.first}
}

// firstError is the first error line of a log: its message and attributes,
// a panic's stack trace cut down to where it happened.
type firstError struct {
	mu   sync.Mutex
	line string
}

func (f *firstError) keep(r slog.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.line != "" {
		return
	}
	f.line = r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "stack" {
			if site := panicSite(a.Value.String()); site != "" {
				f.line += " at=" + site
			}
		} else {
			f.line += " " + a.String()
		}
		return true
	})
}

func (f *firstError) get() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.line
}

// modulePrefix starts the functions of this repository in a stack trace.
const modulePrefix = "github.com/regulars/regulars/"

// panicSite returns the first function of this repository below the panic in
// a goroutine's stack trace, with its file and line: where to look.
func panicSite(stack string) string {
	lines := strings.Split(stack, "\n")
	below := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "panic("):
			below = true
		case below && strings.HasPrefix(l, modulePrefix) && i+1 < len(lines):
			fn := strings.TrimPrefix(l, modulePrefix)
			if args := strings.LastIndex(fn, "("); args > 0 {
				fn = fn[:args]
			}
			file, _, _ := strings.Cut(strings.TrimSpace(lines[i+1]), " ")
			return fn + " (" + filepath.Base(file) + ")"
		}
	}
	return ""
}
