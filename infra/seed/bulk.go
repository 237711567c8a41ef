package seed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/backoff"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
)

// Capture is a dynamo.API that keeps the items of the transactions it is
// given instead of sending them: what dynamo.Store.CreateCustomer writes,
// to be batch-written. Any call other than TransactWriteItems panics.
type Capture struct {
	dynamo.API // nil
	Items      []map[string]types.AttributeValue
}

// TransactWriteItems keeps the puts.
func (c *Capture) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if it.Put == nil {
			return nil, errors.New("the seed captures puts only")
		}
		c.Items = append(c.Items, it.Put.Item)
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// BatchWriter is the part of the DynamoDB client BatchWrite uses.
type BatchWriter interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// BatchWrite puts items, 25 per BatchWriteItem, again for the unprocessed
// ones after backoff.Wait, up to 10 attempts.
func BatchWrite(ctx context.Context, ddb BatchWriter, table string, items []map[string]types.AttributeValue) error {
	for chunk := range slices.Chunk(items, 25) {
		reqs := make([]types.WriteRequest, len(chunk))
		for i, it := range chunk {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		for attempt := 0; len(reqs) > 0; attempt++ {
			if attempt == 10 {
				return fmt.Errorf("BatchWriteItem: %d items still unprocessed after %d attempts", len(reqs), attempt)
			}
			out, err := ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				return fmt.Errorf("BatchWriteItem: %w", err)
			}
			reqs = out.UnprocessedItems[table]
			if len(reqs) > 0 {
				if err := backoff.Wait(ctx, attempt); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Customers writes new customers with the items CreateCustomer would write
// (profile, name tokens, identifier claims), in bulk and without its
// checks: the shortcut that makes a base of a million affordable in tests
// and benchmarks. The customers must not exist and their identifiers must
// be free.
func Customers(ctx context.Context, ddb BatchWriter, table string, cs []crm.Customer, writers int) error {
	return customers(ctx, ddb, table, cs, writers, func(map[string]types.AttributeValue) bool { return true })
}

// Profiles writes only the profile items of new customers (no name tokens,
// no identifier claims): what a reader of profiles alone, such as an export,
// sees, at a fraction of the writes. Their names are not searchable and
// their identifiers do not resolve.
func Profiles(ctx context.Context, ddb BatchWriter, table string, cs []crm.Customer, writers int) error {
	return customers(ctx, ddb, table, cs, writers, func(it map[string]types.AttributeValue) bool {
		sk, ok := it["SK"].(*types.AttributeValueMemberS)
		return ok && sk.Value == "PROFILE"
	})
}

func customers(ctx context.Context, ddb BatchWriter, table string, cs []crm.Customer, writers int, keep func(map[string]types.AttributeValue) bool) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for w := range max(writers, 1) {
		wg.Go(func() {
			capture := &Capture{}
			st := dynamo.New(capture, table)
			for i := w; i < len(cs) && ctx.Err() == nil; i += max(writers, 1) {
				n := len(capture.Items)
				if err := st.CreateCustomer(ctx, cs[i]); err != nil {
					cancel(fmt.Errorf("customer %d: %w", i, err))
					return
				}
				capture.Items = append(capture.Items[:n], slices.DeleteFunc(capture.Items[n:], func(it map[string]types.AttributeValue) bool { return !keep(it) })...)
				if len(capture.Items) >= 250 {
					if err := BatchWrite(ctx, ddb, table, capture.Items); err != nil {
						cancel(err)
						return
					}
					capture.Items = capture.Items[:0]
				}
			}
			if err := BatchWrite(ctx, ddb, table, capture.Items); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
