// Command hello is the baseline of `make bench` (infra/bench): the smallest Go
// Lambda function, built like the real ones, to compare their binary size and
// cold init with.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(func() (string, error) { return "hello, world", nil })
}
