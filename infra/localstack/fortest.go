package localstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/regulars/regulars/infra/template"
)

// endpointVars must all be set for ForTest to reuse a running stack: with only
// some of them, the SDK would send the other services' calls to AWS.
var endpointVars = []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3"}

// ForTest prepares a package's tests, from TestMain. When
// AWS_ENDPOINT_URL_DYNAMODB is set (`make test` runs the tests inside
// `stack exec`), it loads the AWS config from the environment. Otherwise it
// starts a stack of its own and exports Stack.Env into this process's
// environment, so the code under test finds the emulators as it would in
// Lambda. Call the returned function after m.Run to stop that stack.
//
// It provisions nothing: each test provisions its own resources with
// ProvisionTest (or Provision with a unique Names.Prefix).
func ForTest(ctx context.Context) (aws.Config, func(), error) {
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" {
		for _, v := range endpointVars {
			if os.Getenv(v) == "" {
				return aws.Config{}, nil, fmt.Errorf("AWS_ENDPOINT_URL_DYNAMODB is set but %s is not: refusing to run tests that could reach AWS", v)
			}
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return aws.Config{}, nil, fmt.Errorf("load AWS config for the local stack: %w", err)
		}
		return cfg, func() {}, nil
	}

	stack, err := Start(ctx, Options{})
	if err != nil {
		return aws.Config{}, nil, err
	}
	restore := setenv(stack.Env())
	stop := func() {
		restore()
		if err := stack.Stop(); err != nil {
			slog.Error("stop local stack", "err", err)
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		stop()
		return aws.Config{}, nil, fmt.Errorf("load AWS config for the local stack: %w", err)
	}
	return cfg, stop, nil
}

// setenv sets env in this process and returns a function that restores the
// previous values.
func setenv(env map[string]string) (restore func()) {
	type previous struct {
		value string
		set   bool
	}
	saved := make(map[string]previous, len(env))
	for k, v := range env {
		old, ok := os.LookupEnv(k)
		saved[k] = previous{old, ok}
		os.Setenv(k, v)
	}
	return func() {
		for k, p := range saved {
			if p.set {
				os.Setenv(k, p.value)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

// ProvisionTest provisions the resources of template.yaml under a prefix
// unique to this test (see UniquePrefix), failing the test on error.
func ProvisionTest(tb testing.TB, cfg aws.Config) Resources {
	tb.Helper()
	path, err := template.Find()
	if err != nil {
		tb.Fatal(err)
	}
	tmpl, err := template.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := Provision(tb.Context(), cfg, tmpl, Names{Prefix: UniquePrefix(tb.Name())})
	if err != nil {
		tb.Fatalf("provision the local stack: %v", err)
	}
	return res
}

// PutPresigned PUTs body to a presigned upload URL with plain net/http, as
// a merchant's browser does, and fails the test unless S3 answers 200.
func PutPresigned(tb testing.TB, url, contentType string, body []byte) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("PUT to the presigned URL: %s", resp.Status)
	}
}

// UniquePrefix returns a Names.Prefix made of name (lower-cased, shortened)
// and a random suffix, valid in table, queue and bucket names.
func UniquePrefix(name string) string {
	var b strings.Builder
	dash := true // no leading dash, no double dashes
	for _, r := range strings.ToLower(name) {
		if b.Len() == 20 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	base := strings.TrimSuffix(b.String(), "-")
	if base == "" {
		base = "t"
	}
	return base + "-" + hex.EncodeToString(suffix)
}

// Main runs a package's tests against the local stack; call it from
// TestMain. It sets *cfg, runs the tests, stops a stack it started and exits
// with the tests' code.
func Main(m *testing.M, cfg *aws.Config) {
	c, stop, err := ForTest(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*cfg = c
	code := m.Run()
	stop()
	os.Exit(code)
}

// LongEnv is the variable that asks the tests for their full sizes (`make
// test-long`): the whole CDNOW sample through the webhook, an export of
// 100,000 customers. Without it they run the same checks on smaller data.
const LongEnv = "REGULARS_TEST_LONG"

// Long reports whether LongEnv is set to 1.
func Long() bool { return os.Getenv(LongEnv) == "1" }
