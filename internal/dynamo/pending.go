package dynamo

import (
	"context"
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
)

// pendingEvent is a timeline event a posting recorded on the profile
// (pending_events) for syncPosted to write.
type pendingEvent struct {
	ID   string            `dynamodbav:"id"`
	Kind string            `dynamodbav:"event_type"`
	At   time.Time         `dynamodbav:"at"`
	Data map[string]string `dynamodbav:"data"`
}

func pendingOf(evs []crm.Event) []pendingEvent {
	out := make([]pendingEvent, len(evs))
	for i, ev := range evs {
		out[i] = pendingEvent{ID: ev.ID, Kind: ev.Type, At: ev.At.UTC(), Data: nonNilMap(ev.Data)}
	}
	return out
}

// maxSyncWrites bounds one transaction of syncPosted: 100 items, one of them
// the profile's version check (or, in the last one, the clearing of the
// pending events).
const maxSyncWrites = 99

// syncPosted writes what the postings of a customer left pending on the
// profile: their timeline events (pending_events), and the badge membership
// items brought in line with the badges the profile holds. It runs after
// every posting that recorded events and after any posting that finds some
// left by an earlier one (e.g. after a crash). The writes go in transactions
// of at most 100 items, each guarded by the profile's version as read; the
// last one clears pending_events. A concurrent change of the profile makes
// it start again from a fresh read. Every write is idempotent: an event is
// put under its own ID, a membership is put or deleted by key.
func (s *Store) syncPosted(ctx context.Context, mid, cid string) error {
	pk := customerPK(mid, cid)
	for attempt := 0; ; attempt++ {
		it, err := s.profileItem(ctx, mid, cid)
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil // deleted meanwhile: the erasure takes the rest
		}
		if err != nil {
			return err
		}
		if len(it.PendingEvents) == 0 {
			return nil
		}
		indexed, err := s.partitionItems(ctx, mid, cid, badgeSKPfx)
		if err != nil {
			return err
		}
		var writes []types.TransactWriteItem
		var have []string
		for _, raw := range indexed {
			bid := strings.TrimPrefix(raw["SK"].(*types.AttributeValueMemberS).Value, badgeSKPfx)
			have = append(have, bid)
			if !slices.Contains(it.Badges, bid) {
				writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(pk, badgeSKPfx+bid)}})
			}
		}
		for _, bid := range it.Badges {
			if !slices.Contains(have, bid) {
				av, err := attributevalue.MarshalMap(membershipItem{PK: pk, SK: badgeSKPfx + bid, GSI4PK: badgeGSIPK(mid, bid), GSI4SK: cid, Type: "badge_membership"})
				if err != nil {
					return err
				}
				writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av}})
			}
		}
		for _, ev := range it.PendingEvents {
			w, err := eventPut(s.table, pk, crm.Event{ID: ev.ID, Type: ev.Kind, At: ev.At, Data: ev.Data})
			if err != nil {
				return err
			}
			writes = append(writes, w)
		}
		version := map[string]types.AttributeValue{":v": num(it.Version)}
		guard := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: keyOf(pk, skProfile),
			ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: version}}
		clear := types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(pk, skProfile),
			UpdateExpression: aws.String("REMOVE pending_events"), ConditionExpression: aws.String("version = :v"),
			ExpressionAttributeValues: version}}
		err = nil
		for done := false; !done && err == nil; {
			n := min(len(writes), maxSyncWrites)
			batch := slices.Clone(writes[:n])
			writes = writes[n:]
			if done = len(writes) == 0; done {
				batch = append(batch, clear)
			} else {
				batch = append(batch, guard)
			}
			_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: batch})
		}
		if err == nil {
			return nil
		}
		if _, ok := cancellationReasons(err); !ok {
			return fmt.Errorf("posted events: %w", err)
		}
		if attempt+1 == backoff.Attempts {
			return apperr.New(apperr.Conflict, "the customer's points are being changed concurrently; retry")
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return err
		}
	}
}
