package contract

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/regulars/regulars/internal/apperr"
)

// TestCheck: the rules of the spec applied to raw bodies, with the path of
// every offending member.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		op, body string
		want     []string // paths; none for a valid body
	}{
		{"POST /v1/customers/{customerId}/points/balance", `{}`, []string{"/balance"}},
		{"POST /v1/customers/{customerId}/points/balance", `{"note":"x"}`, []string{"/balance"}},
		{"POST /v1/customers/{customerId}/points/balance", `{"balance":null}`, []string{"/balance"}},
		{"POST /v1/customers/{customerId}/points/balance", `{"balance":5}`, nil},
		{"PUT /v1/program", `{"version":0}`, []string{"/enabled", "/earning", "/actions", "/redemption", "/refund_policy", "/expiry_days"}},
		{"PUT /v1/program", `{"version":0,"enabled":true,"earning":{"points_per_step":1,"step_amount":1,"trigger":"paid","overrides":[{"sku":"A"}],"excluded_products":[]},"actions":{"signup":0,"newsletter":0,"review":0,"review_once_per_customer":false},"redemption":{"points":1,"amount":1,"min_balance":0,"min_cart":0,"max_discount":null,"exclude_on_sale":false,"excluded_products":[],"allowed_products":[null]},"refund_policy":"within_balance","expiry_days":0}`,
			[]string{"/earning/overrides/0", "/redemption/allowed_products/0"}},
		{"POST /v1/customers", `null`, []string{""}},
		{"POST /v1/customers", `{"given_name":"Ana\n","tags":["a",null],"attributes":{"k":"v\u0000"},"addresses":[{"line1":"x"}]}`,
			[]string{"/given_name", "/tags/1", "/attributes/k", "/addresses/0/country"}},
		{"PATCH /v1/customers/{customerId}", `{"given_name":null,"tags":null,"type":null}`, []string{"/type"}},
		{"POST /v1/badges", `{"title":"Oro","to":null,"discount":null}`, nil},
		{"POST /v1/segments", `{"name":"x","rule":{}}`, []string{"/rule"}},
		{"POST /v1/segments", `{"name":"x","rule":{"any":[{"field":"tag","value":"vip"}]}}`, []string{"/rule/any/0/op"}},
		{"POST /v1/webhooks/{merchantId}/purchases", `{"event_id":"e","order_id":"o","status":"paid","occurred_at":"2026-01-01T00:00:00Z","currency":"EUR","customer":{"email":"a@b.es"},"lines":[]}`, nil},
		{"POST /v1/customers/{customerId}/suspend", `{"why":"\u0007"}`, []string{"/why"}},
		{"GET /v1/customers", `{"x":null}`, nil}, // no request body in the spec
	} {
		var body any
		if err := json.Unmarshal([]byte(tc.body), &body); err != nil {
			t.Fatal(err)
		}
		var got []string
		if e := apperr.As(Load().Check(tc.op, body)); e != nil {
			for _, f := range e.Fields {
				got = append(got, f.Path)
			}
		}
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: paths %q, want %q", tc.op, tc.body, got, tc.want)
		}
	}
}
