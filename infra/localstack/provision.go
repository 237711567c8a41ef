package localstack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/regulars/regulars/infra/template"
)

// Names maps logical ids of the template to local physical names:
// Prefix-LogicalID, lower-cased for buckets (S3 bucket names are lower case).
// Give each test its own Prefix so that tests sharing a stack never collide.
type Names struct {
	Prefix string
}

// Table returns the local name of a table.
func (n Names) Table(logicalID string) string { return n.Prefix + "-" + logicalID }

// Queue returns the local name of a queue.
func (n Names) Queue(logicalID string) string { return n.Prefix + "-" + logicalID }

// Bucket returns the local name of a bucket.
func (n Names) Bucket(logicalID string) string { return strings.ToLower(n.Prefix + "-" + logicalID) }

// Resources are the provisioned resources, answering !Ref and !GetAtt the way
// CloudFormation does: Ref of a table is its name, of a queue its URL, of a
// bucket its name; GetAtt X.Arn is the ARN; GetAtt Queue.QueueName the name.
type Resources struct {
	attrs map[string]map[string]string // logical id → attribute ("" for Ref) → value
}

// Lookup implements template.Lookup, including the pseudo parameters
// AWS::Region, AWS::AccountId, AWS::Partition, AWS::URLSuffix and AWS::StackName.
func (r Resources) Lookup(logicalID, attr string) (string, bool) {
	v, ok := r.attrs[logicalID][attr]
	return v, ok
}

// Ref returns what !Ref logicalID resolves to, or "" for an unknown id.
func (r Resources) Ref(logicalID string) string {
	return r.attrs[logicalID][""]
}

// FunctionEnv resolves the environment of a function of the template against
// the provisioned resources, as Lambda would see it once deployed.
func (r Resources) FunctionEnv(f template.Function) (map[string]string, error) {
	env := make(map[string]string, len(f.Env))
	for name, v := range f.Env {
		s, err := v.Resolve(r.Lookup)
		if err != nil {
			return nil, fmt.Errorf("environment of %s: %s: %w", f.LogicalID, name, err)
		}
		env[name] = s
	}
	return env, nil
}

func (r Resources) set(logicalID string, attrs map[string]string) {
	r.attrs[logicalID] = attrs
}

// Provision creates every table, queue and bucket of t under names, and is
// idempotent: what already exists is kept (and brought up to date). Tables get
// their time to live and are waited for until ACTIVE; dead-letter queues are
// created before the queues that redrive to them.
func Provision(ctx context.Context, cfg aws.Config, t *template.Template, names Names) (Resources, error) {
	const accountID = "000000000000" // what both emulators use
	res := Resources{attrs: map[string]map[string]string{
		"AWS::Region":    {"": cfg.Region},
		"AWS::AccountId": {"": accountID},
		"AWS::Partition": {"": "aws"},
		"AWS::URLSuffix": {"": "amazonaws.com"},
		"AWS::StackName": {"": names.Prefix},
	}}
	// What Systems Manager holds once deployed (the cursor key) this stack
	// derives for itself from its prefix: 32 bytes, standard base64, the
	// same on every Provision of the stack and different between stacks.
	// Local only: anyone who knows the prefix can compute it.
	for _, p := range t.SSMParameters {
		sum := sha256.Sum256([]byte("regulars local SSM parameter\x00" + names.Prefix + "\x00" + p))
		res.set(p, map[string]string{"": base64.StdEncoding.EncodeToString(sum[:])})
	}

	ddb := dynamodb.NewFromConfig(cfg)
	for _, tbl := range t.Tables {
		arn, err := provisionTable(ctx, ddb, tbl, names.Table(tbl.LogicalID))
		if err != nil {
			return Resources{}, err
		}
		res.set(tbl.LogicalID, map[string]string{"": names.Table(tbl.LogicalID), "Arn": arn})
	}

	if err := provisionQueues(ctx, sqs.NewFromConfig(cfg), t.Queues, names, res); err != nil {
		return Resources{}, err
	}

	s3c := s3.NewFromConfig(cfg, S3PathStyle)
	for _, b := range t.Buckets {
		name := names.Bucket(b.LogicalID)
		if err := createBucket(ctx, s3c, name, cfg.Region); err != nil {
			return Resources{}, err
		}
		res.set(b.LogicalID, map[string]string{"": name, "Arn": "arn:aws:s3:::" + name})
	}
	return res, nil
}

// createTableInput builds the CreateTable request for a table of the template.
func createTableInput(tbl template.Table, name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingMode(tbl.BillingMode),
		KeySchema:   keySchema(tbl.KeySchema),
	}
	for _, d := range tbl.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(d.AttributeName),
			AttributeType: ddbtypes.ScalarAttributeType(d.AttributeType),
		})
	}
	for _, g := range tbl.GlobalSecondaryIndexes {
		gsi := ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(g.IndexName),
			KeySchema: keySchema(g.KeySchema),
			Projection: &ddbtypes.Projection{
				ProjectionType: ddbtypes.ProjectionType(g.Projection.ProjectionType),
			},
		}
		if len(g.Projection.NonKeyAttributes) > 0 {
			gsi.Projection.NonKeyAttributes = g.Projection.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	return in
}

func keySchema(ks []template.KeyElement) []ddbtypes.KeySchemaElement {
	out := make([]ddbtypes.KeySchemaElement, len(ks))
	for i, k := range ks {
		out[i] = ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)}
	}
	return out
}

// provisionTable creates the table (unless it exists), waits until it is
// ACTIVE, enables its time to live, and returns its ARN.
func provisionTable(ctx context.Context, ddb *dynamodb.Client, tbl template.Table, name string) (string, error) {
	_, err := ddb.CreateTable(ctx, createTableInput(tbl, name))
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return "", fmt.Errorf("create table %s (%s): %w", name, tbl.LogicalID, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 2*time.Second
	})
	desc, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute)
	if err != nil {
		return "", fmt.Errorf("wait for table %s to be ACTIVE: %w", name, err)
	}

	if tbl.TTLAttribute != "" {
		ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			return "", fmt.Errorf("describe time to live of %s: %w", name, err)
		}
		d := ttl.TimeToLiveDescription
		enabled := d != nil && aws.ToString(d.AttributeName) == tbl.TTLAttribute &&
			(d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling)
		if !enabled {
			_, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
					AttributeName: aws.String(tbl.TTLAttribute),
					Enabled:       aws.Bool(true),
				},
			})
			if err != nil {
				return "", fmt.Errorf("enable time to live on %s.%s: %w", name, tbl.TTLAttribute, err)
			}
		}
	}
	return aws.ToString(desc.Table.TableArn), nil
}

// provisionQueues creates the queues, each after its dead-letter queue.
func provisionQueues(ctx context.Context, client *sqs.Client, queues []template.Queue, names Names, res Resources) error {
	pending := queues
	for len(pending) > 0 {
		var blocked []template.Queue
		for _, q := range pending {
			var dlqArn string
			if rp := q.RedrivePolicy; rp != nil {
				arn, ok := res.Lookup(rp.DeadLetterQueue, "Arn")
				if !ok {
					blocked = append(blocked, q)
					continue
				}
				dlqArn = arn
			}
			url, arn, err := createQueue(ctx, client, q, names.Queue(q.LogicalID), dlqArn)
			if err != nil {
				return err
			}
			res.set(q.LogicalID, map[string]string{"": url, "Arn": arn, "QueueName": names.Queue(q.LogicalID), "QueueUrl": url})
		}
		if len(blocked) == len(pending) {
			return fmt.Errorf("provision queues: dead-letter queue %s of %s is not a queue of the template (or the redrive policies form a cycle)",
				blocked[0].RedrivePolicy.DeadLetterQueue, blocked[0].LogicalID)
		}
		pending = blocked
	}
	return nil
}

// createQueue creates the queue, or brings the attributes of an existing one
// up to date, and returns its URL and ARN.
func createQueue(ctx context.Context, client *sqs.Client, q template.Queue, name, dlqArn string) (url, arn string, err error) {
	attrs := map[string]string{
		string(sqstypes.QueueAttributeNameVisibilityTimeout):      strconv.Itoa(q.VisibilityTimeout),
		string(sqstypes.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(q.MessageRetentionPeriod),
	}
	if q.RedrivePolicy != nil {
		policy, err := json.Marshal(map[string]any{
			"deadLetterTargetArn": dlqArn,
			"maxReceiveCount":     q.RedrivePolicy.MaxReceiveCount,
		})
		if err != nil {
			return "", "", fmt.Errorf("redrive policy of %s: %w", name, err)
		}
		attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = string(policy)
	}

	created, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	var exists *sqstypes.QueueNameExists
	switch {
	case err == nil:
		url = aws.ToString(created.QueueUrl)
	case errors.As(err, &exists):
		got, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return "", "", fmt.Errorf("get URL of existing queue %s: %w", name, err)
		}
		url = aws.ToString(got.QueueUrl)
		if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: attrs}); err != nil {
			return "", "", fmt.Errorf("update attributes of existing queue %s: %w", name, err)
		}
	default:
		return "", "", fmt.Errorf("create queue %s (%s): %w", name, q.LogicalID, err)
	}

	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("get ARN of queue %s: %w", name, err)
	}
	return url, got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

func createBucket(ctx context.Context, client *s3.Client, name, region string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != "" && region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	_, err := client.CreateBucket(ctx, in)
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// S3PathStyle is an s3.Options function for clients of the local stack:
// fauxqs serves buckets by path (http://127.0.0.1:port/bucket/key), because a
// virtual-hosted bucket name (bucket.127.0.0.1) does not resolve. Use it as
// s3.NewFromConfig(cfg, localstack.S3PathStyle).
func S3PathStyle(o *s3.Options) { o.UsePathStyle = true }
