package bench

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/infra/template"
)

func s(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }
func n(v string) *types.AttributeValueMemberN { return &types.AttributeValueMemberN{Value: v} }

func TestDecodeItem(t *testing.T) {
	got, err := decodeItem(json.RawMessage(`{"PK":{"S":"C#1"},"n":{"N":"-1.50"},"b":{"B":"AAE="},"t":{"BOOL":true},"z":{"NULL":true},
		"ss":{"SS":["a","b"]},"ns":{"NS":["1"]},"bs":{"BS":["AQ=="]},"l":{"L":[{"S":"x"},{"M":{"k":{"N":"2"}}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]types.AttributeValue{
		"PK": s("C#1"), "n": n("-1.50"), "b": &types.AttributeValueMemberB{Value: []byte{0, 1}},
		"t": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true},
		"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1"}},
		"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}}},
		"l":  &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": n("2")}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decodeItem = %#v\nwant %#v", got, want)
	}
	for _, bad := range []string{`{"a":{"X":"1"}}`, `{"a":{"S":"1","N":"2"}}`, `{"a":"plain"}`} {
		if _, err := decodeItem(json.RawMessage(bad)); err == nil {
			t.Errorf("decodeItem(%s): want an error", bad)
		}
	}
}

// transactBody is a posting as ledger.go writes it, on the wire.
const transactBody = `{"TransactItems":[
{"Update":{"TableName":"t","Key":{"PK":{"S":"C#m#c"},"SK":{"S":"PROFILE"}},"UpdateExpression":"SET points_balance = :b, version = version + :one",
 "ConditionExpression":"version = :v","ExpressionAttributeValues":{":b":{"N":"5"},":one":{"N":"1"},":v":{"N":"7"}}}},
{"Put":{"TableName":"t","Item":{"PK":{"S":"C#m#c"},"SK":{"S":"LEDGER#e1"},"points":{"N":"5"}},"ConditionExpression":"attribute_not_exists(PK)"}},
{"Update":{"TableName":"t","Key":{"PK":{"S":"M#m#POINTS#03"},"SK":{"S":"COUNTER"}},"UpdateExpression":"ADD outstanding :d, operations :n",
 "ExpressionAttributeValues":{":d":{"N":"5"},":n":{"N":"1"}}}}],"ReturnConsumedCapacity":"TOTAL"}`

func TestTouchedItems(t *testing.T) {
	keys := map[string][]string{"t": {"PK", "SK"}}
	got, err := touchedItems("TransactWriteItems", []byte(transactBody), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].tx || got[1].key["SK"].(*types.AttributeValueMemberS).Value != "LEDGER#e1" || len(got[1].key) != 2 {
		t.Errorf("touchedItems = %+v", got)
	}
	one, err := touchedItems("PutItem", []byte(`{"TableName":"t","Item":{"PK":{"S":"a"},"SK":{"S":"b"},"x":{"N":"1"}}}`), keys)
	if err != nil || len(one) != 1 || one[0].tx || len(one[0].key) != 2 {
		t.Errorf("touchedItems(PutItem) = %+v, %v", one, err)
	}
	if _, err := touchedItems("PutItem", []byte(`{"TableName":"other","Item":{"PK":{"S":"a"}}}`), keys); err == nil {
		t.Error("a write to an unknown table: want an error")
	}
	if _, err := touchedItems("DeleteItem", []byte(`{"TableName":"t","Key":{"PK":{"S":"a"}}}`), keys); err == nil {
		t.Error("a key without its sort key: want an error")
	}
}

func TestConsumedCapacity(t *testing.T) {
	body, err := withConsumedCapacity([]byte(`{"TableName":"t"}`))
	if err != nil || !strings.Contains(string(body), `"ReturnConsumedCapacity":"TOTAL"`) {
		t.Errorf("withConsumedCapacity = %s, %v", body, err)
	}
	kept := []byte(`{"TableName":"t","ReturnConsumedCapacity":"INDEXES"}`)
	if body, _ := withConsumedCapacity(kept); string(body) != string(kept) {
		t.Errorf("withConsumedCapacity changed a request that asks already: %s", body)
	}
	for body, want := range map[string]float64{
		`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.5}}`:                                       1.5,
		`{"ConsumedCapacity":[{"TableName":"t","CapacityUnits":2.0},{"TableName":"u","CapacityUnits":4}]}`: 6,
	} {
		if got, ok := consumedUnits([]byte(body)); !ok || got != want {
			t.Errorf("consumedUnits(%s) = %v, %v; want %v", body, got, ok, want)
		}
	}
	if _, ok := consumedUnits([]byte(`{"Item":{}}`)); ok {
		t.Error("consumedUnits of an answer without ConsumedCapacity: want not ok")
	}
}

func TestPostingInstance(t *testing.T) {
	items, err := decodeTransact([]byte(transactBody))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].Update == nil || items[1].Put == nil || aws.ToString(items[2].Update.UpdateExpression) != "ADD outstanding :d, operations :n" {
		t.Fatalf("decodeTransact = %+v", items)
	}
	m := versionCondition.FindStringSubmatch(aws.ToString(items[0].Update.ConditionExpression))
	if m == nil || m[1] != ":v" {
		t.Fatalf("versionCondition found %q", m)
	}
	p := &posting{items: items, hashKey: "PK", profile: 0, placeholder: ":v"}
	a, b := p.instance(41), p.instance(42)
	if got := a[0].Update.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN).Value; got != "41" {
		t.Errorf("version condition of the first instance = %s, want 41", got)
	}
	if got := b[0].Update.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN).Value; got != "42" {
		t.Errorf("version condition of the second instance = %s, want 42", got)
	}
	pa, pb := a[1].Put.Item["PK"].(*types.AttributeValueMemberS).Value, b[1].Put.Item["PK"].(*types.AttributeValueMemberS).Value
	if pa == pb || !strings.HasPrefix(pa, "C#m#c#bench-") {
		t.Errorf("puts of two instances go to %s and %s: want two fresh keys", pa, pb)
	}
	if items[1].Put.Item["PK"].(*types.AttributeValueMemberS).Value != "C#m#c" || items[0].Update.ExpressionAttributeValues[":v"].(*types.AttributeValueMemberN).Value != "7" {
		t.Error("instance changed the captured posting")
	}

	conflict := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}}}
	stale := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("ConditionalCheckFailed")}}}
	other := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed")}}}
	for _, tc := range []struct {
		err            error
		retry, isStale bool
	}{{conflict, true, false}, {stale, true, true}, {other, false, false}, {errors.New("network"), false, false}} {
		if r, st := p.retryable(tc.err); r != tc.retry || st != tc.isStale {
			t.Errorf("retryable(%v) = %v, %v; want %v, %v", tc.err, r, st, tc.retry, tc.isStale)
		}
	}
}

func TestItemSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string", map[string]types.AttributeValue{"PK": s("abc")}, 2 + 3},
		{"number", map[string]types.AttributeValue{"n": n("12345")}, 1 + 3 + 1},
		{"number, zeroes trimmed", map[string]types.AttributeValue{"n": n("-0012.3400")}, 1 + 2 + 1},
		{"bool and null", map[string]types.AttributeValue{"b": &types.AttributeValueMemberBOOL{}, "z": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"empty list", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{}}, 1 + 3},
		{"map", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("vv")}}}, 1 + 3 + 1 + 1 + 2},
		{"absent", nil, 0},
	} {
		if got := itemSize(tc.item); got != tc.want {
			t.Errorf("%s: itemSize = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestWriteCost(t *testing.T) {
	gsis := []template.GlobalSecondaryIndex{
		{IndexName: "G1", KeySchema: []template.KeyElement{{AttributeName: "G1PK", KeyType: "HASH"}}, Projection: template.Projection{ProjectionType: "ALL"}},
		{IndexName: "G4", KeySchema: []template.KeyElement{{AttributeName: "G4PK", KeyType: "HASH"}}, Projection: template.Projection{ProjectionType: "KEYS_ONLY"}},
	}
	keys := []string{"PK"}
	big := strings.Repeat("x", 1500)
	item := func(kv ...string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{"PK": s("p")}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = s(kv[i+1])
		}
		return m
	}
	for _, tc := range []struct {
		name          string
		before, after map[string]types.AttributeValue
		tx            bool
		want          WriteUnits
	}{
		{"new small item, no index", nil, item(), false, WriteUnits{1, 0, 1}},
		{"the same in a transaction", nil, item(), true, WriteUnits{2, 0, 2}},
		{"1.5 KB item: 2 units, ×2", nil, item("d", big), true, WriteUnits{4, 0, 4}},
		{"update that shrinks: the larger size counts", item("d", big), item(), false, WriteUnits{2, 0, 2}},
		{"delete of an absent item", nil, nil, false, WriteUnits{1, 0, 1}},
		{"enters G1", nil, item("G1PK", "a"), false, WriteUnits{1, 1, 2}},
		{"changes a projected attribute in G1 (ALL)", item("G1PK", "a", "x", "1"), item("G1PK", "a", "x", "2"), true, WriteUnits{2, 1, 3}},
		{"changes nothing G4 (KEYS_ONLY) holds", item("G4PK", "a", "x", "1"), item("G4PK", "a", "x", "2"), false, WriteUnits{1, 0, 1}},
		{"moves in G1: delete and put", item("G1PK", "a"), item("G1PK", "b"), false, WriteUnits{1, 2, 3}},
		{"leaves G1 and G4", item("G1PK", "a", "G4PK", "a"), item(), false, WriteUnits{1, 2, 3}},
		{"unchanged item in G1", item("G1PK", "a"), item("G1PK", "a"), false, WriteUnits{1, 0, 1}},
	} {
		if got := writeCost(tc.before, tc.after, tc.tx, keys, gsis); got != tc.want {
			t.Errorf("%s: writeCost = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
