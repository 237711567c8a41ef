// Package contract enforces on a raw JSON request body what docs/openapi.yaml
// declares about its members — which are required, which may be null — and
// that no text member holds a control character, for every operation, before
// any handler decodes the body.
//
// The rules are derived from the spec into contract.json (regenerate with
// `go test ./internal/contract -run TestContractIsTheSpec -update`; the test
// fails while the two differ) and embedded, so that no function parses the
// YAML document at cold start.
package contract

import (
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/regulars/regulars/internal/apperr"
)

//go:embed contract.json
var embedded []byte

// Table holds the member rules of every request body of the spec.
type Table struct {
	// Operations maps a route key ("POST /v1/customers") to the shape of its
	// request body ("" when the body has no member rules).
	Operations map[string]string `json:"operations"`
	// Shapes are named by the JSON Pointer of their schema in the spec.
	Shapes map[string]Shape `json:"shapes"`
}

// Shape is what an object or array value must hold.
type Shape struct {
	Required []string          `json:"required,omitempty"` // members that must be present
	Members  map[string]Member `json:"members,omitempty"`  // declared members with a rule
	Values   *Member           `json:"values,omitempty"`   // the values of a map (additionalProperties)
	Items    *Member           `json:"items,omitempty"`    // the items of an array
	OneOf    []string          `json:"one_of,omitempty"`   // alternative object shapes, told apart by their members
}

// Member is the rule of one value: whether it may be null, and its shape.
type Member struct {
	Nullable bool   `json:"nullable,omitempty"`
	Shape    string `json:"shape,omitempty"`
}

// Load returns the embedded table, decoded once on first use.
var Load = sync.OnceValue(func() *Table {
	var t Table
	if err := json.Unmarshal(embedded, &t); err != nil {
		panic(fmt.Sprintf("contract: contract.json: %v", err))
	}
	return &t
})

// Check validates body, a decoded JSON value (map[string]any, []any, string,
// float64, bool or nil), as the request body of the operation routeKey. It
// returns nil for an operation without a request body in the spec, and an
// apperr Invalid error listing every offending member's JSON Pointer
// otherwise.
func (t *Table) Check(routeKey string, body any) error {
	shape, ok := t.Operations[routeKey]
	if !ok {
		return nil
	}
	var fe apperr.Fields
	if body == nil {
		fe.Add("", "must be a JSON object, not null")
		return fe.Err()
	}
	t.walk(&fe, "", body, t.Shapes[shape])
	return fe.Err()
}

func (t *Table) walk(fe *apperr.Fields, path string, v any, sh Shape) {
	switch x := v.(type) {
	case string:
		if i := strings.IndexFunc(x, unicode.IsControl); i >= 0 {
			fe.Add(path, "must not contain control characters (U+%04X at byte %d)", []rune(x[i:])[0], i)
		}
	case map[string]any:
		if len(sh.OneOf) > 0 {
			base := sh
			base.OneOf = nil
			form, ok := t.form(x, sh.OneOf)
			if !ok {
				fe.Add(path, "must have the members of one of its forms: %s", t.forms(sh.OneOf))
			}
			t.walk(fe, path, v, merge(base, form))
			return
		}
		for _, name := range sh.Required {
			if _, ok := x[name]; !ok {
				fe.Add(path+"/"+apperr.PointerToken(name), "is required")
			}
		}
		for _, name := range slices.Sorted(maps.Keys(x)) {
			t.value(fe, path+"/"+apperr.PointerToken(name), x[name], sh.member(name))
		}
	case []any:
		m := Member{Nullable: true}
		if sh.Items != nil {
			m = *sh.Items
		}
		for i, el := range x {
			t.value(fe, path+"/"+strconv.Itoa(i), el, m)
		}
	}
}

// member is the rule of a member: a member without one may be null (one
// the spec does not declare is refused by the strict decoding).
func (sh Shape) member(name string) Member {
	if m, ok := sh.Members[name]; ok {
		return m
	}
	if sh.Values != nil {
		return *sh.Values
	}
	return Member{Nullable: true}
}

// value checks one member or item against its rule. A value without a rule
// is still searched for control characters.
func (t *Table) value(fe *apperr.Fields, path string, v any, m Member) {
	if v == nil {
		if !m.Nullable {
			fe.Add(path, "must not be null")
		}
		return
	}
	t.walk(fe, path, v, t.Shapes[m.Shape])
}

// form picks the alternative an object is meant to take: the one it breaks
// the fewest rules of at its own level, then the one that declares most of
// its members. Only the object's own members are weighed, so the choice
// costs the same however deep the value is. It reports false, with no form,
// when an object that fits none could be meant as several.
func (t *Table) form(obj map[string]any, names []string) (Shape, bool) {
	best, bestMisses, bestKnown, tie := Shape{}, -1, -1, false
	for _, n := range names {
		sh := t.Shapes[n]
		misses, known := t.misses(obj, sh), 0
		for name := range obj {
			if _, ok := sh.Members[name]; ok {
				known++
			}
		}
		switch {
		case bestMisses < 0 || misses < bestMisses || misses == bestMisses && known > bestKnown:
			best, bestMisses, bestKnown, tie = sh, misses, known, false
		case misses == bestMisses && known == bestKnown:
			tie = true
		}
	}
	if tie && bestMisses > 0 {
		return Shape{}, false
	}
	return best, true
}

// forms describes alternatives by their required members: "field, op and
// value; all; any".
func (t *Table) forms(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		req := t.Shapes[n].Required
		switch len(req) {
		case 0:
			out[i] = "any"
		case 1:
			out[i] = req[0]
		default:
			out[i] = strings.Join(req[:len(req)-1], ", ") + " and " + req[len(req)-1]
		}
	}
	return strings.Join(out, "; ")
}

// misses counts the rules of sh that obj breaks at its own level.
func (t *Table) misses(obj map[string]any, sh Shape) int {
	n := 0
	for _, name := range sh.Required {
		if _, ok := obj[name]; !ok {
			n++
		}
	}
	for name, v := range obj {
		if v == nil && !sh.member(name).Nullable {
			n++
		}
	}
	if len(sh.OneOf) > 0 {
		least := -1
		for _, f := range sh.OneOf {
			if m := t.misses(obj, t.Shapes[f]); least < 0 || m < least {
				least = m
			}
		}
		n += least
	}
	return n
}

// merge combines the rules of two shapes that hold together.
func merge(a, b Shape) Shape {
	req := slices.Clone(a.Required)
	for _, r := range b.Required {
		if !slices.Contains(req, r) {
			req = append(req, r)
		}
	}
	a.Required = req
	members := maps.Clone(a.Members)
	for k, m := range b.Members {
		if members == nil {
			members = map[string]Member{}
		}
		if old, ok := members[k]; ok {
			m = Member{Nullable: old.Nullable && m.Nullable, Shape: cmp.Or(old.Shape, m.Shape)}
		}
		members[k] = m
	}
	a.Members = members
	if a.Values == nil {
		a.Values = b.Values
	}
	if a.Items == nil {
		a.Items = b.Items
	}
	a.OneOf = append(slices.Clone(a.OneOf), b.OneOf...)
	return a
}
