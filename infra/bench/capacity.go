package bench

import (
	"math"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/infra/template"
)

// DynamoDB Local returns ConsumedCapacity, and for single-item calls its
// figures follow DynamoDB's rules. For TransactWriteItems they do not: it
// charges the transaction as a whole (three small items come back as 2
// units, not 3 × 2). So the bench also computes write units from the items
// themselves, read before and after each write call, with DynamoDB's
// documented rules:
//
//   - table: 1 unit per started KB of the larger of the item before and
//     after the write (at least 1), ×2 inside TransactWriteItems;
//   - each global secondary index the item is in, before or after: a put
//     when it enters the index, a delete when it leaves it, both when its
//     index key changes, an update when a projected attribute changes; 1 unit
//     per started KB of the projected item, at the standard rate (the
//     transaction's changes propagate to the indexes like any write).

// WriteUnits are write capacity units by DynamoDB's rules: the table's,
// the global secondary indexes', and their total.
type WriteUnits struct {
	Table float64 `json:"table"`
	GSI   float64 `json:"gsi"`
	Total float64 `json:"total"`
}

func (w *WriteUnits) add(o WriteUnits) {
	w.Table += o.Table
	w.GSI += o.GSI
	w.Total = w.Table + w.GSI
}

// units is the write units of size bytes: 1 per started KB, at least 1.
func units(size int) float64 {
	return max(1, math.Ceil(float64(size)/1024))
}

// itemSize is an item's size by DynamoDB's rules: the UTF-8 length of each
// attribute name plus the size of its value.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize is the size of an attribute value: strings and binaries their
// length, numbers 1 byte per two significant digits plus 1, booleans and
// nulls 1 byte, lists and maps 3 bytes plus 1 byte and the size of each
// element (and its name), sets the sum of their elements.
func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize is 1 byte per two significant digits (leading and trailing
// zeroes trimmed) plus 1.
func numberSize(s string) int {
	mantissa, _, _ := strings.Cut(strings.ToLower(s), "e")
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, mantissa)
	digits = strings.Trim(digits, "0")
	return (utf8.RuneCountInString(digits)+1)/2 + 1
}

// writeCost is the write units of one item written (or checked) by one call:
// before and after are the item as stored before and after it (nil: absent).
func writeCost(before, after map[string]types.AttributeValue, tx bool, tableKeys []string, gsis []template.GlobalSecondaryIndex) WriteUnits {
	var w WriteUnits
	w.Table = units(max(itemSize(before), itemSize(after)))
	if tx {
		w.Table *= 2
	}
	for _, g := range gsis {
		pb, inBefore := projected(before, tableKeys, g)
		pa, inAfter := projected(after, tableKeys, g)
		switch {
		case inBefore && inAfter && !sameKey(before, after, g):
			w.GSI += units(itemSize(pb)) + units(itemSize(pa)) // delete + put
		case inBefore && inAfter:
			if !reflect.DeepEqual(pb, pa) {
				w.GSI += units(max(itemSize(pb), itemSize(pa)))
			}
		case inBefore:
			w.GSI += units(itemSize(pb))
		case inAfter:
			w.GSI += units(itemSize(pa))
		}
	}
	w.Total = w.Table + w.GSI
	return w
}

// projected returns the attributes of item that index g holds, and whether
// the item is in the index at all (it has every key attribute of g).
func projected(item map[string]types.AttributeValue, tableKeys []string, g template.GlobalSecondaryIndex) (map[string]types.AttributeValue, bool) {
	if item == nil {
		return nil, false
	}
	for _, k := range g.KeySchema {
		if _, ok := item[k.AttributeName]; !ok {
			return nil, false
		}
	}
	if g.Projection.ProjectionType == "ALL" || g.Projection.ProjectionType == "" {
		return item, true
	}
	names := append([]string{}, tableKeys...)
	for _, k := range g.KeySchema {
		names = append(names, k.AttributeName)
	}
	if g.Projection.ProjectionType == "INCLUDE" {
		names = append(names, g.Projection.NonKeyAttributes...)
	}
	out := map[string]types.AttributeValue{}
	for _, n := range names {
		if v, ok := item[n]; ok {
			out[n] = v
		}
	}
	return out, true
}

func sameKey(a, b map[string]types.AttributeValue, g template.GlobalSecondaryIndex) bool {
	for _, k := range g.KeySchema {
		if !reflect.DeepEqual(a[k.AttributeName], b[k.AttributeName]) {
			return false
		}
	}
	return true
}
