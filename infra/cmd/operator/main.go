// Command operator manages merchants and their API keys directly in the table:
//
//	operator merchant create -name "Café Central" -currency EUR -time-zone Europe/Madrid
//	operator merchant get -merchant ID
//	operator key create -merchant ID -scope admin|read [-name NAME]
//	operator key list -merchant ID
//	operator key revoke -merchant ID -key KEY_ID
//
// It reads TABLE_NAME and the standard AWS SDK variables (AWS_REGION,
// AWS_ENDPOINT_URL_DYNAMODB for the local stack, credentials).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/tenant"
)

const usage = `usage:
  operator merchant create -name NAME -currency ISO4217 -time-zone IANA
  operator merchant get -merchant ID
  operator key create -merchant ID -scope admin|read [-name NAME]
  operator key list -merchant ID
  operator key revoke -merchant ID -key KEY_ID`

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
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return errors.New("TABLE_NAME is not set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	st := dynamo.New(dynamodb.NewFromConfig(cfg), table)
	fs := flag.NewFlagSet(args[0]+" "+args[1], flag.ContinueOnError)
	name := fs.String("name", "", "merchant or key name")
	currency := fs.String("currency", "", "ISO 4217 currency code")
	tz := fs.String("time-zone", "", "IANA time zone")
	mid := fs.String("merchant", "", "merchant ID")
	scope := fs.String("scope", "admin", "key scope: admin or read")
	kid := fs.String("key", "", "API key ID")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	now := time.Now()
	switch args[0] + " " + args[1] {
	case "merchant create":
		m, secret, err := seed.Merchant(ctx, st, *name, *currency, *tz, tenant.ScopeAdmin, now)
		if err != nil {
			return err
		}
		return print(map[string]any{"merchant": m, "api_key": secret, "note": "the key is shown once; store it now"})
	case "merchant get":
		m, err := st.Merchant(ctx, *mid)
		if err != nil {
			return err
		}
		return print(m)
	case "key create":
		sc, err := tenant.ParseScope(*scope)
		if err != nil {
			return err
		}
		if _, err := st.Merchant(ctx, *mid); err != nil {
			return fmt.Errorf("merchant %q: %w", *mid, err)
		}
		secret, err := seed.Key(ctx, st, *mid, *name, sc, now)
		if err != nil {
			return err
		}
		return print(map[string]any{"api_key": secret, "scope": sc, "note": "the key is shown once; store it now"})
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

func print(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
