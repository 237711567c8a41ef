package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/idempotency"
)

type idempotencyItem struct {
	PK          string            `dynamodbav:"PK"`
	SK          string            `dynamodbav:"SK"`
	Type        string            `dynamodbav:"type"`
	Fingerprint string            `dynamodbav:"fingerprint"`
	Done        bool              `dynamodbav:"done"`
	Status      int               `dynamodbav:"status,omitempty"`
	Body        []byte            `dynamodbav:"body,omitempty"`
	Headers     map[string]string `dynamodbav:"headers,omitempty"`
	CreatedAt   time.Time         `dynamodbav:"created_at"`
	StartedAt   int64             `dynamodbav:"started_at"` // epoch seconds, for abandoned claims
	ExpiresAt   int64             `dynamodbav:"expires_at"` // TTL attribute, epoch seconds
}

// abandonAfter is when an unfinished claim is taken to belong to a request
// that died (the functions time out long before): a retry may claim it again.
const abandonAfter = 2 * time.Minute

// ClaimIdempotencyKey records that a request with key is starting. When the
// key is already taken (and neither expired nor abandoned) it returns the
// stored record and false; the record comes back from the failed conditional
// write itself, so there is no window between the check and the read.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, mid, key, fingerprint string, now time.Time, ttl time.Duration) (idempotency.Record, bool, error) {
	item, err := attributevalue.MarshalMap(idempotencyItem{PK: idempotencyPK(mid, key), SK: skIdem, Type: "idempotency",
		Fingerprint: fingerprint, CreatedAt: now.UTC(), StartedAt: now.Unix(), ExpiresAt: now.Add(ttl).Unix()})
	if err != nil {
		return idempotency.Record{}, false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		// TTL deletes lazily: an expired record counts as absent, and so does
		// the unfinished claim of a request that died with the same request.
		ConditionExpression: aws.String("attribute_not_exists(PK) OR expires_at < :now OR " +
			"(done = :false AND started_at < :stale AND fingerprint = :f)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.Unix()),
			":false": &types.AttributeValueMemberBOOL{Value: false}, ":stale": num(now.Add(-abandonAfter).Unix()), ":f": str(fingerprint)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return idempotency.Record{}, true, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return idempotency.Record{}, false, err
	}
	var it idempotencyItem
	if err := attributevalue.UnmarshalMap(ccf.Item, &it); err != nil {
		return idempotency.Record{}, false, err
	}
	return idempotency.Record{Fingerprint: it.Fingerprint, Done: it.Done, Status: it.Status, Body: it.Body, Headers: it.Headers}, false, nil
}

// idemRefSKPfx starts the key of a customer's reference to an idempotency
// record about them: erasing the customer erases the record too.
const idemRefSKPfx = "IDEM#"

type idemRefItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ExpiresAt int64  `dynamodbav:"expires_at"` // the record's own TTL
}

// CompleteIdempotencyKey stores the response of the request that claimed
// key. When the request was about a customer (cid), a reference in their
// partition, written in the same transaction, lets their erasure find the
// record.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, mid, key, cid string, rec idempotency.Record, expires time.Time) error {
	body, err := attributevalue.Marshal(rec.Body)
	if err != nil {
		return err
	}
	headers, err := attributevalue.Marshal(rec.Headers)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Update: &types.Update{TableName: &s.table, Key: keyOf(idempotencyPK(mid, key), skIdem),
		UpdateExpression:         aws.String("SET done = :t, #s = :s, body = :b, headers = :h"),
		ConditionExpression:      aws.String("fingerprint = :f"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":s": num(int64(rec.Status)), ":b": body, ":h": headers,
			":f": str(rec.Fingerprint),
		}}}}
	if cid != "" {
		ref, err := attributevalue.MarshalMap(idemRefItem{PK: customerPK(mid, cid), SK: idemRefSKPfx + key, Type: "idempotency_ref", ExpiresAt: expires.Unix()})
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: ref}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// ReleaseIdempotencyKey forgets a claim whose request failed unexpectedly, so
// that a retry with the same key runs again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, mid, key, fingerprint string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyOf(idempotencyPK(mid, key), skIdem),
		ConditionExpression:       aws.String("fingerprint = :f AND done = :false"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": str(fingerprint), ":false": &types.AttributeValueMemberBOOL{Value: false}}})
	if conditionFailed(err) {
		return nil
	}
	return err
}
