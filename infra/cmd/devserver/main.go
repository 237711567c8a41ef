// Command devserver is `make run`: it starts the local emulators (unless the
// AWS_ENDPOINT_URL_* variables already point at running ones), provisions the
// resources of template.yaml, creates a demo merchant with demo customers,
// prints its API key and serves every HttpApi route on localhost.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/infra/template"
	"github.com/regulars/regulars/internal/app"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/tenant"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback)")
	prefix := flag.String("prefix", "regulars", "prefix of local resource names")
	demo := flag.Bool("demo", true, "create a demo merchant with demo customers")
	flag.Parse()
	log := app.Logger(os.Getenv) // LOG_LEVEL, as in the functions
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *prefix, *demo, log); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, prefix string, demo bool, log *slog.Logger) error {
	path, err := template.Find()
	if err != nil {
		return err
	}
	tmpl, err := template.Load(path)
	if err != nil {
		return err
	}
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		fmt.Fprintln(os.Stderr, "starting DynamoDB Local and fauxqs…")
		stack, err := localstack.Start(ctx, localstack.Options{})
		if err != nil {
			return err
		}
		defer stack.Stop()
		for k, v := range stack.Env() {
			os.Setenv(k, v)
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	res, err := localstack.Provision(ctx, cfg, tmpl, localstack.Names{Prefix: prefix})
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	gw, err := devserver.Gateway(ctx, tmpl, res, log)
	if err != nil {
		return err
	}
	consumers, err := devserver.Consumers(ctx, tmpl, res, log)
	if err != nil {
		return err
	}
	sqsClient := sqs.NewFromConfig(cfg)
	for _, c := range consumers {
		go c.Poll(ctx, sqsClient, log)
	}
	table := res.Ref("Table")
	if demo {
		st := dynamo.New(dynamodb.NewFromConfig(cfg), table)
		m, secret, err := seed.Merchant(ctx, st, "Café Demo", "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Now())
		if err != nil {
			return fmt.Errorf("demo merchant: %w", err)
		}
		n, err := seed.DemoCustomers(ctx, st, m.ID, time.Now())
		if err != nil {
			return fmt.Errorf("demo customers: %w", err)
		}
		fmt.Fprintf(os.Stderr, "\nDemo merchant %q (%s), %d customers.\nAPI key (admin, shown once): %s\n\n  curl -s -H 'Authorization: Bearer %s' http://%s/v1/customers\n\n",
			m.Name, m.ID, n, secret, secret, addr)
	}
	fmt.Fprintf(os.Stderr, "Local stack: TABLE_NAME=%s", table)
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3"} {
		fmt.Fprintf(os.Stderr, " %s=%s", k, os.Getenv(k))
	}
	fmt.Fprintf(os.Stderr, "\nServing the API on http://%s (OpenAPI: /openapi.json). Ctrl-C stops everything.\n", addr)
	srv := &http.Server{Addr: addr, Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
