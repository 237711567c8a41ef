// Command nightly is the analytics worker Lambda: it consumes one job per
// merchant from the nightly queue and runs that merchant's analysis,
// resuming a run that stopped.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/regulars/regulars/internal/app"
)

func main() {
	log := app.Logger(os.Getenv)
	w, err := app.NewNightly(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("init", "err", err)
		os.Exit(1)
	}
	lambda.Start(w.HandleSQS)
}
