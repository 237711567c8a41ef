package httpapi_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"go.yaml.in/yaml/v3"

	"github.com/regulars/regulars/docs"
	"github.com/regulars/regulars/internal/contract"
	"github.com/regulars/regulars/internal/webhook"
)

// mutation is a request body with one member left out or set to null, and
// the JSON Pointer the answer must name (any path under it when prefix).
type mutation struct {
	what   string
	body   any
	path   string
	prefix bool
}

// mutations lists, for a valid body, every required member it holds left out
// and every non-nullable member or item it holds set to null.
func mutations(tab *contract.Table, root any, shape string) []mutation {
	var out []mutation
	var walk func(v any, sh contract.Shape, path []string)
	walk = func(v any, sh contract.Shape, path []string) {
		switch x := v.(type) {
		case map[string]any:
			required, members, values := slices.Clone(sh.Required), maps.Clone(sh.Members), sh.Values
			if members == nil {
				members = map[string]contract.Member{}
			}
			forms := len(sh.OneOf) > 0
			for len(sh.OneOf) > 0 { // the form whose members the body uses
				best, known := contract.Shape{}, -1
				for _, alt := range sh.OneOf {
					form, n := tab.Shapes[alt], 0
					for k := range x {
						if _, ok := form.Members[k]; ok {
							n++
						}
					}
					if n > known {
						best, known = form, n
					}
				}
				required = append(required, best.Required...)
				for k, m := range best.Members {
					if old, ok := members[k]; !ok || old.Shape == "" {
						members[k] = m
					}
				}
				sh = best
			}
			for _, name := range slices.Sorted(maps.Keys(x)) {
				p := append(slices.Clone(path), name)
				if slices.Contains(required, name) {
					if forms { // the answer may name the object, which now fits none of its forms
						out = append(out, mutation{"without " + pointer(p), edit(root, p, false), pointer(path), true})
					} else {
						out = append(out, mutation{"without " + pointer(p), edit(root, p, false), pointer(p), false})
					}
				}
				m, ok := members[name]
				if !ok && values != nil {
					m, ok = *values, true
				}
				if x[name] != nil && ok && !m.Nullable {
					out = append(out, mutation{"null " + pointer(p), edit(root, p, true), pointer(p), false})
				}
				walk(x[name], tab.Shapes[m.Shape], p)
			}
		case []any:
			var m contract.Member
			if sh.Items != nil {
				m = *sh.Items
			}
			for i, el := range x {
				p := append(slices.Clone(path), strconv.Itoa(i))
				if el != nil && sh.Items != nil && !m.Nullable {
					out = append(out, mutation{"null " + pointer(p), edit(root, p, true), pointer(p), false})
				}
				walk(el, tab.Shapes[m.Shape], p)
			}
		}
	}
	walk(root, tab.Shapes[shape], nil)
	return out
}

// names reports whether a problem names path (or, with prefix, a path under it).
func (r reply) names(path string, prefix bool) bool {
	return slices.ContainsFunc(r.paths(), func(p string) bool { return p == path || prefix && strings.HasPrefix(p, path+"/") })
}

func pointer(p []string) string {
	var b strings.Builder
	for _, tok := range p {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	return b.String()
}

// edit returns a deep copy of v with the member at p removed, or set to null.
func edit(v any, p []string, null bool) any {
	b, _ := json.Marshal(v)
	var c any
	_ = json.Unmarshal(b, &c)
	parent := c
	for _, tok := range p[:len(p)-1] {
		switch x := parent.(type) {
		case map[string]any:
			parent = x[tok]
		case []any:
			i, _ := strconv.Atoi(tok)
			parent = x[i]
		}
	}
	last := p[len(p)-1]
	switch x := parent.(type) {
	case map[string]any:
		if null {
			x[last] = nil
		} else {
			delete(x, last)
		}
	case []any:
		i, _ := strconv.Atoi(last)
		x[i] = nil
	}
	return c
}

// requestExamples returns the request body examples of every operation of
// docs/openapi.yaml, by route key.
func requestExamples(t *testing.T) map[string][]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]any{}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			o, _ := op.(map[string]any)
			rb, _ := o["requestBody"].(map[string]any)
			content, _ := rb["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			key := strings.ToUpper(m) + " " + p
			if ex, ok := media["example"]; ok {
				out[key] = append(out[key], ex)
			}
			examples, _ := media["examples"].(map[string]any)
			for _, name := range slices.Sorted(maps.Keys(examples)) {
				out[key] = append(out[key], examples[name].(map[string]any)["value"])
			}
		}
	}
	return out
}

// itemCount counts the items of the test's table.
func (e *env) itemCount() int {
	e.t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(awsCfg), &dynamodb.ScanInput{TableName: aws.String(e.table), Select: "COUNT"})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		n += int(page.Count)
	}
	return n
}

// TestRequestContract walks every operation of docs/openapi.yaml with a
// request body: each of its examples with one required member left out, or
// one member that may not be null set to null, is answered 400 naming that
// member, and nothing is written.
func TestRequestContract(t *testing.T) {
	e := newEnv(t)
	var secrets struct {
		Data []struct {
			Secret string `json:"secret"`
		} `json:"data"`
	}
	e.must(http.StatusCreated, "POST", "/v1/webhook-secrets", e.key, nil).decode(t, &secrets)
	before := e.itemCount()
	ids := strings.NewReplacer("{customerId}", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "{entryId}", "01ARZ3NDEKTSV4RRFFQ69G5FAW",
		"{badgeId}", "01ARZ3NDEKTSV4RRFFQ69G5FAX", "{rewardId}", "01ARZ3NDEKTSV4RRFFQ69G5FAY", "{segmentId}", "01ARZ3NDEKTSV4RRFFQ69G5FAZ",
		"{orderRef}", "T-1001", "{merchantId}", e.merchant.ID)
	tab := contract.Load()
	examples := requestExamples(t)
	tried := 0
	for _, op := range slices.Sorted(maps.Keys(tab.Operations)) {
		method, path, _ := strings.Cut(op, " ")
		if tab.Operations[op] != "" && len(examples[op]) == 0 {
			t.Errorf("%s: docs/openapi.yaml has no request example to derive bodies from", op)
		}
		for _, ex := range examples[op] {
			for _, mu := range mutations(tab, ex, tab.Operations[op]) {
				tried++
				var opts []opt
				if strings.HasPrefix(path, "/v1/webhooks/") {
					body, _ := json.Marshal(mu.body)
					sig, _ := webhook.Sign(secrets.Data[0].Secret, "msg_"+strconv.Itoa(tried), time.Now(), body)
					opts = []opt{header("webhook-id", "msg_"+strconv.Itoa(tried)), header("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10)), header("webhook-signature", sig)}
				}
				r := e.call(method, ids.Replace(path), e.key, mu.body, opts...)
				if r.status != http.StatusBadRequest || !r.names(mu.path, mu.prefix) {
					t.Errorf("%s %s: %d %s, want 400 naming %s", op, mu.what, r.status, r.body, mu.path)
				}
			}
		}
	}
	if tried < 100 {
		t.Errorf("only %d bodies tried", tried)
	}
	if after := e.itemCount(); after != before {
		t.Errorf("%d items written by refused requests", after-before)
	}
}

// TestRequiredMembers: the bodies that used to be taken as zeros.
func TestRequiredMembers(t *testing.T) {
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	for _, tc := range []struct {
		method, path, body, field string
	}{
		{"POST", "/v1/customers/" + c.ID + "/points/balance", `{}`, "/balance"},
		{"POST", "/v1/customers/" + c.ID + "/points/balance", `{"note":"x"}`, "/balance"},
		{"POST", "/v1/customers/" + c.ID + "/points/balance", `{"balance":null}`, "/balance"},
		{"PUT", "/v1/program", `{"version":0,"earning":{},"actions":{},"redemption":{},"refund_policy":"within_balance","expiry_days":0}`, "/enabled"},
		{"PUT", "/v1/program", `{"version":0,"enabled":true,"earning":{},"actions":{},"redemption":{},"refund_policy":"within_balance","expiry_days":0}`, "/earning/step_amount"},
		{"POST", "/v1/rewards", `{"name":"Café","cost":100,"active":null}`, "/active"},
		{"POST", "/v1/customers/" + c.ID + "/checkout/quote", `{"cart":[{"sku":"A","quantity":1}]}`, "/cart/0/unit_price"},
		{"POST", "/v1/customers/" + c.ID + "/checkout/quote", `{"cart":[null]}`, "/cart/0"},
		{"POST", "/v1/customers", `null`, ""},
		{"POST", "/v1/customers", `{"tags":["vip",null]}`, "/tags/1"},
		{"PATCH", "/v1/customers/" + c.ID, `{"type":null}`, "/type"},
		{"POST", "/v1/segments", `{"name":"x","rule":{}}`, "/rule"},
		{"POST", "/v1/segments", `{"name":"x","rule":{"all":[{"field":"tag","value":"vip"}]}}`, "/rule/all/0/op"},
	} {
		r := e.call(tc.method, tc.path, e.key, tc.body)
		if r.status != http.StatusBadRequest || !slices.Contains(r.paths(), tc.field) {
			t.Errorf("%s %s %s: %d %s, want 400 naming %q", tc.method, tc.path, tc.body, r.status, r.body, tc.field)
		}
	}
	var pv struct {
		Version int64 `json:"version"`
	}
	e.must(http.StatusOK, "GET", "/v1/program", e.key, nil).decode(t, &pv)
	if pv.Version != 0 {
		t.Errorf("a refused program was saved: version %d", pv.Version)
	}
	var pts struct {
		Balance int64 `json:"balance"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/points", e.key, nil).decode(t, &pts)
	if pts.Balance != 0 {
		t.Errorf("balance %d", pts.Balance)
	}
}

// TestControlCharacters: a control character in any text member is refused
// with its path instead of being trimmed or stored.
func TestControlCharacters(t *testing.T) {
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	for _, tc := range []struct {
		method, path, body, field string
	}{
		{"POST", "/v1/customers", `{"given_name":"\n"}`, "/given_name"},
		{"POST", "/v1/customers", `{"given_name":"Ana\u0007"}`, "/given_name"},
		{"POST", "/v1/customers", `{"addresses":[{"line1":"Calle\tMayor 1","country":"ES"}]}`, "/addresses/0/line1"},
		{"PATCH", "/v1/customers/" + c.ID, `{"family_name":"\u0085López"}`, "/family_name"},
		{"POST", "/v1/customers/" + c.ID + "/points/entries", `{"points":5,"note":"a\u0000b"}`, "/note"},
		{"POST", "/v1/customers/" + c.ID + "/events", `{"type":"email.open","data":{"subject":"Hola\r\n"}}`, "/data/subject"},
		{"POST", "/v1/rewards", `{"name":"Caf\u007f","cost":10}`, "/name"},
	} {
		r := e.call(tc.method, tc.path, e.key, tc.body)
		if r.status != http.StatusBadRequest || !slices.Contains(r.paths(), tc.field) {
			t.Errorf("%s %s %s: %d %s, want 400 naming %q", tc.method, tc.path, tc.body, r.status, r.body, tc.field)
		}
	}
	var got customer
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID, e.key, nil).decode(t, &got)
	if got.FamilyName != "" {
		t.Errorf("family_name %q stored", got.FamilyName)
	}
}
