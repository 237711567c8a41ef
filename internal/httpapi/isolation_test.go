package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/tenant"
)

// routeCalls gives, for every route of template.yaml, a call that would
// succeed for the owner of ids. A route missing here fails the test, so a new
// route cannot skip the isolation and auth checks.
func routeCalls(ids map[string]string) map[string]struct {
	path string
	body any
} {
	type call = struct {
		path string
		body any
	}
	c := "/v1/customers/" + ids["customer"]
	cart := []map[string]any{{"sku": "MENU", "quantity": 1, "unit_price": 2000}}
	program := map[string]any{"version": 0, "enabled": true,
		"earning":       map[string]any{"points_per_step": 1, "step_amount": 100, "trigger": "paid", "overrides": []any{}, "excluded_products": []string{}},
		"actions":       map[string]any{"signup": 0, "newsletter": 0, "review": 0, "review_once_per_customer": true},
		"redemption":    map[string]any{"points": 1, "amount": 1, "min_balance": 0, "min_cart": 0, "max_discount": nil, "exclude_on_sale": false, "excluded_products": []string{}, "allowed_products": []string{}},
		"refund_policy": "within_balance", "expiry_days": 0}
	return map[string]call{
		"POST /v1/customers/{customerId}/addresses":               {c + "/addresses", map[string]any{"line1": "Calle Mayor 2", "country": "ES"}},
		"DELETE /v1/customers/{customerId}/addresses/{addressId}": {c + "/addresses/" + ids["address"], nil},
		"GET /v1/program":                        {"/v1/program", nil},
		"PUT /v1/program":                        {"/v1/program", program},
		"GET /v1/program/versions":               {"/v1/program/versions", nil},
		"GET /v1/badges":                         {"/v1/badges", nil},
		"POST /v1/badges":                        {"/v1/badges", map[string]any{"title": "Plata", "from": 500}},
		"PUT /v1/badges/{badgeId}":               {"/v1/badges/" + ids["badge"], map[string]any{"title": "Oro", "from": 900}},
		"DELETE /v1/badges/{badgeId}":            {"/v1/badges/" + ids["badge"], nil},
		"GET /v1/badges/{badgeId}/customers":     {"/v1/badges/" + ids["badge"] + "/customers", nil},
		"GET /v1/rewards":                        {"/v1/rewards", nil},
		"POST /v1/rewards":                       {"/v1/rewards", map[string]any{"name": "Tarta", "cost": 9, "active": true}},
		"PUT /v1/rewards/{rewardId}":             {"/v1/rewards/" + ids["reward"], map[string]any{"name": "Gratis", "cost": 1, "active": true}},
		"DELETE /v1/rewards/{rewardId}":          {"/v1/rewards/" + ids["reward"], nil},
		"GET /v1/card-templates":                 {"/v1/card-templates", nil},
		"POST /v1/card-templates":                {"/v1/card-templates", map[string]any{"id": "verano", "name": "Verano", "active": true}},
		"POST /v1/cards/enrol":                   {"/v1/cards/enrol", map[string]any{"given_name": "Nueva"}},
		"GET /v1/gift-schedules":                 {"/v1/gift-schedules", nil},
		"POST /v1/gift-schedules":                {"/v1/gift-schedules", map[string]any{"points": 5, "description": "x", "cadence": "monthly", "active": true}},
		"DELETE /v1/gift-schedules/{scheduleId}": {"/v1/gift-schedules/" + ids["gift"], nil},
		"GET /v1/reports/points":                 {"/v1/reports/points", nil},

		"GET /v1/customers/{customerId}/points":                         {c + "/points", nil},
		"GET /v1/customers/{customerId}/points/entries":                 {c + "/points/entries", nil},
		"POST /v1/customers/{customerId}/points/entries":                {c + "/points/entries", map[string]any{"points": 1}},
		"POST /v1/customers/{customerId}/points/preview":                {c + "/points/preview", map[string]any{"points": -1}},
		"POST /v1/customers/{customerId}/points/entries/{entryId}/void": {c + "/points/entries/" + ids["entry"] + "/void", nil},
		"POST /v1/customers/{customerId}/points/balance":                {c + "/points/balance", map[string]any{"balance": 3}},
		"POST /v1/customers/{customerId}/actions":                       {c + "/actions", map[string]any{"action": "signup"}},
		"POST /v1/customers/{customerId}/checkout/quote":                {c + "/checkout/quote", map[string]any{"cart": cart}},
		"POST /v1/customers/{customerId}/redemptions":                   {c + "/redemptions", map[string]any{"order_ref": "B-1", "points": 1, "cart": cart}},
		"POST /v1/customers/{customerId}/redemptions/{orderRef}/cancel": {c + "/redemptions/" + ids["order"] + "/cancel", nil},
		"GET /v1/customers/{customerId}/rewards":                        {c + "/rewards", nil},
		"POST /v1/customers/{customerId}/rewards/{rewardId}/redeem":     {c + "/rewards/" + ids["reward"] + "/redeem", nil},
		"POST /v1/customers/{customerId}/portal-token":                  {c + "/portal-token", nil},
		"GET /v1/customers/{customerId}/visits":                         {c + "/visits", nil},
		"GET /v1/customers/{customerId}/timeline":                       {c + "/timeline", nil},
		"POST /v1/customers/{customerId}/events":                        {c + "/events", map[string]any{"type": "campaign_email_opened"}},
		"GET /v1/segments":                                              {"/v1/segments", nil},
		"POST /v1/segments":                                             {"/v1/segments", map[string]any{"name": "B", "rule": map[string]any{"field": "active", "op": "eq", "value": true}}},
		"PUT /v1/segments/{segmentId}":                                  {"/v1/segments/" + ids["segment"], map[string]any{"name": "B", "rule": map[string]any{"field": "active", "op": "eq", "value": false}}},
		"DELETE /v1/segments/{segmentId}":                               {"/v1/segments/" + ids["segment"], nil},
		"GET /v1/segments/{segmentId}/customers":                        {"/v1/segments/" + ids["segment"] + "/customers", nil},
		"POST /v1/analytics/runs":                                       {"/v1/analytics/runs", map[string]any{"as_of": "2026-01-01"}},
		"GET /v1/analytics/runs/{asOf}":                                 {"/v1/analytics/runs/2026-01-01", nil},
		"GET /v1/customers/{customerId}/analytics":                      {c + "/analytics", nil},
		"GET /v1/webhook-secrets":                                       {"/v1/webhook-secrets", nil},
		"POST /v1/exports":                                              {"/v1/exports", map[string]any{"type": "customers", "filters": map[string]any{"tag": "vip"}}},
		"GET /v1/jobs/{jobId}":                                          {"/v1/jobs/" + ids["job"], nil},
		"POST /v1/imports":                                              {"/v1/imports", map[string]any{"format": "csv"}},
		"POST /v1/imports/{jobId}/start":                                {"/v1/imports/" + ids["import"] + "/start", nil},
		"POST /v1/webhook-secrets":                                      {"/v1/webhook-secrets", nil},
		"POST /v1/webhooks/{merchantId}/purchases":                      {"/v1/webhooks/" + ids["merchant"] + "/purchases", map[string]any{"events": []any{}}},
		"GET /v1/me/points":                                             {"/v1/me/points", nil},
		"GET /v1/me/entries":                                            {"/v1/me/entries", nil},
		"GET /v1/me/rewards":                                            {"/v1/me/rewards", nil},

		"GET /openapi.json":                          {"/openapi.json", nil},
		"GET /v1/merchant":                           {"/v1/merchant", nil},
		"GET /v1/api-keys":                           {"/v1/api-keys", nil},
		"POST /v1/api-keys":                          {"/v1/api-keys", map[string]any{"scope": "read"}},
		"DELETE /v1/api-keys/{keyId}":                {"/v1/api-keys/" + ids["key"], nil},
		"GET /v1/customers":                          {"/v1/customers?q=" + ids["email"], nil},
		"POST /v1/customers":                         {"/v1/customers", map[string]any{"given_name": "Nuevo"}},
		"GET /v1/customers/{customerId}":             {c, nil},
		"PATCH /v1/customers/{customerId}":           {c, map[string]any{"favorite": true}},
		"DELETE /v1/customers/{customerId}":          {c, nil},
		"POST /v1/customers/{customerId}/suspend":    {c + "/suspend", nil},
		"POST /v1/customers/{customerId}/reactivate": {c + "/reactivate", nil},
		"POST /v1/customers/{customerId}/merge":      {c + "/merge", map[string]any{"duplicate_id": ids["duplicate"]}},
	}
}

func (e *env) routeKeys() []string {
	var keys []string
	for _, f := range e.tmpl.Functions {
		for _, r := range f.Routes {
			keys = append(keys, r.Key())
		}
	}
	return keys
}

// resourcesOf creates, for a merchant, one of every resource a route can name.
func (e *env) resourcesOf(key string) map[string]string {
	var c customer
	email := "iso-" + key[3:11] + "@example.com"
	home := crm.Address{Line1: "Gran Vía 1", Country: "ES"}
	e.must(http.StatusCreated, "POST", "/v1/customers", key, map[string]any{"email": email, "given_name": "Isolda",
		"addresses": []map[string]any{{"line1": home.Line1, "country": home.Country}}}).decode(e.t, &c)
	var dup customer // a duplicate of c, to merge into c
	e.must(http.StatusCreated, "POST", "/v1/customers", key, map[string]any{"email": "dup-" + email, "given_name": "Isolda"}).decode(e.t, &dup)
	var k struct {
		ID string `json:"id"`
	}
	e.must(http.StatusCreated, "POST", "/v1/api-keys", key, map[string]any{"scope": "read", "name": "spare"}).decode(e.t, &k)
	var current struct {
		Version int64 `json:"version"`
	}
	e.must(http.StatusOK, "GET", "/v1/program", key, nil).decode(e.t, &current)
	program := routeCalls(nil)["PUT /v1/program"].body.(map[string]any) // a program anyone can redeem in
	program["version"] = current.Version
	e.must(http.StatusOK, "PUT", "/v1/program", key, program)
	var badge, reward, gift struct {
		ID string `json:"id"`
	}
	e.must(http.StatusCreated, "POST", "/v1/badges", key, map[string]any{"title": "Bronce", "from": 1}).decode(e.t, &badge)
	e.must(http.StatusCreated, "POST", "/v1/rewards", key, map[string]any{"name": "Café", "cost": 2, "active": true}).decode(e.t, &reward)
	e.must(http.StatusCreated, "POST", "/v1/gift-schedules", key, map[string]any{"points": 1, "description": "mensual", "cadence": "monthly", "active": true}).decode(e.t, &gift)
	var p posting
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/points/entries", key, map[string]any{"points": 50}).decode(e.t, &p)
	order := "ORD-" + key[3:9]
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/redemptions", key, map[string]any{"order_ref": order, "points": 5,
		"cart": []map[string]any{{"sku": "MENU", "quantity": 1, "unit_price": 2000}}})
	var me struct {
		ID string `json:"id"`
	}
	e.must(http.StatusOK, "GET", "/v1/merchant", key, nil).decode(e.t, &me)
	var segment struct {
		ID string `json:"id"`
	}
	e.must(http.StatusCreated, "POST", "/v1/segments", key, map[string]any{"name": "Todos", "rule": map[string]any{"field": "points_balance", "op": "gte", "value": 0}}).decode(e.t, &segment)
	e.must(http.StatusAccepted, "POST", "/v1/analytics/runs", key, map[string]any{"as_of": "2026-01-01"}) // a run and a score to read
	e.drainFunction(e.t, "NightlyFunction")
	var job struct {
		ID string `json:"id"`
	}
	e.must(http.StatusAccepted, "POST", "/v1/exports", key, map[string]any{"type": "ledger"}).decode(e.t, &job) // a job to read
	var imp struct {
		ID string `json:"id"`
	}
	e.must(http.StatusCreated, "POST", "/v1/imports", key, map[string]any{"format": "csv"}).decode(e.t, &imp) // an import waiting for its file
	return map[string]string{"customer": c.ID, "key": k.ID, "email": email, "badge": badge.ID, "reward": reward.ID, "merchant": me.ID,
		"gift": gift.ID, "entry": p.Entries[0].ID, "order": order, "segment": segment.ID, "duplicate": dup.ID, "job": job.ID, "import": imp.ID, "address": home.ID()}
}

// TestTenantIsolation calls every route with merchant B's key on merchant A's
// IDs: each answers 404 (or an empty/own-data answer for collections) and the
// body never carries A's data; A's resources are unchanged afterwards.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	aIDs := e.resourcesOf(e.key)
	b, bKey := e.newMerchant("Tienda B")
	calls := routeCalls(aIDs)
	for _, rk := range e.routeKeys() {
		call, ok := calls[rk]
		if !ok {
			t.Errorf("route %s has no isolation case: add it to routeCalls", rk)
			continue
		}
		method, tmplPath, _ := strings.Cut(rk, " ")
		r := e.call(method, call.path, bKey, call.body)
		switch {
		case tmplPath == "/openapi.json":
			// public, tenant-free
		case strings.HasPrefix(tmplPath, "/v1/me/"), strings.HasPrefix(tmplPath, "/v1/webhooks/"):
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s with an API key: %d, want 401 (customer tokens or webhook signatures only)", rk, r.status)
			}
		case strings.Contains(tmplPath, "{"):
			if r.status != http.StatusNotFound {
				t.Errorf("%s with B's key on A's ids: %d, want 404: %s", rk, r.status, r.body)
			}
		default:
			if r.status >= 400 {
				t.Errorf("%s with B's key: %d: %s", rk, r.status, r.body)
			}
		}
		for name, id := range aIDs {
			if strings.Contains(string(r.body), id) {
				t.Errorf("%s answered B with A's %s %s: %s", rk, name, id, r.body)
			}
		}
		if strings.Contains(string(r.body), e.merchant.ID) {
			t.Errorf("%s answered B with A's merchant id: %s", rk, r.body)
		}
	}
	// A's customer and key are untouched.
	var c customer
	e.must(http.StatusOK, "GET", "/v1/customers/"+aIDs["customer"], e.key, nil).decode(t, &c)
	if c.Favorite || c.State != "active" {
		t.Fatalf("B changed A's customer: %+v", c)
	}
	var keys struct {
		Data []struct {
			ID        string  `json:"id"`
			RevokedAt *string `json:"revoked_at"`
		} `json:"data"`
	}
	e.must(http.StatusOK, "GET", "/v1/api-keys", e.key, nil).decode(t, &keys)
	for _, k := range keys.Data {
		if k.ID == aIDs["key"] && k.RevokedAt != nil {
			t.Fatal("B revoked A's key")
		}
	}
	var me struct {
		ID string `json:"id"`
	}
	e.must(http.StatusOK, "GET", "/v1/merchant", bKey, nil).decode(t, &me)
	if me.ID != b.ID {
		t.Fatalf("B's key reads merchant %s", me.ID)
	}
}

// TestAuthentication: a missing, malformed, unknown or revoked key answers
// 401 on every route but the public document; a read key cannot write (403).
func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.resourcesOf(e.key)
	readKey := e.keyFor(e.merchant.ID, tenant.ScopeRead)
	revoked := e.keyFor(e.merchant.ID, tenant.ScopeAdmin)
	var keys struct {
		Data []struct {
			ID     string `json:"id"`
			Prefix string `json:"prefix"`
		} `json:"data"`
	}
	e.must(http.StatusOK, "GET", "/v1/api-keys", e.key, nil).decode(t, &keys)
	for _, k := range keys.Data {
		if strings.HasPrefix(revoked, k.Prefix) && k.Prefix != "" {
			e.must(http.StatusOK, "DELETE", "/v1/api-keys/"+k.ID, e.key, nil)
		}
	}
	calls := routeCalls(ids)
	for _, rk := range e.routeKeys() {
		call := calls[rk]
		method, tmplPath, _ := strings.Cut(rk, " ")
		if tmplPath == "/openapi.json" {
			e.must(http.StatusOK, method, call.path, "", nil)
			continue
		}
		for name, key := range map[string]string{"none": "", "unknown": "rk_" + strings.Repeat("A", 32), "malformed": "abc", "revoked": revoked} {
			r := e.call(method, call.path, key, call.body)
			if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with %s key: %d, want 401 with WWW-Authenticate", rk, name, r.status)
			}
		}
		r := e.call(method, call.path, readKey, call.body)
		if strings.HasPrefix(tmplPath, "/v1/me/") || strings.HasPrefix(tmplPath, "/v1/webhooks/") {
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s with a read API key: %d, want 401", rk, r.status)
			}
			continue
		}
		if method == "GET" && r.status != http.StatusOK {
			t.Errorf("%s with a read key: %d, want 200: %s", rk, r.status, r.body)
		}
		if method != "GET" && r.status != http.StatusForbidden {
			t.Errorf("%s with a read key: %d, want 403", rk, r.status)
		}
	}
	// A non-bearer scheme is refused too.
	e.must(http.StatusUnauthorized, "GET", "/v1/merchant", "", nil, header("Authorization", "Basic "+e.key))
	// Keys are shown once and stored as hashes.
	if items := e.itemsOf(e.key); len(items) != 0 {
		t.Fatalf("the table holds a key secret: %v", items)
	}
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var k struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
		Scope  string `json:"scope"`
		Prefix string `json:"prefix"`
	}
	r := e.must(http.StatusCreated, "POST", "/v1/api-keys", e.key, map[string]any{"name": "caja 1", "scope": "admin"})
	r.decode(t, &k)
	if !strings.HasPrefix(k.Secret, "rk_") || !strings.HasPrefix(k.Secret, k.Prefix) || r.header.Get("Location") != "/v1/api-keys/"+k.ID {
		t.Fatalf("created key %+v", k)
	}
	e.must(http.StatusOK, "GET", "/v1/merchant", k.Secret, nil)
	list := e.must(http.StatusOK, "GET", "/v1/api-keys", e.key, nil)
	if strings.Contains(string(list.body), k.Secret) {
		t.Fatal("the list shows a secret")
	}
	e.must(http.StatusOK, "DELETE", "/v1/api-keys/"+k.ID, e.key, nil)
	e.must(http.StatusOK, "DELETE", "/v1/api-keys/"+k.ID, e.key, nil) // idempotent
	e.must(http.StatusUnauthorized, "GET", "/v1/merchant", k.Secret, nil)
	// A secret is shown once: a repeated Idempotency-Key does not show it again,
	// and no record keeps it.
	var once struct {
		Secret string `json:"secret"`
	}
	e.must(http.StatusCreated, "POST", "/v1/api-keys", e.key, map[string]any{"scope": "read"}, header("Idempotency-Key", "ak-1")).decode(t, &once)
	e.must(http.StatusConflict, "POST", "/v1/api-keys", e.key, map[string]any{"scope": "read"}, header("Idempotency-Key", "ak-1"))
	if items := e.itemsOf(once.Secret); len(items) != 0 {
		t.Fatalf("a key secret is stored: %v", items)
	}
	e.must(http.StatusNotFound, "DELETE", "/v1/api-keys/not-a-ulid", e.key, nil)
	e.must(http.StatusNotFound, "DELETE", "/v1/api-keys/01ARZ3NDEKTSV4RRFFQ69G5FAV", e.key, nil)
}
