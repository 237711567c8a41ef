package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/backoff"
	"github.com/regulars/regulars/internal/purchase"
)

const (
	runSKPfx     = "RUN#"
	skAnalytics  = "ANALYTICS"
	maxBatchSize = 25
)

// TicketDays returns a customer's ticket days (DAY# items).
func (s *Store) TicketDays(ctx context.Context, mid, cid string) ([]purchase.Day, error) {
	raw, err := s.partitionItems(ctx, mid, cid, daySKPfx)
	if err != nil {
		return nil, err
	}
	var items []dayItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, err
	}
	out := make([]purchase.Day, 0, len(items))
	for _, it := range items {
		if it.Orders > 0 {
			out = append(out, purchase.Day{Date: it.Date, Orders: it.Orders, Revenue: it.Revenue, Margin: it.Margin, Units: it.Units})
		}
	}
	return out, nil
}

// Orders returns a customer's orders.
func (s *Store) Orders(ctx context.Context, mid, cid string) ([]purchase.Order, error) {
	raw, err := s.partitionItems(ctx, mid, cid, orderSKPfx)
	if err != nil {
		return nil, err
	}
	out := make([]purchase.Order, 0, len(raw))
	for _, r := range raw {
		var it orderItem
		if err := attributevalue.UnmarshalMap(r, &it); err != nil {
			return nil, err
		}
		out = append(out, it.Order)
	}
	return out, nil
}

type runItem struct {
	PK      string        `dynamodbav:"PK"`
	SK      string        `dynamodbav:"SK"`
	Type    string        `dynamodbav:"type"`
	Version int64         `dynamodbav:"version"`
	Run     analytics.Run `dynamodbav:"run"`
}

// Run returns a merchant's run for a date, or NotFound.
func (s *Store) Run(ctx context.Context, mid, asOf string) (analytics.Run, int64, error) {
	var it runItem
	if err := s.get(ctx, merchantPK(mid), runSKPfx+asOf, &it); err != nil {
		if isNotFound(err) {
			return analytics.Run{}, 0, apperr.New(apperr.NotFound, "no analytics run for %s", asOf)
		}
		return analytics.Run{}, 0, err
	}
	return it.Run, it.Version, nil
}

// SaveRun writes a run guarded by the version read (0: new); a concurrent
// worker on the same run answers Conflict.
func (s *Store) SaveRun(ctx context.Context, mid string, run analytics.Run, read int64) (int64, error) {
	av, err := attributevalue.MarshalMap(runItem{PK: merchantPK(mid), SK: runSKPfx + run.AsOf, Type: "analytics_run", Version: read + 1, Run: run})
	if err != nil {
		return 0, err
	}
	w := versioned(s.table, av, read).Put
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: w.TableName, Item: w.Item, ConditionExpression: w.ConditionExpression,
		ExpressionAttributeValues: w.ExpressionAttributeValues}); err != nil {
		if conditionFailed(err) {
			return 0, apperr.New(apperr.Conflict, "the analytics run of %s changed concurrently", run.AsOf)
		}
		return 0, err
	}
	return read + 1, nil
}

type scoreItem struct {
	PK    string          `dynamodbav:"PK"`
	SK    string          `dynamodbav:"SK"`
	Type  string          `dynamodbav:"type"`
	Score analytics.Score `dynamodbav:"score"`
}

// PutScores writes customers' latest scores, each on the customer's own key
// (no hot merchant partition), 25 per BatchWriteItem, retrying unprocessed
// items with backoff.
func (s *Store) PutScores(ctx context.Context, mid string, scores []analytics.Score) error {
	for start := 0; start < len(scores); start += maxBatchSize {
		var reqs []types.WriteRequest
		for _, sc := range scores[start:min(start+maxBatchSize, len(scores))] {
			av, err := attributevalue.MarshalMap(scoreItem{PK: customerPK(mid, sc.CustomerID), SK: skAnalytics, Type: "analytics", Score: sc})
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		for attempt := 0; len(reqs) > 0; attempt++ {
			if attempt == backoff.Attempts {
				return fmt.Errorf("scores: %d items left unprocessed", len(reqs))
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}})
			if err != nil {
				return err
			}
			reqs = out.UnprocessedItems[s.table]
			if len(reqs) > 0 {
				if err := backoff.Wait(ctx, attempt); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Score returns a customer's latest scores, or NotFound.
func (s *Store) Score(ctx context.Context, mid, cid string) (analytics.Score, error) {
	var it scoreItem
	if err := s.get(ctx, customerPK(mid, cid), skAnalytics, &it); err != nil {
		if isNotFound(err) {
			return analytics.Score{}, apperr.New(apperr.NotFound, "no analytics for this customer yet")
		}
		return analytics.Score{}, err
	}
	return it.Score, nil
}

// Refresh12Months rewrites the 12-month figures of a profile as of a date;
// the version moves, so that no write based on an older read puts stale
// figures back.
func (s *Store) Refresh12Months(ctx context.Context, mid, cid string, tickets, revenue, margin int64) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: keyOf(customerPK(mid, cid), skProfile),
		UpdateExpression:    aws.String("SET tickets_12m = :t, revenue_12m = :r, margin_12m = :m, version = version + :one"),
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": num(tickets), ":r": num(revenue), ":m": num(margin), ":one": num(1),
		}})
	if conditionFailed(err) {
		return nil // erased meanwhile
	}
	return err
}
