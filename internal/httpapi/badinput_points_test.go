package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestPointsBadInput: every points route refuses bad input with a problem
// naming the field, and the ledger is unchanged afterwards.
func TestPointsBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t)
	ids := e.resourcesOf(e.key)
	c := "/v1/customers/" + ids["customer"]
	var before struct {
		Balance int64 `json:"balance"`
	}
	e.must(http.StatusOK, "GET", c+"/points", e.key, nil).decode(t, &before)
	cart := []map[string]any{{"sku": "MENU", "quantity": 1, "unit_price": 2000}}
	program := `{"version":1,"enabled":true,"earning":{"points_per_step":10,"step_amount":1,"trigger":"paid","overrides":[],"excluded_products":[]},"actions":{"signup":0,"newsletter":0,"review":0,"review_once_per_customer":true},"redemption":{"points":100,"amount":100,"min_balance":0,"min_cart":0,"max_discount":null,"exclude_on_sale":false,"excluded_products":[],"allowed_products":[]},"refund_policy":"within_balance","expiry_days":0}`
	prog := func(old, new string) string { return strings.Replace(program, old, new, 1) }
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"program step", "PUT", "/v1/program", prog(`"step_amount":1`, `"step_amount":0`), 400, "/earning/step_amount"},
		{"program trigger", "PUT", "/v1/program", prog(`"paid"`, `"shipped"`), 400, "/earning/trigger"},
		{"program cap", "PUT", "/v1/program", prog(`"max_discount":null`, `"max_discount":{"kind":"percent","value":20000}`), 400, "/redemption/max_discount/value"},
		{"program override", "PUT", "/v1/program", prog(`"overrides":[]`, `"overrides":[{"sku":"A"}]`), 400, "/earning/overrides/0"},
		{"program policy", "PUT", "/v1/program", prog(`"within_balance"`, `"never"`), 400, "/refund_policy"},
		{"program computed", "PUT", "/v1/program", prog(`{"version":1,`, `{"version":1,"currency":"USD",`), 400, "/currency"},
		{"program stale version", "PUT", "/v1/program", prog(`"version":1`, `"version":7`), 409, ""},
		{"badge interval", "POST", "/v1/badges", `{"title":"Oro","from":500,"to":100}`, 400, "/to"},
		{"badge icon", "POST", "/v1/badges", `{"title":"Oro","icon_url":"http://x.es/i.png"}`, 400, "/icon_url"},
		{"badge basis", "POST", "/v1/badges", `{"title":"Oro","basis":"visits"}`, 400, "/basis"},
		{"badge id", "PUT", "/v1/badges/nope", `{"title":"Oro"}`, 404, ""},
		{"reward cost", "POST", "/v1/rewards", `{"name":"x","cost":0}`, 400, "/cost"},
		{"reward stock", "POST", "/v1/rewards", `{"name":"x","cost":1,"stock":-1}`, 400, "/stock"},
		{"reward unknown", "DELETE", "/v1/rewards/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, 404, ""},
		{"manual zero", "POST", c + "/points/entries", `{"points":0}`, 400, "/points"},
		{"manual float", "POST", c + "/points/entries", `{"points":1.5}`, 400, "/points"},
		{"manual note", "POST", c + "/points/entries", map[string]any{"points": 1, "note": strings.Repeat("n", 501)}, 400, "/note"},
		{"manual reason", "POST", c + "/points/entries", `{"points":1,"reason":"Bonus!"}`, 400, "/reason"},
		{"manual overspend", "POST", c + "/points/entries", `{"points":-100000}`, 422, "/points"},
		{"preview unknown", "POST", c + "/points/preview", `{"points":1,"dry":true}`, 400, "/dry"},
		{"void unknown entry", "POST", c + "/points/entries/01ARZ3NDEKTSV4RRFFQ69G5FAV/void", nil, 404, ""},
		{"void bad id", "POST", c + "/points/entries/x/void", nil, 404, ""},
		{"balance negative", "POST", c + "/points/balance", `{"balance":-5}`, 400, "/balance"},
		{"action unknown", "POST", c + "/actions", `{"action":"birthday"}`, 400, "/action"},
		{"quote empty cart", "POST", c + "/checkout/quote", `{"cart":[]}`, 400, "/cart"},
		{"quote quantity", "POST", c + "/checkout/quote", `{"cart":[{"sku":"A","quantity":0,"unit_price":100}]}`, 400, "/cart/0/quantity"},
		{"quote discount", "POST", c + "/checkout/quote", `{"cart":[{"sku":"A","quantity":1,"unit_price":100,"discount":200}]}`, 400, "/cart/0/discount"},
		{"quote line amount", "POST", c + "/checkout/quote", `{"cart":[{"sku":"A","quantity":1000000,"unit_price":100000000000}]}`, 400, "/cart/0/unit_price"},
		{"quote cart total", "POST", c + "/checkout/quote", map[string]any{"cart": slices.Repeat([]any{map[string]any{"sku": "A", "quantity": 1_000_000, "unit_price": 1_000_000_000}}, 185)}, 400, "/cart"},
		{"badge from", "POST", "/v1/badges", `{"title":"x","from":1000000000000001}`, 400, "/from"},
		{"redeem no ref", "POST", c + "/redemptions", map[string]any{"points": 1, "cart": cart}, 400, "/order_ref"},
		{"redeem too many", "POST", c + "/redemptions", map[string]any{"order_ref": "X-9", "points": 100000, "cart": cart}, 422, "/points"},
		{"cancel unknown", "POST", c + "/redemptions/NOPE/cancel", nil, 404, ""},
		{"reward redeem unknown", "POST", c + "/rewards/01ARZ3NDEKTSV4RRFFQ69G5FAV/redeem", nil, 404, ""},
		{"portal ttl", "POST", c + "/portal-token", `{"ttl_seconds":"1h"}`, 400, "/ttl_seconds"},
		{"card template id", "POST", "/v1/card-templates", `{"id":"Verano 2026","name":"x"}`, 400, "/id"},
		{"card template kind", "POST", "/v1/card-templates", `{"id":"v","name":"x","kind":"gold"}`, 400, "/kind"},
		{"enrol bad email", "POST", "/v1/cards/enrol", `{"email":"x"}`, 400, "/email"},
		{"gift cadence", "POST", "/v1/gift-schedules", `{"points":1,"description":"x","cadence":"hourly"}`, 400, "/cadence"},
		{"gift points", "POST", "/v1/gift-schedules", `{"points":-1,"description":"x","cadence":"daily"}`, 400, "/points"},
		{"gift unknown", "DELETE", "/v1/gift-schedules/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, 404, ""},
		{"report dates", "GET", "/v1/reports/points?from=2026-02-01&to=2026-01-01", nil, 400, "?to"},
		{"report min", "GET", "/v1/reports/points?min=ten", nil, 400, "?min"},
		{"report unknown", "GET", "/v1/reports/points?sort=asc", nil, 400, "?sort"},
		{"entries limit", "GET", c + "/points/entries?limit=0", nil, 400, "?limit"},
		{"entries cursor", "GET", c + "/points/entries?cursor=zzz", nil, 400, "?cursor"},
		{"badge customers cursor", "GET", "/v1/badges/" + ids["badge"] + "/customers?cursor=zzz", nil, 400, "?cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(tc.method, tc.path, e.key, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.body)
			}
			if tc.field != "" && !slices.Contains(r.paths(), tc.field) {
				t.Fatalf("problem paths %v, want %s: %s", r.paths(), tc.field, r.body)
			}
		})
	}
	var after struct {
		Balance int64 `json:"balance"`
	}
	e.must(http.StatusOK, "GET", c+"/points", e.key, nil).decode(t, &after)
	if after.Balance != before.Balance {
		t.Fatalf("bad input moved the balance: %d → %d", before.Balance, after.Balance)
	}
	if sum, _ := e.ledgerSum(t, ids["customer"]); sum != after.Balance {
		t.Fatalf("balance %d, sum of entries %d", after.Balance, sum)
	}
}
