package analytics

import (
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/apperr"
)

var facts = Facts{
	Strings: map[string]string{"rfm_segment": "champions", "affinity": "café", "favorite_location": "Centro", "state": "active", "type": "direct"},
	Numbers: map[string]int64{"points_balance": 120, "days_since_purchase": 3, "birthday_month": 3, "ltv": 61250, "tickets": 48},
	Bools:   map[string]bool{"active": true},
	Lists:   map[string][]string{"badge": {"B-BRONCE"}, "tag": {"vip", "cafe"}},
}

func TestEveryOperator(t *testing.T) {
	for _, tc := range []struct {
		rule Rule
		want bool
	}{
		{Rule{Field: "rfm_segment", Op: "eq", Text: "champions"}, true},
		{Rule{Field: "rfm_segment", Op: "eq", Text: "loyal"}, false},
		{Rule{Field: "rfm_segment", Op: "ne", Text: "loyal"}, true},
		{Rule{Field: "affinity", Op: "in", Texts: []string{"vinos", "café"}}, true},
		{Rule{Field: "affinity", Op: "not_in", Texts: []string{"café"}}, false},
		{Rule{Field: "points_balance", Op: "eq", Number: 120}, true},
		{Rule{Field: "points_balance", Op: "ne", Number: 120}, false},
		{Rule{Field: "points_balance", Op: "gt", Number: 120}, false}, // strictly greater
		{Rule{Field: "points_balance", Op: "gte", Number: 120}, true},
		{Rule{Field: "days_since_purchase", Op: "lt", Number: 3}, false},
		{Rule{Field: "days_since_purchase", Op: "lte", Number: 3}, true},
		{Rule{Field: "birthday_month", Op: "between", Numbers: []int64{3, 5}}, true}, // inclusive
		{Rule{Field: "birthday_month", Op: "between", Numbers: []int64{4, 5}}, false},
		{Rule{Field: "active", Op: "eq", Bool: true}, true},
		{Rule{Field: "active", Op: "eq", Bool: false}, false},
		{Rule{Field: "tag", Op: "contains", Text: "vip"}, true},
		{Rule{Field: "tag", Op: "not_contains", Text: "vip"}, false},
		{Rule{Field: "badge", Op: "any_of", Texts: []string{"B-ORO", "B-BRONCE"}}, true},
		{Rule{Field: "badge", Op: "any_of", Texts: []string{"B-ORO"}}, false},
		// and / or, nested.
		{Rule{All: []Rule{{Field: "active", Op: "eq", Bool: true}, {Field: "ltv", Op: "gte", Number: 50000}}}, true},
		{Rule{All: []Rule{{Field: "active", Op: "eq", Bool: true}, {Field: "ltv", Op: "gte", Number: 90000}}}, false},
		{Rule{Any: []Rule{{Field: "tickets", Op: "lt", Number: 2}, {Field: "tag", Op: "contains", Text: "vip"}}}, true},
		{Rule{Any: []Rule{{Field: "tickets", Op: "lt", Number: 2}, {All: []Rule{{Field: "state", Op: "eq", Text: "suspended"}}}}}, false},
	} {
		if err := tc.rule.Validate(""); err != nil {
			t.Fatalf("%+v: %v", tc.rule, err)
		}
		if got := tc.rule.Matches(facts); got != tc.want {
			t.Errorf("%+v matches = %v, want %v", tc.rule, got, tc.want)
		}
	}
}

func TestRuleValidation(t *testing.T) {
	deep := Rule{Field: "active", Op: "eq", Bool: true}
	for range 5 {
		deep = Rule{All: []Rule{deep}}
	}
	for _, tc := range []struct {
		rule Rule
		path string
	}{
		{Rule{}, "/rule"},
		{Rule{Field: "shoe_size", Op: "eq"}, "/rule/field"},
		{Rule{Field: "tag", Op: "gt"}, "/rule/op"},
		{Rule{Field: "ltv", Op: "between", Numbers: []int64{9, 1}}, "/rule/value"},
		{Rule{Field: "affinity", Op: "in"}, "/rule/value"},
		{Rule{All: []Rule{{Field: "x", Op: "eq"}}, Any: []Rule{{Field: "active", Op: "eq"}}}, "/rule"},
		{Rule{Any: []Rule{{}, {Field: "active", Op: "eq", Bool: true}}}, "/rule/any/0"},
		{deep, "/rule/all/0/all/0/all/0/all/0"},
	} {
		err := tc.rule.Validate("/rule")
		e := apperr.As(err)
		if e == nil || len(e.Fields) == 0 || !strings.HasPrefix(e.Fields[0].Path, tc.path) {
			t.Errorf("%+v: %v, want a problem at %s", tc.rule, err, tc.path)
		}
	}
}

// TestValueKind: the value a condition takes follows its field and operator;
// an operator the field does not take has none, so that the operator, not the
// value, is reported.
func TestValueKind(t *testing.T) {
	for _, tc := range []struct{ field, op, want string }{
		{"tag", "contains", "string"},
		{"tag", "any_of", "strings"},
		{"ltv", "gte", "number"},
		{"ltv", "between", "numbers"},
		{"active", "eq", "bool"},
		{"tag", "gt", ""},
		{"ltv", "contains", ""},
		{"shoe_size", "eq", ""},
	} {
		if got := ValueKind(tc.field, tc.op); got != tc.want {
			t.Errorf("ValueKind(%s, %s) = %q, want %q", tc.field, tc.op, got, tc.want)
		}
	}
}
