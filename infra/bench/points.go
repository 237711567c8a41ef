package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/backoff"
)

// Routes of template.yaml that the points benchmarks drive.
const (
	programRoute = "PUT /v1/program"
	entriesRoute = "POST /v1/customers/{customerId}/points/entries"
	redeemRoute  = "POST /v1/customers/{customerId}/redemptions"
)

// Short names of the points operations in the report ("…" is
// /v1/customers/{customerId}).
const (
	earnName   = "POST …/points/entries +1"
	spendName  = "POST …/points/entries -1"
	redeemName = "POST …/redemptions"
)

// program switches the points program on (10 points per 5.00 spent, 100
// points = 1.00, points for actions, redemption limits), as
// internal/httpapi/points_test.go seedProgram sends it.
const program = `{"version":0,"enabled":true,
"earning":{"points_per_step":10,"step_amount":500,"trigger":"paid","overrides":[],"excluded_products":[]},
"actions":{"signup":50,"newsletter":20,"review":5,"review_once_per_customer":false},
"redemption":{"points":100,"amount":100,"min_balance":50,"min_cart":1000,"max_discount":{"kind":"percent","value":5000},
"exclude_on_sale":true,"excluded_products":[],"allowed_products":[]},
"refund_policy":"within_balance","expiry_days":0}`

// startBalance is what each points customer earns in setup: enough for every
// spend and redemption of a run.
const startBalance = 1_000_000

// Each redemption commits redeemPoints on redeemCart (20.00; the program
// allows up to half of it, 1000 points).
const (
	redeemPoints = 100
	redeemCart   = `[{"sku":"CAFE","quantity":4,"unit_price":500}]`
)

// pointsBench drives points operations through the API, and replays the
// writes of the same postings on raw DynamoDB Local for the baselines.
type pointsBench struct {
	*apiBench
	spread []string // one customer per client, for the spread variants
	hot    string   // the customer every client posts to in the contended variant

	earn, redeem []*posting // baseline writes per client, from that client's customer
	hotEarn      *posting   // baseline writes of the contended variant

	orders atomic.Int64 // makes order references unique
}

// setupPoints switches the program on and creates the points customers
// through the meter's gateway: one per client and the contended one, each
// with startBalance points, and one redemption per client. The meter keeps
// each posting's transaction: the baselines write copies of its items.
func (b *apiBench) setupPoints(ctx context.Context, m *meter, clients int) (*pointsBench, error) {
	pb := &pointsBench{apiBench: b}
	if _, err := b.send(ctx, http.MethodPut, m.url+"/v1/program", program, http.StatusOK); err != nil {
		return nil, fmt.Errorf("switch the points program on: %w", err)
	}
	for i := range clients + 1 {
		body, err := b.create(ctx, m.url)
		if err != nil {
			return nil, fmt.Errorf("create a points customer: %w", err)
		}
		var created struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
			return nil, fmt.Errorf("create a points customer: no id in the answer %s (%v)", body, err)
		}
		if _, err := m.take(); err != nil {
			return nil, err
		}
		if err := pb.postEntry(ctx, m.url, created.ID, startBalance); err != nil {
			return nil, fmt.Errorf("give a points customer its balance: %w", err)
		}
		suffix := "#bench-earn"
		if i == clients {
			pb.hot, suffix = created.ID, "#bench-hot"
		} else {
			pb.spread = append(pb.spread, created.ID)
		}
		p, err := pb.captured(ctx, m, suffix)
		if err != nil {
			return nil, err
		}
		if i == clients {
			pb.hotEarn = p
		} else {
			pb.earn = append(pb.earn, p)
		}
	}
	for _, cid := range pb.spread {
		if err := pb.redeemOrder(ctx, m.url, cid); err != nil {
			return nil, fmt.Errorf("first redemption: %w", err)
		}
		p, err := pb.captured(ctx, m, "#bench-redeem")
		if err != nil {
			return nil, err
		}
		pb.redeem = append(pb.redeem, p)
	}
	// One label names the baseline of all clients: their postings must
	// write as many items.
	for _, ps := range [][]*posting{append(slices.Clone(pb.earn), pb.hotEarn), pb.redeem} {
		for _, p := range ps[1:] {
			if len(p.items) != len(ps[0].items) {
				return nil, fmt.Errorf("points postings of the same kind wrote %d and %d items", len(ps[0].items), len(p.items))
			}
		}
	}
	return pb, nil
}

// captured turns the one transaction the meter saw since its last take into
// a baseline posting.
func (pb *pointsBench) captured(ctx context.Context, m *meter, suffix string) (*posting, error) {
	t, err := m.take()
	if err != nil {
		return nil, err
	}
	if len(t.transactions) != 1 {
		return nil, fmt.Errorf("a points posting made %d successful TransactWriteItems (%s), want 1", len(t.transactions), formatCalls(t.calls))
	}
	return newPosting(ctx, pb.ddb, pb.hashKey, t.transactions[0], suffix)
}

// send sends a request with a JSON body to url and returns the body of an
// answer with status want.
func (b *apiBench) send(ctx context.Context, method, url, body string, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	return b.do(req, want)
}

// postEntry posts a manual movement of points (signed) to a customer.
func (pb *pointsBench) postEntry(ctx context.Context, base, cid string, points int) error {
	_, err := pb.send(ctx, http.MethodPost, base+"/v1/customers/"+cid+"/points/entries",
		`{"points":`+strconv.Itoa(points)+`}`, http.StatusCreated)
	return err
}

// redeemOrder commits redeemPoints at checkout, under a new order reference.
func (pb *pointsBench) redeemOrder(ctx context.Context, base, cid string) error {
	body := fmt.Sprintf(`{"order_ref":"bench-%d","points":%d,"cart":%s}`, pb.orders.Add(1), redeemPoints, redeemCart)
	_, err := pb.send(ctx, http.MethodPost, base+"/v1/customers/"+cid+"/redemptions", body, http.StatusCreated)
	return err
}

// posting is the writes of one points posting the API made, moved to keys
// of the bench: its updates and deletes go to copies of the items they
// change (the customer's profile, the merchant's counter shard), made when
// it is captured, and its puts to fresh items at every request. The profile
// update keeps its condition on the profile's version.
type posting struct {
	items       []types.TransactWriteItem
	hashKey     string
	profile     int    // position of the profile update
	placeholder string // of the version in its condition, e.g. ":v"
	profileKey  map[string]types.AttributeValue
	version     atomic.Int64 // of the profile copy, as the last write of this client left it
	seq         atomic.Int64 // makes the keys of puts unique
}

// newPosting decodes a captured TransactWriteItems request and copies the
// items it updates under keys whose partition key ends in suffix.
func newPosting(ctx context.Context, ddb *dynamodb.Client, hashKey string, body []byte, suffix string) (*posting, error) {
	items, err := decodeTransact(body)
	if err != nil {
		return nil, err
	}
	p := &posting{items: items, hashKey: hashKey, profile: -1}
	rekey := func(table *string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
		pk, ok := key[hashKey].(*types.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("a points posting writes a key without a string %s: %v", hashKey, key)
		}
		moved := maps.Clone(key)
		moved[hashKey] = &types.AttributeValueMemberS{Value: pk.Value + suffix}
		orig, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("read an item a points posting wrote: %w", err)
		}
		if orig.Item != nil {
			copied := maps.Clone(orig.Item)
			maps.Copy(copied, moved)
			if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: copied}); err != nil {
				return nil, fmt.Errorf("copy an item a points posting wrote: %w", err)
			}
		}
		return moved, nil
	}
	for i := range p.items {
		it := &p.items[i]
		switch {
		case it.Update != nil:
			u := *it.Update
			if u.Key, err = rekey(u.TableName, u.Key); err != nil {
				return nil, err
			}
			if m := versionCondition.FindStringSubmatch(aws.ToString(u.ConditionExpression)); m != nil && p.profile < 0 {
				p.profile, p.placeholder, p.profileKey = i, m[1], u.Key
			}
			it.Update = &u
		case it.Delete != nil:
			d := *it.Delete
			if d.Key, err = rekey(d.TableName, d.Key); err != nil {
				return nil, err
			}
			it.Delete = &d
		case it.ConditionCheck != nil:
			c := *it.ConditionCheck
			if c.Key, err = rekey(c.TableName, c.Key); err != nil {
				return nil, err
			}
			it.ConditionCheck = &c
		case it.Put != nil:
			if _, ok := it.Put.Item[hashKey].(*types.AttributeValueMemberS); !ok {
				return nil, fmt.Errorf("a points posting puts an item without a string %s", hashKey)
			}
		}
	}
	if p.profile < 0 {
		return nil, errors.New("a points posting has no update conditioned on the profile's version (version = :v): " +
			"infra/bench/points.go follows internal/dynamo/ledger.go postingWrites, update it")
	}
	v, err := p.readVersion(ctx, ddb)
	if err != nil {
		return nil, err
	}
	p.version.Store(v)
	return p, nil
}

// label names the posting's writes: "TransactWriteItems (3 items)".
func (p *posting) label() string {
	return fmt.Sprintf("TransactWriteItems (%d items)", len(p.items))
}

// instance returns the writes of one request: fresh keys for the puts, and
// the profile update conditioned on version.
func (p *posting) instance(version int64) []types.TransactWriteItem {
	items := slices.Clone(p.items)
	n := strconv.FormatInt(p.seq.Add(1), 10)
	for i := range items {
		if put := items[i].Put; put != nil {
			cp := *put
			cp.Item = maps.Clone(put.Item)
			pk := put.Item[p.hashKey].(*types.AttributeValueMemberS).Value // checked by newPosting
			cp.Item[p.hashKey] = &types.AttributeValueMemberS{Value: pk + "#bench-" + n}
			items[i].Put = &cp
		}
	}
	u := *items[p.profile].Update
	u.ExpressionAttributeValues = maps.Clone(u.ExpressionAttributeValues)
	u.ExpressionAttributeValues[p.placeholder] = &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}
	items[p.profile].Update = &u
	return items
}

// readVersion reads the profile copy, as Post reads the profile before each
// attempt, and returns its version.
func (p *posting) readVersion(ctx context.Context, ddb *dynamodb.Client) (int64, error) {
	out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: p.items[p.profile].Update.TableName, Key: p.profileKey, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, err
	}
	n, ok := out.Item["version"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("the profile copy %v has no number attribute version", p.profileKey)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// retryable tells, as ledger.go explainPosting does, whether a failed
// posting may be tried again: a transaction conflict, or a profile whose
// version moved (stale).
func (p *posting) retryable(err error) (retry, stale bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false, false
	}
	for i, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			return true, false
		case "ConditionalCheckFailed":
			return i == p.profile, i == p.profile
		}
	}
	return false, false
}

// writeOwn is the spread baseline: the client's own copy of a posting's
// items, written with the version its last write left (no read before),
// retried like Post (backoff.Attempts, backoff.Wait) when the transaction is
// cancelled by a conflict.
func (pb *pointsBench) writeOwn(ctx context.Context, p *posting, attempts *atomic.Int64) error {
	for attempt := 0; ; attempt++ {
		v := p.version.Load()
		attempts.Add(1)
		_, err := pb.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: p.instance(v)})
		if err == nil {
			p.version.Store(v + 1)
			return nil
		}
		retry, stale := p.retryable(err)
		if !retry || attempt+1 == backoff.Attempts {
			return err
		}
		if stale { // e.g. a write whose answer was lost: read the version again
			if v, err = p.readVersion(ctx, pb.ddb); err != nil {
				return err
			}
			p.version.Store(v)
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// writeShared is the contended baseline: every client writes the same copy
// of a posting's items, as Post does: read the profile's version, write
// conditioned on it, and on a conflict or a moved version back off and
// start again, up to backoff.Attempts.
func (pb *pointsBench) writeShared(ctx context.Context, p *posting, attempts *atomic.Int64) error {
	for attempt := 0; ; attempt++ {
		v, err := p.readVersion(ctx, pb.ddb)
		if err != nil {
			return err
		}
		attempts.Add(1)
		_, err = pb.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: p.instance(v)})
		if err == nil {
			return nil
		}
		if retry, _ := p.retryable(err); !retry {
			return err
		}
		if attempt+1 == backoff.Attempts {
			return fmt.Errorf("no write after %d attempts: %w", backoff.Attempts, err)
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// pointsOps are the measured points operations and their baselines.
type pointsOps struct {
	earn, spend, redeem, hot                  *operation // through the gateway
	earnBase, redeemBase, hotBase             *operation // raw DynamoDB Local
	earnAttempts, redeemAttempts, hotAttempts atomic.Int64
}

// operations returns the points operations through the gateway at base and
// their baselines.

func (pb *pointsBench) operations(base string) *pointsOps {
	o := &pointsOps{}
	o.earn = &operation{name: earnName, do: func(ctx context.Context, c int) error {
		return pb.postEntry(ctx, base, pb.spread[c], 1)
	}}
	o.spend = &operation{name: spendName, do: func(ctx context.Context, c int) error {
		return pb.postEntry(ctx, base, pb.spread[c], -1)
	}}
	o.redeem = &operation{name: redeemName, do: func(ctx context.Context, c int) error {
		return pb.redeemOrder(ctx, base, pb.spread[c])
	}}
	o.hot = &operation{name: earnName + " (one customer)", do: func(ctx context.Context, _ int) error {
		return pb.postEntry(ctx, base, pb.hot, 1)
	}}
	o.earnBase = &operation{name: pb.earn[0].label(), attempts: o.earnAttempts.Load,
		do: func(ctx context.Context, c int) error { return pb.writeOwn(ctx, pb.earn[c], &o.earnAttempts) }}
	o.redeemBase = &operation{name: pb.redeem[0].label(), attempts: o.redeemAttempts.Load,
		do: func(ctx context.Context, c int) error { return pb.writeOwn(ctx, pb.redeem[c], &o.redeemAttempts) }}
	o.hotBase = &operation{name: "GetItem + " + pb.hotEarn.label() + ", retried", attempts: o.hotAttempts.Load,
		do: func(ctx context.Context, _ int) error { return pb.writeShared(ctx, pb.hotEarn, &o.hotAttempts) }}
	return o
}
