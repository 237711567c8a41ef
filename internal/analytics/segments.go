package analytics

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
)

// Fields a segment rule may test, and their kinds.
var segmentFields = map[string]kind{
	"rfm_segment":         kindString, // champions, loyal, …
	"points_balance":      kindNumber,
	"badge":               kindList,   // IDs of the badges held
	"tag":                 kindList,   // folded tags
	"active":              kindBool,   // a transaction in the last 30 days
	"days_since_purchase": kindNumber, // -1 without purchases
	"birthday_month":      kindNumber, // 1–12, 0 when unknown
	"affinity":            kindString, // primary category
	"favorite_location":   kindString,
	"ltv":                 kindNumber, // minor units
	"tickets":             kindNumber,
	"tickets_12m":         kindNumber,
	"revenue_12m":         kindNumber,
	"state":               kindString,
	"type":                kindString,
}

type kind int

const (
	kindString kind = iota
	kindNumber
	kindBool
	kindList
)

// Operators a condition may use, by field kind.
var operators = map[kind][]string{
	kindString: {"eq", "ne", "in", "not_in"},
	kindNumber: {"eq", "ne", "gt", "gte", "lt", "lte", "between"},
	kindBool:   {"eq"},
	kindList:   {"contains", "not_contains", "any_of"},
}

// Rule is a segment's rule: a condition, or all/any of nested rules.
type Rule struct {
	All   []Rule
	Any   []Rule
	Field string
	Op    string
	// Exactly one value kind is used, by the field's kind: Text for
	// strings, Number for numbers (Numbers for between and in-lists of
	// numbers), Texts for in/not_in/any_of, Bool for booleans.
	Text    string
	Texts   []string
	Number  int64
	Numbers []int64
	Bool    bool
}

// maxRuleDepth and maxConditions bound a rule.
const (
	maxRuleDepth  = 4
	maxConditions = 50
)

// Validate checks a rule with JSON-pointer paths under path.
func (r Rule) Validate(path string) error {
	var fe apperr.Fields
	n := 0
	r.validate(path, 0, &n, &fe)
	if n > maxConditions {
		fe.Add(path, "must hold at most %d conditions", maxConditions)
	}
	return fe.Err()
}

func (r Rule) validate(path string, depth int, n *int, fe *apperr.Fields) {
	groups := 0
	if len(r.All) > 0 {
		groups++
	}
	if len(r.Any) > 0 {
		groups++
	}
	if r.Field != "" {
		groups++
	}
	if groups != 1 {
		fe.Add(path, "must be exactly one of: a condition (field, op, value), all, any")
		return
	}
	if depth >= maxRuleDepth && r.Field == "" {
		fe.Add(path, "nests too deep (at most %d levels)", maxRuleDepth)
		return
	}
	for i, sub := range r.All {
		sub.validate(fmt.Sprintf("%s/all/%d", path, i), depth+1, n, fe)
	}
	for i, sub := range r.Any {
		sub.validate(fmt.Sprintf("%s/any/%d", path, i), depth+1, n, fe)
	}
	if r.Field == "" {
		return
	}
	*n++
	k, ok := segmentFields[r.Field]
	if !ok {
		fe.Add(path+"/field", "is not a field segments can test")
		return
	}
	if !slices.Contains(operators[k], r.Op) {
		fe.Add(path+"/op", "must be one of %s for %s", strings.Join(operators[k], ", "), r.Field)
		return
	}
	switch {
	case r.Op == "between" && (len(r.Numbers) != 2 || r.Numbers[0] > r.Numbers[1]):
		fe.Add(path+"/value", "must be [low, high] with low ≤ high")
	case (r.Op == "in" || r.Op == "not_in" || r.Op == "any_of") && len(r.Texts) == 0:
		fe.Add(path+"/value", "must list at least one value")
	}
}

// ValueKind says what JSON value a condition on field with op takes:
// "string", "number", "bool", "strings" or "numbers" ("" for an unknown field
// or an operator the field does not take: validation reports those at
// /field and /op, before any value).
func ValueKind(field, op string) string {
	k, ok := segmentFields[field]
	switch {
	case !ok, !slices.Contains(operators[k], op):
		return ""
	case k == kindBool:
		return "bool"
	case k == kindNumber && op == "between":
		return "numbers"
	case k == kindNumber:
		return "number"
	case op == "in" || op == "not_in" || op == "any_of":
		return "strings"
	}
	return "string"
}

// Facts are what a rule is evaluated against for one customer.
type Facts struct {
	Strings map[string]string
	Numbers map[string]int64
	Bools   map[string]bool
	Lists   map[string][]string
}

// Matches evaluates the rule.
func (r Rule) Matches(f Facts) bool {
	switch {
	case len(r.All) > 0:
		for _, sub := range r.All {
			if !sub.Matches(f) {
				return false
			}
		}
		return true
	case len(r.Any) > 0:
		for _, sub := range r.Any {
			if sub.Matches(f) {
				return true
			}
		}
		return false
	}
	switch segmentFields[r.Field] {
	case kindString:
		v := f.Strings[r.Field]
		switch r.Op {
		case "eq":
			return v == r.Text
		case "ne":
			return v != r.Text
		case "in":
			return slices.Contains(r.Texts, v)
		case "not_in":
			return !slices.Contains(r.Texts, v)
		}
	case kindNumber:
		v := f.Numbers[r.Field]
		switch r.Op {
		case "eq":
			return v == r.Number
		case "ne":
			return v != r.Number
		case "gt":
			return v > r.Number
		case "gte":
			return v >= r.Number
		case "lt":
			return v < r.Number
		case "lte":
			return v <= r.Number
		case "between":
			return len(r.Numbers) == 2 && v >= r.Numbers[0] && v <= r.Numbers[1]
		}
	case kindBool:
		return f.Bools[r.Field] == r.Bool
	case kindList:
		v := f.Lists[r.Field]
		switch r.Op {
		case "contains":
			return slices.Contains(v, r.Text)
		case "not_contains":
			return !slices.Contains(v, r.Text)
		case "any_of":
			return slices.ContainsFunc(v, func(x string) bool { return slices.Contains(r.Texts, x) })
		}
	}
	return false
}

// Segment is a merchant-defined dynamic segment, recomputed every run.
type Segment struct {
	ID          string
	Name        string
	Description string
	Rule        Rule
	UpdatedAt   time.Time
}

// Validate checks a segment definition.
func (s Segment) Validate() (Segment, error) {
	var fe apperr.Fields
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" || len(s.Name) > 100 {
		fe.Add("/name", "must be 1 to 100 characters")
	}
	if len(s.Description) > 1000 {
		fe.Add("/description", "must be at most 1000 characters")
	}
	fe.Merge("", s.Rule.Validate("/rule"))
	if err := fe.Err(); err != nil {
		return Segment{}, err
	}
	s.Rule = s.Rule.folded()
	return s, nil
}

// folded compares tags the way customers' tags are kept: folded.
func (r Rule) folded() Rule {
	for i := range r.All {
		r.All[i] = r.All[i].folded()
	}
	for i := range r.Any {
		r.Any[i] = r.Any[i].folded()
	}
	if r.Field == "tag" {
		r.Text = crm.Fold(r.Text)
		for i, t := range r.Texts {
			r.Texts[i] = crm.Fold(t)
		}
	}
	return r
}

// Value is the condition's value, by its field's kind (for display).
func (r Rule) Value() any {
	switch segmentFields[r.Field] {
	case kindBool:
		return r.Bool
	case kindNumber:
		if r.Op == "between" {
			return r.Numbers
		}
		return r.Number
	case kindList:
		if r.Op == "any_of" {
			return r.Texts
		}
		return r.Text
	}
	if r.Op == "in" || r.Op == "not_in" {
		return r.Texts
	}
	return r.Text
}
