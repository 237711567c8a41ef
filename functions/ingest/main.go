// Command ingest is the purchase queue's consumer Lambda (SQS, partial batch
// responses): it applies each purchase event exactly once.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/regulars/regulars/internal/app"
)

func main() {
	log := app.Logger(os.Getenv)
	in, err := app.NewIngest(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("init", "err", err)
		os.Exit(1)
	}
	lambda.Start(in.HandleSQS)
}
