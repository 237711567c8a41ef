// Command jobs is the jobs worker Lambda: it consumes the jobs queue and
// runs one slice of an export, an import or an erasure per message.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/regulars/regulars/internal/app"
)

func main() {
	log := app.Logger(os.Getenv)
	w, err := app.NewJobs(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("init", "err", err)
		os.Exit(1)
	}
	lambda.Start(w.HandleSQS)
}
