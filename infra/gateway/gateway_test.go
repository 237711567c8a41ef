package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestGatewayBuildsEvents(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	echo := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = ev
		return events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"X-Route": ev.RouteKey}, Body: "ok"}, nil
	}
	g, err := New([]Route{
		{Method: "GET", Path: "/v1/customers", Handler: echo},
		{Method: "GET", Path: "/v1/customers/{customerId}", Handler: echo},
		{Method: "GET", Path: "/v1/customers/search", Handler: echo},
		{Method: "POST", Path: "/v1/customers/{customerId}/suspend", Handler: echo},
		{Method: "ANY", Path: "/files/{key+}", Handler: echo},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	for _, tc := range []struct {
		method, path, contentType, body string
		status                          int
		routeKey                        string
		params                          map[string]string
		base64                          bool
	}{
		{"GET", "/v1/customers?limit=5&tag=a&tag=b", "", "", 201, "GET /v1/customers", nil, false},
		{"GET", "/v1/customers/01ABC", "", "", 201, "GET /v1/customers/{customerId}", map[string]string{"customerId": "01ABC"}, false},
		{"GET", "/v1/customers/search", "", "", 201, "GET /v1/customers/search", nil, false},
		{"POST", "/v1/customers/01ABC/suspend", "application/json", `{"a":1}`, 201, "POST /v1/customers/{customerId}/suspend", map[string]string{"customerId": "01ABC"}, false},
		{"PUT", "/files/a/b.csv", "application/octet-stream", "\x00\x01", 201, "ANY /files/{key+}", map[string]string{"key": "a/b.csv"}, true},
		{"DELETE", "/v1/customers", "", "", 404, "", nil, false},
		{"GET", "/v1/nothing", "", "", 404, "", nil, false},
		{"GET", "/v1/customers/01ABC/extra", "", "", 404, "", nil, false},
	} {
		got = events.APIGatewayV2HTTPRequest{}
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d (%s)", tc.method, tc.path, resp.StatusCode, tc.status, b)
			continue
		}
		if tc.status != 201 {
			continue
		}
		if got.RouteKey != tc.routeKey || got.RequestContext.RouteKey != tc.routeKey {
			t.Errorf("%s %s: route key %q, want %q", tc.method, tc.path, got.RouteKey, tc.routeKey)
		}
		if len(got.PathParameters) != len(tc.params) {
			t.Errorf("%s %s: path parameters %v, want %v", tc.method, tc.path, got.PathParameters, tc.params)
		}
		for k, v := range tc.params {
			if got.PathParameters[k] != v {
				t.Errorf("%s %s: path parameter %s = %q, want %q", tc.method, tc.path, k, got.PathParameters[k], v)
			}
		}
		if got.IsBase64Encoded != tc.base64 {
			t.Errorf("%s %s: base64 %v, want %v", tc.method, tc.path, got.IsBase64Encoded, tc.base64)
		}
		if got.Headers["authorization"] != "Bearer x" {
			t.Errorf("headers are not lower-cased: %v", got.Headers)
		}
		if resp.Header.Get("X-Route") != tc.routeKey {
			t.Errorf("response headers not passed through")
		}
	}
	// Repeated query parameters are joined with commas, as API Gateway does.
	if _, err := http.Get(srv.URL + "/v1/customers?tag=a&tag=b"); err != nil {
		t.Fatal(err)
	}
	if got.QueryStringParameters["tag"] != "a,b" {
		t.Errorf("query tag = %q, want a,b", got.QueryStringParameters["tag"])
	}
}

func TestDuplicateRoutesRefused(t *testing.T) {
	h := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, nil
	}
	if _, err := New([]Route{{Method: "GET", Path: "/a", Handler: h}, {Method: "GET", Path: "/a", Handler: h}}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("want an error for a route declared twice")
	}
}

// TestGatewayEnforcesTimeout: as in Lambda, the handler's context carries
// the function's timeout, and an invocation still running then is answered
// as API Gateway answers a function that timed out.
func TestGatewayEnforcesTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var remaining time.Duration // between the handler's start and its deadline
	var hasDeadline bool
	g, err := New([]Route{
		{Method: "GET", Path: "/slow", Timeout: 50 * time.Millisecond, Handler: func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			<-release // overruns, heedless of its context
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}},
		{Method: "GET", Path: "/fast", Timeout: 10 * time.Second, Handler: func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			var deadline time.Time
			deadline, hasDeadline = ctx.Deadline()
			remaining = time.Until(deadline)
			return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
		}},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The deadline is the route's 10 s from the invocation (a generous
	// second of it may pass before the handler runs on a loaded machine).
	if resp.StatusCode != 204 || !hasDeadline || remaining > 10*time.Second || remaining < 9*time.Second {
		t.Fatalf("fast: %d, %v left at the handler's start (deadline %v)", resp.StatusCode, remaining, hasDeadline)
	}
	resp, err = http.Get(srv.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || string(b) != `{"message":"Internal Server Error"}` {
		t.Fatalf("slow: %d %s, want API Gateway's 500", resp.StatusCode, b)
	}
}
