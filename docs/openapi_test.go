package docs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/regulars/regulars/docs"
	"github.com/regulars/regulars/infra/template"
	"github.com/regulars/regulars/internal/openapitest"
)

// docURL names the document for the schema compiler.
const docURL = "https://regulars.invalid/openapi.json"

// methods are the operation members of a Path Item Object.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestYAMLIsPlainJSON checks that the document converts to JSON as the API
// serves it: no anchors, aliases or merge keys, and only string keys.
func TestYAMLIsPlainJSON(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(docs.OpenAPI, &root); err != nil {
		t.Fatalf("docs/openapi.yaml is not YAML: %v", err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Anchor != "" {
			t.Errorf("docs/openapi.yaml:%d: anchor &%s: write the value out instead", n.Line, n.Anchor)
		}
		if n.Kind == yaml.AliasNode {
			t.Errorf("docs/openapi.yaml:%d: alias *%s: write the value out instead", n.Line, n.Value)
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i < len(n.Content); i += 2 {
				if k := n.Content[i]; k.Tag != "!!str" {
					t.Errorf("docs/openapi.yaml:%d: key %s is a %s, not a string: quote it (or drop the merge key)", k.Line, k.Value, k.Tag)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	load(t)
}

// TestRoutesMatchTemplate checks that the document describes exactly the
// HttpApi routes of template.yaml.
func TestRoutesMatchTemplate(t *testing.T) {
	path, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, f := range tpl.Functions {
		for _, r := range f.Routes {
			routes[r.Key()] = true
		}
	}
	if len(routes) == 0 {
		t.Fatalf("%s declares no HttpApi routes", path)
	}
	documented := map[string]bool{}
	for p, item := range object(load(t)["paths"]) {
		for _, m := range methods {
			if _, ok := object(item)[m]; ok {
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	for _, r := range slices.Sorted(maps.Keys(routes)) {
		if !documented[r] {
			t.Errorf("%s is a route in template.yaml but not an operation in docs/openapi.yaml", r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(documented)) {
		if !routes[r] {
			t.Errorf("%s is an operation in docs/openapi.yaml but not a route in template.yaml", r)
		}
	}
}

// TestStructure checks what a valid OpenAPI 3.1 document needs and the
// conventions of this API that every operation shares.
func TestStructure(t *testing.T) {
	doc := load(t)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi is %v, want 3.1.0", doc["openapi"])
	}
	if d := doc["jsonSchemaDialect"]; d != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("jsonSchemaDialect is %v, want the JSON Schema 2020-12 dialect", d)
	}
	info := object(doc["info"])
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs a title and a version, got %v", info)
	}

	walkJSON(doc, "", func(ptr string, obj map[string]any) {
		ref, ok := obj["$ref"]
		if !ok {
			return
		}
		s, _ := ref.(string)
		if !strings.HasPrefix(s, "#/") {
			t.Errorf("#%s/$ref: %v is not a reference within the document", ptr, ref)
		} else if _, err := openapitest.Lookup(doc, s[1:]); err != nil {
			t.Errorf("#%s/$ref: %v", ptr, err)
		}
	})

	schemes := object(object(doc["components"])["securitySchemes"])
	for _, req := range array(doc["security"]) {
		for name := range object(req) {
			if _, ok := schemes[name]; !ok {
				t.Errorf("security names %q, which is not in components/securitySchemes", name)
			}
		}
	}

	ids := map[string]string{}
	for _, op := range operations(t, doc) {
		if op.id == "" {
			t.Errorf("%s has no operationId", op.key)
		} else if other, dup := ids[op.id]; dup {
			t.Errorf("%s and %s share the operationId %q", other, op.key, op.id)
		}
		ids[op.id] = op.key
		checkPathParameters(t, doc, op)
		checkResponses(t, doc, op)
	}

	c := compiler(t, doc)
	for name := range object(object(doc["components"])["schemas"]) {
		if _, err := c.Compile(docURL + "#/components/schemas/" + escape(name)); err != nil {
			t.Errorf("components/schemas/%s is not a valid JSON Schema 2020-12 schema: %v", name, err)
		}
	}
}

// checkPathParameters checks that the {names} of the path template and the
// path parameters of the operation are the same, and required.
func checkPathParameters(t *testing.T, doc map[string]any, op operation) {
	t.Helper()
	inTemplate := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(op.path, -1) {
		inTemplate[m[1]] = true
	}
	declared := map[string]bool{}
	for _, p := range op.parameters {
		param := deref(doc, p)
		if param["in"] != "path" {
			continue
		}
		name, _ := param["name"].(string)
		declared[name] = true
		if param["required"] != true {
			t.Errorf("%s: path parameter %s must be required", op.key, name)
		}
		if !inTemplate[name] {
			t.Errorf("%s: path parameter %s is not in the path template", op.key, name)
		}
	}
	for name := range inTemplate {
		if !declared[name] {
			t.Errorf("%s: {%s} is not declared as a path parameter", op.key, name)
		}
	}
}

// checkResponses checks the statuses every operation must document, from
// what internal/httpapi does before and around the handlers.
func checkResponses(t *testing.T, doc map[string]any, op operation) {
	t.Helper()
	responses := object(op.obj["responses"])
	if len(responses) == 0 {
		t.Errorf("%s has no responses", op.key)
		return
	}
	var want []string
	if !op.public {
		want = append(want, "401", "500")
	}
	if op.method != "GET" && !op.signed {
		want = append(want, "403")
	}
	if op.obj["requestBody"] != nil {
		want = append(want, "400", "413", "415")
	}
	if op.method == "POST" && !op.signed {
		want = append(want, "409", "422")
		if !slices.ContainsFunc(op.parameters, func(p any) bool { return deref(doc, p)["name"] == "Idempotency-Key" }) {
			t.Errorf("%s does not take the Idempotency-Key header", op.key)
		}
	}
	for _, status := range want {
		if _, ok := responses[status]; !ok {
			t.Errorf("%s does not document %s", op.key, status)
		}
	}
	for status, r := range responses {
		code, err := strconv.Atoi(status)
		if err != nil || code < 100 || code > 599 {
			t.Errorf("%s: response %q is not an HTTP status code", op.key, status)
			continue
		}
		resp := deref(doc, r)
		if resp == nil {
			continue // reported as a $ref that does not resolve
		}
		content := object(resp["content"])
		if code >= 400 {
			if len(content) != 1 || content["application/problem+json"] == nil {
				t.Errorf("%s: %d must be answered with application/problem+json only, got %v", op.key, code, slices.Sorted(maps.Keys(content)))
			}
		}
	}
}

// TestExamplesMatchSchemas validates every example of the document (of
// request and response bodies, parameters, headers and schemas) against its
// schema with a JSON Schema 2020-12 validator that asserts formats.
func TestExamplesMatchSchemas(t *testing.T) {
	doc := load(t)
	c := compiler(t, doc)
	n := 0
	for _, ex := range examples(t, doc) {
		sch, err := c.Compile(docURL + "#" + ex.schema)
		if err != nil {
			t.Errorf("the schema #%s of the example #%s does not compile: %v", ex.schema, ex.at, err)
			continue
		}
		v, err := openapitest.Lookup(doc, ex.at)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("the example #%s does not match its schema #%s:\n%v", ex.at, ex.schema, err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("found no examples")
	}
	t.Logf("%d examples validated", n)
}

// TestBodiesHaveExamples checks that every request body and every successful
// response body of every operation has an example.
func TestBodiesHaveExamples(t *testing.T) {
	doc := load(t)
	for _, op := range operations(t, doc) {
		bodies := map[string]any{}
		if rb, ok := op.obj["requestBody"]; ok {
			bodies["request body"] = rb
		}
		for status, r := range object(op.obj["responses"]) {
			if strings.HasPrefix(status, "2") {
				bodies[status+" response"] = r
			}
		}
		for what, b := range bodies {
			for mt, media := range object(deref(doc, b)["content"]) {
				if object(media)["example"] == nil && len(object(object(media)["examples"])) == 0 {
					t.Errorf("%s: the %s (%s) has no example", op.key, what, mt)
				}
			}
		}
	}
}

// example is an example value and the schema it must match, as JSON Pointers.
type example struct{ at, schema string }

// examples lists every example of the document.
func examples(t *testing.T, doc map[string]any) []example {
	var out []example
	// carrier collects the examples of a Media Type, Parameter or Header Object.
	carrier := func(ptr string, v any) {
		obj := object(v)
		if obj == nil || obj["$ref"] != nil || obj["schema"] == nil {
			return
		}
		out = append(out, schemaExamples(ptr+"/schema", object(obj["schema"]))...)
		if _, ok := obj["example"]; ok {
			out = append(out, example{ptr + "/example", ptr + "/schema"})
		}
		for name, ex := range object(obj["examples"]) {
			at := ptr + "/examples/" + escape(name)
			if object(ex)["$ref"] != nil || !hasKey(object(ex), "value") {
				t.Errorf("#%s: write the example's value inline", at)
				continue
			}
			out = append(out, example{at + "/value", ptr + "/schema"})
		}
	}
	// withContent collects the examples of a Request Body or Response Object.
	withContent := func(ptr string, v any) {
		for mt, media := range object(object(v)["content"]) {
			carrier(ptr+"/content/"+escape(mt), media)
		}
		for name, h := range object(object(v)["headers"]) {
			carrier(ptr+"/headers/"+escape(name), h)
		}
	}
	components := object(doc["components"])
	for name, s := range object(components["schemas"]) {
		out = append(out, schemaExamples("/components/schemas/"+escape(name), object(s))...)
	}
	for name, p := range object(components["parameters"]) {
		carrier("/components/parameters/"+escape(name), p)
	}
	for name, h := range object(components["headers"]) {
		carrier("/components/headers/"+escape(name), h)
	}
	for name, rb := range object(components["requestBodies"]) {
		withContent("/components/requestBodies/"+escape(name), rb)
	}
	for name, r := range object(components["responses"]) {
		withContent("/components/responses/"+escape(name), r)
	}
	for p, item := range object(doc["paths"]) {
		itemPtr := "/paths/" + escape(p)
		for i, param := range array(object(item)["parameters"]) {
			carrier(fmt.Sprintf("%s/parameters/%d", itemPtr, i), param)
		}
		for _, m := range methods {
			op := object(object(item)[m])
			if op == nil {
				continue
			}
			opPtr := itemPtr + "/" + m
			for i, param := range array(op["parameters"]) {
				carrier(fmt.Sprintf("%s/parameters/%d", opPtr, i), param)
			}
			if rb, ok := op["requestBody"]; ok {
				withContent(opPtr+"/requestBody", rb)
			}
			for status, r := range object(op["responses"]) {
				withContent(opPtr+"/responses/"+escape(status), r)
			}
		}
	}
	return out
}

// schemaExamples lists the example and examples of a schema and of its
// subschemas.
func schemaExamples(ptr string, sch map[string]any) []example {
	if sch == nil {
		return nil
	}
	var out []example
	if _, ok := sch["example"]; ok {
		out = append(out, example{ptr + "/example", ptr})
	}
	for i := range array(sch["examples"]) {
		out = append(out, example{fmt.Sprintf("%s/examples/%d", ptr, i), ptr})
	}
	for _, kw := range []string{"properties", "patternProperties", "$defs", "dependentSchemas"} {
		for name, sub := range object(sch[kw]) {
			out = append(out, schemaExamples(ptr+"/"+kw+"/"+escape(name), object(sub))...)
		}
	}
	for _, kw := range []string{"items", "additionalProperties", "not", "if", "then", "else", "contains",
		"propertyNames", "unevaluatedItems", "unevaluatedProperties"} {
		out = append(out, schemaExamples(ptr+"/"+kw, object(sch[kw]))...)
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf", "prefixItems"} {
		for i, sub := range array(sch[kw]) {
			out = append(out, schemaExamples(fmt.Sprintf("%s/%s/%d", ptr, kw, i), object(sub))...)
		}
	}
	return out
}

// operation is one Operation Object of the document.
type operation struct {
	key          string // "METHOD /path"
	method, path string
	id           string
	public       bool  // security: []
	signed       bool  // a webhook signature: no API key scopes, and webhook-id instead of Idempotency-Key
	parameters   []any // of the Path Item and of the operation
	obj          map[string]any
}

func operations(t *testing.T, doc map[string]any) []operation {
	t.Helper()
	var out []operation
	for p, item := range object(doc["paths"]) {
		for _, m := range methods {
			op := object(object(item)[m])
			if op == nil {
				continue
			}
			id, _ := op["operationId"].(string)
			sec, hasSec := op["security"]
			signed := slices.ContainsFunc(array(sec), func(req any) bool { return object(req)["webhookSignature"] != nil })
			out = append(out, operation{
				key: strings.ToUpper(m) + " " + p, method: strings.ToUpper(m), path: p, id: id,
				public:     hasSec && len(array(sec)) == 0,
				signed:     signed,
				parameters: append(slices.Clone(array(object(item)["parameters"])), array(op["parameters"])...),
				obj:        op,
			})
		}
	}
	if len(out) == 0 {
		t.Fatal("docs/openapi.yaml has no operations")
	}
	slices.SortFunc(out, func(a, b operation) int { return strings.Compare(a.key, b.key) })
	return out
}

// load parses the embedded document into JSON values (numbers as
// json.Number), through JSON, as the API serves it.
func load(t *testing.T) map[string]any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(docs.OpenAPI, &v); err != nil {
		t.Fatalf("docs/openapi.yaml is not YAML: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("docs/openapi.yaml does not convert to JSON: %v", err)
	}
	j, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("docs/openapi.yaml does not convert to JSON: %v", err)
	}
	doc := object(j)
	if doc == nil {
		t.Fatalf("docs/openapi.yaml is a %T, not an object", j)
	}
	return doc
}

func compiler(t *testing.T, doc map[string]any) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		t.Fatal(err)
	}
	return c
}

// deref follows the $ref of a Parameter, Request Body or Response Object; it
// is nil when a reference does not resolve (TestStructure reports those).
func deref(doc map[string]any, v any) map[string]any {
	obj := object(v)
	for obj != nil && obj["$ref"] != nil {
		ref, _ := obj["$ref"].(string)
		target, err := openapitest.Lookup(doc, strings.TrimPrefix(ref, "#"))
		if err != nil {
			return nil
		}
		obj = object(target)
	}
	return obj
}

// walkJSON calls fn on every object of v, with its JSON Pointer.
func walkJSON(v any, ptr string, fn func(ptr string, obj map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(ptr, x)
		for k, sub := range x {
			walkJSON(sub, ptr+"/"+escape(k), fn)
		}
	case []any:
		for i, sub := range x {
			walkJSON(sub, ptr+"/"+strconv.Itoa(i), fn)
		}
	}
}

func escape(tok string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok) }

func object(v any) map[string]any { m, _ := v.(map[string]any); return m }

func array(v any) []any { a, _ := v.([]any); return a }

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }
