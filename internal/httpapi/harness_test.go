package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/infra/template"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/openapitest"
	"github.com/regulars/regulars/internal/tenant"
)

var (
	awsCfg   aws.Config
	spec     *openapitest.Spec
	specOnce sync.Once
)

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

// env is one test's API: a fresh table, the gateway built from template.yaml
// exactly as `make run` builds it, and a merchant with an admin key.
type env struct {
	t        *testing.T
	url      string
	store    *dynamo.Store
	tmpl     *template.Template
	table    string
	res      localstack.Resources
	merchant tenant.Merchant
	key      string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	path, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	specOnce.Do(func() { spec = openapitest.New(t) })
	res := localstack.ProvisionTest(t, awsCfg)
	gw, err := devserver.Gateway(t.Context(), tmpl, res, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	table := res.Ref("Table")
	e := &env{t: t, url: srv.URL, tmpl: tmpl, table: table, res: res, store: dynamo.New(dynamodb.NewFromConfig(awsCfg), table)}
	e.merchant, e.key = e.newMerchant("Café Central")
	return e
}

// newMerchant creates another tenant in the same table and returns its admin key.
func (e *env) newMerchant(name string) (tenant.Merchant, string) {
	e.t.Helper()
	m, key, err := seed.Merchant(e.t.Context(), e.store, name, "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return m, key
}

// keyFor creates another key of a merchant.
func (e *env) keyFor(mid string, scope tenant.Scope) string {
	e.t.Helper()
	key, err := seed.Key(e.t.Context(), e.store, mid, "test", scope, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return key
}

type reply struct {
	status  int
	header  http.Header
	body    []byte
	problem struct {
		Type       string `json:"type"`
		Status     int    `json:"status"`
		Detail     string `json:"detail"`
		ExistingID string `json:"existing_id"`
		Errors     []struct {
			Path    string `json:"path"`
			Message string `json:"message"`
		} `json:"errors"`
	}
}

// paths returns the field paths of a problem document.
func (r reply) paths() []string {
	var out []string
	for _, e := range r.problem.Errors {
		out = append(out, e.Path)
	}
	return out
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

type opt func(*http.Request)

func header(k, v string) opt { return func(r *http.Request) { r.Header.Set(k, v) } }

// call makes a request with a key ("" for none) and a body (a string is sent
// as is; anything else is encoded as JSON).
func (e *env) call(method, path, key string, body any, opts ...opt) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := reply{status: resp.StatusCode, header: resp.Header}
	if out.body, err = io.ReadAll(resp.Body); err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			e.t.Fatalf("%s %s: %d with Content-Type %q, want application/problem+json: %s", method, path, resp.StatusCode, ct, out.body)
		}
		if err := json.Unmarshal(out.body, &out.problem); err != nil {
			e.t.Fatalf("problem document: %v: %s", err, out.body)
		}
		if out.problem.Status != resp.StatusCode {
			e.t.Fatalf("problem status %d != HTTP status %d", out.problem.Status, resp.StatusCode)
		}
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable { // 503: out of time, a documented answer
		e.t.Fatalf("%s %s answered %d: %s", method, path, resp.StatusCode, out.body)
	}
	// Every answer must be what docs/openapi.yaml promises for that route and status.
	if tmplPath, ok := e.routeOf(method, req.URL.Path); ok {
		spec.ValidateResponse(e.t, method, tmplPath, resp.StatusCode, out.body)
	} else {
		e.t.Fatalf("%s %s matches no route of template.yaml", method, path)
	}
	return out
}

// routeOf finds the template path of the route that serves method and path.
func (e *env) routeOf(method, path string) (string, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, rk := range e.routeKeys() {
		m, tmplPath, _ := strings.Cut(rk, " ")
		segs := strings.Split(strings.Trim(tmplPath, "/"), "/")
		if m != method || len(segs) != len(parts) {
			continue
		}
		match := true
		for i, s := range segs {
			if !strings.HasPrefix(s, "{") && s != parts[i] {
				match = false
				break
			}
		}
		if match {
			return tmplPath, true
		}
	}
	return "", false
}

// must checks a status and returns the reply.
func (e *env) must(status int, method, path, key string, body any, opts ...opt) reply {
	e.t.Helper()
	r := e.call(method, path, key, body, opts...)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

type customer struct {
	ID            string            `json:"id"`
	GivenName     string            `json:"given_name"`
	FamilyName    string            `json:"family_name"`
	Email         string            `json:"email"`
	Phone         string            `json:"phone"`
	CardNumber    string            `json:"card_number"`
	Tags          []string          `json:"tags"`
	Favorite      bool              `json:"favorite"`
	Attributes    map[string]string `json:"attributes"`
	State         string            `json:"state"`
	Type          string            `json:"type"`
	Active        bool              `json:"active"`
	PointsBalance *int64            `json:"points_balance"`
	Metrics       map[string]any    `json:"metrics"`
}

func (e *env) create(body map[string]any) customer {
	e.t.Helper()
	var c customer
	e.must(http.StatusCreated, "POST", "/v1/customers", e.key, body).decode(e.t, &c)
	return c
}

// itemsOf scans the whole table for items that mention id anywhere: after an
// erasure there must be none.
func (e *env) itemsOf(id string) []string {
	e.t.Helper()
	var found []string
	p := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(awsCfg), &dynamodb.ScanInput{TableName: aws.String(e.table)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.t.Context())
		if err != nil {
			e.t.Fatal(err)
		}
		for _, item := range page.Items {
			// Decoded first: the raw attribute values print as pointers. %s
			// prints strings and binary values (stored bodies) as text.
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				e.t.Fatal(err)
			}
			if s := fmt.Sprintf("%s", m); strings.Contains(s, id) {
				found = append(found, s)
			}
		}
	}
	return found
}
