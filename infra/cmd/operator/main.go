// Command operator manages merchants and their API keys directly in the table:
//
//	operator merchant create -name "Café Central" -currency EUR -time-zone Europe/Madrid [-country ES]
//	operator merchant get -merchant ID
//	operator merchant set-country -merchant ID -country ES
//	operator phones migrate -merchant ID
//	operator customers index-values -merchant ID
//	operator key create -merchant ID -scope admin|read [-name NAME]
//	operator key list -merchant ID
//	operator key revoke -merchant ID -key KEY_ID
//	operator queue redrive [-queue purchases|jobs] [-max N]
//	operator nightly run [-as-of YYYY-MM-DD]   (queues a job per merchant; NIGHTLY_QUEUE_URL)
//
// It reads TABLE_NAME (and, for the queues, PURCHASES_QUEUE_URL and
// PURCHASES_DLQ_URL, or JOBS_QUEUE_URL and JOBS_DLQ_URL) and the standard
// AWS SDK variables (AWS_REGION, AWS_ENDPOINT_URL_* for the local stack,
// credentials). Locally, `make run` writes all of them to .local/env.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/nightly"
	"github.com/regulars/regulars/internal/queue"
	"github.com/regulars/regulars/internal/tenant"
)

const usage = `usage:
  operator merchant create -name NAME -currency ISO4217 -time-zone IANA [-country ISO3166]
  operator merchant get -merchant ID
  operator merchant set-country -merchant ID -country ISO3166
  operator phones migrate -merchant ID
  operator customers index-values -merchant ID
  operator key create -merchant ID -scope admin|read [-name NAME]
  operator key list -merchant ID
  operator key revoke -merchant ID -key KEY_ID
  operator queue redrive [-queue purchases|jobs] [-max N]
  operator nightly run [-as-of YYYY-MM-DD]`

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) < 2 {
		return errors.New(usage)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	if args[0] == "queue" {
		return runQueue(ctx, cfg, args[1:])
	}
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return errors.New("TABLE_NAME is not set")
	}
	st := dynamo.New(dynamodb.NewFromConfig(cfg), table)
	if args[0] == "nightly" {
		return runNightly(ctx, cfg, st, args[1:])
	}
	fs := flag.NewFlagSet(args[0]+" "+args[1], flag.ContinueOnError)
	name := fs.String("name", "", "merchant or key name")
	currency := fs.String("currency", "", "ISO 4217 currency code")
	tz := fs.String("time-zone", "", "IANA time zone")
	mid := fs.String("merchant", "", "merchant ID")
	scope := fs.String("scope", "admin", "key scope: admin or read")
	kid := fs.String("key", "", "API key ID")
	country := fs.String("country", "", "ISO 3166-1 alpha-2 country of national phone numbers (default: the time zone's)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	now := time.Now()
	switch args[0] + " " + args[1] {
	case "merchant create":
		if *country != "" {
			if _, err := tenant.NormalizeCountry(*country); err != nil {
				return fmt.Errorf("-country %w", err)
			}
		}
		m, secret, err := seed.Merchant(ctx, st, *name, *currency, *tz, tenant.ScopeAdmin, now)
		if err != nil {
			return err
		}
		if *country != "" {
			if m, err = setCountry(ctx, st, m, *country); err != nil {
				return err
			}
		}
		return print(map[string]any{"merchant": merchantView(m), "api_key": secret, "note": "the key is shown once; store it now"})
	case "merchant set-country":
		m, err := st.Merchant(ctx, *mid)
		if err != nil {
			return err
		}
		if m, err = setCountry(ctx, st, m, *country); err != nil {
			return err
		}
		return print(merchantView(m))
	case "phones migrate":
		m, err := st.Merchant(ctx, *mid)
		if err != nil {
			return err
		}
		res, err := st.MigratePhones(ctx, m.ID, m.Country, now)
		if err != nil {
			return err
		}
		return print(map[string]any{"country": m.Country, "checked": res.Checked, "changed": res.Changed,
			"invalid": res.Invalid, "collisions": res.Collisions})
	case "customers index-values":
		m, err := st.Merchant(ctx, *mid)
		if err != nil {
			return err
		}
		n, err := st.IndexValues(ctx, m.ID)
		if err != nil {
			return err
		}
		return print(map[string]any{"indexed": n})
	case "merchant get":
		m, err := st.Merchant(ctx, *mid)
		if err != nil {
			return err
		}
		return print(merchantView(m))
	case "key create":
		sc, err := tenant.ParseScope(*scope)
		if err != nil {
			return err
		}
		if _, err := st.Merchant(ctx, *mid); err != nil {
			return fmt.Errorf("merchant %q: %w", *mid, err)
		}
		k, secret, err := seed.CreateKey(ctx, st, *mid, *name, sc, now)
		if err != nil {
			return err
		}
		return print(map[string]any{"api_key": secret, "key_id": k.ID, "name": k.Name, "prefix": k.Prefix, "scope": sc,
			"note": "the key is shown once; store it now (revoke it with: operator key revoke -merchant " + *mid + " -key " + k.ID + ")"})
	case "key list":
		keys, err := st.APIKeys(ctx, *mid)
		if err != nil {
			return err
		}
		return print(keys)
	case "key revoke":
		k, err := st.RevokeAPIKey(ctx, *mid, *kid, now)
		if err != nil {
			return err
		}
		return print(k)
	}
	return errors.New(usage)
}

// redriveQueues names, for each queue with a dead-letter queue, the
// variables that hold the URLs of the queue and of its dead-letter queue.
var redriveQueues = map[string][2]string{
	"purchases": {"PURCHASES_QUEUE_URL", "PURCHASES_DLQ_URL"},
	"jobs":      {"JOBS_QUEUE_URL", "JOBS_DLQ_URL"},
}

// runQueue moves dead-lettered messages — purchase events, or job slices —
// back to their queue, once their cause is fixed (see docs/operations.md).
func runQueue(ctx context.Context, cfg aws.Config, args []string) error {
	fs := flag.NewFlagSet("queue", flag.ContinueOnError)
	max := fs.Int("max", 1000, "most messages to move")
	name := fs.String("queue", "purchases", "the queue to redrive: purchases or jobs")
	if len(args) == 0 || args[0] != "redrive" {
		return errors.New(usage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	vars, ok := redriveQueues[*name]
	if !ok {
		return fmt.Errorf("no queue %q: purchases or jobs", *name)
	}
	url, dlq := os.Getenv(vars[0]), os.Getenv(vars[1])
	if url == "" || dlq == "" {
		return fmt.Errorf("%s and %s must be set", vars[0], vars[1])
	}
	moved, err := queue.New(sqs.NewFromConfig(cfg), url).Redrive(ctx, dlq, *max)
	fmt.Fprintf(os.Stderr, "moved %d messages from the dead-letter queue back to the %s queue\n", moved, *name)
	return err
}

// setCountry validates and stores a merchant's country.
func setCountry(ctx context.Context, st *dynamo.Store, m tenant.Merchant, country string) (tenant.Merchant, error) {
	m, err := m.WithCountry(country)
	if err != nil {
		return tenant.Merchant{}, err
	}
	return m, st.SetMerchantCountry(ctx, m.ID, m.Country)
}

// merchantView is a merchant without its secrets.
func merchantView(m tenant.Merchant) map[string]any {
	return map[string]any{"id": m.ID, "name": m.Name, "currency": m.Currency, "time_zone": m.TimeZone, "country": m.Country,
		"created_at": m.CreatedAt, "webhook_secrets": len(m.WebhookSecrets)}
}

// runNightly queues one analytics job per merchant, as the schedule does,
// for a date (backfills) or for each merchant's yesterday.
func runNightly(ctx context.Context, cfg aws.Config, st *dynamo.Store, args []string) error {
	fs := flag.NewFlagSet("nightly", flag.ContinueOnError)
	asOf := fs.String("as-of", "", "date YYYY-MM-DD (default: each merchant's yesterday)")
	if len(args) == 0 || args[0] != "run" {
		return errors.New(usage)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *asOf != "" {
		if _, err := nightly.ParseAsOf(*asOf); err != nil {
			return err
		}
	}
	url := os.Getenv("NIGHTLY_QUEUE_URL")
	if url == "" {
		return errors.New("NIGHTLY_QUEUE_URL must be set")
	}
	n, err := nightly.FanOut(ctx, st, queue.New(sqs.NewFromConfig(cfg), url), *asOf, time.Now())
	fmt.Fprintf(os.Stderr, "queued analytics jobs for %d merchants\n", n)
	return err
}

// stdout is where commands print their results.
var stdout io.Writer = os.Stdout

func print(v any) error {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
