package dynamo

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/cursor"
	"github.com/regulars/regulars/internal/ids"
)

const (
	segDefSKPfx = "SEGDEF#"
	segSKPfx    = "SEG#"
)

func segmentGSIPK(mid, sid string) string { return "M#" + mid + "#SEG#" + sid }

type segmentItem struct {
	PK      string            `dynamodbav:"PK"`
	SK      string            `dynamodbav:"SK"`
	Type    string            `dynamodbav:"type"`
	Segment analytics.Segment `dynamodbav:"segment"`
}

// Segments lists the merchant's segment definitions.
func (s *Store) Segments(ctx context.Context, mid string) ([]analytics.Segment, error) {
	var items []segmentItem
	if err := s.queryPrefix(ctx, merchantPK(mid), segDefSKPfx, true, &items); err != nil {
		return nil, err
	}
	out := make([]analytics.Segment, len(items))
	for i, it := range items {
		out[i] = it.Segment
	}
	return out, nil
}

// PutSegment creates a segment, or replaces one that still exists.
func (s *Store) PutSegment(ctx context.Context, mid string, seg analytics.Segment, replace bool) error {
	return s.putConfig(ctx, segmentItem{PK: merchantPK(mid), SK: segDefSKPfx + seg.ID, Type: "segment", Segment: seg}, replace, "segment")
}

// DeleteSegment removes a definition; the next run removes its memberships.
func (s *Store) DeleteSegment(ctx context.Context, mid, sid string) error {
	return s.deleteConfig(ctx, merchantPK(mid), segDefSKPfx+sid, "segment")
}

type membershipRecord struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	GSI4PK    string    `dynamodbav:"GSI4PK"`
	GSI4SK    string    `dynamodbav:"GSI4SK"`
	Type      string    `dynamodbav:"type"`
	EnteredAt time.Time `dynamodbav:"entered_at"`
}

// SegmentMemberships lists the IDs of the segments a customer is in.
func (s *Store) SegmentMemberships(ctx context.Context, mid, cid string) ([]string, error) {
	raw, err := s.partitionItems(ctx, mid, cid, segSKPfx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(raw))
	for i, it := range raw {
		out[i] = strings.TrimPrefix(it["SK"].(*types.AttributeValueMemberS).Value, segSKPfx)
	}
	return out, nil
}

// MoveSegments records a customer entering and leaving segments, with the
// timeline events, in one transaction.
func (s *Store) MoveSegments(ctx context.Context, mid, cid string, entered, left []string, at time.Time) error {
	if len(entered) == 0 && len(left) == 0 {
		return nil
	}
	pk := customerPK(mid, cid)
	var items []types.TransactWriteItem
	for _, sid := range entered {
		av, err := attributevalue.MarshalMap(membershipRecord{PK: pk, SK: segSKPfx + sid, GSI4PK: segmentGSIPK(mid, sid), GSI4SK: cid,
			Type: "segment_membership", EnteredAt: at.UTC()})
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: av}})
	}
	for _, sid := range left {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(pk, segSKPfx+sid)}})
	}
	for _, ch := range []struct {
		typ string
		ids []string
	}{{"segment_entered", entered}, {"segment_left", left}} {
		for _, sid := range ch.ids {
			ev, err := eventPut(s.table, pk, crm.Event{ID: ids.New(at), Type: ch.typ, At: at.UTC(), Data: map[string]string{"segment_id": sid}})
			if err != nil {
				return err
			}
			items = append(items, ev)
		}
	}
	for start := 0; start < len(items); start += 100 {
		if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items[start:min(start+100, len(items))]}); err != nil {
			return err
		}
	}
	return nil
}

// SegmentMembers lists a page of a segment's customers.
func (s *Store) SegmentMembers(ctx context.Context, mid, sid string, limit int, after string) (crm.Page, error) {
	return s.members(ctx, segmentGSIPK(mid, sid), cursor.List{Merchant: mid, Name: "segment-members", Params: []string{sid}}, limit, after)
}

// SegmentSize counts a segment's customers.
func (s *Store) SegmentSize(ctx context.Context, mid, sid string) (int64, error) {
	var n int64
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsiNameToken),
		KeyConditionExpression:    aws.String("GSI4PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(segmentGSIPK(mid, sid))},
		Select:                    types.SelectCount,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += int64(page.Count)
	}
	return n, nil
}
