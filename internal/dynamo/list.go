package dynamo

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/cursor"
)

// encodeCursor returns the cursor of the position of item in list l: the
// values of its key attributes, sealed for l (internal/cursor).
func (s *Store) encodeCursor(l cursor.List, item map[string]types.AttributeValue, names ...string) string {
	keys := map[string]string{}
	for _, n := range names {
		if v, ok := item[n].(*types.AttributeValueMemberS); ok {
			keys[n] = v.Value
		}
	}
	return s.cursors.SealKeys(l, keys)
}

// decodeCursor returns the start key a cursor of list l encodes. A cursor
// this server did not make for l — forged, edited, or from another list,
// customer, filter or merchant — is refused before it reaches DynamoDB; and,
// should the key ever leak, the keys must still be the caller's own.
func (s *Store) decodeCursor(c string, l cursor.List, names ...string) (map[string]types.AttributeValue, error) {
	if c == "" {
		return nil, nil
	}
	keys, ok := s.cursors.OpenKeys(c, l, names...)
	if !ok {
		return nil, errBadCursor
	}
	key := map[string]types.AttributeValue{}
	for n, v := range keys {
		if strings.HasSuffix(n, "PK") && !strings.HasPrefix(v, tenantPrefix(l.Merchant)) {
			return nil, errBadCursor
		}
		key[n] = str(v)
	}
	return key, nil
}

// customerList is the list a customer query pages through: its merchant and
// every parameter of the query but the page's own (cursor, size, clock), so
// that a cursor continues only the list, order, filters and search it came
// from.
func customerList(mid string, q crm.Query) cursor.List {
	q.Cursor, q.Limit, q.Now = "", 0, time.Time{}
	return cursor.Of(mid, "customers", q)
}

// maxExamined bounds the items one list request reads, so a selective filter
// on a large base answers within the function's time: the page may then hold
// fewer customers than asked, with a cursor to continue from.
const maxExamined = 1000

// ListCustomers answers a page of the customer list in the query's order,
// with its filters applied, or the result of a search.
func (s *Store) ListCustomers(ctx context.Context, mid string, q crm.Query) (crm.Page, error) {
	switch q.SearchKind {
	case crm.SearchEmail, crm.SearchPhone:
		return s.searchUnique(ctx, mid, q)
	case crm.SearchName:
		return s.searchName(ctx, mid, q)
	}
	if q.Segment != "" {
		return s.segmentList(ctx, mid, q)
	}
	index, skName, forward := gsiLastVisit, "GSI1SK", false
	// lo and hi bound the order's sort key when the query has a range on
	// what the list is ordered by (inclusive; "" = open); the other ranges
	// are filters (q.Matches).
	var lo, hi string
	switch q.Order {
	case crm.OrderEnrolled:
		index, skName = gsiEnrolled, "GSI2SK"
	case crm.OrderName:
		index, skName, forward = gsiName, "GSI3SK", true
	case crm.OrderLTV:
		index, skName = gsiLTV, "GSI5SK"
		lo, hi = intRange(q.Ranges.LTVMin, q.Ranges.LTVMax)
	case crm.OrderBalance:
		index, skName = gsiBalance, "GSI6SK"
		lo, hi = intRange(q.Ranges.BalanceMin, q.Ranges.BalanceMax)
	default:
		if f := q.Ranges.LastVisitFrom; f != nil {
			lo = f.UTC().Format(sortTime)
		}
		if t := q.Ranges.LastVisitTo; t != nil {
			hi = t.UTC().Format(sortTime) + "#~"
		}
	}
	pkName := strings.TrimSuffix(skName, "SK") + "PK"
	list := customerList(mid, q)
	keyNames := []string{"PK", "SK", pkName, skName}
	start, err := s.decodeCursor(q.Cursor, list, keyNames...)
	if err != nil {
		return crm.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String(pkName + " = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(customersGSIPK(mid))},
		ScanIndexForward:          aws.Bool(forward),
		ExclusiveStartKey:         start,
	}
	// The newest-visit list answers "active" with a key condition instead of a filter.
	if q.Order == crm.OrderLastVisit && q.Activity == crm.ActivityActive {
		since := q.Now.Add(-crm.ActivityWindow).UTC().Format(sortTime)
		if start != nil && start[skName].(*types.AttributeValueMemberS).Value < since {
			// The window moved past the cursor since its page: what follows
			// it is no longer active (and DynamoDB refuses a start key
			// outside the key condition).
			return crm.Page{Customers: []crm.Customer{}}, nil
		}
		lo = max(lo, since)
	}
	switch {
	case lo != "" && hi != "":
		in.KeyConditionExpression = aws.String(pkName + " = :pk AND " + skName + " BETWEEN :lo AND :hi")
		in.ExpressionAttributeValues[":lo"], in.ExpressionAttributeValues[":hi"] = str(lo), str(hi)
	case lo != "":
		in.KeyConditionExpression = aws.String(pkName + " = :pk AND " + skName + " >= :lo")
		in.ExpressionAttributeValues[":lo"] = str(lo)
	case hi != "":
		in.KeyConditionExpression = aws.String(pkName + " = :pk AND " + skName + " <= :hi")
		in.ExpressionAttributeValues[":hi"] = str(hi)
	}
	if lo != "" && hi != "" && lo > hi { // an empty range: DynamoDB refuses BETWEEN with lo > hi
		return crm.Page{Customers: []crm.Customer{}}, nil
	}
	if q.Order == crm.OrderLTV || q.Order == crm.OrderBalance { // keys-only indexes
		return s.scan(ctx, in, q, min(q.Limit*2, 100), list, keyNames, s.profilesByPK)
	}
	return s.scan(ctx, in, q, min(q.Limit*2, 500), list, keyNames, func(_ context.Context, _ []map[string]types.AttributeValue) (customerOf, error) {
		return func(raw map[string]types.AttributeValue) (crm.Customer, bool, error) {
			var it customerItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return crm.Customer{}, false, err
			}
			return it.customer(), true, nil
		}, nil
	})
}

// intRange is the key range of sortInt values from lo to hi (nil = open).
func intRange(lo, hi *int64) (string, string) {
	var from, to string
	if lo != nil {
		from = sortInt(*lo)
	}
	if hi != nil {
		to = sortInt(*hi) + "#~"
	}
	return from, to
}

func (s *Store) searchUnique(ctx context.Context, mid string, q crm.Query) (crm.Page, error) {
	kind := "email"
	if q.SearchKind == crm.SearchPhone {
		kind = "phone"
	}
	c, err := s.CustomerByUnique(ctx, mid, crm.Unique{Kind: kind, Value: q.Search})
	if isNotFound(err) {
		return crm.Page{Customers: []crm.Customer{}}, nil
	}
	if err != nil {
		return crm.Page{}, err
	}
	if !q.Matches(c) {
		return crm.Page{Customers: []crm.Customer{}}, nil
	}
	return crm.Page{Customers: []crm.Customer{c}}, nil
}

// searchName walks the name-token index from the first word of the search,
// fetches the profiles it points at, and keeps each customer once: at the
// smallest of their tokens that matches.
func (s *Store) searchName(ctx context.Context, mid string, q crm.Query) (crm.Page, error) {
	token := q.SearchToken()
	list := customerList(mid, q)
	keyNames := []string{"PK", "SK", "GSI4PK", "GSI4SK"}
	start, err := s.decodeCursor(q.Cursor, list, keyNames...)
	if err != nil {
		return crm.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(gsiNameToken),
		KeyConditionExpression: aws.String("GSI4PK = :pk AND begins_with(GSI4SK, :t)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(nameTokensGSIPK(mid)), ":t": str(token),
		},
		ExclusiveStartKey: start,
	}
	return s.scan(ctx, in, q, min(q.Limit*2, 100), list, keyNames, func(ctx context.Context, items []map[string]types.AttributeValue) (customerOf, error) {
		profiles, err := s.profilesOf(ctx, items)
		if err != nil {
			return nil, err
		}
		return func(raw map[string]types.AttributeValue) (crm.Customer, bool, error) {
			var it tokenItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return crm.Customer{}, false, err
			}
			c, ok := profiles[it.PK]
			// Each customer once: at the smallest of their matching tokens.
			return c, ok && tokenSK(crm.FirstMatchingToken(c, token)) == it.SK, nil
		}, nil
	})
}

// segmentList answers the customer list filtered to a segment's members
// (the segment's membership index, in customer-ID order), with the other
// filters applied.
func (s *Store) segmentList(ctx context.Context, mid string, q crm.Query) (crm.Page, error) {
	list := customerList(mid, q)
	keyNames := []string{"PK", "SK", "GSI4PK", "GSI4SK"}
	start, err := s.decodeCursor(q.Cursor, list, keyNames...)
	if err != nil {
		return crm.Page{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsiNameToken),
		KeyConditionExpression:    aws.String("GSI4PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(segmentGSIPK(mid, q.Segment))},
		ExclusiveStartKey:         start,
	}
	return s.scan(ctx, in, q, min(q.Limit*2, 100), list, keyNames, s.profilesByPK)
}

// profilesByPK resolves index items that carry a customer's partition key.
func (s *Store) profilesByPK(ctx context.Context, items []map[string]types.AttributeValue) (customerOf, error) {
	profiles, err := s.profilesOf(ctx, items)
	if err != nil {
		return nil, err
	}
	return func(raw map[string]types.AttributeValue) (crm.Customer, bool, error) {
		c, ok := profiles[raw["PK"].(*types.AttributeValueMemberS).Value]
		return c, ok, nil
	}, nil
}

// customerOf resolves one index item to its customer (false: none to list).
type customerOf func(raw map[string]types.AttributeValue) (crm.Customer, bool, error)

// scan pages through a query of an index, resolving each page's items to
// customers, keeping those the query's filters accept, until the page is
// full or maxExamined items were read; the cursor is the last item examined.
// Without filters it asks for no more items than the page still needs: the
// items read past the cursor would be read again by the next page.
func (s *Store) scan(ctx context.Context, in *dynamodb.QueryInput, q crm.Query, batch int, list cursor.List, keyNames []string,
	resolve func(context.Context, []map[string]types.AttributeValue) (customerOf, error)) (crm.Page, error) {
	page := crm.Page{Customers: []crm.Customer{}}
	examined := 0
	for {
		limit := batch
		if !q.Filtered() {
			limit = min(batch, max(q.Limit-len(page.Customers), 1))
		}
		in.Limit = aws.Int32(int32(limit))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return crm.Page{}, err
		}
		get, err := resolve(ctx, out.Items)
		if err != nil {
			return crm.Page{}, err
		}
		for _, raw := range out.Items {
			c, ok, err := get(raw)
			if err != nil {
				return crm.Page{}, err
			}
			if ok && q.Matches(c) {
				page.Customers = append(page.Customers, c)
			}
			if examined++; len(page.Customers) == q.Limit || examined == maxExamined {
				page.NextCursor = s.encodeCursor(list, raw, keyNames...)
				return page, nil
			}
		}
		if out.LastEvaluatedKey == nil {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// profilesOf fetches the profiles of the customers whose partition keys the
// items carry, keyed by partition key. Deleted customers are simply absent.
func (s *Store) profilesOf(ctx context.Context, items []map[string]types.AttributeValue) (map[string]crm.Customer, error) {
	out := map[string]crm.Customer{}
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, it := range items {
		pk := it["PK"].(*types.AttributeValueMemberS).Value
		if !seen[pk] {
			seen[pk] = true
			keys = append(keys, keyOf(pk, skProfile))
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), 100)
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: keys[:n], ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return nil, err
		}
		keys = keys[n:]
		for _, raw := range res.Responses[s.table] {
			var it customerItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, err
			}
			out[it.PK] = it.customer()
		}
		if un := res.UnprocessedKeys[s.table].Keys; len(un) > 0 {
			keys = append(keys, un...)
		}
	}
	return out, nil
}
