package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSHandler is a Lambda handler for SQS events with partial batch responses.
type SQSHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// SQSAPI is the part of the SQS client the poller uses.
type SQSAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Consumer is an SQS event source mapping: a queue, its batch size, and the
// function it feeds.
type Consumer struct {
	Function                string
	QueueURL                string
	QueueARN                string
	BatchSize               int
	ReportBatchItemFailures bool
	Handler                 SQSHandler
	// RetryDelay is how soon a failed message is visible again; Lambda waits
	// for the queue's visibility timeout, the local gateway need not.
	RetryDelay time.Duration
	// Timeout is the function's timeout: each invocation's deadline; a batch
	// whose invocation outlives it has failed, as in Lambda. Zero: no limit.
	Timeout time.Duration
}

// PollOnce receives one batch (waiting up to wait for it), invokes the
// handler with it as Lambda would, deletes the messages that succeeded and
// makes the failed ones visible again after RetryDelay. It returns how many
// messages it received.
func (c Consumer) PollOnce(ctx context.Context, api SQSAPI, wait time.Duration, log *slog.Logger) (int, error) {
	out, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &c.QueueURL, MaxNumberOfMessages: int32(min(max(c.BatchSize, 1), 10)),
		WaitTimeSeconds: int32(wait / time.Second), MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil {
		return 0, fmt.Errorf("receive from %s: %w", c.QueueURL, err)
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
	for i, m := range out.Messages {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		ev.Records[i] = events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: c.QueueARN, AWSRegion: "us-east-1"}
	}
	failed := map[string]bool{}
	resp, err := invoke(ctx, c.Timeout, func(ctx context.Context) (events.SQSEventResponse, error) { return c.Handler(ctx, ev) })
	switch {
	case err != nil: // the whole batch failed, as in Lambda
		log.Error("consumer failed", "function", c.Function, "err", err)
		for _, r := range ev.Records {
			failed[r.MessageId] = true
		}
	case c.ReportBatchItemFailures:
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	for _, r := range ev.Records {
		if failed[r.MessageId] {
			_, err = api.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &c.QueueURL,
				ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: int32(c.RetryDelay / time.Second)})
		} else {
			_, err = api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &c.QueueURL, ReceiptHandle: aws.String(r.ReceiptHandle)})
		}
		if err != nil {
			return len(ev.Records), fmt.Errorf("settle message %s: %w", r.MessageId, err)
		}
	}
	return len(ev.Records), nil
}

// Poll feeds the consumer until ctx ends.
func (c Consumer) Poll(ctx context.Context, api SQSAPI, log *slog.Logger) {
	for ctx.Err() == nil {
		if _, err := c.PollOnce(ctx, api, time.Second, log); err != nil && ctx.Err() == nil {
			log.Error("poll", "function", c.Function, "err", err)
			time.Sleep(time.Second)
		}
	}
}

// QueueAttributesAPI is the part of the SQS client that reads a queue's
// attributes.
type QueueAttributesAPI interface {
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Queued returns how many messages a queue holds: visible, in flight and
// delayed.
func Queued(ctx context.Context, api QueueAttributesAPI, url string) (int, error) {
	out, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, fmt.Errorf("read the attributes of %s: %w", url, err)
	}
	n := 0
	for name, v := range out.Attributes {
		k, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("queue attribute %s = %q", name, v)
		}
		n += k
	}
	return n, nil
}

// DrainAPI is what Drain needs of the SQS client.
type DrainAPI interface {
	SQSAPI
	QueueAttributesAPI
}

// drainPause is how long a poller that received nothing waits before it
// looks again at a queue whose messages are still in flight or delayed.
const drainPause = 10 * time.Millisecond

// Drain runs pollers that feed the consumer until its queue holds no
// message: none visible, none in flight (a failed message comes back after
// RetryDelay, or goes to the dead-letter queue) and none delayed. A poller
// that received nothing does not stop while another one's batch may still
// fail and return to the queue.
func (c Consumer) Drain(ctx context.Context, api DrainAPI, pollers int, log *slog.Logger) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	for range max(pollers, 1) {
		wg.Go(func() {
			for {
				n, err := c.PollOnce(ctx, api, 0, log)
				if err != nil {
					fail(err)
					return
				}
				if n > 0 {
					continue
				}
				left, err := Queued(ctx, api, c.QueueURL)
				if err != nil {
					fail(err)
					return
				}
				if left == 0 {
					return
				}
				select {
				case <-ctx.Done():
					fail(fmt.Errorf("drain %s: %w", c.QueueURL, context.Cause(ctx)))
					return
				case <-time.After(drainPause):
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
