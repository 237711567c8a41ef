// Command stack runs the local AWS emulators (DynamoDB Local, fauxqs) for
// development and tests.
//
//	go run ./infra/cmd/stack exec -- go test ./...   # run a command against a fresh stack
//	go run ./infra/cmd/stack up                      # run a stack in the foreground
//
// See infra/README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(context.Background(), os.Args[1:], signals, os.Stdout, os.Stderr))
}
