package dynamo

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/cursor"
	"github.com/regulars/regulars/internal/purchase"
)

func eventSK(ev crm.Event) string { return eventSKPfx + ev.At.UTC().Format(sortTime) + "#" + ev.ID }

func eventPut(table, pk string, ev crm.Event) (types.TransactWriteItem, error) {
	data := ev.Data
	if data == nil {
		data = map[string]string{}
	}
	av, err := attributevalue.MarshalMap(eventItem{PK: pk, SK: eventSK(ev), Type: "event", ID: ev.ID, Kind: ev.Type, At: ev.At.UTC(), Data: data})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &table, Item: av}}, nil
}

// AddEvent records an event on a customer's timeline, if the customer exists
// and is no merged duplicate's tombstone (409: it belongs to the survivor).
func (s *Store) AddEvent(ctx context.Context, mid, cid string, ev crm.Event) error {
	put, err := eventPut(s.table, customerPK(mid, cid), ev)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: &s.table, Key: keyOf(customerPK(mid, cid), skProfile),
			ConditionExpression:       aws.String("attribute_exists(PK) AND #st <> :merged"),
			ExpressionAttributeNames:  map[string]string{"#st": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":merged": str(string(crm.StateMerged))}}},
		put,
	}})
	if _, ok := cancellationReasons(err); ok {
		c, err := s.Customer(ctx, mid, cid)
		if err != nil {
			return err
		}
		if err := notMerged(c); err != nil {
			return err
		}
		return apperr.New(apperr.Conflict, "customer %s is being changed concurrently; retry", cid)
	}
	return err
}

// partitionItems reads every item of a customer's partition whose sort key
// starts with prefix.
func (s *Store) partitionItems(ctx context.Context, mid, cid, prefix string) ([]map[string]types.AttributeValue, error) {
	var all []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(customerPK(mid, cid)), ":sk": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
	}
	return all, nil
}

// Visits returns a customer's visits, newest first.
func (s *Store) Visits(ctx context.Context, mid, cid string) ([]crm.Visit, error) {
	raw, err := s.partitionItems(ctx, mid, cid, visitSKPfx)
	if err != nil {
		return nil, err
	}
	var items []visitItem
	if err := attributevalue.UnmarshalListOfMaps(raw, &items); err != nil {
		return nil, err
	}
	out := make([]crm.Visit, len(items))
	for i, it := range items {
		out[len(items)-1-i] = crm.Visit{ID: it.ID, At: it.At, Location: it.Location, Type: crm.VisitType(it.Visit), Source: it.Source}
	}
	return out, nil
}

// Timeline returns a page of a customer's timeline, newest first: purchases,
// ledger movements, visits and events merged by time, only those of kinds
// (purchase.TimelineKinds) when some are given. The cursor is the position
// of the last item returned, bound to the customer and the kinds.
func (s *Store) Timeline(ctx context.Context, mid, cid string, limit int, c string, kinds ...string) ([]purchase.TimelineItem, string, error) {
	list := cursor.List{Merchant: mid, Name: "timeline", Params: []string{cid, strings.Join(kinds, ",")}}
	var after string // "<time>#<id>" of the last item of the previous page
	if c != "" {
		b, ok := s.cursors.Open(c, list)
		if !ok || !strings.Contains(string(b), "#") {
			return nil, "", apperr.Field("?cursor", "is not a cursor of this timeline")
		}
		after = string(b)
	}
	var items []purchase.TimelineItem
	orders, err := s.partitionItems(ctx, mid, cid, orderSKPfx)
	if err != nil {
		return nil, "", err
	}
	for _, raw := range orders {
		var it orderItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, "", err
		}
		o := it.Order
		items = append(items, purchase.TimelineItem{At: o.At(), ID: o.OrderID, Order: &o})
	}
	entries, err := s.partitionItems(ctx, mid, cid, ledgerPrefix)
	if err != nil {
		return nil, "", err
	}
	for _, raw := range entries {
		var it entryItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, "", err
		}
		e := it.entry()
		items = append(items, purchase.TimelineItem{At: e.CreatedAt, ID: e.ID, Entry: &e})
	}
	visits, err := s.Visits(ctx, mid, cid)
	if err != nil {
		return nil, "", err
	}
	for i := range visits {
		items = append(items, purchase.TimelineItem{At: visits[i].At, ID: visits[i].ID, Visit: &visits[i]})
	}
	events, err := s.partitionItems(ctx, mid, cid, eventSKPfx)
	if err != nil {
		return nil, "", err
	}
	for _, raw := range events {
		var it eventItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, "", err
		}
		ev := crm.Event{ID: it.ID, Type: it.Kind, At: it.At, Data: it.Data}
		items = append(items, purchase.TimelineItem{At: ev.At, ID: ev.ID, Event: &ev})
	}
	if len(kinds) > 0 {
		items = slices.DeleteFunc(items, func(t purchase.TimelineItem) bool { return !slices.Contains(kinds, t.Kind()) })
	}
	key := func(t purchase.TimelineItem) string { return t.At.UTC().Format(sortTime) + "#" + t.ID }
	slices.SortFunc(items, func(a, b purchase.TimelineItem) int { return strings.Compare(key(b), key(a)) })
	start := 0
	if after != "" {
		start = len(items)
		for i, t := range items {
			if key(t) < after {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = s.cursors.Seal(list, []byte(key(items[end-1])))
	}
	return items[start:end], next, nil
}
