// Package queue is the SQS adapter: it sends message bodies to one queue and
// moves messages between queues (the dead-letter redrive).
package queue

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/regulars/regulars/internal/backoff"
)

// API is the part of the SQS client used here.
type API interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Queue sends to one queue.
type Queue struct {
	api API
	url string
}

// New returns a queue at url.
func New(api API, url string) *Queue { return &Queue{api: api, url: url} }

// maxSendAttempts bounds the sends of entries SQS did not accept, with
// backoff.Wait between them.
const maxSendAttempts = 3

// Send sends every body, ten per request; it returns nil only when SQS has
// accepted all of them.
func (q *Queue) Send(ctx context.Context, bodies [][]byte) error {
	for start := 0; start < len(bodies); start += 10 {
		chunk := bodies[start:min(start+10, len(bodies))]
		pending := make(map[string]string, len(chunk))
		for i, b := range chunk {
			pending[strconv.Itoa(start+i)] = string(b)
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == maxSendAttempts {
				return fmt.Errorf("SQS did not accept %d messages", len(pending))
			}
			if attempt > 0 {
				if err := backoff.Wait(ctx, attempt-1); err != nil {
					return err
				}
			}
			entries := make([]types.SendMessageBatchRequestEntry, 0, len(pending))
			for id, body := range pending {
				entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(body)})
			}
			out, err := q.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: entries})
			if err != nil {
				return fmt.Errorf("send messages: %w", err)
			}
			for _, ok := range out.Successful {
				delete(pending, aws.ToString(ok.Id))
			}
		}
	}
	return nil
}

// Redrive moves up to max messages from the dead-letter queue at from back
// to this queue, and returns how many moved. A message is deleted from the
// dead-letter queue only after this queue accepted it.
func (q *Queue) Redrive(ctx context.Context, from string, max int) (int, error) {
	moved := 0
	for moved < max {
		out, err := q.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &from, MaxNumberOfMessages: int32(min(10, max-moved)), WaitTimeSeconds: 1})
		if err != nil {
			return moved, fmt.Errorf("receive from the dead-letter queue: %w", err)
		}
		if len(out.Messages) == 0 {
			return moved, nil
		}
		for _, m := range out.Messages {
			if err := q.Send(ctx, [][]byte{[]byte(aws.ToString(m.Body))}); err != nil {
				return moved, err
			}
			if _, err := q.api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &from, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return moved, fmt.Errorf("delete from the dead-letter queue: %w", err)
			}
			moved++
		}
	}
	return moved, nil
}
