// Package dynamo is the single DynamoDB table: its keys, items, queries and
// transactions. It implements the storage ports that the HTTP layer declares
// and turns SDK errors into apperr codes at this edge. docs/data-model.md
// describes every key pattern and index used here.
package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/cursor"
)

// API is the part of the DynamoDB client the store uses. Tests may wrap a real
// client to inject failures DynamoDB Local never produces.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store reads and writes the table.
type Store struct {
	db      API
	table   string
	cursors *cursor.Signer
}

// processCursors signs the cursors of stores not given a key: a random key,
// shared by the stores of this process only (tests, operator tools).
var processCursors = cursor.Random()

// New returns a store over table. Its list cursors are good in this process
// only until WithCursors gives it the deployment's key.
func New(db API, table string) *Store {
	return &Store{db: db, table: table, cursors: processCursors}
}

// WithCursors makes the store seal and open its list cursors with c: the
// key every instance of every function shares (CURSOR_KEY), so that a
// cursor, or a job's checkpoint holding one, continues anywhere.
func (s *Store) WithCursors(c *cursor.Signer) *Store {
	s.cursors = c
	return s
}

// Cursors is the signer of the store's list cursors.
func (s *Store) Cursors() *cursor.Signer { return s.cursors }

// Table is the name of the table.
func (s *Store) Table() string { return s.table }

// Index names, as declared in template.yaml.
const (
	gsiLastVisit = "GSI1"
	gsiEnrolled  = "GSI2"
	gsiName      = "GSI3"
	gsiNameToken = "GSI4"
	gsiLTV       = "GSI5"
	gsiBalance   = "GSI6"
)

// Key builders. Every key starts with the merchant: no query can cross tenants.
func merchantPK(mid string) string            { return "M#" + mid }
func customerPK(mid, cid string) string       { return "M#" + mid + "#C#" + cid }
func customersGSIPK(mid string) string        { return "M#" + mid + "#CUSTOMERS" }
func nameTokensGSIPK(mid string) string       { return "M#" + mid + "#NAMES" }
func uniquePK(mid, kind, value string) string { return "M#" + mid + "#U#" + kind + "#" + value }
func idempotencyPK(mid, key string) string    { return "M#" + mid + "#IDEM#" + key }
func apiKeyLookupPK(hash string) string       { return "APIKEY#" + hash }
func apiKeySK(kid string) string              { return "APIKEY#" + kid }
func tokenSK(token string) string             { return "TOKEN#" + token }
func tokenGSISK(token, cid string) string     { return token + "#" + cid }
func tenantPrefix(mid string) string          { return "M#" + mid + "#" }
func sortKeyWithID(value, id string) string   { return value + "#" + id }

// sortInt writes a signed integer so that string order is numeric order:
// the value with its sign bit flipped, as 20 zero-padded decimal digits.
func sortInt(n int64) string { return fmt.Sprintf("%020d", uint64(n)^(1<<63)) }
func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)}
}

const (
	skMerchant = "MERCHANT"
	skAPIKey   = "APIKEY"
	skProfile  = "PROFILE"
	skUnique   = "UNIQUE"
	skIdem     = "IDEM"
)

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

// conditionFailed reports whether err is a failed condition on a single-item write.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancellationReasons returns the per-item reasons of a cancelled transaction.
func cancellationReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons, true
	}
	return nil, false
}
