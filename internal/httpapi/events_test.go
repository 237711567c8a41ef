package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/regulars/regulars/internal/app"
)

// TestSampleEvents replays every events/api fixture through the Lambda
// handler itself (no gateway), with the placeholders filled in ({{customerToken}}
// with a token issued for the customer, {{asOf}} with the date of an analytics
// run already done, {{jobId}} with an export job of the merchant): each must
// name a route of
// template.yaml and succeed. The signed purchase webhook's fixture is only
// checked for its route, not replayed.
func TestSampleEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// ApiFunction's environment as deployed: its table, and the queue that
	// POST /v1/analytics/runs sends jobs to.
	var apiEnv map[string]string
	for _, f := range e.tmpl.Functions {
		if f.LogicalID == "ApiFunction" {
			var err error
			if apiEnv, err = e.res.FunctionEnv(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if apiEnv == nil {
		t.Fatal("template.yaml has no ApiFunction")
	}
	srv, err := app.NewAPI(t.Context(), func(k string) string { return apiEnv[k] }, slog.New(slog.DiscardHandler))
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
	// Voids, deletions and revocations go last, the customer's deletion the
	// very last: the other events need what they remove.
	rank := func(f string) int {
		switch b := filepath.Base(f); {
		case b == "delete-customer.json":
			return 3
		case strings.HasPrefix(b, "delete-"), strings.HasPrefix(b, "revoke-"):
			return 2
		case strings.HasPrefix(b, "void-"), strings.HasPrefix(b, "cancel-"):
			return 1
		}
		return 0
	}
	slices.SortStableFunc(files, func(a, b string) int { return rank(a) - rank(b) })
	// resourcesOf also runs the analytics of 2026-01-01 through NightlyFunction:
	// the analytics events read that run ({{asOf}}) and the customer's scores.
	ids := e.resourcesOf(e.key)
	const asOf = "2026-01-01"
	// The customer area takes a customer token, not an API key: issue one for
	// the customer the other events name.
	var token struct {
		Token string `json:"token"`
	}
	e.must(http.StatusCreated, "POST", "/v1/customers/"+ids["customer"]+"/portal-token", e.key, nil).decode(t, &token)
	// start-import.json starts the import of resourcesOf, whose file is uploaded here.
	e.uploadImport(ids["import"], "text/csv", []byte("email,given_name\r\nimportada@example.com,Importada\r\n"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("rk_00000000000000000000000000000000", e.key,
			"{{customerId}}", ids["customer"], "{{keyId}}", ids["key"], "{{badgeId}}", ids["badge"],
			"{{rewardId}}", ids["reward"], "{{entryId}}", ids["entry"], "{{orderRef}}", ids["order"],
			"{{scheduleId}}", ids["gift"], "{{customerToken}}", token.Token,
			"{{merchantId}}", ids["merchant"], "{{segmentId}}", ids["segment"], "{{duplicateId}}", ids["duplicate"], "{{asOf}}", asOf,
			"{{jobId}}", ids["job"], "{{importId}}", ids["import"], "{{addressId}}", ids["address"]).Replace(string(raw))
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal([]byte(text), &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !routes[ev.RouteKey] || ev.RequestContext.RouteKey != ev.RouteKey {
			t.Fatalf("%s: route key %q is not a route of template.yaml", f, ev.RouteKey)
		}
		covered[ev.RouteKey] = true
		if filepath.Base(f) == "receive-purchases.json" {
			// The purchase webhook is signed over the body with a fresh
			// timestamp, so its sample carries placeholder headers and cannot
			// be replayed; WebhookFunction's route is covered by
			// purchases_test.go and internal/ingest instead. It still names a
			// route of template.yaml, checked above.
			continue
		}
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
