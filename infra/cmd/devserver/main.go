// Command devserver is `make run`: it starts the local emulators (unless the
// AWS_ENDPOINT_URL_* variables already point at running ones), provisions the
// resources of template.yaml, creates a demo merchant with its customers'
// purchases, points and analytics (infra/demo), prints its API key and
// serves every HttpApi route on localhost.
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
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/demo"
	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/infra/template"
	"github.com/regulars/regulars/internal/app"
	"github.com/regulars/regulars/internal/dynamo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback)")
	prefix := flag.String("prefix", "regulars", "prefix of local resource names")
	withDemo := flag.Bool("demo", true, "create a demo merchant with demo customers")
	purchases := flag.String("demo-purchases", "../shared/data/cdnow/CDNOW_sample.txt",
		"the demo's purchase log (CDNOW format, relative to the repository); synthetic purchases when absent")
	flag.Parse()
	log := app.Logger(os.Getenv) // LOG_LEVEL, as in the functions
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *prefix, *withDemo, *purchases, log); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

// writeEnv writes shell assignments of the local stack for other commands.
func writeEnv(path string, vars map[string]string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by `make run` for the stack it is serving; gone stale when it stops.\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s='%s'\n", k, strings.ReplaceAll(vars[k], "'", ""))
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func run(ctx context.Context, addr, prefix string, withDemo bool, purchases string, log *slog.Logger) error {
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
		stack, err := localstack.Start(ctx, localstack.Options{Logger: log})
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
	schedules, err := devserver.Schedules(ctx, tmpl, res, log)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", gw)
	// Scheduled functions fire on demand: POST /_local/schedules/SchedulerFunction.
	mux.HandleFunc("POST /_local/schedules/{function}", func(w http.ResponseWriter, r *http.Request) {
		fire, ok := schedules[r.PathValue("function")]
		if !ok {
			http.Error(w, "no scheduled function "+r.PathValue("function"), http.StatusNotFound)
			return
		}
		if err := fire(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	table := res.Ref("Table")
	dlqArn, _ := res.Lookup("PurchasesDeadLetterQueue", "Arn")
	local := map[string]string{"TABLE_NAME": table, "PURCHASES_QUEUE_URL": res.Ref("PurchasesQueue"),
		"PURCHASES_DLQ_URL": res.Ref("PurchasesDeadLetterQueue"), "PURCHASES_DLQ_ARN": dlqArn,
		"EXPORTS_BUCKET": res.Ref("ExportsBucket"), "API_URL": "http://" + addr, "NIGHTLY_QUEUE_URL": res.Ref("NightlyQueue"),
		"JOBS_QUEUE_URL": res.Ref("JobsQueue"), "JOBS_DLQ_URL": res.Ref("JobsDeadLetterQueue")}
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		local[k] = os.Getenv(k)
	}
	if withDemo {
		// Through the real paths, before the consumers poll: the seed drains
		// the queues itself.
		start := time.Now()
		st := dynamo.New(dynamodb.NewFromConfig(cfg), table)
		if !filepath.IsAbs(purchases) {
			purchases = filepath.Join(filepath.Dir(path), purchases)
		}
		zone, err := time.LoadLocation(seed.DemoTimeZone)
		if err != nil {
			return err
		}
		ps, err := demo.Purchases(purchases, demo.Customers, start, zone)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "seeding the demo: %d purchases of %d customers through the webhook, ingest and the nightly run…\n", len(ps), demo.Customers)
		d, err := demo.Seed(ctx, demo.Env{Store: st, Gateway: gw, Consumers: consumers, SQS: sqsClient, Log: log}, ps, start)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "demo seeded in %s\n", time.Since(start).Round(100*time.Millisecond))
		local["DEMO_MERCHANT_ID"], local["DEMO_API_KEY"], local["DEMO_WEBHOOK_SECRET"], local["DEMO_CURRENCY"] = d.Merchant.ID, d.APIKey, d.WebhookSecret, d.Merchant.Currency
		fmt.Fprintf(os.Stderr, "\nDemo merchant %q (%s), %d customers.\nAPI key (admin, shown once): %s\nWebhook secret: %s\n\n  curl -s -H 'Authorization: Bearer %s' http://%s/v1/customers\n\n",
			d.Merchant.Name, d.Merchant.ID, d.Customers, d.APIKey, d.WebhookSecret, d.APIKey, addr)
	}
	for _, c := range consumers {
		go c.Poll(ctx, sqsClient, log)
	}
	envFile := filepath.Join(filepath.Dir(path), ".local", "env")
	if err := writeEnv(envFile, local); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Wrote %s (make redrive, make load and the operator command read it).\n", envFile)
	fmt.Fprintf(os.Stderr, "Scheduled functions fire on demand: curl -X POST http://%s/_local/schedules/SchedulerFunction\n", addr)
	fmt.Fprintf(os.Stderr, "Serving the API on http://%s (OpenAPI: /openapi.json). Ctrl-C stops everything.\n", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
