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
	"github.com/regulars/regulars/internal/tenant"
)

type merchantItem struct {
	PK        string              `dynamodbav:"PK"`
	SK        string              `dynamodbav:"SK"`
	Type      string              `dynamodbav:"type"`
	ID        string              `dynamodbav:"id"`
	Name      string              `dynamodbav:"name"`
	Currency  string              `dynamodbav:"currency"`
	TimeZone  string              `dynamodbav:"time_zone"`
	Country   string              `dynamodbav:"country,omitempty"`
	CreatedAt time.Time           `dynamodbav:"created_at"`
	Portal    []byte              `dynamodbav:"portal_secret"`
	Webhook   []webhookSecretItem `dynamodbav:"webhook_secrets,omitempty"`
}

type webhookSecretItem struct {
	ID        string    `dynamodbav:"id"`
	Secret    string    `dynamodbav:"secret"`
	CreatedAt time.Time `dynamodbav:"created_at"`
}

// apiKeyItem is stored twice: under the merchant (for listing) and under the
// hash (for authentication with one strongly consistent GetItem).
type apiKeyItem struct {
	PK         string     `dynamodbav:"PK"`
	SK         string     `dynamodbav:"SK"`
	Type       string     `dynamodbav:"type"`
	ID         string     `dynamodbav:"id"`
	MerchantID string     `dynamodbav:"merchant_id"`
	Name       string     `dynamodbav:"name"`
	Scope      string     `dynamodbav:"scope"`
	Prefix     string     `dynamodbav:"prefix"`
	Hash       string     `dynamodbav:"hash"`
	CreatedAt  time.Time  `dynamodbav:"created_at"`
	RevokedAt  *time.Time `dynamodbav:"revoked_at,omitempty"`
}

func (it apiKeyItem) key() tenant.APIKey {
	return tenant.APIKey{ID: it.ID, MerchantID: it.MerchantID, Name: it.Name, Scope: tenant.Scope(it.Scope),
		Prefix: it.Prefix, Hash: it.Hash, CreatedAt: it.CreatedAt, RevokedAt: it.RevokedAt}
}

// CreateMerchant stores a new merchant.
func (s *Store) CreateMerchant(ctx context.Context, m tenant.Merchant) error {
	item, err := attributevalue.MarshalMap(merchantItem{PK: merchantPK(m.ID), SK: skMerchant, Type: "merchant",
		ID: m.ID, Name: m.Name, Currency: m.Currency, TimeZone: m.TimeZone, Country: m.Country, CreatedAt: m.CreatedAt, Portal: m.PortalSecret})
	if err != nil {
		return err
	}
	// The directory entry lists the merchant for the nightly fan-out; it is a
	// separate item so that the index holds no copy of the merchant's secrets.
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{"PK": str(merchantPK(m.ID)), "SK": str(skDirectory),
			"GSI3PK": str(allMerchantsPK), "GSI3SK": str(m.ID), "type": str("merchant_directory")}}},
	}})
	if _, ok := cancellationReasons(err); ok {
		return apperr.New(apperr.Conflict, "merchant %s already exists", m.ID)
	}
	return err
}

// Merchant returns a merchant by ID.
func (s *Store) Merchant(ctx context.Context, mid string) (tenant.Merchant, error) {
	var it merchantItem
	if err := s.get(ctx, merchantPK(mid), skMerchant, &it); err != nil {
		return tenant.Merchant{}, err
	}
	m := tenant.Merchant{ID: it.ID, Name: it.Name, Currency: it.Currency, TimeZone: it.TimeZone, Country: it.Country, CreatedAt: it.CreatedAt,
		PortalSecret: it.Portal}
	if m.Country == "" { // stored before merchants had a country
		m.Country = tenant.ZoneCountry(m.TimeZone)
	}
	for _, w := range it.Webhook {
		m.WebhookSecrets = append(m.WebhookSecrets, tenant.WebhookSecret(w))
	}
	return m, nil
}

// RotateWebhookSecret adds a secret and keeps the previous newest one, the
// pair a point of sale may sign with while it switches. A concurrent rotation
// answers Conflict.
func (s *Store) RotateWebhookSecret(ctx context.Context, mid string, fresh tenant.WebhookSecret) ([]tenant.WebhookSecret, error) {
	var it merchantItem
	if err := s.get(ctx, merchantPK(mid), skMerchant, &it); err != nil {
		return nil, err
	}
	var current []tenant.WebhookSecret
	for _, w := range it.Webhook {
		current = append(current, tenant.WebhookSecret(w))
	}
	next := tenant.Rotated(current, fresh)
	items := make([]webhookSecretItem, len(next))
	for i, w := range next {
		items[i] = webhookSecretItem(w)
	}
	newAV, err := attributevalue.Marshal(items)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.UpdateItemInput{TableName: &s.table, Key: keyOf(merchantPK(mid), skMerchant),
		UpdateExpression: aws.String("SET webhook_secrets = :new"), ExpressionAttributeValues: map[string]types.AttributeValue{":new": newAV}}
	if len(it.Webhook) == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(webhook_secrets) OR size(webhook_secrets) = :zero")
		in.ExpressionAttributeValues[":zero"] = num(0)
	} else {
		oldAV, err := attributevalue.Marshal(it.Webhook)
		if err != nil {
			return nil, err
		}
		in.ConditionExpression = aws.String("webhook_secrets = :old")
		in.ExpressionAttributeValues[":old"] = oldAV
	}
	if _, err := s.db.UpdateItem(ctx, in); err != nil {
		if conditionFailed(err) {
			return nil, apperr.New(apperr.Conflict, "the webhook secrets changed concurrently; retry")
		}
		return nil, err
	}
	return next, nil
}

// allMerchantsPK gathers every merchant's directory item in GSI3: one small
// item each, written once, read only by the nightly fan-out (the one query
// that spans merchants, and it returns IDs only).
const (
	allMerchantsPK = "MERCHANTS"
	skDirectory    = "DIRECTORY"
)

// MerchantIDs lists every merchant.
func (s *Store) MerchantIDs(ctx context.Context) ([]string, error) {
	var out []string
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsiName),
		KeyConditionExpression:    aws.String("GSI3PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(allMerchantsPK)},
		ProjectionExpression:      aws.String("GSI3SK"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			out = append(out, it["GSI3SK"].(*types.AttributeValueMemberS).Value)
		}
	}
	return out, nil
}

// webhookPK records a delivered webhook-id, so a repeated delivery is
// accepted without being queued again.
func webhookPK(mid, id string) string { return "M#" + mid + "#WEBHOOK#" + id }

// WebhookSeen reports whether a webhook-id was delivered before.
func (s *Store) WebhookSeen(ctx context.Context, mid, id string) (bool, error) {
	var it struct {
		ExpiresAt int64 `dynamodbav:"expires_at"`
	}
	err := s.get(ctx, webhookPK(mid, id), "WEBHOOK", &it)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil && it.ExpiresAt > time.Now().Unix(), err
}

// RecordWebhook remembers a delivered webhook-id for ttl.
func (s *Store) RecordWebhook(ctx context.Context, mid, id string, events int, now time.Time, ttl time.Duration) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: map[string]types.AttributeValue{
		"PK": str(webhookPK(mid, id)), "SK": str("WEBHOOK"), "type": str("webhook_delivery"),
		"events": num(int64(events)), "expires_at": num(now.Add(ttl).Unix()),
	}})
	return err
}

// CreateAPIKey stores both items of a new key in one transaction.
func (s *Store) CreateAPIKey(ctx context.Context, k tenant.APIKey) error {
	base := apiKeyItem{Type: "api_key", ID: k.ID, MerchantID: k.MerchantID, Name: k.Name, Scope: string(k.Scope),
		Prefix: k.Prefix, Hash: k.Hash, CreatedAt: k.CreatedAt}
	record, lookup := base, base
	record.PK, record.SK = merchantPK(k.MerchantID), apiKeySK(k.ID)
	lookup.PK, lookup.SK = apiKeyLookupPK(k.Hash), skAPIKey
	var items []types.TransactWriteItem
	for _, it := range []apiKeyItem{record, lookup} {
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av,
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if _, ok := cancellationReasons(err); ok {
		return apperr.New(apperr.Conflict, "API key %s already exists", k.ID)
	}
	return err
}

// APIKeyByHash finds the key whose secret hashes to hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (tenant.APIKey, error) {
	var it apiKeyItem
	if err := s.get(ctx, apiKeyLookupPK(hash), skAPIKey, &it); err != nil {
		return tenant.APIKey{}, err
	}
	return it.key(), nil
}

// APIKeys lists a merchant's keys, newest first.
func (s *Store) APIKeys(ctx context.Context, mid string) ([]tenant.APIKey, error) {
	var out []tenant.APIKey
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(merchantPK(mid)), ":sk": str(apiKeySK("")),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var items []apiKeyItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, it.key())
		}
	}
	return out, nil
}

// RevokeAPIKey marks a merchant's key revoked, on both items, and returns it.
// Revoking a revoked key is a no-op that returns the key as it is.
func (s *Store) RevokeAPIKey(ctx context.Context, mid, kid string, at time.Time) (tenant.APIKey, error) {
	var it apiKeyItem
	if err := s.get(ctx, merchantPK(mid), apiKeySK(kid), &it); err != nil {
		return tenant.APIKey{}, err
	}
	if it.RevokedAt != nil {
		return it.key(), nil
	}
	when, err := attributevalue.Marshal(at.UTC())
	if err != nil {
		return tenant.APIKey{}, err
	}
	update := func(pk, sk string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(pk, sk),
			UpdateExpression:          aws.String("SET revoked_at = if_not_exists(revoked_at, :at)"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":at": when}}}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		update(merchantPK(mid), apiKeySK(kid)), update(apiKeyLookupPK(it.Hash), skAPIKey),
	}})
	if _, ok := cancellationReasons(err); ok {
		return tenant.APIKey{}, apperr.New(apperr.Conflict, "the API key changed while being revoked; retry")
	}
	if err != nil {
		return tenant.APIKey{}, fmt.Errorf("revoke API key: %w", err)
	}
	// Read back: a concurrent revocation may have set the time first.
	if err := s.get(ctx, merchantPK(mid), apiKeySK(kid), &it); err != nil {
		return tenant.APIKey{}, err
	}
	return it.key(), nil
}

// get reads one item with a strongly consistent read into out, or returns NotFound.
func (s *Store) get(ctx context.Context, pk, sk string, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	if res.Item == nil {
		return apperr.New(apperr.NotFound, "not found")
	}
	return attributevalue.UnmarshalMap(res.Item, out)
}

// SetMerchantCountry changes the country a merchant's national phone
// numbers are read in (tenant.Merchant.WithCountry validates it).
func (s *Store) SetMerchantCountry(ctx context.Context, mid, country string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: keyOf(merchantPK(mid), skMerchant),
		UpdateExpression:          aws.String("SET country = :c"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(country)}})
	if conditionFailed(err) {
		return apperr.New(apperr.NotFound, "merchant %s not found", mid)
	}
	return err
}
