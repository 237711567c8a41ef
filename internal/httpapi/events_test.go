package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/regulars/regulars/internal/app"
)

// TestSampleEvents replays every events/api fixture through the Lambda
// handler itself (no gateway), with the placeholders filled in: each must
// name a route of template.yaml and succeed.
func TestSampleEvents(t *testing.T) {
	e := newEnv(t)
	srv, err := app.NewAPI(t.Context(), func(k string) string {
		if k == "TABLE_NAME" {
			return e.table
		}
		return ""
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../../events/api/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	routes := map[string]bool{}
	for _, rk := range e.routeKeys() {
		routes[rk] = true
	}
	covered := map[string]bool{}
	// Deleting and revoking go last: the others need the customer and the key.
	for _, last := range []string{"delete-customer.json", "revoke-api-key.json"} {
		for i, f := range files {
			if filepath.Base(f) == last {
				files = append(append(files[:i:i], files[i+1:]...), f)
				break
			}
		}
	}
	ids := e.resourcesOf(e.key)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("rk_00000000000000000000000000000000", e.key,
			"{{customerId}}", ids["customer"], "{{keyId}}", ids["key"]).Replace(string(raw))
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal([]byte(text), &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !routes[ev.RouteKey] || ev.RequestContext.RouteKey != ev.RouteKey {
			t.Fatalf("%s: route key %q is not a route of template.yaml", f, ev.RouteKey)
		}
		covered[ev.RouteKey] = true
		resp, err := srv.Handle(t.Context(), ev)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %v: %s", f, resp.StatusCode, err, resp.Body)
		}
		_, path, _ := strings.Cut(ev.RouteKey, " ")
		spec.ValidateResponse(t, ev.RequestContext.HTTP.Method, path, resp.StatusCode, []byte(resp.Body))
	}
	for rk := range routes {
		if !covered[rk] {
			t.Errorf("route %s has no sample event in events/api", rk)
		}
	}
}
