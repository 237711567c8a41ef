// Command bench is `make bench`: the API through the local gateway against raw
// DynamoDB Local (customers, and points operations against raw transactions
// of the same items), the purchase webhook against raw SQS sends to the same
// queue, the ingest consumer against raw transactions of one purchase's
// items, the DynamoDB calls and capacity units per request and per purchase,
// the size and cold init of every Lambda binary against a hello-world
// Lambda, the nightly analysis of synthetic customers in memory against a
// plain sort of as many keys, and the nightly run end to end on DynamoDB
// Local against raw queries of the same customers' ticket days, and the
// customer export and import jobs end to end against raw DynamoDB Local
// calls, each beside its baseline measured in the same run.
//
//	go run ./infra/cmd/stack exec -- go run ./infra/cmd/bench [-json] [-only exports] [flags]
//
// Without the stack's variables it starts its own stack. Progress goes to
// stderr, the report to stdout. It exits 1 if any request failed. See
// docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/regulars/regulars/infra/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfg := bench.DefaultConfig()
	cfg.RegisterFlags(flag.CommandLine)
	asJSON := flag.Bool("json", false, "print the report as JSON instead of tables")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	rep, err := bench.Run(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: write the report:", err)
		return 1
	}
	if rep.Errors > 0 {
		fmt.Fprintf(os.Stderr, "bench: failed requests: %d: the figures are not valid\n", rep.Errors)
		return 1
	}
	return 0
}
