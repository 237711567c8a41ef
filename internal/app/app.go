// Package app wires each function from its environment: the same constructors
// serve Lambda (functions/*/main.go) and the local gateway (infra/cmd/devserver).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
	"go.yaml.in/yaml/v3"

	"github.com/go-json-experiment/json"

	"github.com/regulars/regulars/docs"
	"github.com/regulars/regulars/internal/cursor"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/erasure"
	"github.com/regulars/regulars/internal/exports"
	"github.com/regulars/regulars/internal/httpapi"
	"github.com/regulars/regulars/internal/imports"
	"github.com/regulars/regulars/internal/ingest"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/nightly"
	"github.com/regulars/regulars/internal/objects"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/queue"
)

// Env reads configuration; os.Getenv in Lambda, a map in the local gateway.
type Env func(string) string

// Logger returns a JSON slog logger at the level LOG_LEVEL names (default INFO).
func Logger(env Env) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(env("LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// NewAPI builds the merchant HTTP API handler.
func NewAPI(ctx context.Context, env Env, log *slog.Logger) (*httpapi.Server, error) {
	cfg, store, err := storeFrom(ctx, env, log)
	if err != nil {
		return nil, err
	}
	srv := httpapi.New(store, log, time.Now, OpenAPIJSON)
	if url := env("NIGHTLY_QUEUE_URL"); url != "" {
		srv.WithRuns(queue.New(sqs.NewFromConfig(cfg), url))
	}
	if url, bucket := env("JOBS_QUEUE_URL"), env("EXPORTS_BUCKET"); url != "" && bucket != "" {
		srv.WithJobs(queue.New(sqs.NewFromConfig(cfg), url), bucketOf(cfg, bucket))
	}
	return srv, nil
}

// NewWebhook builds the purchase webhook handler.
func NewWebhook(ctx context.Context, env Env, log *slog.Logger) (*httpapi.Server, error) {
	cfg, store, err := storeFrom(ctx, env, log)
	if err != nil {
		return nil, err
	}
	url, err := required(env, "PURCHASES_QUEUE_URL")
	if err != nil {
		return nil, err
	}
	return httpapi.NewWebhook(store, queue.New(sqs.NewFromConfig(cfg), url), log, time.Now), nil
}

// NewIngest builds the purchase ingest handler (the queue's consumer).
func NewIngest(ctx context.Context, env Env, log *slog.Logger) (*ingest.Ingestor, error) {
	_, store, err := storeFrom(ctx, env, log)
	if err != nil {
		return nil, err
	}
	return ingest.New(store, points.New(store, time.Now), time.Now, log), nil
}

// NewNightly builds the nightly worker (the analytics queue's consumer).
func NewNightly(ctx context.Context, env Env, log *slog.Logger) (*nightly.Worker, error) {
	_, store, err := storeFrom(ctx, env, log)
	if err != nil {
		return nil, err
	}
	return nightly.NewWorker(store, points.New(store, time.Now), time.Now, log), nil
}

// NewJobs builds the jobs worker (the jobs queue's consumer): exports,
// imports and erasures.
func NewJobs(ctx context.Context, env Env, log *slog.Logger) (*jobs.Worker, error) {
	cfg, store, err := storeFrom(ctx, env, log)
	if err != nil {
		return nil, err
	}
	url, err := required(env, "JOBS_QUEUE_URL")
	if err != nil {
		return nil, err
	}
	name, err := required(env, "EXPORTS_BUCKET")
	if err != nil {
		return nil, err
	}
	bucket := bucketOf(cfg, name)
	export := exports.NewRunner(store, bucket, time.Now)
	runners := map[jobs.Kind]jobs.Runner{jobs.CustomerExport: export, jobs.LedgerExport: export, jobs.Erasure: erasure.NewRunner(store, time.Now),
		jobs.CustomerImport: imports.NewRunner(store, points.New(store, time.Now), bucket, time.Now, log)}
	return jobs.NewWorker(store, queue.New(sqs.NewFromConfig(cfg), url), runners, time.Now, log), nil
}

// bucketOf opens a bucket. A custom S3 endpoint (the local stack's
// emulator) is addressed path-style, as emulators need; AWS itself is not.
func bucketOf(cfg aws.Config, name string) *objects.Bucket {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL_S3") != "" })
	return objects.New(client, name)
}

// NewScheduler builds the scheduled fan-out of the nightly run.
func NewScheduler(ctx context.Context, env Env, log *slog.Logger) (func(context.Context, events.EventBridgeEvent) error, error) {
	cfg, store, err := storeFrom(ctx, env, log)
	if err != nil {
		return nil, err
	}
	url, err := required(env, "NIGHTLY_QUEUE_URL")
	if err != nil {
		return nil, err
	}
	return nightly.HandleSchedule(store, queue.New(sqs.NewFromConfig(cfg), url), log), nil
}

func required(env Env, name string) (string, error) {
	v := env(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set", name)
	}
	return v, nil
}

// storeFrom loads the AWS configuration and opens the table, whose list
// cursors are signed with CURSOR_KEY: every instance of every function must
// share it, since a cursor (or a job's checkpoint) continues on any of them.
func storeFrom(ctx context.Context, env Env, log *slog.Logger) (aws.Config, *dynamo.Store, error) {
	table, err := required(env, "TABLE_NAME")
	if err != nil {
		return aws.Config{}, nil, err
	}
	key, err := required(env, "CURSOR_KEY")
	if err != nil {
		return aws.Config{}, nil, err
	}
	cursors, err := cursor.ParseKey(key)
	if err != nil {
		return aws.Config{}, nil, fmt.Errorf("CURSOR_KEY: %w", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(sdkLogger{log}), config.WithRetryer(Retryer))
	if err != nil {
		return aws.Config{}, nil, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, dynamo.New(dynamodb.NewFromConfig(cfg), table).WithCursors(cursors), nil
}

// SDK retries: every AWS call is tried at most three times, at most 100 ms
// apart (the SDK's defaults are 3 and 20 s), so that an outage answers
// within the function's timeout instead of outlasting it; the request's
// context deadline bounds the whole (httpapi.Server.Handle). The retry
// quota stays the SDK's: when most calls fail, they fail at once.
const (
	retryMaxAttempts = 3
	retryMaxBackoff  = 100 * time.Millisecond
)

// Retryer is the AWS SDK retryer of every function.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = retryMaxAttempts
		o.MaxBackoff = retryMaxBackoff
	})
}

// sdkLogger sends the AWS SDK's own log lines into the structured log instead
// of plain text on stderr.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
}

// OpenAPIJSON converts the embedded OpenAPI YAML document to JSON.
func OpenAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		return nil, fmt.Errorf("parse docs/openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI as JSON: %w", err)
	}
	return b, nil
}
