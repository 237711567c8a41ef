package openapitest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/openapitest"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// check asserts that run failed with a message containing want, or passed
// when want is empty.
func check(t *testing.T, want string, run func(tb testing.TB)) {
	t.Helper()
	r := &recorder{TB: t}
	run(r)
	for _, f := range r.failures {
		t.Log(f)
	}
	switch {
	case want == "" && len(r.failures) > 0:
		t.Errorf("unexpected failure:\n%s", strings.Join(r.failures, "\n"))
	case want != "" && len(r.failures) == 0:
		t.Errorf("passed; want a failure containing %q", want)
	case want != "" && !strings.Contains(strings.Join(r.failures, "\n"), want):
		t.Errorf("failure does not contain %q:\n%s", want, strings.Join(r.failures, "\n"))
	}
}

const merchant = `{"id":"01GH8PSQE04TFF59TDWH9EDD1R","name":"Cafetería La Esquina","currency":"EUR",
	"time_zone":"Europe/Madrid","created_at":"2022-11-07T09:30:00.123456789Z"}`

func TestValidateResponse(t *testing.T) {
	spec := openapitest.New(t)
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
		want               string // in the failure; "" when valid
	}{
		{"valid", "GET", "/v1/merchant", 200, merchant, ""},
		{"lower-case method", "get", "/v1/merchant", 200, merchant, ""},
		{"missing member", "GET", "/v1/merchant", 200, strings.Replace(merchant, `"currency":"EUR",`, "", 1), "currency"},
		{"unknown member", "GET", "/v1/merchant", 200, strings.Replace(merchant, `"name"`, `"nickname":"x","name"`, 1), "nickname"},
		{"bad timestamp", "GET", "/v1/merchant", 200, strings.Replace(merchant, "2022-11-07T09:30:00.123456789Z", "7 Nov 2022", 1), "date-time"},
		{"problem", "GET", "/v1/merchant", 401,
			`{"type":"urn:regulars:problem:unauthorized","title":"Unauthorized","status":401,"detail":"a valid API key is required"}`, ""},
		{"problem with extra member", "POST", "/v1/customers", 409,
			`{"type":"urn:regulars:problem:conflict","title":"Conflict","status":409,"detail":"dup",
			"errors":[{"path":"/email","message":"taken"}],"existing_id":"01GRZZH4501HEAD8X4A1JH69RE"}`, ""},
		{"bad problem type", "GET", "/v1/merchant", 401, `{"type":"about:blank","title":"Unauthorized","status":401}`, "/type"},
		{"no content", "DELETE", "/v1/customers/{customerId}", 204, "", ""},
		{"body where none is declared", "DELETE", "/v1/customers/{customerId}", 204, "{}", "declares no body"},
		{"empty body", "GET", "/v1/merchant", 200, "", "the body is empty"},
		{"not JSON", "GET", "/v1/merchant", 200, "<html>", "is not application/json"},
		{"undeclared status", "GET", "/v1/merchant", 418, "{}", "does not declare status 418"},
		{"concrete path", "GET", "/v1/customers/01GRZZH4501HEAD8X4A1JH69RE", 200, "{}", "no path"},
		{"unknown method", "PUT", "/v1/merchant", 200, "{}", "no PUT operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.want, func(tb testing.TB) {
				spec.ValidateResponse(tb, tc.method, tc.path, tc.status, []byte(tc.body))
			})
		})
	}
}

func TestValidateRequest(t *testing.T) {
	spec := openapitest.New(t)
	for _, tc := range []struct {
		name, method, path, body string
		want                     string // in the failure; "" when valid
	}{
		{"valid", "POST", "/v1/customers", `{"given_name":"María José","phone":"+34 612 34 56 78","tags":["vip"]}`, ""},
		{"computed member", "POST", "/v1/customers", `{"points_balance":10}`, "points_balance"},
		{"wrong type", "POST", "/v1/customers", `{"favorite":"yes"}`, "/favorite"},
		{"merge patch null", "PATCH", "/v1/customers/{customerId}", `{"email":null,"tags":null}`, ""},
		{"patch state", "PATCH", "/v1/customers/{customerId}", `{"state":"suspended"}`, "state"},
		{"optional body absent", "POST", "/v1/customers/{customerId}/suspend", "", ""},
		{"optional body empty object", "POST", "/v1/customers/{customerId}/suspend", "{}", ""},
		{"optional body with members", "POST", "/v1/customers/{customerId}/suspend", `{"reason":"x"}`, "reason"},
		{"required body absent", "POST", "/v1/api-keys", "", "the body is empty"},
		{"body where none is declared", "GET", "/v1/customers", `{"q":"x"}`, "declares no request body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.want, func(tb testing.TB) {
				spec.ValidateRequest(tb, tc.method, tc.path, []byte(tc.body))
			})
		})
	}
}
