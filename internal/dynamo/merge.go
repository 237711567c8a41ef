package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/backoff"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/purchase"
)

// skMerge is the merge record, in the duplicate's partition: one merge per
// duplicate, and an erasure of the tombstone (DeleteCustomer) removes it too.
const skMerge = "MERGE"

type mergeItem struct {
	PK          string     `dynamodbav:"PK"`
	SK          string     `dynamodbav:"SK"`
	Type        string     `dynamodbav:"type"`
	SurvivorID  string     `dynamodbav:"survivor_id"`
	DuplicateID string     `dynamodbav:"duplicate_id"`
	Step        string     `dynamodbav:"step"`
	Points      int64      `dynamodbav:"points"`
	Moved       int64      `dynamodbav:"moved"`
	Actor       string     `dynamodbav:"actor"`
	StartedAt   time.Time  `dynamodbav:"started_at"`
	FinishedAt  *time.Time `dynamodbav:"finished_at"`
	Version     int64      `dynamodbav:"version"`
}

func (it mergeItem) record() crm.MergeRecord {
	return crm.MergeRecord{SurvivorID: it.SurvivorID, DuplicateID: it.DuplicateID, Step: crm.MergeStep(it.Step),
		Points: it.Points, Moved: it.Moved, Actor: it.Actor, StartedAt: it.StartedAt, FinishedAt: it.FinishedAt, Version: it.Version}
}

// MergeRecord returns the merge of a duplicate, or NotFound.
func (s *Store) MergeRecord(ctx context.Context, mid, dup string) (crm.MergeRecord, error) {
	var it mergeItem
	if err := s.get(ctx, customerPK(mid, dup), skMerge, &it); err != nil {
		return crm.MergeRecord{}, err
	}
	return it.record(), nil
}

// StartMerge creates the merge record of rec.DuplicateID at step cutover. If
// one exists already (another merge of the same duplicate won the race), it
// is returned instead, with created false.
func (s *Store) StartMerge(ctx context.Context, mid string, rec crm.MergeRecord) (crm.MergeRecord, bool, error) {
	rec.Step, rec.Version = crm.MergeCutover, 1
	av, err := attributevalue.MarshalMap(mergeItem{PK: customerPK(mid, rec.DuplicateID), SK: skMerge, Type: "merge",
		SurvivorID: rec.SurvivorID, DuplicateID: rec.DuplicateID, Step: string(rec.Step), Actor: rec.Actor,
		StartedAt: rec.StartedAt.UTC(), Version: rec.Version})
	if err != nil {
		return crm.MergeRecord{}, false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if conditionFailed(err) {
		stored, err := s.MergeRecord(ctx, mid, rec.DuplicateID)
		return stored, false, err
	}
	if err != nil {
		return crm.MergeRecord{}, false, fmt.Errorf("start merge: %w", err)
	}
	return rec, true, nil
}

// AbandonMerge deletes a merge record that has not cut over yet (the merge
// turned out impossible): the duplicate can be merged again later.
func (s *Store) AbandonMerge(ctx context.Context, mid string, rec crm.MergeRecord) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyOf(customerPK(mid, rec.DuplicateID), skMerge),
		ConditionExpression:       aws.String("step = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(string(crm.MergeCutover))}})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("abandon merge: %w", err)
	}
	return nil
}

// advanceMerge is the write that moves the merge record on, guarded by the
// version read: two runners of one merge never apply the same step twice.
func (s *Store) advanceMerge(mid string, rec crm.MergeRecord, next crm.MergeStep, moved int64, at time.Time) types.TransactWriteItem {
	update := "SET step = :next, moved = moved + :n, version = version + :one"
	values := map[string]types.AttributeValue{":next": str(string(next)), ":n": num(moved), ":one": num(1),
		":v": num(rec.Version), ":step": str(string(rec.Step))}
	if rec.Step == crm.MergeCutover {
		update += ", points = :p"
		values[":p"] = num(rec.Points)
	}
	if next == crm.MergeDone {
		update += ", finished_at = :at"
		values[":at"] = str(at.UTC().Format(time.RFC3339Nano))
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(customerPK(mid, rec.DuplicateID), skMerge),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String("version = :v AND step = :step"),
		ExpressionAttributeValues: values}}
}

// advanced returns the record as advanceMerge leaves it.
func advanced(rec crm.MergeRecord, next crm.MergeStep, moved int64, at time.Time) crm.MergeRecord {
	rec.Step, rec.Moved, rec.Version = next, rec.Moved+moved, rec.Version+1
	if next == crm.MergeDone {
		t := at.UTC()
		rec.FinishedAt = &t
	}
	return rec
}

// CutOverMerge runs the cut-over of a merge in one transaction guarded by
// both profiles' versions and the merge record's: fn decides, from both
// accounts as read, the survivor's new profile and wallet, the duplicate's
// tombstone and the transfer pair of entries. Written together: both
// profiles (whole items, recording the events that syncPosted writes next),
// the entries, the counter shards (the merchant's outstanding points do not
// change), the
// duplicate's unique claims repointed to the survivor, the name tokens, and
// the record advanced to move. A concurrent write makes fn run again.
func (s *Store) CutOverMerge(ctx context.Context, mid string, rec crm.MergeRecord, fn func(survivor, dup loyalty.Account) (loyalty.MergeCutover, error)) (crm.MergeRecord, error) {
	for attempt := 0; ; attempt++ {
		sItem, err := s.profileItem(ctx, mid, rec.SurvivorID)
		if err != nil {
			return rec, err
		}
		dItem, err := s.profileItem(ctx, mid, rec.DuplicateID)
		if err != nil {
			return rec, err
		}
		sAcc := loyalty.Account{Customer: sItem.customer(), Wallet: walletOf(sItem), Badges: sItem.Badges}
		dAcc := loyalty.Account{Customer: dItem.customer(), Wallet: walletOf(dItem), Badges: dItem.Badges}
		co, err := fn(sAcc, dAcc)
		if err != nil {
			return rec, err
		}
		next := rec
		next.Points = dAcc.Wallet.Balance
		items, err := s.cutoverWrites(mid, sItem, dItem, co)
		if err != nil {
			return rec, err
		}
		items = append(items, s.advanceMerge(mid, next, crm.MergeMove, 0, time.Time{}))
		if len(items) > 100 {
			return rec, apperr.New(apperr.Unprocessable, "these customers have too many identifiers and names to merge in one transaction")
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			s.afterPosting(ctx, mid, rec.SurvivorID, sItem, co.SurvivorPosting)
			s.afterPosting(ctx, mid, rec.DuplicateID, dItem, co.DuplicatePosting)
			return advanced(next, crm.MergeMove, 0, time.Time{}), nil
		}
		reasons, ok := cancellationReasons(err)
		if !ok {
			return rec, fmt.Errorf("merge cut-over: %w", err)
		}
		if code := aws.ToString(reasons[len(reasons)-1].Code); code == "ConditionalCheckFailed" {
			// Another runner of this merge cut over first: carry on from its record.
			return s.MergeRecord(ctx, mid, rec.DuplicateID)
		}
		if attempt+1 == backoff.Attempts {
			return rec, apperr.New(apperr.Conflict, "the customers are being changed concurrently; retry the merge")
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return rec, err
		}
	}
}

// cutoverWrites lists the cut-over's writes but the merge record's: each
// profile's posting (postingWrites) with its profile update replaced by a
// Put of the whole item, the claims, the tokens, and one counter write per
// shard.
func (s *Store) cutoverWrites(mid string, sItem, dItem customerItem, co loyalty.MergeCutover) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	type shard struct {
		cid              string
		points, postings int64
	}
	shards := map[string]shard{}
	for _, side := range []struct {
		stored customerItem
		c      crm.Customer
		p      loyalty.Posting
	}{{sItem, co.Survivor, co.SurvivorPosting}, {dItem, co.Duplicate, co.DuplicatePosting}} {
		cid := side.stored.ID
		writes, err := s.postingWrites(mid, cid, side.stored, side.p)
		if err != nil {
			return nil, err
		}
		c := side.c
		c.ID, c.MerchantID, c.Version = cid, mid, side.stored.Version+1
		next := toItem(c)
		lots, earliest := lotsOf(side.p.Wallet)
		next.PointsBalance, next.PointsEarned, next.Lots, next.Badges = side.p.Wallet.Balance, side.p.Wallet.EarnedTotal, lots, nonNil(side.p.Badges)
		next.PendingEvents = append(slices.Clone(side.stored.PendingEvents), pendingOf(side.p.Events)...)
		if next.GSI6PK != "" {
			next.GSI6SK = sortKeyWithID(sortInt(next.PointsBalance), cid)
		}
		if earliest != nil {
			next.GSI4PK, next.GSI4SK = expiryGSIPK(mid), sortKeyWithID(earliest.UTC().Format(sortTime), cid)
		}
		profile, err := attributevalue.MarshalMap(next)
		if err != nil {
			return nil, err
		}
		writes[posProfile] = types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: profile,
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(side.stored.Version)}}}
		// Both customers may share a counter shard, and a transaction may
		// write an item once: the counter writes are made below, per shard.
		counter := counterPK(mid, shardOf(cid))
		for _, w := range writes {
			if w.Update == nil || w.Update.Key["PK"].(*types.AttributeValueMemberS).Value != counter {
				items = append(items, w)
			}
		}
		var delta int64
		for _, e := range side.p.Entries {
			delta += e.Points
		}
		if delta != 0 {
			sh := shards[counter]
			sh.cid, sh.points, sh.postings = cid, sh.points+delta, sh.postings+1
			shards[counter] = sh
		}
		var tokens []string
		if c.State != crm.StateMerged { // a tombstone is found by no search
			tokens = c.NameTokens()
		}
		tw, err := s.tokenWrites(mid, cid, side.stored.customer().NameTokens(), tokens)
		if err != nil {
			return nil, err
		}
		items = append(items, tw...)
	}
	for _, sh := range shards { // the outstanding points do not change in total
		items = append(items, s.counterWrite(mid, sh.cid, sh.points, sh.postings))
	}
	for _, u := range dItem.customer().Uniques() {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(uniquePK(mid, u.Kind, u.Value), skUnique),
			UpdateExpression:          aws.String("SET customer_id = :s"),
			ConditionExpression:       aws.String("customer_id = :d"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(sItem.ID), ":d": str(dItem.ID)}}})
	}
	return items, nil
}

// movedPrefixes are the duplicate's items the move step takes: orders,
// visits and segment memberships move to the survivor; ticket days and the
// analytics score are deleted (the metrics step and the next nightly run
// recompute them). The ledger, its claims and redemptions, and the events
// stay with the tombstone.
var movedPrefixes = []string{orderSKPfx, visitSKPfx, segSKPfx, daySKPfx, "ANALYTICS"}

// maxMoveWrites bounds one move transaction: 100 items, one of them the
// merge record and one the survivor's condition check.
const maxMoveWrites = 98

// MoveMerged moves one batch of the duplicate's items to the survivor, in one
// transaction with the merge record's advance (so a batch is never moved
// twice) and a check that the survivor is still a customer; with nothing
// left to move, it advances the record to metrics.
func (s *Store) MoveMerged(ctx context.Context, mid string, rec crm.MergeRecord) (crm.MergeRecord, error) {
	batch, err := s.movedBatch(ctx, mid, rec)
	if err != nil {
		return rec, err
	}
	items := []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{TableName: &s.table,
		Key:                       keyOf(customerPK(mid, rec.SurvivorID), skProfile),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #s <> :merged"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":merged": str(string(crm.StateMerged))}}}}
	next := crm.MergeMove
	if len(batch) == 0 {
		next = crm.MergeMetrics
	}
	for _, raw := range batch {
		w, err := s.moveWrites(mid, rec, raw)
		if err != nil {
			return rec, err
		}
		items = append(items, w...)
	}
	items = append(items, s.advanceMerge(mid, rec, next, int64(len(batch)), time.Time{}))
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return advanced(rec, next, int64(len(batch)), time.Time{}), nil
	}
	reasons, ok := cancellationReasons(err)
	if !ok {
		return rec, fmt.Errorf("merge move: %w", err)
	}
	if aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		return rec, survivorGone(rec)
	}
	// Another runner moved this batch, or a purchase changed an item: read again.
	return s.MergeRecord(ctx, mid, rec.DuplicateID)
}

// movedBatch reads the next batch of the duplicate's items the move step
// takes: up to a third of a transaction of the first prefix that has any.
func (s *Store) movedBatch(ctx context.Context, mid string, rec crm.MergeRecord) ([]map[string]types.AttributeValue, error) {
	for _, prefix := range movedPrefixes {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(customerPK(mid, rec.DuplicateID)), ":sk": str(prefix),
			},
			Limit:          aws.Int32(maxMoveWrites / 3),
			ConsistentRead: aws.Bool(true),
		})
		if err != nil || len(out.Items) > 0 {
			return out.Items, err
		}
	}
	return nil, nil
}

// EraseMerged is the move step of a merge whose survivor was deleted after
// the cut-over: the duplicate's items the survivor would have received
// (orders with their claims, visits, memberships, days, score) are erased as
// the survivor's were, one batch per call, in one transaction with the
// record's advance and a check that the survivor is still absent; with
// nothing left the merge is done (there are no metrics to fold).
func (s *Store) EraseMerged(ctx context.Context, mid string, rec crm.MergeRecord, at time.Time) (crm.MergeRecord, error) {
	batch, err := s.movedBatch(ctx, mid, rec)
	if err != nil {
		return rec, err
	}
	items := []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{TableName: &s.table,
		Key: keyOf(customerPK(mid, rec.SurvivorID), skProfile), ConditionExpression: aws.String("attribute_not_exists(PK)")}}}
	next := rec.Step
	if len(batch) == 0 {
		next = crm.MergeDone
	}
	for _, raw := range batch {
		sk := raw["SK"].(*types.AttributeValueMemberS).Value
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(customerPK(mid, rec.DuplicateID), sk)}})
		if order, ok := strings.CutPrefix(sk, orderSKPfx); ok {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(orderClaimPK(mid, order), skOrder),
				ConditionExpression:       aws.String("attribute_not_exists(PK) OR customer_id = :d"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(rec.DuplicateID)}}})
		}
	}
	items = append(items, s.advanceMerge(mid, rec, next, int64(len(batch)), at))
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return advanced(rec, next, int64(len(batch)), at), nil
	}
	if _, ok := cancellationReasons(err); !ok {
		return rec, fmt.Errorf("merge erase: %w", err)
	}
	// Another runner erased this batch, or a purchase changed an item: read again.
	return s.MergeRecord(ctx, mid, rec.DuplicateID)
}

// survivorGone is the error of a step that found the survivor merged or
// deleted since the cut-over.
func survivorGone(rec crm.MergeRecord) error {
	return errors.Join(crm.ErrSurvivorGone, apperr.New(apperr.Conflict,
		"customer %s was deleted or merged while customer %s was being merged into them", rec.SurvivorID, rec.DuplicateID))
}

// maxMergeChain bounds the merges ChainEnd follows.
const maxMergeChain = 16

// ChainEnd follows a customer's merges (each tombstone's merged_into) to the
// customer that holds their history now: cid itself when it is no
// tombstone. When a customer on the way does not exist (deleted), it returns
// that customer's ID with NotFound.
func (s *Store) ChainEnd(ctx context.Context, mid, cid string) (string, error) {
	for range maxMergeChain {
		c, err := s.profileItem(ctx, mid, cid)
		if isNotFound(err) {
			return cid, err
		}
		if err != nil {
			return "", err
		}
		if c.State != string(crm.StateMerged) {
			return cid, nil
		}
		cid = c.MergedInto
	}
	return "", apperr.New(apperr.Conflict, "customer %s is at the end of more than %d merges", cid, maxMergeChain)
}

// RetargetMerge makes survivor the customer a merge moves the rest of the
// duplicate into, when the survivor it had was itself merged into survivor
// (guarded by the record's version: another runner may have done it first).
func (s *Store) RetargetMerge(ctx context.Context, mid string, rec crm.MergeRecord, survivor string) (crm.MergeRecord, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: keyOf(customerPK(mid, rec.DuplicateID), skMerge),
		UpdateExpression:    aws.String("SET survivor_id = :s, version = version + :one"),
		ConditionExpression: aws.String("version = :v AND step = :step"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(survivor), ":one": num(1),
			":v": num(rec.Version), ":step": str(string(rec.Step))}})
	switch {
	case conditionFailed(err):
		return s.MergeRecord(ctx, mid, rec.DuplicateID)
	case err != nil:
		return rec, fmt.Errorf("retarget merge: %w", err)
	}
	rec.SurvivorID, rec.Version = survivor, rec.Version+1
	return rec, nil
}

// moveWrites are the writes that take one item of the duplicate's partition:
// a copy under the survivor (an order also names its new customer, and its
// merchant-wide claim follows it) and the delete of the original.
func (s *Store) moveWrites(mid string, rec crm.MergeRecord, raw map[string]types.AttributeValue) ([]types.TransactWriteItem, error) {
	sk := raw["SK"].(*types.AttributeValueMemberS).Value
	del := types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(customerPK(mid, rec.DuplicateID), sk),
		ConditionExpression: aws.String("attribute_exists(PK)")}}
	if strings.HasPrefix(sk, daySKPfx) || sk == "ANALYTICS" {
		return []types.TransactWriteItem{del}, nil
	}
	item := make(map[string]types.AttributeValue, len(raw))
	for k, v := range raw {
		item[k] = v
	}
	item["PK"] = str(customerPK(mid, rec.SurvivorID))
	var writes []types.TransactWriteItem
	switch {
	case strings.HasPrefix(sk, orderSKPfx):
		var o orderItem
		if err := attributevalue.UnmarshalMap(raw, &o); err != nil {
			return nil, err
		}
		o.PK, o.Order.CustomerID = customerPK(mid, rec.SurvivorID), rec.SurvivorID
		av, err := attributevalue.MarshalMap(o)
		if err != nil {
			return nil, err
		}
		item = av
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: &s.table,
			Key:                       keyOf(orderClaimPK(mid, o.Order.OrderID), skOrder),
			UpdateExpression:          aws.String("SET customer_id = :s, #t = :t"),
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR customer_id = :d"),
			ExpressionAttributeNames:  map[string]string{"#t": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(rec.SurvivorID), ":d": str(rec.DuplicateID), ":t": str("order_claim")}}})
	case strings.HasPrefix(sk, segSKPfx):
		item["GSI4SK"] = str(rec.SurvivorID)
	}
	return append(writes, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}}, del), nil
}

// FinishMerge recomputes the survivor's purchase metrics and ticket days from
// all of their orders and their stored metrics (fold decides them) and finishes the merge: the days
// that changed are written guarded by their versions, in transactions of at
// most 100 items, the last holding the profile's metrics (guarded by its
// version) and the merge record's advance to done. A concurrent purchase
// makes it read and fold again.
func (s *Store) FinishMerge(ctx context.Context, mid string, rec crm.MergeRecord, at time.Time, fold func(stored crm.Metrics, orders []purchase.Order) (crm.Metrics, map[string]purchase.Day, error)) (crm.MergeRecord, error) {
	for attempt := 0; ; attempt++ {
		stored, err := s.profileItem(ctx, mid, rec.SurvivorID)
		switch {
		case isNotFound(err) || err == nil && stored.State == string(crm.StateMerged):
			return rec, survivorGone(rec)
		case err != nil:
			return rec, err
		}
		orders, err := s.Orders(ctx, mid, rec.SurvivorID)
		if err != nil {
			return rec, err
		}
		raw, err := s.partitionItems(ctx, mid, rec.SurvivorID, daySKPfx)
		if err != nil {
			return rec, err
		}
		var storedDays []dayItem
		if err := attributevalue.UnmarshalListOfMaps(raw, &storedDays); err != nil {
			return rec, err
		}
		metrics, days, err := fold(stored.customer().Metrics, orders)
		if err != nil {
			return rec, err
		}
		pk := customerPK(mid, rec.SurvivorID)
		var writes []types.TransactWriteItem
		for _, d := range storedDays {
			want := days[d.Date] // zero when no order counts on that day any more
			if want.Orders == d.Orders && want.Revenue == d.Revenue && want.Margin == d.Margin && want.Units == d.Units {
				delete(days, d.Date)
				continue
			}
			delete(days, d.Date)
			av, err := attributevalue.MarshalMap(dayItem{PK: pk, SK: daySKPfx + d.Date, Type: "ticket_day", Version: d.Version + 1,
				Date: d.Date, Orders: want.Orders, Revenue: want.Revenue, Margin: want.Margin, Units: want.Units})
			if err != nil {
				return rec, err
			}
			writes = append(writes, versioned(s.table, av, d.Version))
		}
		for date, d := range days {
			av, err := attributevalue.MarshalMap(dayItem{PK: pk, SK: daySKPfx + date, Type: "ticket_day", Version: 1,
				Date: date, Orders: d.Orders, Revenue: d.Revenue, Margin: d.Margin, Units: d.Units})
			if err != nil {
				return rec, err
			}
			writes = append(writes, versioned(s.table, av, 0))
		}
		values := map[string]types.AttributeValue{":v": num(stored.Version), ":one": num(1)}
		set, err := metricsSet(mid, rec.SurvivorID, metrics, values)
		if err != nil {
			return rec, err
		}
		profile := types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(pk, skProfile),
			UpdateExpression: aws.String("SET version = version + :one" + set), ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: values}}
		final := []types.TransactWriteItem{profile, s.advanceMerge(mid, rec, crm.MergeDone, 0, at)}
		// Days written ahead of the profile are guarded by its version too:
		// none lands on a survivor merged or deleted meanwhile.
		unchanged := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: keyOf(pk, skProfile),
			ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(stored.Version)}}}
		committed, err := s.commitDays(ctx, writes, unchanged, final)
		switch {
		case committed:
			return advanced(rec, crm.MergeDone, 0, at), nil
		case errors.Is(err, errRecordMoved):
			return s.MergeRecord(ctx, mid, rec.DuplicateID) // another runner finished it
		case err != nil:
			return rec, err
		}
		if attempt+1 == backoff.Attempts {
			return rec, apperr.New(apperr.Conflict, "customer %s is being changed concurrently; retry the merge", rec.SurvivorID)
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return rec, err
		}
	}
}

// errRecordMoved says the merge record's guard failed: another runner of the
// merge advanced it.
var errRecordMoved = errors.New("the merge record moved on")

// commitDays writes the day writes in transactions of at most 100 items, the
// last one with final (the profile and the merge record), the others with
// check. It reports whether everything was written; false without an error
// means a guard failed and the caller should read again.
func (s *Store) commitDays(ctx context.Context, days []types.TransactWriteItem, check types.TransactWriteItem, final []types.TransactWriteItem) (bool, error) {
	room := 100 - len(final)
	for len(days) > room {
		chunk := append(slices.Clone(days[:room-1]), check)
		if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: chunk}); err != nil {
			if _, ok := cancellationReasons(err); ok {
				return false, nil
			}
			return false, fmt.Errorf("merge days: %w", err)
		}
		days = days[room-1:]
	}
	last := append(slices.Clone(days), final...)
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: last})
	if err == nil {
		return true, nil
	}
	reasons, ok := cancellationReasons(err)
	switch {
	case !ok:
		return false, fmt.Errorf("merge metrics: %w", err)
	case aws.ToString(reasons[len(reasons)-1].Code) == "ConditionalCheckFailed":
		return false, errRecordMoved
	}
	return false, nil
}
