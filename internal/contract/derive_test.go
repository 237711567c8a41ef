package contract

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/regulars/regulars/docs"
)

var update = flag.Bool("update", false, "rewrite contract.json from docs/openapi.yaml")

// methods are the operation members of a Path Item Object.
var methods = []string{"get", "put", "post", "delete", "patch"}

// deriver builds a Table from the spec.
type deriver struct {
	doc    map[string]any
	shapes map[string]Shape
	done   map[string]bool // shapes derived or being derived (recursion)
	errs   []string
}

// derive reads the member rules of every JSON request body of the spec.
func derive(t *testing.T) *Table {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	d := &deriver{doc: doc, shapes: map[string]Shape{}, done: map[string]bool{}}
	tab := &Table{Operations: map[string]string{}, Shapes: d.shapes}
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item, _ := paths[p].(map[string]any)
		for _, m := range methods {
			op, ok := item[m].(map[string]any)
			if !ok || op["requestBody"] == nil {
				continue
			}
			rbPtr := d.canonical("/paths/" + token(p) + "/" + m + "/requestBody")
			rb, _ := d.at(rbPtr).(map[string]any)
			content, _ := rb["content"].(map[string]any)
			mt := "application/json"
			if content[mt] == nil {
				for _, k := range slices.Sorted(maps.Keys(content)) {
					if strings.HasSuffix(k, "+json") {
						mt = k
						break
					}
				}
			}
			if content[mt] == nil {
				continue // not a JSON body
			}
			tab.Operations[strings.ToUpper(m)+" "+p] = d.shapeOf(rbPtr + "/content/" + token(mt) + "/schema")
		}
	}
	if len(d.errs) > 0 {
		t.Fatalf("docs/openapi.yaml:\n%s", strings.Join(d.errs, "\n"))
	}
	return tab
}

// shapeOf derives the shape of the schema at ptr and returns its name, or ""
// when the schema sets no member rule.
func (d *deriver) shapeOf(ptr string) string {
	name := d.canonical(ptr)
	if d.done[name] {
		if _, ok := d.shapes[name]; ok || d.inProgress(name) {
			return name
		}
		return ""
	}
	d.done[name] = true
	d.shapes[name] = Shape{} // placeholder while recursing
	sh := d.collect(name)
	if isEmpty(sh) {
		delete(d.shapes, name)
		return ""
	}
	d.shapes[name] = sh
	return name
}

func (d *deriver) inProgress(name string) bool {
	sh, ok := d.shapes[name]
	return ok && isEmpty(sh)
}

func isEmpty(sh Shape) bool {
	return len(sh.Required) == 0 && len(sh.Members) == 0 && sh.Values == nil && sh.Items == nil && len(sh.OneOf) == 0
}

// collect gathers the rules of the schema at ptr, its $ref and its allOf
// parts; a oneOf/anyOf with one non-null structured alternative is that
// alternative, with several they are the shape's forms.
func (d *deriver) collect(ptr string) Shape {
	s, _ := d.at(ptr).(map[string]any)
	var sh Shape
	if ref, ok := s["$ref"].(string); ok {
		sh = merge(sh, d.collect(d.canonical(strings.TrimPrefix(ref, "#"))))
	}
	if parts, ok := s["allOf"].([]any); ok {
		for i := range parts {
			sh = merge(sh, d.collect(d.canonical(fmt.Sprintf("%s/allOf/%d", ptr, i))))
		}
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		alts, _ := s[kw].([]any)
		var forms []string
		for i := range alts {
			n := d.shapeOf(fmt.Sprintf("%s/%s/%d", ptr, kw, i))
			switch alt := d.shapes[n]; {
			case n == "":
			case len(alt.Required) == 0 && len(alt.Members) == 0 && len(alt.OneOf) == 0:
				sh = merge(sh, alt) // an array or a map: its items' rules hold in any form
			default:
				forms = append(forms, n)
			}
		}
		switch {
		case len(forms) == 1:
			sh = merge(sh, d.shapes[forms[0]])
		case len(forms) > 1:
			sh.OneOf = append(sh.OneOf, forms...)
		}
	}
	props, _ := s["properties"].(map[string]any)
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			name, _ := r.(string)
			if props != nil && props[name] == nil && !d.declares(sh, name) {
				d.errs = append(d.errs, fmt.Sprintf("%s: required member %q is not among its properties", ptr, name))
			}
			if !slices.Contains(sh.Required, name) {
				sh.Required = append(sh.Required, name)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(props)) {
		p := ptr + "/properties/" + token(name)
		if m := d.member(p); m != (Member{Nullable: true}) {
			if sh.Members == nil {
				sh.Members = map[string]Member{}
			}
			sh.Members[name] = m
		}
	}
	if _, ok := s["items"].(map[string]any); ok {
		if m := d.member(ptr + "/items"); m != (Member{Nullable: true}) {
			sh.Items = &m
		}
	}
	if _, ok := s["additionalProperties"].(map[string]any); ok {
		if m := d.member(ptr + "/additionalProperties"); m != (Member{Nullable: true}) {
			sh.Values = &m
		}
	}
	return sh
}

func (d *deriver) declares(sh Shape, name string) bool {
	_, ok := sh.Members[name]
	return ok
}

func (d *deriver) member(ptr string) Member {
	return Member{Nullable: d.acceptsNull(ptr), Shape: d.shapeOf(ptr)}
}

// acceptsNull reports whether the schema at ptr lets null through: every
// keyword that constrains the type must allow it.
func (d *deriver) acceptsNull(ptr string) bool {
	s, _ := d.at(ptr).(map[string]any)
	if ref, ok := s["$ref"].(string); ok && !d.acceptsNull(strings.TrimPrefix(ref, "#")) {
		return false
	}
	switch ty := s["type"].(type) {
	case string:
		if ty != "null" {
			return false
		}
	case []any:
		if !slices.Contains(ty, any("null")) {
			return false
		}
	}
	if c, ok := s["const"]; ok && c != nil {
		return false
	}
	if e, ok := s["enum"].([]any); ok && !slices.Contains(e, nil) {
		return false
	}
	for _, kw := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[kw].([]any); ok {
			any := false
			for i := range alts {
				any = any || d.acceptsNull(fmt.Sprintf("%s/%s/%d", ptr, kw, i))
			}
			if !any {
				return false
			}
		}
	}
	if parts, ok := s["allOf"].([]any); ok {
		for i := range parts {
			if !d.acceptsNull(fmt.Sprintf("%s/allOf/%d", ptr, i)) {
				return false
			}
		}
	}
	return true
}

// canonical follows a schema that is only a $ref (with annotations or bounds
// beside it) to the schema it names.
func (d *deriver) canonical(ptr string) string {
	for range 20 {
		s, _ := d.at(ptr).(map[string]any)
		ref, ok := s["$ref"].(string)
		if !ok {
			return ptr
		}
		for k := range s {
			switch k {
			case "$ref", "description", "example", "examples", "minimum", "maximum", "minLength", "maxLength", "default", "title", "deprecated":
			default:
				return ptr
			}
		}
		ptr = strings.TrimPrefix(ref, "#")
	}
	d.errs = append(d.errs, ptr+": $ref chain too long")
	return ptr
}

// at resolves a JSON Pointer in the spec.
func (d *deriver) at(ptr string) any {
	var v any = d.doc
	for _, tok := range strings.Split(ptr, "/")[1:] {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			var i int
			if _, err := fmt.Sscan(tok, &i); err != nil || i < 0 || i >= len(x) {
				d.errs = append(d.errs, ptr+" does not resolve")
				return nil
			}
			v = x[i]
		default:
			d.errs = append(d.errs, ptr+" does not resolve")
			return nil
		}
	}
	return v
}

func token(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

// TestContractIsTheSpec keeps contract.json equal to what docs/openapi.yaml
// declares; -update rewrites it.
func TestContractIsTheSpec(t *testing.T) {
	want, err := json.MarshalIndent(derive(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile("contract.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(embedded, want) {
		t.Fatal("contract.json is not what docs/openapi.yaml declares: run go test ./internal/contract -run TestContractIsTheSpec -update")
	}
}
