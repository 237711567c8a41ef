package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The counting proxy sees DynamoDB's JSON wire format. This file decodes the
// parts of it the bench needs: attribute values, the items a write call
// touches, the consumed capacity of an answer, and a captured
// TransactWriteItems request, to replay its shapes in a baseline.

// decodeValue decodes one attribute value of the wire format, e.g. {"S":"x"}.
func decodeValue(raw json.RawMessage) (types.AttributeValue, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("attribute value %s: %w", raw, err)
	}
	if len(v) != 1 {
		return nil, fmt.Errorf("attribute value %s: want exactly one type", raw)
	}
	for typ, data := range v {
		var err error
		switch typ {
		case "S":
			var s string
			err = json.Unmarshal(data, &s)
			return &types.AttributeValueMemberS{Value: s}, err
		case "N":
			var s string
			err = json.Unmarshal(data, &s)
			return &types.AttributeValueMemberN{Value: s}, err
		case "B":
			var b []byte // base64, as encoding/json decodes []byte
			err = json.Unmarshal(data, &b)
			return &types.AttributeValueMemberB{Value: b}, err
		case "BOOL":
			var b bool
			err = json.Unmarshal(data, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			var b bool
			err = json.Unmarshal(data, &b)
			return &types.AttributeValueMemberNULL{Value: b}, err
		case "SS", "NS":
			var ss []string
			if err = json.Unmarshal(data, &ss); typ == "SS" {
				return &types.AttributeValueMemberSS{Value: ss}, err
			}
			return &types.AttributeValueMemberNS{Value: ss}, err
		case "BS":
			var bs [][]byte
			err = json.Unmarshal(data, &bs)
			return &types.AttributeValueMemberBS{Value: bs}, err
		case "L":
			var raws []json.RawMessage
			if err = json.Unmarshal(data, &raws); err != nil {
				return nil, err
			}
			l := make([]types.AttributeValue, len(raws))
			for i, r := range raws {
				if l[i], err = decodeValue(r); err != nil {
					return nil, err
				}
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		case "M":
			m, err := decodeItem(data)
			return &types.AttributeValueMemberM{Value: m}, err
		default:
			return nil, fmt.Errorf("attribute value %s: unknown type %s", raw, typ)
		}
	}
	panic("unreachable")
}

// decodeItem decodes a map of attribute values: an item, a key, the values
// of an expression.
func decodeItem(raw json.RawMessage) (map[string]types.AttributeValue, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, r := range m {
		v, err := decodeValue(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// wireWrite is one write of a write call: a PutItem, UpdateItem, DeleteItem,
// or an element of a TransactWriteItems.
type wireWrite struct {
	TableName                 string
	Item                      json.RawMessage
	Key                       json.RawMessage
	UpdateExpression          *string
	ConditionExpression       *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues json.RawMessage
}

type wireTransact struct {
	TransactItems []struct {
		Put, Update, Delete, ConditionCheck *wireWrite
	}
}

// touched is an item a write call writes (or checks): where it is and
// whether the call is a transaction.
type touched struct {
	table string
	key   map[string]types.AttributeValue
	tx    bool
}

// keyOf returns the key attributes of item under the schema, or an error if
// one is missing.
func keyOf(item map[string]types.AttributeValue, keys []string) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(keys))
	for _, k := range keys {
		v, ok := item[k]
		if !ok {
			return nil, fmt.Errorf("item has no key attribute %s", k)
		}
		out[k] = v
	}
	return out, nil
}

// touchedItems lists the items a write call (op with its request body)
// touches; keys names the key attributes of each table it may write.
func touchedItems(op string, body []byte, keys map[string][]string) ([]touched, error) {
	one := func(w *wireWrite, tx bool) (touched, error) {
		schema, ok := keys[w.TableName]
		if !ok {
			return touched{}, fmt.Errorf("%s writes table %s, whose key schema the bench does not know", op, w.TableName)
		}
		raw := w.Key
		if len(raw) == 0 {
			raw = w.Item
		}
		item, err := decodeItem(raw)
		if err != nil {
			return touched{}, fmt.Errorf("%s: %w", op, err)
		}
		key, err := keyOf(item, schema)
		return touched{table: w.TableName, key: key, tx: tx}, err
	}
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		var w wireWrite
		if err := json.Unmarshal(body, &w); err != nil {
			return nil, fmt.Errorf("%s request: %w", op, err)
		}
		t, err := one(&w, false)
		return []touched{t}, err
	case "TransactWriteItems":
		var tr wireTransact
		if err := json.Unmarshal(body, &tr); err != nil {
			return nil, fmt.Errorf("%s request: %w", op, err)
		}
		var out []touched
		for _, it := range tr.TransactItems {
			for _, w := range []*wireWrite{it.Put, it.Update, it.Delete, it.ConditionCheck} {
				if w == nil {
					continue
				}
				t, err := one(w, true)
				if err != nil {
					return nil, err
				}
				out = append(out, t)
			}
		}
		return out, nil
	case "BatchWriteItem":
		var bw struct {
			RequestItems map[string][]struct {
				PutRequest    *struct{ Item json.RawMessage }
				DeleteRequest *struct{ Key json.RawMessage }
			}
		}
		if err := json.Unmarshal(body, &bw); err != nil {
			return nil, fmt.Errorf("%s request: %w", op, err)
		}
		var out []touched
		for table, reqs := range bw.RequestItems {
			for _, r := range reqs {
				w := &wireWrite{TableName: table}
				if r.PutRequest != nil {
					w.Item = r.PutRequest.Item
				} else if r.DeleteRequest != nil {
					w.Key = r.DeleteRequest.Key
				}
				t, err := one(w, false)
				if err != nil {
					return nil, err
				}
				out = append(out, t)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not a write call", op)
}

// withConsumedCapacity asks DynamoDB to return the capacity a call consumes
// (ReturnConsumedCapacity: TOTAL) unless the request already asks for it.
func withConsumedCapacity(body []byte) ([]byte, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	if _, ok := req["ReturnConsumedCapacity"]; ok {
		return body, nil
	}
	req["ReturnConsumedCapacity"] = json.RawMessage(`"TOTAL"`)
	return json.Marshal(req)
}

// consumedUnits sums the ConsumedCapacity of an answer: one object for a
// single-item call, a list (one per table) for batches and transactions.
func consumedUnits(body []byte) (float64, bool) {
	var out struct{ ConsumedCapacity json.RawMessage }
	if json.Unmarshal(body, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return 0, false
	}
	type capacity struct{ CapacityUnits float64 }
	var list []capacity
	if out.ConsumedCapacity[0] == '[' {
		if json.Unmarshal(out.ConsumedCapacity, &list) != nil {
			return 0, false
		}
	} else {
		var one capacity
		if json.Unmarshal(out.ConsumedCapacity, &one) != nil {
			return 0, false
		}
		list = []capacity{one}
	}
	var sum float64
	for _, c := range list {
		sum += c.CapacityUnits
	}
	return sum, true
}

// decodeTransact decodes a captured TransactWriteItems request into the
// SDK's types, to send the same writes again.
func decodeTransact(body []byte) ([]types.TransactWriteItem, error) {
	var tr wireTransact
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("TransactWriteItems request: %w", err)
	}
	out := make([]types.TransactWriteItem, len(tr.TransactItems))
	for i, it := range tr.TransactItems {
		var w *wireWrite
		for _, c := range []*wireWrite{it.Put, it.Update, it.Delete, it.ConditionCheck} {
			if c != nil {
				w = c
			}
		}
		if w == nil {
			return nil, fmt.Errorf("TransactWriteItems element %d is empty", i)
		}
		item, err := decodeItem(w.Item)
		if err != nil {
			return nil, err
		}
		key, err := decodeItem(w.Key)
		if err != nil {
			return nil, err
		}
		values, err := decodeItem(w.ExpressionAttributeValues)
		if err != nil {
			return nil, err
		}
		table := w.TableName
		switch {
		case it.Put != nil:
			out[i].Put = &types.Put{TableName: &table, Item: item, ConditionExpression: w.ConditionExpression,
				ExpressionAttributeNames: w.ExpressionAttributeNames, ExpressionAttributeValues: values}
		case it.Update != nil:
			out[i].Update = &types.Update{TableName: &table, Key: key, UpdateExpression: w.UpdateExpression,
				ConditionExpression: w.ConditionExpression, ExpressionAttributeNames: w.ExpressionAttributeNames,
				ExpressionAttributeValues: values}
		case it.Delete != nil:
			out[i].Delete = &types.Delete{TableName: &table, Key: key, ConditionExpression: w.ConditionExpression,
				ExpressionAttributeNames: w.ExpressionAttributeNames, ExpressionAttributeValues: values}
		default:
			out[i].ConditionCheck = &types.ConditionCheck{TableName: &table, Key: key, ConditionExpression: w.ConditionExpression,
				ExpressionAttributeNames: w.ExpressionAttributeNames, ExpressionAttributeValues: values}
		}
	}
	return out, nil
}

// versionCondition finds the placeholder of an optimistic version check in a
// condition expression: ":v" in "version = :v".
var versionCondition = regexp.MustCompile(`\bversion\s*=\s*(:[A-Za-z0-9_]+)`)
