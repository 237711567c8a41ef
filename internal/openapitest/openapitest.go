// Package openapitest checks request and response bodies against
// docs/openapi.yaml with a JSON Schema 2020-12 validator, so that tests of the
// API catch any drift between what it answers and what it documents.
//
// It is test support: import it only from _test.go files.
package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/regulars/regulars/docs"
)

// docURL names the document for the schema compiler and in failure messages.
const docURL = "https://regulars.invalid/openapi.json"

// Spec is the parsed OpenAPI document. Its methods may be called from
// parallel tests.
type Spec struct {
	doc      map[string]any
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema // by JSON Pointer into doc
}

// New loads the embedded docs.OpenAPI, failing t if it cannot be read.
func New(t testing.TB) *Spec {
	t.Helper()
	doc, err := load(docs.OpenAPI)
	if err != nil {
		t.Fatalf("openapitest: docs/openapi.yaml: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		t.Fatalf("openapitest: docs/openapi.yaml: %v", err)
	}
	return &Spec{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}
}

// load turns the YAML document into JSON values as the validator wants them
// (numbers as json.Number), through JSON, as the API serves it.
func load(yamlDoc []byte) (map[string]any, error) {
	var v any
	if err := yaml.Unmarshal(yamlDoc, &v); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("convert to JSON: %w", err)
	}
	j, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("convert to JSON: %w", err)
	}
	doc, ok := j.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the document is a %T, not an object", j)
	}
	return doc, nil
}

// ValidateResponse checks that body is what the operation method pathTemplate
// (as in the spec, e.g. "/v1/customers/{customerId}") documents for status:
// valid JSON matching the response schema, or empty when the response has no
// content. It fails t with the reasons otherwise.
func (s *Spec) ValidateResponse(t testing.TB, method, pathTemplate string, status int, body []byte) {
	t.Helper()
	what := fmt.Sprintf("%s %s → %d response", strings.ToUpper(method), pathTemplate, status)
	opPtr, op, err := s.operation(method, pathTemplate)
	if err != nil {
		t.Errorf("openapitest: %s: %v", what, err)
		return
	}
	responses, _ := op["responses"].(map[string]any)
	if _, ok := responses[strconv.Itoa(status)]; !ok {
		declared := slices.Sorted(maps.Keys(responses))
		t.Errorf("openapitest: %s: docs/openapi.yaml does not declare status %d (%s) for this operation; it declares %s",
			what, status, http.StatusText(status), strings.Join(declared, ", "))
		return
	}
	respPtr, resp, err := s.deref(opPtr + "/responses/" + strconv.Itoa(status))
	if err != nil {
		t.Errorf("openapitest: %s: %v", what, err)
		return
	}
	s.validateBody(t, what, respPtr, resp, body)
}

// ValidateRequest checks that body is a request body the operation method
// pathTemplate accepts according to its requestBody schema (an empty body is
// accepted when the request body is optional). It fails t with the reasons
// otherwise.
func (s *Spec) ValidateRequest(t testing.TB, method, pathTemplate string, body []byte) {
	t.Helper()
	what := fmt.Sprintf("%s %s request", strings.ToUpper(method), pathTemplate)
	opPtr, op, err := s.operation(method, pathTemplate)
	if err != nil {
		t.Errorf("openapitest: %s: %v", what, err)
		return
	}
	if _, ok := op["requestBody"]; !ok {
		if len(bytes.TrimSpace(body)) > 0 {
			t.Errorf("openapitest: %s: docs/openapi.yaml declares no request body, got %d bytes: %s", what, len(body), excerpt(body))
		}
		return
	}
	rbPtr, rb, err := s.deref(opPtr + "/requestBody")
	if err != nil {
		t.Errorf("openapitest: %s: %v", what, err)
		return
	}
	if required, _ := rb["required"].(bool); !required && len(bytes.TrimSpace(body)) == 0 {
		return
	}
	s.validateBody(t, what, rbPtr, rb, body)
}

// RequestError is the spec's verdict on a request body of the operation
// method pathTemplate: nil when its schema accepts body, the reasons
// otherwise. Tests use it to compare the spec's answer with the server's.
func (s *Spec) RequestError(method, pathTemplate string, body []byte) error {
	opPtr, _, err := s.operation(method, pathTemplate)
	if err != nil {
		return err
	}
	rbPtr, rb, err := s.deref(opPtr + "/requestBody")
	if err != nil {
		return err
	}
	content, _ := rb["content"].(map[string]any)
	mediaType, err := jsonMediaType(content)
	if err != nil {
		return err
	}
	return s.validate(rbPtr+"/content/"+escape(mediaType)+"/schema", body)
}

// ParameterError is the spec's verdict on the value of the query parameter
// name of the operation method pathTemplate: nil when its schema accepts
// value (as a string), the reasons otherwise.
func (s *Spec) ParameterError(method, pathTemplate, name, value string) error {
	opPtr, op, err := s.operation(method, pathTemplate)
	if err != nil {
		return err
	}
	params, _ := op["parameters"].([]any)
	for i := range params {
		pPtr, p, err := s.deref(fmt.Sprintf("%s/parameters/%d", opPtr, i))
		if err != nil {
			return err
		}
		if p["name"] == name && p["in"] == "query" {
			b, _ := json.Marshal(value)
			return s.validate(pPtr+"/schema", b)
		}
	}
	return fmt.Errorf("docs/openapi.yaml declares no query parameter %q on %s %s", name, strings.ToUpper(method), pathTemplate)
}

// validate checks a JSON document against the schema at ptr.
func (s *Spec) validate(ptr string, doc []byte) error {
	sch, err := s.schema(ptr)
	if err != nil {
		return fmt.Errorf("the schema at %s does not compile: %w", ptr, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// validateBody validates body against the JSON media type of a Request Body
// or Response Object found at ptr.
func (s *Spec) validateBody(t testing.TB, what, ptr string, obj map[string]any, body []byte) {
	t.Helper()
	content, _ := obj["content"].(map[string]any)
	if len(content) == 0 {
		if len(bytes.TrimSpace(body)) > 0 {
			t.Errorf("openapitest: %s: docs/openapi.yaml declares no body, got %d bytes: %s", what, len(body), excerpt(body))
		}
		return
	}
	mediaType, err := jsonMediaType(content)
	if err != nil {
		t.Errorf("openapitest: %s: %v", what, err)
		return
	}
	schemaPtr := ptr + "/content/" + escape(mediaType) + "/schema"
	sch, err := s.schema(schemaPtr)
	if err != nil {
		t.Errorf("openapitest: %s: the schema at %s does not compile: %v", what, schemaPtr, err)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		t.Errorf("openapitest: %s: the body is empty; docs/openapi.yaml declares %s content", what, mediaType)
		return
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("openapitest: %s: the body is not %s: %v\nbody: %s", what, mediaType, err, excerpt(body))
		return
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("openapitest: %s: the body does not match docs/openapi.yaml#%s:\n%s\nbody: %s", what, schemaPtr, causes(err), excerpt(body))
	}
}

// operation returns the Operation Object of method at pathTemplate and its
// JSON Pointer.
func (s *Spec) operation(method, pathTemplate string) (string, map[string]any, error) {
	paths, _ := s.doc["paths"].(map[string]any)
	item, ok := paths[pathTemplate].(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("docs/openapi.yaml has no path %q (use the template, e.g. /v1/customers/{customerId}, not a concrete path)", pathTemplate)
	}
	m := strings.ToLower(method)
	op, ok := item[m].(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("docs/openapi.yaml has no %s operation on %s", strings.ToUpper(method), pathTemplate)
	}
	return "/paths/" + escape(pathTemplate) + "/" + m, op, nil
}

// deref returns the object at ptr, following $ref (local references only),
// and the pointer where it was found.
func (s *Spec) deref(ptr string) (string, map[string]any, error) {
	seen := map[string]bool{}
	for {
		if seen[ptr] {
			return "", nil, fmt.Errorf("$ref cycle at %s", ptr)
		}
		seen[ptr] = true
		v, err := Lookup(s.doc, ptr)
		if err != nil {
			return "", nil, err
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("%s is a %T, not an object", ptr, v)
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return ptr, obj, nil
		}
		if !strings.HasPrefix(ref, "#") {
			return "", nil, fmt.Errorf("%s: only local $ref are supported, got %q", ptr, ref)
		}
		ptr = ref[1:]
	}
}

// schema compiles (once) the schema at ptr.
func (s *Spec) schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.schemas[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	s.schemas[ptr] = sch
	return sch, nil
}

// jsonMediaType picks the media type to validate: application/json when
// declared, otherwise the only JSON one (such as application/problem+json).
func jsonMediaType(content map[string]any) (string, error) {
	if _, ok := content["application/json"]; ok {
		return "application/json", nil
	}
	var found []string
	for mt := range content {
		if strings.HasSuffix(mt, "+json") {
			found = append(found, mt)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("expected exactly one JSON media type, docs/openapi.yaml declares %s",
			strings.Join(slices.Sorted(maps.Keys(content)), ", "))
	}
	return found[0], nil
}

// lookup resolves a JSON Pointer (RFC 6901) in v.
// Lookup resolves a JSON Pointer (RFC 6901) in a decoded JSON document.
func Lookup(v any, ptr string) (any, error) {
	if ptr == "" {
		return v, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("%q is not a JSON Pointer", ptr)
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[tok]
			if !ok {
				return nil, fmt.Errorf("%s does not resolve: no member %q", ptr, tok)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("%s does not resolve: no item %q", ptr, tok)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%s does not resolve: %q is inside a %T", ptr, tok, v)
		}
	}
	return v, nil
}

// escape escapes a JSON Pointer reference token.
func escape(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// causes is a validation error without its first line, which only repeats
// the schema's location.
func causes(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "\n"); ok {
		return rest
	}
	return msg
}

// excerpt shortens a body for a failure message.
func excerpt(body []byte) string {
	const max = 2048
	if len(body) > max {
		return string(body[:max]) + fmt.Sprintf("… (%d bytes in all)", len(body))
	}
	return string(body)
}
