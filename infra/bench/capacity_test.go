package bench

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/template"
)

// TestWriteRulesAgainstDynamoDBLocal checks writeCost against the
// ConsumedCapacity DynamoDB Local returns for single-item writes on the
// API's table, where DynamoDB Local follows DynamoDB's rules, and pins why
// the bench computes the units of transactions itself: DynamoDB Local does
// not charge them per item.
func TestWriteRulesAgainstDynamoDBLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the local stack")
	}
	cfg, stop, err := localstack.ForTest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	res := localstack.ProvisionTest(t, cfg)
	path, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var tbl template.Table
	for _, x := range tmpl.Tables {
		if x.LogicalID == "Table" {
			tbl = x
		}
	}
	name := res.Ref("Table")
	keys := []string{"PK", "SK"}
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Logger = logging.Nop{} })
	key := map[string]types.AttributeValue{"PK": s("C#m#c"), "SK": s("PROFILE")}
	get := func() map[string]types.AttributeValue {
		out, err := ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &name, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	update := func(expr string, values map[string]types.AttributeValue) func() (*types.ConsumedCapacity, error) {
		return func() (*types.ConsumedCapacity, error) {
			out, err := ddb.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: &name, Key: key, UpdateExpression: &expr,
				ExpressionAttributeValues: values, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if err != nil {
				return nil, err
			}
			return out.ConsumedCapacity, nil
		}
	}
	lots := &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"earned_at": s("2026-11-22T14:00:00Z"), "remaining": n("1000000")}}}}
	profile := map[string]types.AttributeValue{"PK": key["PK"], "SK": key["SK"], "type": s("customer"), "version": n("3"),
		"GSI1PK": s("M#m#CUSTOMERS"), "GSI1SK": s("0000#c"), "GSI2PK": s("M#m#CUSTOMERS"), "GSI2SK": s("2026#c"),
		"GSI3PK": s("M#m#CUSTOMERS"), "GSI3SK": s("garcia#c"), "points_balance": n("1000000"), "lots": lots,
		"notes": s(strings.Repeat("x", 1800))}
	for _, w := range []struct {
		name string
		do   func() (*types.ConsumedCapacity, error)
	}{
		{"put a 2 KB profile in GSI1-3", func() (*types.ConsumedCapacity, error) {
			out, err := ddb.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &name, Item: profile, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if err != nil {
				return nil, err
			}
			return out.ConsumedCapacity, nil
		}},
		{"change a projected attribute", update("SET points_balance = :b, version = version + :one", map[string]types.AttributeValue{":b": n("999999"), ":one": n("1")})},
		{"move in GSI1", update("SET GSI1SK = :k", map[string]types.AttributeValue{":k": s("2026-11-22#c")})},
		{"enter GSI4 (KEYS_ONLY)", update("SET GSI4PK = :p, GSI4SK = :k", map[string]types.AttributeValue{":p": s("M#m#EXPIRY"), ":k": s("2027#c")})},
		{"leave GSI3 and shrink", update("REMOVE GSI3PK, notes", nil)},
		{"change what GSI4 does not hold", update("SET points_balance = :b", map[string]types.AttributeValue{":b": n("5")})},
		{"delete", func() (*types.ConsumedCapacity, error) {
			out, err := ddb.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &name, Key: key, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
			if err != nil {
				return nil, err
			}
			return out.ConsumedCapacity, nil
		}},
	} {
		before := get()
		cc, err := w.do()
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		want := writeCost(before, get(), false, keys, tbl.GlobalSecondaryIndexes)
		if got := aws.ToFloat64(cc.CapacityUnits); got != want.Total {
			t.Errorf("%s: DynamoDB Local consumed %v units, the rules say %+v", w.name, got, want)
		}
	}

	// Three small items in one transaction: DynamoDB charges 2 units each.
	items := make([]types.TransactWriteItem, 3)
	for i := range items {
		items[i].Put = &types.Put{TableName: &name, Item: map[string]types.AttributeValue{"PK": s("T#" + string(rune('a'+i))), "SK": s("X")}}
	}
	out, err := ddb.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: items, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	var local float64
	for _, c := range out.ConsumedCapacity {
		local += aws.ToFloat64(c.CapacityUnits)
	}
	if rules := 3 * writeCost(nil, items[0].Put.Item, true, keys, nil).Total; local != 2 || rules != 6 {
		t.Errorf("three small items in a transaction: DynamoDB Local says %v units (the bench's docs say 2), the rules %v (want 6): "+
			"if DynamoDB Local now charges transactions per item, update docs/benchmarks.md and the footnote of report.go", local, rules)
	}
}
