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
	"github.com/regulars/regulars/internal/ids"
)

// sortTime is a fixed-width UTC timestamp, so string order is time order.
const sortTime = "2006-01-02T15:04:05.000000Z"

// noVisit sorts before every timestamp: never-visited customers come last
// in the newest-first list.
const noVisit = "-"

type addressItem struct {
	Label      string `dynamodbav:"label,omitempty"`
	Line1      string `dynamodbav:"line1"`
	Line2      string `dynamodbav:"line2,omitempty"`
	City       string `dynamodbav:"city,omitempty"`
	Region     string `dynamodbav:"region,omitempty"`
	PostalCode string `dynamodbav:"postal_code,omitempty"`
	Country    string `dynamodbav:"country"`
	Primary    bool   `dynamodbav:"primary"`
}

type customerItem struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
	// The list indexes; absent on a merged customer's tombstone, which no
	// list shows.
	GSI1PK string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK string `dynamodbav:"GSI1SK,omitempty"`
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	GSI3PK string `dynamodbav:"GSI3PK,omitempty"`
	GSI3SK string `dynamodbav:"GSI3SK,omitempty"`
	// The value orders: LTV (GSI5) and points balance (GSI6), kept current
	// by every purchase (metricsSet) and posting (postingWrites).
	GSI5PK string `dynamodbav:"GSI5PK,omitempty"`
	GSI5SK string `dynamodbav:"GSI5SK,omitempty"`
	GSI6PK string `dynamodbav:"GSI6PK,omitempty"`
	GSI6SK string `dynamodbav:"GSI6SK,omitempty"`
	Type   string `dynamodbav:"type"`

	ID                string            `dynamodbav:"id"`
	MerchantID        string            `dynamodbav:"merchant_id"`
	ExternalID        string            `dynamodbav:"external_id,omitempty"`
	CardNumber        string            `dynamodbav:"card_number,omitempty"`
	CardTemplate      string            `dynamodbav:"card_template"`
	GivenName         string            `dynamodbav:"given_name,omitempty"`
	FamilyName        string            `dynamodbav:"family_name,omitempty"`
	Email             string            `dynamodbav:"email,omitempty"`
	Phone             string            `dynamodbav:"phone,omitempty"`
	DocumentNumber    string            `dynamodbav:"document_number,omitempty"`
	Birthday          string            `dynamodbav:"birthday,omitempty"`
	DeviceType        string            `dynamodbav:"device_type,omitempty"`
	Tags              []string          `dynamodbav:"tags"`
	Favorite          bool              `dynamodbav:"favorite"`
	Attributes        map[string]string `dynamodbav:"attributes"`
	Addresses         []addressItem     `dynamodbav:"addresses"`
	CustomerType      string            `dynamodbav:"customer_type"`
	NewsletterConsent bool              `dynamodbav:"newsletter_consent"`
	State             string            `dynamodbav:"state"`
	EnrolledAt        time.Time         `dynamodbav:"enrolled_at"`
	CreatedAt         time.Time         `dynamodbav:"created_at"`
	UpdatedAt         time.Time         `dynamodbav:"updated_at"`
	Version           int64             `dynamodbav:"version"`
	MergedInto        string            `dynamodbav:"merged_into,omitempty"`
	Aliases           []aliasItem       `dynamodbav:"aliases,omitempty"`

	Tickets         int64            `dynamodbav:"tickets"`
	Tickets12M      int64            `dynamodbav:"tickets_12m"`
	Revenue         int64            `dynamodbav:"revenue"`
	Revenue12M      int64            `dynamodbav:"revenue_12m"`
	Margin          int64            `dynamodbav:"margin"`
	Margin12M       int64            `dynamodbav:"margin_12m"`
	Units           int64            `dynamodbav:"units"`
	LastVisitAt     *time.Time       `dynamodbav:"last_visit_at,omitempty"`
	FirstPurchaseAt *time.Time       `dynamodbav:"first_purchase_at,omitempty"`
	FirstStore      string           `dynamodbav:"first_store,omitempty"`
	PointsBalance   int64            `dynamodbav:"points_balance"`
	LastProducts    []string         `dynamodbav:"last_products"`
	LocationVisits  map[string]int64 `dynamodbav:"location_visits"`

	// The wallet beside the balance, written only by ledger postings.
	PointsEarned int64     `dynamodbav:"points_earned_total"`
	Lots         []lotItem `dynamodbav:"lots"`
	Badges       []string  `dynamodbav:"badges"`
	// Timeline events of postings not yet written (syncPosted).
	PendingEvents []pendingEvent `dynamodbav:"pending_events,omitempty"`
	// GSI4 indexes customers with expiring points by their earliest expiry.
	GSI4PK string `dynamodbav:"GSI4PK,omitempty"`
	GSI4SK string `dynamodbav:"GSI4SK,omitempty"`
}

// aliasItem is an identifier of a merged duplicate that resolves to this customer.
type aliasItem struct {
	Kind  string `dynamodbav:"kind"`
	Value string `dynamodbav:"value"`
}

type lotItem struct {
	EarnedAt  time.Time  `dynamodbav:"earned_at"`
	ExpiresAt *time.Time `dynamodbav:"expires_at,omitempty"`
	Remaining int64      `dynamodbav:"remaining"`
}

func toItem(c crm.Customer) customerItem {
	lastVisit := noVisit
	if c.Metrics.LastVisitAt != nil {
		lastVisit = c.Metrics.LastVisitAt.UTC().Format(sortTime)
	}
	addrs := make([]addressItem, len(c.Addresses))
	for i, a := range c.Addresses {
		addrs[i] = addressItem(a)
	}
	badges := []string{}
	tags, attrs := nonNil(c.Tags), nonNilMap(c.Attributes)
	gsiPK := customersGSIPK(c.MerchantID)
	m := c.Metrics
	var aliases []aliasItem
	for _, a := range c.Aliases {
		aliases = append(aliases, aliasItem(a))
	}
	it := customerItem{
		PK: customerPK(c.MerchantID, c.ID), SK: skProfile, Type: "customer",
		GSI1PK: gsiPK, GSI1SK: sortKeyWithID(lastVisit, c.ID),
		GSI2PK: gsiPK, GSI2SK: sortKeyWithID(c.EnrolledAt.UTC().Format(sortTime), c.ID),
		GSI3PK: gsiPK, GSI3SK: sortKeyWithID(nameSortKey(c), c.ID),
		GSI5PK: gsiPK, GSI5SK: sortKeyWithID(sortInt(m.Revenue), c.ID),
		GSI6PK: gsiPK, GSI6SK: sortKeyWithID(sortInt(m.PointsBalance), c.ID),
		ID: c.ID, MerchantID: c.MerchantID, ExternalID: c.ExternalID, CardNumber: c.CardNumber, CardTemplate: c.CardTemplate,
		GivenName: c.GivenName, FamilyName: c.FamilyName, Email: c.Email, Phone: c.Phone, DocumentNumber: c.DocumentNumber,
		Birthday: c.Birthday, DeviceType: c.DeviceType, Tags: tags, Favorite: c.Favorite, Attributes: attrs,
		Addresses: addrs, CustomerType: string(c.Type), NewsletterConsent: c.NewsletterConsent, State: string(c.State),
		EnrolledAt: c.EnrolledAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version,
		Tickets: m.Tickets, Tickets12M: m.Tickets12M, Revenue: m.Revenue, Revenue12M: m.Revenue12M, Margin: m.Margin,
		Margin12M: m.Margin12M, Units: m.Units, LastVisitAt: m.LastVisitAt, FirstPurchaseAt: m.FirstPurchaseAt,
		FirstStore: m.FirstStore, PointsBalance: m.PointsBalance, Lots: []lotItem{}, Badges: badges,
		LastProducts: nonNil(m.LastProducts), LocationVisits: nonNilMap(m.LocationVisits),
		MergedInto: c.MergedInto, Aliases: aliases,
	}
	if c.State == crm.StateMerged { // a tombstone is in no list
		it.GSI1PK, it.GSI1SK, it.GSI2PK, it.GSI2SK, it.GSI3PK, it.GSI3SK = "", "", "", "", "", ""
		it.GSI5PK, it.GSI5SK, it.GSI6PK, it.GSI6SK = "", "", "", ""
	}
	return it
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

// noName sorts after every name: customers without one come last A→Z.
const noName = "\uFFFD"

func nameSortKey(c crm.Customer) string {
	if n := crm.Fold(c.FullName()); n != "" {
		return n
	}
	return noName
}

func (it customerItem) customer() crm.Customer {
	addrs := make([]crm.Address, len(it.Addresses))
	for i, a := range it.Addresses {
		addrs[i] = crm.Address(a)
	}
	var aliases []crm.Unique
	for _, a := range it.Aliases {
		aliases = append(aliases, crm.Unique(a))
	}
	return crm.Customer{
		ID: it.ID, MerchantID: it.MerchantID,
		Profile: crm.Profile{ExternalID: it.ExternalID, CardNumber: it.CardNumber, CardTemplate: it.CardTemplate,
			GivenName: it.GivenName, FamilyName: it.FamilyName, Email: it.Email, Phone: it.Phone,
			DocumentNumber: it.DocumentNumber, Birthday: it.Birthday, DeviceType: it.DeviceType, Tags: it.Tags,
			Favorite: it.Favorite, Attributes: it.Attributes, Addresses: addrs, Type: crm.Type(it.CustomerType),
			NewsletterConsent: it.NewsletterConsent},
		State: crm.State(it.State), EnrolledAt: it.EnrolledAt, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
		Version: it.Version, MergedInto: it.MergedInto, Aliases: aliases,
		Metrics: crm.Metrics{Tickets: it.Tickets, Tickets12M: it.Tickets12M, Revenue: it.Revenue, Revenue12M: it.Revenue12M,
			Margin: it.Margin, Margin12M: it.Margin12M, Units: it.Units, LastVisitAt: it.LastVisitAt,
			FirstPurchaseAt: it.FirstPurchaseAt, FirstStore: it.FirstStore, PointsBalance: it.PointsBalance,
			LastProducts: it.LastProducts, LocationVisits: it.LocationVisits},
	}
}

type uniqueItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Type       string `dynamodbav:"type"`
	CustomerID string `dynamodbav:"customer_id"`
}

type tokenItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI4PK string `dynamodbav:"GSI4PK"`
	GSI4SK string `dynamodbav:"GSI4SK"`
	Type   string `dynamodbav:"type"`
}

// CreateCustomer stores a new customer, its unique identifiers and its name
// tokens in one transaction. A taken identifier answers Conflict with the
// existing customer's ID and the offending field.
func (s *Store) CreateCustomer(ctx context.Context, c crm.Customer) error {
	c.Version = 1
	profile, err := attributevalue.MarshalMap(toItem(c))
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: profile,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}}}
	claims, err := s.claimWrites(c.MerchantID, c.ID, nil, c.Uniques())
	if err != nil {
		return err
	}
	tokens, err := s.tokenWrites(c.MerchantID, c.ID, nil, c.NameTokens())
	if err != nil {
		return err
	}
	items = append(append(items, claims...), tokens...)
	if ev, ok := crm.ConsentEvent(crm.Customer{}, c); ok { // consent given at enrolment, on the timeline
		w, err := eventPut(s.table, customerPK(c.MerchantID, c.ID), ev)
		if err != nil {
			return err
		}
		items = append(items, w)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return s.explainCancel(ctx, c.MerchantID, items, err)
}

// Customer returns one of a merchant's customers.
func (s *Store) Customer(ctx context.Context, mid, cid string) (crm.Customer, error) {
	var it customerItem
	if err := s.get(ctx, customerPK(mid, cid), skProfile, &it); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return crm.Customer{}, apperr.New(apperr.NotFound, "customer not found")
		}
		return crm.Customer{}, err
	}
	return it.customer(), nil
}

// maxUpdateAttempts bounds optimistic-locking retries of UpdateCustomer.
const maxUpdateAttempts = 5

// profileItem reads the stored profile item as it is.
func (s *Store) profileItem(ctx context.Context, mid, cid string) (customerItem, error) {
	var it customerItem
	if err := s.get(ctx, customerPK(mid, cid), skProfile, &it); err != nil {
		if isNotFound(err) {
			return customerItem{}, apperr.New(apperr.NotFound, "customer not found")
		}
		return customerItem{}, err
	}
	return it, nil
}

// withProfile returns the stored item with c's profile and metrics written
// over it; the wallet (balance, lots, badges) is left as stored: only ledger
// postings change it.
func (it customerItem) withProfile(c crm.Customer) customerItem {
	next := toItem(c)
	next.PointsBalance, next.PointsEarned, next.Lots, next.Badges = it.PointsBalance, it.PointsEarned, it.Lots, it.Badges
	next.PendingEvents = it.PendingEvents
	next.GSI4PK, next.GSI4SK = it.GSI4PK, it.GSI4SK
	return next
}

// UpdateCustomer reads a customer, lets fn change it and writes it back in one
// transaction guarded by the version it read, moving unique identifiers and
// name tokens as they change. A concurrent write makes it wait
// (backoff.Wait), re-read and retry, up to maxUpdateAttempts.
func (s *Store) UpdateCustomer(ctx context.Context, mid, cid string, fn func(crm.Customer) (crm.Customer, error)) (crm.Customer, error) {
	for attempt := range maxUpdateAttempts {
		if attempt > 0 {
			if err := backoff.Wait(ctx, attempt-1); err != nil {
				return crm.Customer{}, err
			}
		}
		stored, err := s.profileItem(ctx, mid, cid)
		if err != nil {
			return crm.Customer{}, err
		}
		old := stored.customer()
		if err := notMerged(old); err != nil {
			return crm.Customer{}, err
		}
		c, err := fn(old)
		if err != nil {
			return crm.Customer{}, err
		}
		c.ID, c.MerchantID, c.Version = old.ID, old.MerchantID, old.Version+1
		c.Metrics.PointsBalance = old.Metrics.PointsBalance
		profile, err := attributevalue.MarshalMap(stored.withProfile(c))
		if err != nil {
			return crm.Customer{}, err
		}
		items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: profile,
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(old.Version)}}}}
		claims, err := s.claimWrites(mid, cid, old.Uniques(), c.Uniques())
		if err != nil {
			return crm.Customer{}, err
		}
		tokens, err := s.tokenWrites(mid, cid, old.NameTokens(), c.NameTokens())
		if err != nil {
			return crm.Customer{}, err
		}
		items = append(append(items, claims...), tokens...)
		if changed := crm.ChangedFields(old, c); len(changed) > 0 { // the timeline shows profile changes
			ev, err := eventPut(s.table, customerPK(mid, cid), crm.Event{ID: ids.New(c.UpdatedAt), Type: "profile_updated",
				At: c.UpdatedAt, Data: map[string]string{"fields": strings.Join(changed, ",")}})
			if err != nil {
				return crm.Customer{}, err
			}
			items = append(items, ev)
		}
		if ev, ok := crm.ConsentEvent(old, c); ok {
			w, err := eventPut(s.table, customerPK(mid, cid), ev)
			if err != nil {
				return crm.Customer{}, err
			}
			items = append(items, w)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if reasons, ok := cancellationReasons(err); ok && (len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" || conflicted(reasons)) {
			continue // someone else wrote the profile first, or holds an item: read again
		}
		if err := s.explainCancel(ctx, mid, items, err); err != nil {
			return crm.Customer{}, err
		}
		return c, nil
	}
	return crm.Customer{}, apperr.Busy("customer %s is being changed concurrently; retry", cid)
}

// notMerged refuses changes to a merged customer's tombstone: whatever comes
// for them belongs to the customer they were merged into.
func notMerged(c crm.Customer) error {
	if c.State == crm.StateMerged {
		return apperr.New(apperr.Conflict, "customer %s was merged into customer %s", c.ID, c.MergedInto)
	}
	return nil
}

// DeleteCustomer removes the profile and the identifiers that resolve to it,
// atomically: the customer disappears at once and their email, phone or
// card can enrol again (as a new customer, from zero). What else they own —
// ledger, orders and their claims, visits, events, memberships, idempotency
// records — EraseCustomerData removes afterwards. NotFound when there is no
// profile.
func (s *Store) DeleteCustomer(ctx context.Context, mid, cid string) error {
	stored, err := s.profileItem(ctx, mid, cid)
	if err != nil {
		return err
	}
	c := stored.customer()
	items := []types.TransactWriteItem{{Delete: &types.Delete{TableName: &s.table, Key: keyOf(customerPK(mid, cid), skProfile),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(c.Version)}}}}
	claims, err := s.claimWrites(mid, cid, c.Uniques(), nil)
	if err != nil {
		return err
	}
	items = append(items, claims...)
	if stored.PointsBalance != 0 { // the merchant's outstanding points lose this customer's balance
		items = append(items, s.counterWrite(mid, cid, -stored.PointsBalance, 0))
	}
	for attempt := 0; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		reasons, ok := cancellationReasons(err)
		switch {
		case ok && conflicted(reasons) && attempt < maxUpdateAttempts:
			if err := backoff.Wait(ctx, attempt); err != nil {
				return err
			}
			continue // a posting of another customer held the counter shard
		case ok:
			return apperr.Busy("customer %s changed while being deleted; retry", cid)
		}
		return fmt.Errorf("delete customer: %w", err)
	}
}

// eraseBatch is how many of a customer's items one erasure transaction
// deletes (each may take an order claim or an idempotency record with it,
// within DynamoDB's 100 operations per transaction).
const eraseBatch = 50

// EraseCustomerData deletes up to max items of what a deleted customer
// left in their partition — name tokens, ledger, orders with the
// merchant-wide claims of their order IDs, ticket days, visits, events,
// redemptions, badge and segment memberships, source claims, the analytics
// score — and the idempotency records of requests about them (their stored
// responses hold personal data) and the import claims that name them (they
// hold an identifier). It reports whether nothing is left; it is
// safe to repeat and to run after a deletion that stopped half-way. It
// returns how many of the customer's items it deleted.
func (s *Store) EraseCustomerData(ctx context.Context, mid, cid string, max int) (erased int, done bool, err error) {
	if _, err := s.profileItem(ctx, mid, cid); err == nil {
		return 0, false, apperr.New(apperr.Conflict, "customer %s is not deleted", cid)
	} else if !isNotFound(err) {
		return 0, false, err
	}
	pk := customerPK(mid, cid)
	for erased < max {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
			ProjectionExpression:      aws.String("PK, SK"),
			ConsistentRead:            aws.Bool(true),
			Limit:                     aws.Int32(int32(min(eraseBatch, max-erased))),
		})
		if err != nil {
			return erased, false, err
		}
		if len(out.Items) == 0 {
			return erased, true, nil
		}
		items := make([]types.TransactWriteItem, 0, 2*len(out.Items))
		for _, k := range out.Items {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: k}})
			sk := k["SK"].(*types.AttributeValueMemberS).Value
			switch {
			case strings.HasPrefix(sk, orderSKPfx):
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table,
					Key:                       keyOf(orderClaimPK(mid, strings.TrimPrefix(sk, orderSKPfx)), skOrder),
					ConditionExpression:       aws.String("attribute_not_exists(PK) OR customer_id = :c"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(cid)}}})
			case strings.HasPrefix(sk, idemRefSKPfx):
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table,
					Key: keyOf(idempotencyPK(mid, strings.TrimPrefix(sk, idemRefSKPfx)), skIdem)}})
			case strings.HasPrefix(sk, importRefSKPfx):
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table,
					Key: keyOf(tenantPrefix(mid)+sk, skImportRow)}})
			}
		}
		if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
			return erased, false, fmt.Errorf("erase customer data: %w", err)
		}
		erased += len(out.Items)
	}
	return erased, false, nil
}

// claimWrites returns the writes that move a customer's unique identifiers
// from old to new: taken only if free, released only if still theirs.
func (s *Store) claimWrites(mid, cid string, old, new []crm.Unique) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for _, u := range old {
		if slices.Contains(new, u) {
			continue
		}
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table,
			Key:                       keyOf(uniquePK(mid, u.Kind, u.Value), skUnique),
			ConditionExpression:       aws.String("customer_id = :c"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(cid)}}})
	}
	for _, u := range new {
		if slices.Contains(old, u) {
			continue
		}
		av, err := attributevalue.MarshalMap(uniqueItem{PK: uniquePK(mid, u.Kind, u.Value), SK: skUnique, Type: "unique_" + u.Kind, CustomerID: cid})
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av,
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	return items, nil
}

// tokenWrites returns the writes that move a customer's name tokens from old to new.
func (s *Store) tokenWrites(mid, cid string, old, new []string) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for _, t := range old {
		if !slices.Contains(new, t) {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(customerPK(mid, cid), tokenSK(t))}})
		}
	}
	for _, t := range new {
		if slices.Contains(old, t) {
			continue
		}
		av, err := attributevalue.MarshalMap(tokenItem{PK: customerPK(mid, cid), SK: tokenSK(t),
			GSI4PK: nameTokensGSIPK(mid), GSI4SK: tokenGSISK(t, cid), Type: "name_token"})
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av}})
	}
	return items, nil
}

// explainCancel turns a cancelled customer transaction into an answer: a
// taken unique identifier becomes Conflict naming the customer who holds it.
func (s *Store) explainCancel(ctx context.Context, mid string, items []types.TransactWriteItem, err error) error {
	reasons, ok := cancellationReasons(err)
	if !ok {
		if err != nil {
			return fmt.Errorf("customer transaction: %w", err)
		}
		return nil
	}
	for i, r := range reasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" || i >= len(items) || items[i].Put == nil {
			continue
		}
		pk := items[i].Put.Item["PK"].(*types.AttributeValueMemberS).Value
		kind, value, found := strings.Cut(strings.TrimPrefix(pk, tenantPrefix(mid)+"U#"), "#")
		if !found || !strings.HasPrefix(pk, tenantPrefix(mid)+"U#") {
			continue
		}
		var owner uniqueItem
		if gerr := s.get(ctx, pk, skUnique, &owner); gerr != nil {
			return fmt.Errorf("read owner of %s: %w", kind, gerr)
		}
		return (&apperr.Error{Code: apperr.Conflict,
			Message: fmt.Sprintf("Another customer already has this %s.", strings.ReplaceAll(kind, "_", " ")),
			Fields:  []apperr.FieldError{{Path: "/" + fieldOfUnique(kind), Message: fmt.Sprintf("%q belongs to customer %s", value, owner.CustomerID)}},
		}).With("existing_id", owner.CustomerID)
	}
	return apperr.Busy("the customer changed concurrently; retry")
}

// conflicted reports whether a transaction was cancelled because another
// transaction held one of its items (never raised by DynamoDB Local).
func conflicted(reasons []types.CancellationReason) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == "TransactionConflict" {
			return true
		}
	}
	return false
}

func fieldOfUnique(kind string) string {
	if kind == "card" {
		return "card_number"
	}
	return kind
}

// CustomerByUnique resolves an email, phone, card number or external ID.
func (s *Store) CustomerByUnique(ctx context.Context, mid string, u crm.Unique) (crm.Customer, error) {
	var owner uniqueItem
	if err := s.get(ctx, uniquePK(mid, u.Kind, u.Value), skUnique, &owner); err != nil {
		return crm.Customer{}, err
	}
	return s.Customer(ctx, mid, owner.CustomerID)
}

var errBadCursor = apperr.Field("?cursor", "is not a cursor of this list; start again without it")

// isNotFound reports whether err is an apperr NotFound.
func isNotFound(err error) bool {
	var e *apperr.Error
	return errors.As(err, &e) && e.Code == apperr.NotFound
}

// PhoneMigration is what MigratePhones found and did.
type PhoneMigration struct {
	Checked    int               // customers read
	Changed    []crm.PhoneChange // rewritten in canonical form
	Invalid    []crm.PhoneChange // not valid numbers: left as they are
	Collisions []crm.PhoneChange // the canonical form is another customer's: left as they are, to merge
}

// MigratePhones rewrites every stored phone of a merchant's customers (and
// of their aliases) in the canonical E.164 form crm.NormalizePhone gives in
// region, moving the identifier claims with it (UpdateCustomer). It is
// idempotent: a second run changes nothing. A number whose canonical form
// another customer holds is reported, not changed: the two are duplicates.
func (s *Store) MigratePhones(ctx context.Context, mid, region string, now time.Time) (PhoneMigration, error) {
	var out PhoneMigration
	q := crm.Query{Order: crm.OrderEnrolled, Limit: crm.MaxLimit}
	for {
		page, err := s.ListCustomers(ctx, mid, q)
		if err != nil {
			return out, err
		}
		for _, c := range page.Customers {
			out.Checked++
			next, invalid := crm.CanonicalPhones(c, region)
			out.Invalid = append(out.Invalid, invalid...)
			if next.Phone == c.Phone && slices.Equal(next.Aliases, c.Aliases) {
				continue
			}
			_, err := s.UpdateCustomer(ctx, mid, c.ID, func(cur crm.Customer) (crm.Customer, error) {
				next, _ := crm.CanonicalPhones(cur, region)
				next.UpdatedAt = now.UTC()
				return next, nil
			})
			change := crm.PhoneChange{CustomerID: c.ID, From: c.Phone, To: next.Phone}
			if e := apperr.As(err); e != nil && e.Code == apperr.Conflict && e.Extra["existing_id"] != nil {
				change.HeldBy, _ = e.Extra["existing_id"].(string)
				out.Collisions = append(out.Collisions, change)
				continue
			}
			if err != nil {
				return out, err
			}
			out.Changed = append(out.Changed, change)
		}
		if page.NextCursor == "" {
			return out, nil
		}
		q.Cursor = page.NextCursor
	}
}
