package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/crm"
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
// record. The reference is written only beside a live profile: for a
// merged customer it goes to the customer at the end of their chain of
// merges (whose erasure is the person's), and when the customer does not
// exist (never did, or was deleted) the record is deleted instead of kept,
// so that nothing about them outlives their erasure; a repeat of the request
// then runs again.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, mid, key, cid string, rec idempotency.Record, expires time.Time) error {
	body, err := attributevalue.Marshal(rec.Body)
	if err != nil {
		return err
	}
	headers, err := attributevalue.Marshal(rec.Headers)
	if err != nil {
		return err
	}
	done := types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(idempotencyPK(mid, key), skIdem),
		UpdateExpression:         aws.String("SET done = :t, #s = :s, body = :b, headers = :h"),
		ConditionExpression:      aws.String("fingerprint = :f"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":s": num(int64(rec.Status)), ":b": body, ":h": headers,
			":f": str(rec.Fingerprint),
		}}}
	if cid == "" {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{done}})
		return err
	}
	for range maxUpdateAttempts {
		ref, err := attributevalue.MarshalMap(idemRefItem{PK: customerPK(mid, cid), SK: idemRefSKPfx + key, Type: "idempotency_ref", ExpiresAt: expires.Unix()})
		if err != nil {
			return err
		}
		live := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: keyOf(customerPK(mid, cid), skProfile),
			ConditionExpression:       aws.String("attribute_exists(PK) AND #st <> :merged"),
			ExpressionAttributeNames:  map[string]string{"#st": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":merged": str(string(crm.StateMerged))}}}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			done, live, {Put: &types.Put{TableName: &s.table, Item: ref}}}})
		if reasons, ok := cancellationReasons(err); !ok || aws.ToString(reasons[1].Code) != "ConditionalCheckFailed" {
			return err
		}
		if cid, err = s.ChainEnd(ctx, mid, cid); isNotFound(err) {
			return s.forgetIdempotencyKey(ctx, mid, key, rec.Fingerprint)
		} else if err != nil {
			return err
		}
	}
	return s.forgetIdempotencyKey(ctx, mid, key, rec.Fingerprint)
}

// forgetIdempotencyKey deletes the record of key, finished or not.
func (s *Store) forgetIdempotencyKey(ctx context.Context, mid, key, fingerprint string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyOf(idempotencyPK(mid, key), skIdem),
		ConditionExpression:       aws.String("fingerprint = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": str(fingerprint)}})
	if conditionFailed(err) {
		return nil
	}
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
