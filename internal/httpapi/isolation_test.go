package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

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
	return map[string]call{
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
	e.must(http.StatusCreated, "POST", "/v1/customers", key, map[string]any{"email": email, "given_name": "Isolda"}).decode(e.t, &c)
	var k struct {
		ID string `json:"id"`
	}
	e.must(http.StatusCreated, "POST", "/v1/api-keys", key, map[string]any{"scope": "read", "name": "spare"}).decode(e.t, &k)
	return map[string]string{"customer": c.ID, "key": k.ID, "email": email}
}

// TestTenantIsolation calls every route with merchant B's key on merchant A's
// IDs: each answers 404 (or an empty/own-data answer for collections) and the
// body never carries A's data; A's resources are unchanged afterwards.
func TestTenantIsolation(t *testing.T) {
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
	e.must(http.StatusNotFound, "DELETE", "/v1/api-keys/not-a-ulid", e.key, nil)
	e.must(http.StatusNotFound, "DELETE", "/v1/api-keys/01ARZ3NDEKTSV4RRFFQ69G5FAV", e.key, nil)
}
