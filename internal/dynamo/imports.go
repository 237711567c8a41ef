package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/imports"
)

// An import's row claims: one item per identifier a row of the import took,
// so that a later row of the same file with that identifier is a duplicate,
// and a row processed again after a crash finds its own outcome. They live
// as long as the job's record.
const skImportRow = "ROW"

func importClaimPK(mid, job string, u crm.Unique) string {
	return tenantPrefix(mid) + importRefSK(job, u)
}

// importRefSK is the key, in the partition of the customer a claim names,
// of the reference through which erasing that customer erases the claim
// (it holds their identifier): the claim's PK without the merchant prefix.
func importRefSK(job string, u crm.Unique) string {
	return importRefSKPfx + job + "#U#" + u.Kind + "#" + u.Value
}

const importRefSKPfx = "IMPORT#"

type importRefItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ExpiresAt int64  `dynamodbav:"expires_at"` // the claim's TTL
}

type importClaimItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	Row        int    `dynamodbav:"row"`
	Outcome    string `dynamodbav:"outcome"`
	CustomerID string `dynamodbav:"customer_id"`
	ExpiresAt  int64  `dynamodbav:"expires_at"` // TTL, epoch seconds
	// Changes are an update's columns, old and new, for the report of the row run again.
	Changes []crm.ColumnChange `dynamodbav:"changes,omitempty"`
}

// RowClaims reads the claims of an import on identifiers, in their order;
// nil where an identifier is not claimed.
func (s *Store) RowClaims(ctx context.Context, mid, job string, us []crm.Unique) ([]*imports.RowClaim, error) {
	out := make([]*imports.RowClaim, len(us))
	at := map[string]int{}
	keys := make([]map[string]types.AttributeValue, len(us))
	for i, u := range us {
		at[importClaimPK(mid, job, u)] = i
		keys[i] = keyOf(importClaimPK(mid, job, u), skImportRow)
	}
	for len(keys) > 0 {
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: keys, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return nil, err
		}
		for _, raw := range res.Responses[s.table] {
			var it importClaimItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, err
			}
			out[at[it.PK]] = &imports.RowClaim{Row: it.Row, Outcome: imports.Outcome(it.Outcome), CustomerID: it.CustomerID, Changes: it.Changes}
		}
		keys = res.UnprocessedKeys[s.table].Keys
	}
	return out, nil
}

// ClaimRow records, in one transaction, that row c.Row of an import takes
// the identifiers us with its planned outcome, with a reference to each
// claim in the partition of the customer it names. Claims of the same row
// are taken again (a row processed again); a claim of another row answers
// Conflict and writes nothing.
func (s *Store) ClaimRow(ctx context.Context, mid, job string, us []crm.Unique, c imports.RowClaim, expires time.Time) error {
	items := make([]types.TransactWriteItem, len(us), 2*len(us))
	for i, u := range us {
		if c.CustomerID != "" {
			ref, err := attributevalue.MarshalMap(importRefItem{PK: customerPK(mid, c.CustomerID), SK: importRefSK(job, u), Type: "import_claim_ref",
				ExpiresAt: expires.Unix()})
			if err != nil {
				return err
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: ref}})
		}
		av, err := attributevalue.MarshalMap(importClaimItem{PK: importClaimPK(mid, job, u), SK: skImportRow, Type: "import_claim",
			Row: c.Row, Outcome: string(c.Outcome), CustomerID: c.CustomerID, ExpiresAt: expires.Unix(), Changes: c.Changes})
		if err != nil {
			return err
		}
		items[i] = types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av,
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR #row = :row"),
			ExpressionAttributeNames:  map[string]string{"#row": "row"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":row": num(int64(c.Row))}}}
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if _, ok := cancellationReasons(err); ok {
		return apperr.New(apperr.Conflict, "an identifier of row %d was claimed by another row", c.Row)
	}
	return err
}

// ReleaseRow deletes the claims row took on us (a row that could not be
// written after all), leaving those of other rows, and their references.
func (s *Store) ReleaseRow(ctx context.Context, mid, job string, us []crm.Unique, row int) error {
	for _, u := range us {
		var old importClaimItem
		out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyOf(importClaimPK(mid, job, u), skImportRow),
			ConditionExpression:       aws.String("#row = :row"),
			ExpressionAttributeNames:  map[string]string{"#row": "row"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":row": num(int64(row))},
			ReturnValues:              types.ReturnValueAllOld})
		if conditionFailed(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := attributevalue.UnmarshalMap(out.Attributes, &old); err != nil {
			return err
		}
		if old.CustomerID != "" {
			if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table,
				Key: keyOf(customerPK(mid, old.CustomerID), importRefSK(job, u))}); err != nil {
				return err
			}
		}
	}
	return nil
}
