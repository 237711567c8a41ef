package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSpecPatternsAreTheServers: the spec's patterns and bounds accept
// exactly what the server accepts, fed the same edge values: e-mail
// addresses, badge icon URLs, an empty cursor; and every phone the server
// accepts is answered in the spec's E.164 form (the harness checks answers).
func TestSpecPatternsAreTheServers(t *testing.T) {
	e := newEnv(t)
	compare := func(what, method, path, tmpl string, body map[string]any, field string) {
		t.Helper()
		b, _ := json.Marshal(body)
		specOK := spec.RequestError(method, tmpl, b) == nil
		r := e.call(method, path, e.key, body)
		serverOK := r.status < 300
		if !serverOK && (r.status != http.StatusBadRequest || !r.names(field, false)) {
			t.Errorf("%s: %d %s, want 2xx or 400 naming %s", what, r.status, r.body, field)
		}
		if specOK != serverOK {
			t.Errorf("%s: the spec accepts it: %v, the server: %v (%d %s)", what, specOK, serverOK, r.status, r.body)
		}
	}
	for _, email := range []string{
		"ana@example.com", "Ana.Garcia@Example.COM", " beatriz@example.es ", "", "x+tag@example.com", "c@d.co",
		"nope", "ana@example", "ana@.example.com", "ana@example.com.", "a..b@example.com", ".ana@example.com",
		"Ana <ana2@example.com>", "ana@exa mple.com", "ana@@example.com", "a(b)@example.com", "ana@example..com",
		"a,b@example.com", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com",
	} {
		compare("email "+email, "POST", "/v1/customers", "/v1/customers", map[string]any{"email": email}, "/email")
	}
	for _, icon := range []string{
		"https://cdn.example.es/insignias/oro.png", "HTTPS://cdn.example.es/a.png", "https://cdn.example.es", "", "https://x.es/a?b=c#d",
		"http://cdn.example.es/oro.png", "https://", "https:///oro.png", "cdn.example.es/oro.png", "ftp://x.es/a.png",
		"https://exa mple.es/a.png", "https://x.es/" + strings.Repeat("a", 2048),
	} {
		compare("icon_url "+icon, "POST", "/v1/badges", "/v1/badges", map[string]any{"title": "Oro", "icon_url": icon}, "/icon_url")
	}
	for _, phone := range []string{"+34 600 123 456", "0034 (600) 12-34-57", "+1.212.555.0100"} {
		e.must(http.StatusCreated, "POST", "/v1/customers", e.key, map[string]any{"phone": phone})
	}
	// An empty cursor is the first page, for the spec and for every list of the server.
	c := e.create(map[string]any{"given_name": "Ana"})
	var badge, segment struct {
		ID string `json:"id"`
	}
	e.must(http.StatusCreated, "POST", "/v1/badges", e.key, map[string]any{"title": "Bronce", "from": 1}).decode(t, &badge)
	e.must(http.StatusCreated, "POST", "/v1/segments", e.key, map[string]any{"name": "Todos", "rule": map[string]any{"field": "points_balance", "op": "gte", "value": 0}}).decode(t, &segment)
	for tmpl, path := range map[string]string{
		"/v1/customers": "/v1/customers",
		"/v1/customers/{customerId}/points/entries": "/v1/customers/" + c.ID + "/points/entries",
		"/v1/customers/{customerId}/timeline":       "/v1/customers/" + c.ID + "/timeline",
		"/v1/badges/{badgeId}/customers":            "/v1/badges/" + badge.ID + "/customers",
		"/v1/segments/{segmentId}/customers":        "/v1/segments/" + segment.ID + "/customers",
		"/v1/reports/points":                        "/v1/reports/points",
	} {
		if err := spec.ParameterError("GET", tmpl, "cursor", ""); err != nil {
			t.Errorf("%s?cursor= (the first page) is refused by the spec: %v", tmpl, err)
		}
		e.must(http.StatusOK, "GET", path+"?cursor=", e.key, nil)
	}
}
