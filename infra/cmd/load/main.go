// Command load pushes purchases through the signed webhook of a running
// stack (`make run`), with a progress bar:
//
//	load -file ../shared/data/cdnow/CDNOW_sample.txt   # the CDNOW log
//	load -synthetic 10000                              # a synthetic year of 10,000 customers
//
// It reads API_URL, DEMO_MERCHANT_ID, DEMO_API_KEY, DEMO_WEBHOOK_SECRET and
// DEMO_CURRENCY (which `make run` writes to .local/env) unless flags say
// otherwise. The file's dates are calendar days in the merchant's time zone,
// which it asks the API for (GET /v1/merchant) with the API key.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/regulars/regulars/infra/loader"
)

func main() {
	url := flag.String("url", os.Getenv("API_URL"), "base URL of the API")
	merchant := flag.String("merchant", os.Getenv("DEMO_MERCHANT_ID"), "merchant ID")
	secret := flag.String("secret", os.Getenv("DEMO_WEBHOOK_SECRET"), "the merchant's webhook secret (whsec_…)")
	currency := flag.String("currency", envOr("DEMO_CURRENCY", "EUR"), "the merchant's currency")
	apiKey := flag.String("api-key", os.Getenv("DEMO_API_KEY"), "an API key of the merchant, to read its time zone")
	file := flag.String("file", "", "a purchase log in CDNOW format")
	synthetic := flag.Int("synthetic", 0, "generate this many customers' purchases instead")
	seed := flag.Uint64("seed", 1, "seed of the synthetic generator")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *url, *merchant, *secret, *apiKey, *currency, *file, *synthetic, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "\nload:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, url, merchant, secret, apiKey, currency, file string, synthetic int, seed uint64) error {
	if url == "" || merchant == "" || secret == "" {
		return fmt.Errorf("-url, -merchant and -secret are required (or run `make run` and use `make load`)")
	}
	var ps []loader.Purchase
	switch {
	case file != "":
		if apiKey == "" {
			return fmt.Errorf("-api-key is required with -file: the file's dates are days in the merchant's time zone")
		}
		loc, err := loader.MerchantZone(ctx, url, apiKey, nil)
		if err != nil {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		if ps, err = loader.ParseCDNOW(f, loc); err != nil {
			return err
		}
	case synthetic > 0:
		ps = loader.Synthetic(synthetic, time.Now(), seed)
	default:
		return fmt.Errorf("give -file or -synthetic")
	}
	start := time.Now()
	c := loader.Client{URL: url, Merchant: merchant, Secret: secret, Currency: currency}
	err := c.Load(ctx, ps, func(done, total int) {
		const width = 40
		filled := done * width / total
		rate := float64(done) / time.Since(start).Seconds()
		fmt.Fprintf(os.Stderr, "\r[%s%s] %d/%d purchases  %.0f/s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total, rate)
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "accepted %d purchases in %s; the ingest consumer applies them from the queue\n", len(ps), time.Since(start).Round(time.Millisecond))
	return nil
}
