package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/backoff"
	"github.com/regulars/regulars/internal/checked"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/cursor"
	"github.com/regulars/regulars/internal/loyalty"
)

// counterShards spread the merchant's outstanding-points total over items so
// that postings for different customers rarely contend on one item (1 in 16).
const counterShards = 16

func counterPK(mid string, shard uint32) string { return fmt.Sprintf("M#%s#POINTS#%02d", mid, shard) }

// counterWrite adds to the customer's shard of the merchant's counters:
// outstanding points, and the postings that moved points.
func (s *Store) counterWrite(mid, cid string, points, operations int64) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: &s.table,
		Key:                       keyOf(counterPK(mid, shardOf(cid)), skCounter),
		UpdateExpression:          aws.String("SET #t = :t ADD outstanding :d, operations :n"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(points), ":n": num(operations), ":t": str("points_counter")}}}
}

func shardOf(cid string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(cid))
	return h.Sum32() % counterShards
}

const (
	skCounter       = "COUNTER"
	ledgerPrefix    = "LEDGER#"
	redemptionSKPfx = "REDEMPTION#"
	sourceSKPfx     = "SRC#"
	visitSKPfx      = "VISIT#"
	eventSKPfx      = "EVENT#"
	badgeSKPfx      = "BADGE#"
)

func ledgerGSIPK(mid string) string       { return "M#" + mid + "#LEDGER" }
func expiryGSIPK(mid string) string       { return "M#" + mid + "#EXPIRY" }
func badgeGSIPK(mid, bid string) string   { return "M#" + mid + "#BADGE#" + bid }
func sourceSK(src loyalty.Source) string  { return sourceSKPfx + src.Type + "#" + src.ID }
func redemptionSK(orderRef string) string { return redemptionSKPfx + orderRef }

type entryItem struct {
	PK           string    `dynamodbav:"PK"`
	SK           string    `dynamodbav:"SK"`
	GSI2PK       string    `dynamodbav:"GSI2PK"`
	GSI2SK       string    `dynamodbav:"GSI2SK"`
	Type         string    `dynamodbav:"type"`
	ID           string    `dynamodbav:"id"`
	CustomerID   string    `dynamodbav:"customer_id"`
	Kind         string    `dynamodbav:"kind"`
	Points       int64     `dynamodbav:"points"`
	BalanceAfter int64     `dynamodbav:"balance_after"`
	Reason       string    `dynamodbav:"reason"`
	Note         string    `dynamodbav:"note,omitempty"`
	Actor        string    `dynamodbav:"actor"`
	SourceType   string    `dynamodbav:"source_type,omitempty"`
	SourceID     string    `dynamodbav:"source_id,omitempty"`
	Location     string    `dynamodbav:"location,omitempty"`
	CreatedAt    time.Time `dynamodbav:"created_at"`
	OccurredAt   time.Time `dynamodbav:"occurred_at"` // zero (absent) on entries posted before it existed
	Voids        string    `dynamodbav:"voids,omitempty"`
	VoidedBy     string    `dynamodbav:"voided_by,omitempty"`
}

func (it entryItem) entry() loyalty.Entry {
	occurred := it.OccurredAt
	if occurred.IsZero() {
		occurred = it.CreatedAt
	}
	return loyalty.Entry{ID: it.ID, CustomerID: it.CustomerID, Kind: loyalty.Kind(it.Kind), Points: it.Points,
		BalanceAfter: it.BalanceAfter, Reason: it.Reason, Note: it.Note, Actor: it.Actor,
		Source: loyalty.Source{Type: it.SourceType, ID: it.SourceID}, Location: it.Location, CreatedAt: it.CreatedAt,
		OccurredAt: occurred, Voids: it.Voids, VoidedBy: it.VoidedBy}
}

// metricsItem names the purchase metrics attributes of the profile.
type metricsItem struct {
	Tickets        int64            `dynamodbav:"tickets"`
	Tickets12M     int64            `dynamodbav:"tickets_12m"`
	Revenue        int64            `dynamodbav:"revenue"`
	Revenue12M     int64            `dynamodbav:"revenue_12m"`
	Margin         int64            `dynamodbav:"margin"`
	Margin12M      int64            `dynamodbav:"margin_12m"`
	Units          int64            `dynamodbav:"units"`
	FirstStore     string           `dynamodbav:"first_store"`
	LastProducts   []string         `dynamodbav:"last_products"`
	LocationVisits map[string]int64 `dynamodbav:"location_visits"`
}

type sourceItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	EntryID string `dynamodbav:"entry_id"`
}

type redemptionItem struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	OrderRef  string    `dynamodbav:"order_ref"`
	Points    int64     `dynamodbav:"points"`
	Discount  int64     `dynamodbav:"discount"`
	EntryID   string    `dynamodbav:"entry_id"`
	Cancelled bool      `dynamodbav:"cancelled"`
	Location  string    `dynamodbav:"location,omitempty"`
	VisitID   string    `dynamodbav:"visit_id,omitempty"`
	CreatedAt time.Time `dynamodbav:"created_at"`
}

func (it redemptionItem) redemption() loyalty.CheckoutRedemption {
	return loyalty.CheckoutRedemption{OrderRef: it.OrderRef, Points: it.Points, Discount: it.Discount,
		EntryID: it.EntryID, Cancelled: it.Cancelled, Location: it.Location, VisitID: it.VisitID, CreatedAt: it.CreatedAt}
}

type visitItem struct {
	PK       string    `dynamodbav:"PK"`
	SK       string    `dynamodbav:"SK"`
	Type     string    `dynamodbav:"type"`
	ID       string    `dynamodbav:"id"`
	At       time.Time `dynamodbav:"at"`
	Location string    `dynamodbav:"location,omitempty"`
	Visit    string    `dynamodbav:"visit_type"`
	Source   string    `dynamodbav:"source,omitempty"`
}

type eventItem struct {
	PK   string            `dynamodbav:"PK"`
	SK   string            `dynamodbav:"SK"`
	Type string            `dynamodbav:"type"`
	ID   string            `dynamodbav:"id"`
	Kind string            `dynamodbav:"event_type"`
	At   time.Time         `dynamodbav:"at"`
	Data map[string]string `dynamodbav:"data"`
}

type membershipItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI4PK string `dynamodbav:"GSI4PK"`
	GSI4SK string `dynamodbav:"GSI4SK"`
	Type   string `dynamodbav:"type"`
}

func walletOf(it customerItem) loyalty.Wallet {
	w := loyalty.Wallet{Balance: it.PointsBalance, EarnedTotal: it.PointsEarned}
	for _, l := range it.Lots {
		w.Lots = append(w.Lots, loyalty.Lot(l))
	}
	return w
}

// Account reads a customer with their wallet.
func (s *Store) Account(ctx context.Context, mid, cid string) (loyalty.Account, error) {
	it, err := s.profileItem(ctx, mid, cid)
	if err != nil {
		return loyalty.Account{}, err
	}
	return loyalty.Account{Customer: it.customer(), Wallet: walletOf(it), Badges: it.Badges, EventsPending: len(it.PendingEvents) > 0}, nil
}

// PostedEntry returns the entry a source was posted as, or NotFound.
func (s *Store) PostedEntry(ctx context.Context, mid, cid string, src loyalty.Source) (loyalty.Entry, error) {
	var claim sourceItem
	if err := s.get(ctx, customerPK(mid, cid), sourceSK(src), &claim); err != nil {
		return loyalty.Entry{}, err
	}
	return s.Entry(ctx, mid, cid, claim.EntryID)
}

// Entry returns one ledger entry of a customer.
func (s *Store) Entry(ctx context.Context, mid, cid, eid string) (loyalty.Entry, error) {
	var it entryItem
	if err := s.get(ctx, customerPK(mid, cid), ledgerPrefix+eid, &it); err != nil {
		if isNotFound(err) {
			return loyalty.Entry{}, apperr.New(apperr.NotFound, "ledger entry not found")
		}
		return loyalty.Entry{}, err
	}
	return it.entry(), nil
}

// Post reads the customer's account, lets fn decide the posting and writes
// it in one transaction guarded by the profile's version: the balance and its
// entries always change together, and a concurrent posting makes fn run again
// on fresh data. fn must be free of side effects.
func (s *Store) Post(ctx context.Context, mid, cid string, fn func(loyalty.Account) (loyalty.Posting, error)) (loyalty.Account, loyalty.Posting, error) {
	for attempt := 0; ; attempt++ {
		it, err := s.profileItem(ctx, mid, cid)
		if err != nil {
			return loyalty.Account{}, loyalty.Posting{}, err
		}
		acc := loyalty.Account{Customer: it.customer(), Wallet: walletOf(it), Badges: it.Badges}
		if err := notMerged(acc.Customer); err != nil {
			return acc, loyalty.Posting{}, err
		}
		p, err := fn(acc)
		if err != nil {
			return acc, loyalty.Posting{}, err
		}
		items, err := s.postingWrites(mid, cid, it, p)
		if err != nil {
			return acc, loyalty.Posting{}, err
		}
		if err := ctx.Err(); err != nil {
			return acc, loyalty.Posting{}, err // out of time: nothing sent
		}
		if err := s.commit(ctx, items); err == nil {
			s.afterPosting(ctx, mid, cid, it, p)
			return acc, p, nil
		} else if retry, perr := s.explainPosting(ctx, mid, cid, p, err); !retry {
			return acc, loyalty.Posting{}, perr
		}
		if attempt+1 == backoff.Attempts {
			return acc, loyalty.Posting{}, apperr.Busy("the customer's points are being changed concurrently; retry")
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return acc, loyalty.Posting{}, err
		}
	}
}

// afterPosting writes the events and badge memberships a committed posting
// recorded on the profile, with any an earlier posting left there. A failure
// is not the posting's: the posting stands and its events stay recorded on
// the profile, for the customer's next posting or the nightly badge
// recompute to write.
func (s *Store) afterPosting(ctx context.Context, mid, cid string, stored customerItem, p loyalty.Posting) {
	if len(p.Events) > 0 || len(stored.PendingEvents) > 0 {
		_ = s.syncPosted(ctx, mid, cid)
	}
}

// commitGrace is how long past the caller's deadline a posting's
// transaction, once sent, may take: a transaction abandoned in flight may
// still commit, and its caller, told it failed, would post again.
const commitGrace = time.Second

// commit sends a posting's transaction and waits for its outcome, up to
// commitGrace past the caller's deadline.
func (s *Store) commit(ctx context.Context, items []types.TransactWriteItem) error {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(commitGrace))
		defer cancel()
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// Positions of the writes whose failure explainPosting interprets.
const (
	posProfile = 0
	posClaim   = 1
)

// postingWrites lists the transaction items of a posting; the profile comes
// first and the claim (if any) second. Their number depends on the posting
// alone (its entries, claim, void, redemption, reward, visit), never on what
// the merchant defined: the badges held are one attribute of the profile,
// and the badge memberships and timeline events that follow from them are
// written after the transaction (syncPosted).
func (s *Store) postingWrites(mid, cid string, stored customerItem, p loyalty.Posting) ([]types.TransactWriteItem, error) {
	pk := customerPK(mid, cid)
	lots, earliest := lotsOf(p.Wallet)
	badges := p.Badges
	if badges == nil {
		badges = []string{}
	}
	lotsAV, err := attributevalue.Marshal(lots)
	if err != nil {
		return nil, err
	}
	badgesAV, err := attributevalue.Marshal(badges)
	if err != nil {
		return nil, err
	}
	update := "SET points_balance = :b, points_earned_total = :e, lots = :l, badges = :g, version = version + :one"
	values := map[string]types.AttributeValue{":b": num(p.Wallet.Balance), ":e": num(p.Wallet.EarnedTotal), ":l": lotsAV,
		":g": badgesAV, ":one": num(1), ":v": num(stored.Version)}
	if stored.State != string(crm.StateMerged) { // a tombstone is in no list
		update += ", GSI6PK = :bpk, GSI6SK = :bsk"
		values[":bpk"], values[":bsk"] = str(customersGSIPK(mid)), str(sortKeyWithID(sortInt(p.Wallet.Balance), cid))
	}
	if m := p.Metrics; m != nil {
		set, err := metricsSet(mid, cid, *m, values)
		if err != nil {
			return nil, err
		}
		update += set
	}
	if len(p.Events) > 0 {
		// The timeline events (one per badge gained or lost: as many as the
		// merchant has badges) are written after the transaction, by
		// syncPosted: the transaction only records them on the profile.
		evs, err := attributevalue.Marshal(pendingOf(p.Events))
		if err != nil {
			return nil, err
		}
		update += ", pending_events = list_append(if_not_exists(pending_events, :none), :evs)"
		values[":none"], values[":evs"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, evs
	}
	if p.Type != "" {
		update += ", customer_type = :ct"
		values[":ct"] = str(string(p.Type))
	}
	if earliest != nil {
		update += ", GSI4PK = :xpk, GSI4SK = :xsk"
		values[":xpk"] = str(expiryGSIPK(mid))
		values[":xsk"] = str(sortKeyWithID(earliest.UTC().Format(sortTime), cid))
	} else {
		update += " REMOVE GSI4PK, GSI4SK"
	}
	items := []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table, Key: keyOf(pk, skProfile),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: values}}}
	put := func(v any, cond string) error {
		av, err := attributevalue.MarshalMap(v)
		if err != nil {
			return err
		}
		w := &types.Put{TableName: &s.table, Item: av}
		if cond != "" {
			w.ConditionExpression = aws.String(cond)
		}
		items = append(items, types.TransactWriteItem{Put: w})
		return nil
	}
	if p.Claim != nil {
		if len(p.Entries) == 0 {
			return nil, errors.New("a claimed posting needs an entry")
		}
		if err := put(sourceItem{PK: pk, SK: sourceSK(*p.Claim), Type: "source", EntryID: p.Entries[0].ID}, "attribute_not_exists(PK)"); err != nil {
			return nil, err
		}
	}
	var delta int64
	for _, e := range p.Entries {
		delta += e.Points
		if err := put(entryItem{PK: pk, SK: ledgerPrefix + e.ID, GSI2PK: ledgerGSIPK(mid),
			GSI2SK: sortKeyWithID(e.CreatedAt.UTC().Format(sortTime), e.ID), Type: "ledger_entry", ID: e.ID, CustomerID: cid,
			Kind: string(e.Kind), Points: e.Points, BalanceAfter: e.BalanceAfter, Reason: e.Reason, Note: e.Note, Actor: e.Actor,
			SourceType: e.Source.Type, SourceID: e.Source.ID, Location: e.Location, CreatedAt: e.CreatedAt.UTC(), OccurredAt: e.OccurredAt.UTC(), Voids: e.Voids,
		}, "attribute_not_exists(PK)"); err != nil {
			return nil, err
		}
	}
	if delta != p.Wallet.Balance-stored.PointsBalance {
		return nil, fmt.Errorf("posting out of balance: entries move %d, balance moves %d", delta, p.Wallet.Balance-stored.PointsBalance)
	}
	if v := p.Voided; v != nil {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(pk, ledgerPrefix+v.ID),
			UpdateExpression:          aws.String("SET voided_by = :by"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(voided_by)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":by": str(p.Entries[0].ID)}}})
	}
	if r := p.Redemption; r != nil {
		if r.Cancelled {
			items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(pk, redemptionSK(r.OrderRef)),
				UpdateExpression:          aws.String("SET cancelled = :t"),
				ConditionExpression:       aws.String("cancelled = :f"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false}}}})
		} else if err := put(redemptionItem{PK: pk, SK: redemptionSK(r.OrderRef), Type: "redemption", OrderRef: r.OrderRef, Points: r.Points,
			Discount: r.Discount, EntryID: r.EntryID, Location: r.Location, VisitID: r.VisitID, CreatedAt: r.CreatedAt.UTC()}, "attribute_not_exists(PK)"); err != nil {
			return nil, err
		}
	}
	if r := p.Reward; r != nil && r.Stock != nil {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(merchantPK(mid), rewardSK(r.ID)),
			UpdateExpression:          aws.String("SET stock = stock - :one"),
			ConditionExpression:       aws.String("stock >= :one AND active = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":t": &types.AttributeValueMemberBOOL{Value: true}}}})
	}
	if v := p.Visit; v != nil {
		if err := put(visitItem{PK: pk, SK: visitSK(*v), Type: "visit", ID: v.ID, At: v.At.UTC(),
			Location: v.Location, Visit: string(v.Type), Source: v.Source}, ""); err != nil {
			return nil, err
		}
	}
	if v := p.Unvisit; v != nil {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(pk, visitSK(*v))}})
	}
	if delta != 0 {
		items = append(items, s.counterWrite(mid, cid, delta, 1))
	}
	return items, nil
}

// visitSK is the sort key of a visit: its time, then its ID.
func visitSK(v crm.Visit) string { return visitSKPfx + v.At.UTC().Format(sortTime) + "#" + v.ID }

// lotsOf returns a wallet's lots as stored and the earliest expiry among them
// (nil when none expires): the GSI4 expiry key.
func lotsOf(w loyalty.Wallet) ([]lotItem, *time.Time) {
	lots := make([]lotItem, len(w.Lots))
	var earliest *time.Time
	for i, l := range w.Lots {
		lots[i] = lotItem(l)
		if l.ExpiresAt != nil && (earliest == nil || l.ExpiresAt.Before(*earliest)) {
			earliest = l.ExpiresAt
		}
	}
	return lots, earliest
}

// metricsSet returns the ", name = :m_name" clauses that write a customer's
// purchase metrics (GSI5's LTV key, and GSI1SK once there is a last visit),
// adding their values to values.
func metricsSet(mid, cid string, m crm.Metrics, values map[string]types.AttributeValue) (string, error) {
	metrics, err := attributevalue.MarshalMap(metricsItem{Tickets: m.Tickets, Tickets12M: m.Tickets12M, Revenue: m.Revenue,
		Revenue12M: m.Revenue12M, Margin: m.Margin, Margin12M: m.Margin12M, Units: m.Units, FirstStore: m.FirstStore,
		LastProducts: nonNil(m.LastProducts), LocationVisits: nonNilMap(m.LocationVisits)})
	if err != nil {
		return "", err
	}
	set := ", GSI5PK = :m_gsi5pk, GSI5SK = :m_gsi5sk"
	values[":m_gsi5pk"], values[":m_gsi5sk"] = str(customersGSIPK(mid)), str(sortKeyWithID(sortInt(m.Revenue), cid))
	for name, v := range metrics {
		set += ", " + name + " = :m_" + name
		values[":m_"+name] = v
	}
	for name, t := range map[string]*time.Time{"last_visit_at": m.LastVisitAt, "first_purchase_at": m.FirstPurchaseAt} {
		if t != nil {
			set += ", " + name + " = :m_" + name
			values[":m_"+name] = str(t.UTC().Format(time.RFC3339Nano))
		}
	}
	if m.LastVisitAt != nil {
		set += ", GSI1SK = :m_gsi1sk"
		values[":m_gsi1sk"] = str(sortKeyWithID(m.LastVisitAt.UTC().Format(sortTime), cid))
	}
	return set, nil
}

// explainPosting interprets a failed posting: retry (a concurrent write or a
// transient conflict) or an answer.
func (s *Store) explainPosting(ctx context.Context, mid, cid string, p loyalty.Posting, err error) (bool, error) {
	reasons, ok := cancellationReasons(err)
	if !ok {
		return false, fmt.Errorf("ledger transaction: %w", err)
	}
	if conflicted(reasons) {
		return true, nil
	}
	for i, r := range reasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			switch {
			case i == posProfile:
				return true, nil
			case i == posClaim && p.Claim != nil:
				var claim sourceItem
				if gerr := s.get(ctx, customerPK(mid, cid), sourceSK(*p.Claim), &claim); gerr != nil {
					return false, gerr
				}
				return false, &loyalty.ErrAlreadyPosted{EntryID: claim.EntryID}
			case p.Voided != nil && i == voidPosition(p):
				return false, apperr.New(apperr.Conflict, "this entry was already voided")
			case p.Reward != nil && i == rewardPosition(p):
				return false, apperr.New(apperr.Unprocessable, "this reward is out of stock or no longer active")
			case p.Redemption != nil && i == redemptionPosition(p):
				if p.Redemption.Cancelled {
					return false, apperr.New(apperr.Conflict, "this redemption was already cancelled")
				}
				return false, apperr.New(apperr.Conflict, "order %s already has a redemption", p.Redemption.OrderRef)
			}
			return false, fmt.Errorf("ledger transaction: condition %d failed", i)
		}
	}
	return false, fmt.Errorf("ledger transaction: %w", err)
}

// The positions below follow postingWrites' order: profile, claim, entries,
// void, redemption, reward.
func voidPosition(p loyalty.Posting) int {
	n := 1 + len(p.Entries)
	if p.Claim != nil {
		n++
	}
	return n
}

func redemptionPosition(p loyalty.Posting) int {
	n := voidPosition(p)
	if p.Voided != nil {
		n++
	}
	return n
}

func rewardPosition(p loyalty.Posting) int {
	n := redemptionPosition(p)
	if p.Redemption != nil {
		n++
	}
	return n
}

// Redemption returns a customer's checkout redemption of an order.
func (s *Store) Redemption(ctx context.Context, mid, cid, orderRef string) (loyalty.CheckoutRedemption, error) {
	var it redemptionItem
	if err := s.get(ctx, customerPK(mid, cid), redemptionSK(orderRef), &it); err != nil {
		if isNotFound(err) {
			return loyalty.CheckoutRedemption{}, apperr.New(apperr.NotFound, "redemption not found")
		}
		return loyalty.CheckoutRedemption{}, err
	}
	return it.redemption(), nil
}

// Entries lists a customer's ledger, newest first; only the entries of kinds
// when some are given (a DynamoDB filter: the query goes on until the page
// is full or the ledger ends).
func (s *Store) Entries(ctx context.Context, mid, cid string, limit int, after string, kinds ...loyalty.Kind) (loyalty.EntryPage, error) {
	keyNames := []string{"PK", "SK"}
	kindNames := make([]string, len(kinds))
	for i, k := range kinds {
		kindNames[i] = string(k)
	}
	list := cursor.List{Merchant: mid, Name: "ledger", Params: []string{cid, strings.Join(kindNames, ",")}}
	start, err := s.decodeCursor(after, list, keyNames...)
	if err != nil {
		return loyalty.EntryPage{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(mid, cid)), ":sk": str(ledgerPrefix),
		},
		ScanIndexForward:  aws.Bool(false),
		ExclusiveStartKey: start,
		Limit:             aws.Int32(int32(limit)),
		ConsistentRead:    aws.Bool(true),
	}
	if len(kinds) > 0 {
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = fmt.Sprintf(":kind%d", i)
			in.ExpressionAttributeValues[names[i]] = str(string(k))
		}
		in.FilterExpression = aws.String("#kind IN (" + strings.Join(names, ", ") + ")")
		in.ExpressionAttributeNames = map[string]string{"#kind": "kind"}
		in.Limit = nil // read on in 1 MB pages; the page is cut at limit below
	}
	var raw []map[string]types.AttributeValue
	var more bool
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return loyalty.EntryPage{}, err
		}
		raw = append(raw, out.Items...)
		more = out.LastEvaluatedKey != nil
		if len(raw) >= limit || !more {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(raw) > limit {
		raw, more = raw[:limit], true
	}
	var items []entryItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return loyalty.EntryPage{}, err
	}
	page := loyalty.EntryPage{Entries: make([]loyalty.Entry, len(items))}
	for i, it := range items {
		page.Entries[i] = it.entry()
	}
	if more && len(raw) > 0 {
		page.NextCursor = s.encodeCursor(list, raw[len(raw)-1], keyNames...)
	}
	return page, nil
}

// CustomersWithExpiry lists the IDs of customers whose earliest lot expires
// at or before asOf: the nightly expiry run's work list.
func (s *Store) CustomersWithExpiry(ctx context.Context, mid string, asOf time.Time) ([]string, error) {
	var ids []string
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(gsiNameToken),
		KeyConditionExpression: aws.String("GSI4PK = :pk AND GSI4SK <= :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(expiryGSIPK(mid)), ":to": str(asOf.UTC().Format(sortTime) + "#~"),
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			pk := it["PK"].(*types.AttributeValueMemberS).Value
			ids = append(ids, pk[len(customerPK(mid, "")):])
		}
	}
	return ids, nil
}

// BadgeHolders lists a page of the customers holding a badge.
func (s *Store) BadgeHolders(ctx context.Context, mid, bid string, limit int, after string) (crm.Page, error) {
	return s.members(ctx, badgeGSIPK(mid, bid), cursor.List{Merchant: mid, Name: "badge-holders", Params: []string{bid}}, limit, after)
}

// members lists a page of the customers whose membership items sit under a
// GSI4 partition (badge holders, segment members).
func (s *Store) members(ctx context.Context, gsiPK string, list cursor.List, limit int, after string) (crm.Page, error) {
	keyNames := []string{"PK", "SK", "GSI4PK", "GSI4SK"}
	start, err := s.decodeCursor(after, list, keyNames...)
	if err != nil {
		return crm.Page{}, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsiNameToken),
		KeyConditionExpression:    aws.String("GSI4PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(gsiPK)},
		ExclusiveStartKey:         start,
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return crm.Page{}, err
	}
	profiles, err := s.profilesOf(ctx, out.Items)
	if err != nil {
		return crm.Page{}, err
	}
	page := crm.Page{Customers: []crm.Customer{}}
	for _, raw := range out.Items {
		if c, ok := profiles[raw["PK"].(*types.AttributeValueMemberS).Value]; ok {
			page.Customers = append(page.Customers, c)
		}
	}
	if out.LastEvaluatedKey != nil && len(out.Items) > 0 {
		page.NextCursor = s.encodeCursor(list, out.Items[len(out.Items)-1], keyNames...)
	}
	return page, nil
}

// Outstanding sums the merchant's counter shards: the points customers hold
// and the number of ledger operations ever posted.
func (s *Store) Outstanding(ctx context.Context, mid string) (points, operations int64, err error) {
	keys := make([]map[string]types.AttributeValue, counterShards)
	for i := range keys {
		keys[i] = keyOf(counterPK(mid, uint32(i)), skCounter)
	}
	for len(keys) > 0 {
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: keys, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return 0, 0, err
		}
		for _, raw := range res.Responses[s.table] {
			var c struct {
				Outstanding int64 `dynamodbav:"outstanding"`
				Operations  int64 `dynamodbav:"operations"`
			}
			if err := attributevalue.UnmarshalMap(raw, &c); err != nil {
				return 0, 0, err
			}
			if points, err = checked.Add(points, c.Outstanding); err != nil {
				return 0, 0, err
			}
			operations += c.Operations
		}
		keys = res.UnprocessedKeys[s.table].Keys
	}
	return points, operations, nil
}

// Movements walks the merchant's ledger between from and to (inclusive),
// oldest first, calling fn for each entry until it returns false.
func (s *Store) Movements(ctx context.Context, mid string, from, to time.Time, fn func(loyalty.Entry) bool) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(gsiEnrolled),
		KeyConditionExpression: aws.String("GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(ledgerGSIPK(mid)), ":from": str(from.UTC().Format(sortTime)), ":to": str(to.UTC().Format(sortTime) + "#~"),
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		var items []entryItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return err
		}
		for _, it := range items {
			if !fn(it.entry()) {
				return nil
			}
		}
	}
	return nil
}
