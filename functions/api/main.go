// Command api is the merchant HTTP API Lambda (API Gateway HTTP API, payload 2.0).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/regulars/regulars/internal/app"
)

func main() {
	log := app.Logger(os.Getenv)
	srv, err := app.NewAPI(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("init", "err", err)
		os.Exit(1)
	}
	lambda.Start(srv.Handle)
}
