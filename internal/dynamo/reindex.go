package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// IndexValues gives the keys of the value orders (GSI5 by LTV, GSI6 by points
// balance) to every profile of the merchant that lacks them: profiles last
// written before those indexes existed, which every later write keys. Each
// update is conditioned on the version read, so a profile written meanwhile
// (and keyed by that write) is left alone. Running it again indexes nothing.
// It answers how many profiles it indexed.
func (s *Store) IndexValues(ctx context.Context, mid string) (int, error) {
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsiEnrolled), // every live profile, whole (tombstones are in no list)
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		FilterExpression:          aws.String("attribute_not_exists(GSI5PK) OR attribute_not_exists(GSI6PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(customersGSIPK(mid))},
	})
	indexed := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return indexed, err
		}
		var items []customerItem
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return indexed, err
		}
		for _, it := range items {
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:           &s.table,
				Key:                 keyOf(it.PK, it.SK),
				UpdateExpression:    aws.String("SET GSI5PK = :pk, GSI5SK = :ltv, GSI6PK = :pk, GSI6SK = :balance"),
				ConditionExpression: aws.String("version = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(customersGSIPK(mid)),
					":ltv": str(sortKeyWithID(sortInt(it.Revenue), it.ID)), ":balance": str(sortKeyWithID(sortInt(it.PointsBalance), it.ID)),
					":v": num(it.Version)},
			})
			if conditionFailed(err) {
				continue // written since the read: that write keyed it
			}
			if err != nil {
				return indexed, err
			}
			indexed++
		}
	}
	return indexed, nil
}
