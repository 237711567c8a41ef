// Command webhook is the purchase webhook Lambda: it verifies Standard
// Webhooks signatures, validates the events and queues them for ingest.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/regulars/regulars/internal/app"
)

func main() {
	log := app.Logger(os.Getenv)
	srv, err := app.NewWebhook(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("init", "err", err)
		os.Exit(1)
	}
	lambda.Start(srv.Handle)
}
