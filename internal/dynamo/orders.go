package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/backoff"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/purchase"
)

const (
	orderSKPfx = "ORDER#"
	daySKPfx   = "DAY#"
	skOrder    = "ORDER"
)

// orderClaimPK maps a merchant's order ID to the customer who owns it, so
// that every event of an order lands on the same customer.
func orderClaimPK(mid, orderID string) string { return "M#" + mid + "#ORDER#" + orderID }

type orderItem struct {
	PK        string         `dynamodbav:"PK"`
	SK        string         `dynamodbav:"SK"`
	Type      string         `dynamodbav:"type"`
	Version   int64          `dynamodbav:"version"`
	Order     purchase.Order `dynamodbav:"order"`
	UpdatedAt time.Time      `dynamodbav:"updated_at"`
}

type dayItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Date    string `dynamodbav:"date"`
	Orders  int64  `dynamodbav:"orders"`
	Revenue int64  `dynamodbav:"revenue"`
	Margin  int64  `dynamodbav:"margin"`
	Units   int64  `dynamodbav:"units"`
}

type orderClaimItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	CustomerID string `dynamodbav:"customer_id"`
}

// OrderOwner returns the customer an order belongs to, or NotFound.
func (s *Store) OrderOwner(ctx context.Context, mid, orderID string) (string, error) {
	var it orderClaimItem
	if err := s.get(ctx, orderClaimPK(mid, orderID), skOrder, &it); err != nil {
		return "", err
	}
	return it.CustomerID, nil
}

// ApplyOrder reads a customer's account and one of their orders, lets fn
// decide the new order, days and posting, and writes everything in one
// transaction guarded by the versions it read: the order, the days it touched
// and the profile (wallet and metrics). A concurrent write makes fn run again.
// The first write of an order also claims its ID for the customer; an order
// already claimed by another customer answers Conflict.
func (s *Store) ApplyOrder(ctx context.Context, mid, cid, orderID string, fn func(acc loyalty.Account, o purchase.Order, days purchase.Days) (purchase.Decision, error)) error {
	pk := customerPK(mid, cid)
	for attempt := 0; ; attempt++ {
		stored, err := s.profileItem(ctx, mid, cid)
		if err != nil {
			return err
		}
		acc := loyalty.Account{Customer: stored.customer(), Wallet: walletOf(stored), Badges: stored.Badges}
		if err := notMerged(acc.Customer); err != nil {
			return err
		}
		var order orderItem
		if err := s.get(ctx, pk, orderSKPfx+orderID, &order); err != nil && !isNotFound(err) {
			return err
		}
		versions := map[string]int64{}
		read := func(dates ...string) (map[string]purchase.Day, error) {
			out := map[string]purchase.Day{}
			for _, d := range dates {
				var it dayItem
				if err := s.get(ctx, pk, daySKPfx+d, &it); err != nil && !isNotFound(err) {
					return nil, err
				}
				versions[d] = it.Version
				out[d] = purchase.Day{Date: d, Orders: it.Orders, Revenue: it.Revenue, Margin: it.Margin, Units: it.Units}
			}
			return out, nil
		}
		dec, err := fn(acc, order.Order, read)
		if err != nil {
			return err
		}
		items, err := s.postingWrites(mid, cid, stored, dec.Posting)
		if err != nil {
			return err
		}
		guarded := len(items) // the order, the days and the claim follow
		orderAV, err := attributevalue.MarshalMap(orderItem{PK: pk, SK: orderSKPfx + orderID, Type: "order",
			Version: order.Version + 1, Order: dec.Order, UpdatedAt: time.Now().UTC()})
		if err != nil {
			return err
		}
		items = append(items, versioned(s.table, orderAV, order.Version))
		for date, d := range dec.Days {
			v, ok := versions[date]
			if !ok {
				return fmt.Errorf("day %s changed without being read", date)
			}
			av, err := attributevalue.MarshalMap(dayItem{PK: pk, SK: daySKPfx + date, Type: "ticket_day", Version: v + 1,
				Date: date, Orders: d.Orders, Revenue: d.Revenue, Margin: d.Margin, Units: d.Units})
			if err != nil {
				return err
			}
			items = append(items, versioned(s.table, av, v))
		}
		if order.Version == 0 {
			av, err := attributevalue.MarshalMap(orderClaimItem{PK: orderClaimPK(mid, orderID), SK: skOrder, Type: "order_claim", CustomerID: cid})
			if err != nil {
				return err
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av,
				ConditionExpression: aws.String("attribute_not_exists(PK)")}})
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			s.afterPosting(ctx, mid, cid, stored, dec.Posting)
			return nil
		}
		reasons, ok := cancellationReasons(err)
		if !ok {
			return fmt.Errorf("order transaction: %w", err)
		}
		retry := false
		for i, r := range reasons {
			switch code := aws.ToString(r.Code); {
			case code == "TransactionConflict", code == "ConditionalCheckFailed" && (i == posProfile || i >= guarded && i < len(items)-1),
				code == "ConditionalCheckFailed" && i == len(items)-1 && order.Version > 0:
				retry = true
			case code == "ConditionalCheckFailed" && i == len(items)-1 && attempt == 0:
				retry = true // another event of the order claimed it first: read it again
			case code == "ConditionalCheckFailed" && i == len(items)-1:
				return apperr.New(apperr.Conflict, "order %s belongs to another customer", orderID)
			case code == "ConditionalCheckFailed":
				return fmt.Errorf("order transaction: condition %d failed", i)
			}
		}
		if !retry {
			return fmt.Errorf("order transaction: %w", err)
		}
		if attempt+1 == backoff.Attempts {
			return apperr.New(apperr.Conflict, "order %s is being changed concurrently; retry", orderID)
		}
		if err := backoff.Wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// versioned is a Put guarded by the version read (0: the item must not exist).
func versioned(table string, item map[string]types.AttributeValue, read int64) types.TransactWriteItem {
	put := &types.Put{TableName: &table, Item: item}
	if read == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(read)}
	}
	return types.TransactWriteItem{Put: put}
}
