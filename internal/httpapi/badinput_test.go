package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestBadInput: every route answers bad input with a 4xx problem that names
// the offending field, and writes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana", "email": "ana@example.com"})
	cust := "/v1/customers/" + c.ID
	huge := `{"given_name":"` + strings.Repeat("x", 1<<20) + `"}`
	for _, tc := range []struct {
		name, method, path string
		body               any
		opts               []opt
		status             int
		field              string // a path the problem must name; "" to skip
	}{
		{"empty body", "POST", "/v1/customers", "", nil, 400, ""},
		{"malformed JSON", "POST", "/v1/customers", `{"email":`, nil, 400, ""},
		{"array, not object", "POST", "/v1/customers", `[]`, nil, 400, ""},
		{"duplicate member", "POST", "/v1/customers", `{"email":"a@b.es","email":"c@d.es"}`, nil, 400, "/email"},
		{"unknown member", "POST", "/v1/customers", `{"nick":"x"}`, nil, 400, "/nick"},
		{"computed member", "POST", "/v1/customers", `{"ltv":1}`, nil, 400, "/ltv"},
		{"wrong type", "POST", "/v1/customers", `{"favorite":"yes"}`, nil, 400, "/favorite"},
		{"nested wrong type", "POST", "/v1/customers", `{"addresses":[{"line1":5,"country":"ES"}]}`, nil, 400, "/addresses/0/line1"},
		{"float for bool", "POST", "/v1/customers", `{"newsletter_consent":1.5}`, nil, 400, "/newsletter_consent"},
		{"invalid email", "POST", "/v1/customers", `{"email":"nope"}`, nil, 400, "/email"},
		{"invalid phone", "POST", "/v1/customers", `{"phone":"612"}`, nil, 400, "/phone"},
		{"invalid birthday", "POST", "/v1/customers", `{"birthday":"31/12/1990"}`, nil, 400, "/birthday"},
		{"invalid state", "POST", "/v1/customers", `{"state":"suspended"}`, nil, 400, "/state"},
		{"invalid enrolled_at", "POST", "/v1/customers", `{"enrolled_at":"yesterday"}`, nil, 400, "/enrolled_at"},
		{"too many tags", "POST", "/v1/customers", map[string]any{"tags": make([]string, 51)}, nil, 400, "/tags"},
		{"bad address", "POST", "/v1/customers", `{"addresses":[{"line1":"Gran Vía 1","city":"Madrid","country":"Spain"}]}`, nil, 400, "/addresses/0/country"},
		{"invalid UTF-8", "POST", "/v1/customers", "{\"given_name\":\"\xff\"}", nil, 400, ""},
		{"body over 1 MiB", "POST", "/v1/customers", huge, nil, 413, ""},
		{"not JSON", "POST", "/v1/customers", `email=a@b.es`, []opt{header("Content-Type", "application/x-www-form-urlencoded")}, 415, ""},
		{"binary body", "POST", "/v1/customers", []byte{0xff, 0x00}, []opt{header("Content-Type", "application/octet-stream")}, 415, ""},
		{"patch malformed", "PATCH", cust, `{`, nil, 400, ""},
		{"patch invalid email", "PATCH", cust, `{"email":"x@"}`, nil, 400, "/email"},
		{"patch attributes", "PATCH", cust, `{"attributes":{"a b":"x"}}`, nil, 400, "/attributes/a b"},
		{"patch attributes type", "PATCH", cust, `{"attributes":{"a":1}}`, nil, 400, "/attributes/a"},
		{"patch over 1 MiB", "PATCH", cust, huge, nil, 413, ""},
		{"suspend with garbage", "POST", cust + "/suspend", `{"why":"x"}`, nil, 400, "/why"},
		{"reactivate malformed", "POST", cust + "/reactivate", `nope`, nil, 400, ""},
		{"merge without duplicate", "POST", cust + "/merge", `{}`, nil, 400, "/duplicate_id"},
		{"merge into itself", "POST", cust + "/merge", map[string]any{"duplicate_id": c.ID}, nil, 400, "/duplicate_id"},
		{"merge malformed duplicate", "POST", cust + "/merge", `{"duplicate_id":"42"}`, nil, 400, "/duplicate_id"},
		{"merge duplicate type", "POST", cust + "/merge", `{"duplicate_id":7}`, nil, 400, "/duplicate_id"},
		{"merge unknown member", "POST", cust + "/merge", `{"duplicate_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","keep":"x"}`, nil, 400, "/keep"},
		{"merge unknown duplicate", "POST", cust + "/merge", `{"duplicate_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}`, nil, 404, ""},
		{"key scope", "POST", "/v1/api-keys", `{"scope":"root"}`, nil, 400, "/scope"},
		{"key name", "POST", "/v1/api-keys", map[string]any{"scope": "read", "name": strings.Repeat("n", 101)}, nil, 400, "/name"},
		{"key unknown", "POST", "/v1/api-keys", `{"scope":"read","secret":"x"}`, nil, 400, "/secret"},
		{"list limit", "GET", "/v1/customers?limit=0", nil, nil, 400, "?limit"},
		{"list limit text", "GET", "/v1/customers?limit=ten", nil, nil, 400, "?limit"},
		{"list limit high", "GET", "/v1/customers?limit=101", nil, nil, 400, "?limit"},
		{"list order", "GET", "/v1/customers?order=revenue", nil, nil, 400, "?order"},
		{"list ltv range", "GET", "/v1/customers?ltv_min=500&ltv_max=100", nil, nil, 400, "?ltv_max"},
		{"list balance bound", "GET", "/v1/customers?balance_min=mucho", nil, nil, 400, "?balance_min"},
		{"list last visit range", "GET", "/v1/customers?last_visit_from=2025-06-01&last_visit_to=2025-05-01", nil, nil, 400, "?last_visit_to"},
		{"list last visit date", "GET", "/v1/customers?last_visit_from=01/05/2025", nil, nil, 400, "?last_visit_from"},
		{"list activity", "GET", "/v1/customers?activity=sleepy", nil, nil, 400, "?activity"},
		{"list state", "GET", "/v1/customers?state=gone", nil, nil, 400, "?state"},
		{"list type", "GET", "/v1/customers?type=vip", nil, nil, 400, "?type"},
		{"list favorite", "GET", "/v1/customers?favorite=maybe", nil, nil, 400, "?favorite"},
		{"list tag", "GET", "/v1/customers?tag=%21%21", nil, nil, 400, "?tag"},
		{"list unknown", "GET", "/v1/customers?sort=name", nil, nil, 400, "?sort"},
		{"list bad email search", "GET", "/v1/customers?q=a%40", nil, nil, 400, "?q"},
		{"list cursor", "GET", "/v1/customers?cursor=%7B%7D", nil, nil, 400, "?cursor"},
		{"customer id", "GET", "/v1/customers/42", nil, nil, 404, ""},
		{"customer id patch", "PATCH", "/v1/customers/01ARZ3NDEKTSV4RRFFQ69G5FAV", `{}`, nil, 404, ""},
		{"customer id lower-case", "GET", strings.ToLower(cust), nil, nil, 404, ""},
		{"idempotency key", "POST", "/v1/customers", `{}`, []opt{header("Idempotency-Key", strings.Repeat("k", 256))}, 400, "Idempotency-Key"},
		{"export type", "POST", "/v1/exports", `{"type":"orders"}`, nil, 400, "/type"},
		{"export without type", "POST", "/v1/exports", `{}`, nil, 400, "/type"},
		{"export columns", "POST", "/v1/exports", `{"type":"customers","columns":"all"}`, nil, 400, "/columns"},
		{"export columns of ledger", "POST", "/v1/exports", `{"type":"ledger","columns":"full"}`, nil, 400, "/columns"},
		{"export unknown filter", "POST", "/v1/exports", `{"type":"customers","filters":{"sort":"name"}}`, nil, 400, "/filters/sort"},
		{"export unknown segment", "POST", "/v1/exports", `{"type":"customers","filters":{"segment":"01J00000000000000000000000"}}`, nil, 400, "/filters/segment"},
		{"export customer filter on ledger", "POST", "/v1/exports", `{"type":"ledger","filters":{"tag":"vip"}}`, nil, 400, "/filters/tag"},
		{"export bad filter", "POST", "/v1/exports", `{"type":"customers","filters":{"tag":"!!"}}`, nil, 400, "/filters/tag"},
		{"export filter type", "POST", "/v1/exports", `{"type":"customers","filters":{"favorite":true}}`, nil, 400, "/filters/favorite"},
		{"export limit", "POST", "/v1/exports", `{"type":"customers","filters":{"limit":"10"}}`, nil, 400, "/filters/limit"},
		{"export cursor", "POST", "/v1/exports", `{"type":"ledger","filters":{"cursor":"abc"}}`, nil, 400, "/filters/cursor"},
		{"export ledger date", "POST", "/v1/exports", `{"type":"ledger","filters":{"from":"31/05/2025"}}`, nil, 400, "/filters/from"},
		{"export ledger period", "POST", "/v1/exports", `{"type":"ledger","filters":{"from":"2025-06-01","to":"2025-05-01"}}`, nil, 400, "/filters/to"},
		{"export extra member", "POST", "/v1/exports", `{"type":"customers","format":"xlsx"}`, nil, 400, "/format"},
		{"export bom type", "POST", "/v1/exports", `{"type":"customers","bom":"yes"}`, nil, 400, "/bom"},
		{"export malformed", "POST", "/v1/exports", `{"type":`, nil, 400, ""},
		{"export not JSON", "POST", "/v1/exports", `type=customers`, []opt{header("Content-Type", "application/x-www-form-urlencoded")}, 415, ""},
		{"job id", "GET", "/v1/jobs/42", nil, nil, 404, ""},
		{"job unknown", "GET", "/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, nil, 404, ""},
		{"import format", "POST", "/v1/imports", `{"format":"xls"}`, nil, 400, "/format"},
		{"import without format", "POST", "/v1/imports", `{}`, nil, 400, "/format"},
		{"import on_existing", "POST", "/v1/imports", `{"format":"csv","on_existing":"replace"}`, nil, 400, "/on_existing"},
		{"import balance type", "POST", "/v1/imports", `{"format":"csv","opening_balance":"yes"}`, nil, 400, "/opening_balance"},
		{"import extra member", "POST", "/v1/imports", `{"format":"csv","columns":"full"}`, nil, 400, "/columns"},
		{"import malformed", "POST", "/v1/imports", `{"format":`, nil, 400, ""},
		{"import not JSON", "POST", "/v1/imports", `format=csv`, []opt{header("Content-Type", "text/csv")}, 415, ""},
		{"import start id", "POST", "/v1/imports/42/start", nil, nil, 404, ""},
		{"import start unknown", "POST", "/v1/imports/01ARZ3NDEKTSV4RRFFQ69G5FAV/start", nil, nil, 404, ""},
		{"import start with body", "POST", "/v1/imports/01ARZ3NDEKTSV4RRFFQ69G5FAV/start", `{"force":true}`, nil, 400, "/force"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(tc.method, tc.path, e.key, tc.body, tc.opts...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			if tc.field != "" && !slices.Contains(r.paths(), tc.field) {
				t.Fatalf("problem paths %v, want %s: %s", r.paths(), tc.field, r.body)
			}
		})
	}
	// Nothing was written: one customer, unchanged.
	var p page
	e.must(http.StatusOK, "GET", "/v1/customers", e.key, nil).decode(t, &p)
	if len(p.Data) != 1 || p.Data[0].GivenName != "Ana" || p.Data[0].Email != "ana@example.com" || len(p.Data[0].Attributes) != 0 {
		t.Fatalf("bad input changed the base: %+v", p.Data)
	}
}
