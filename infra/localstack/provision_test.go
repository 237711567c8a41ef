package localstack

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/regulars/regulars/infra/template"
)

var testCfg aws.Config

func TestMain(m *testing.M) { Main(m, &testCfg) }

func loadTemplate(t *testing.T) *template.Template {
	t.Helper()
	path, err := template.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestProvisionedTablesMatchTemplate is the "no second schema" check: what
// DynamoDB Local reports for each provisioned table, read back into the
// template's terms, equals what template.yaml declares.
func TestProvisionedTablesMatchTemplate(t *testing.T) {
	tmpl := loadTemplate(t)
	names := Names{Prefix: UniquePrefix(t.Name())}
	if _, err := Provision(t.Context(), testCfg, tmpl, names); err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(testCfg)
	for _, want := range tmpl.Tables {
		t.Run(want.LogicalID, func(t *testing.T) {
			name := aws.String(names.Table(want.LogicalID))
			desc, err := ddb.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: name})
			if err != nil {
				t.Fatal(err)
			}
			ttl, err := ddb.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: name})
			if err != nil {
				t.Fatal(err)
			}
			got := tableFromDescription(want.LogicalID, desc.Table, ttl.TimeToLiveDescription)
			if desc.Table.TableStatus != ddbtypes.TableStatusActive {
				t.Errorf("status = %s, want ACTIVE", desc.Table.TableStatus)
			}
			if !reflect.DeepEqual(normalize(got), normalize(want)) {
				t.Errorf("provisioned table differs from template.yaml\n got: %+v\nwant: %+v", got, want)
			}
		})
	}
}

// tableFromDescription reads a described table back into template terms.
func tableFromDescription(id string, d *ddbtypes.TableDescription, ttl *ddbtypes.TimeToLiveDescription) template.Table {
	t := template.Table{LogicalID: id, KeySchema: keyElements(d.KeySchema)}
	if d.BillingModeSummary != nil {
		t.BillingMode = string(d.BillingModeSummary.BillingMode)
	}
	for _, a := range d.AttributeDefinitions {
		t.AttributeDefinitions = append(t.AttributeDefinitions, template.AttributeDefinition{
			AttributeName: aws.ToString(a.AttributeName), AttributeType: string(a.AttributeType)})
	}
	for _, g := range d.GlobalSecondaryIndexes {
		t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, template.GlobalSecondaryIndex{
			IndexName: aws.ToString(g.IndexName),
			KeySchema: keyElements(g.KeySchema),
			Projection: template.Projection{
				ProjectionType:   string(g.Projection.ProjectionType),
				NonKeyAttributes: g.Projection.NonKeyAttributes,
			},
		})
	}
	if ttl != nil && ttl.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
		t.TTLAttribute = aws.ToString(ttl.AttributeName)
	}
	return t
}

func keyElements(ks []ddbtypes.KeySchemaElement) []template.KeyElement {
	var out []template.KeyElement
	for _, k := range ks {
		out = append(out, template.KeyElement{AttributeName: aws.ToString(k.AttributeName), KeyType: string(k.KeyType)})
	}
	return out
}

// normalize orders what DynamoDB does not keep in order.
func normalize(t template.Table) template.Table {
	slices.SortFunc(t.AttributeDefinitions, func(a, b template.AttributeDefinition) int {
		return strings.Compare(a.AttributeName, b.AttributeName)
	})
	slices.SortFunc(t.GlobalSecondaryIndexes, func(a, b template.GlobalSecondaryIndex) int {
		return strings.Compare(a.IndexName, b.IndexName)
	})
	return t
}

func TestProvisionedQueuesMatchTemplate(t *testing.T) {
	tmpl := loadTemplate(t)
	names := Names{Prefix: UniquePrefix(t.Name())}
	res, err := Provision(t.Context(), testCfg, tmpl, names)
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(testCfg)
	for _, q := range tmpl.Queues {
		t.Run(q.LogicalID, func(t *testing.T) {
			url := res.Ref(q.LogicalID)
			// fauxqs builds AWS-shaped URLs (http://sqs.<region>.localhost:<port>/<account>/<name>);
			// the SDK sends requests to AWS_ENDPOINT_URL_SQS whatever the URL's host.
			if !strings.HasPrefix(url, "http://") || !strings.HasSuffix(url, "/"+names.Queue(q.LogicalID)) {
				t.Errorf("Ref %s = %q, want a local queue URL", q.LogicalID, url)
			}
			got, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
				QueueUrl:       aws.String(url),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			if err != nil {
				t.Fatal(err)
			}
			attrs := got.Attributes
			if arn, _ := res.Lookup(q.LogicalID, "Arn"); attrs["QueueArn"] != arn || arn == "" {
				t.Errorf("QueueArn = %q, GetAtt Arn = %q", attrs["QueueArn"], arn)
			}
			if attrs["VisibilityTimeout"] != strconv.Itoa(q.VisibilityTimeout) || attrs["MessageRetentionPeriod"] != strconv.Itoa(q.MessageRetentionPeriod) {
				t.Errorf("attributes = %v, want VisibilityTimeout %d and MessageRetentionPeriod %d", attrs, q.VisibilityTimeout, q.MessageRetentionPeriod)
			}
			if q.RedrivePolicy == nil {
				if attrs["RedrivePolicy"] != "" {
					t.Errorf("RedrivePolicy = %s, want none", attrs["RedrivePolicy"])
				}
				return
			}
			var policy struct {
				DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
				MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
			}
			if err := json.Unmarshal([]byte(attrs["RedrivePolicy"]), &policy); err != nil {
				t.Fatalf("RedrivePolicy %q: %v", attrs["RedrivePolicy"], err)
			}
			dlq, _ := res.Lookup(q.RedrivePolicy.DeadLetterQueue, "Arn")
			if policy.DeadLetterTargetArn != dlq || strings.Trim(string(policy.MaxReceiveCount), `"`) != strconv.Itoa(q.RedrivePolicy.MaxReceiveCount) {
				t.Errorf("RedrivePolicy = %s, want target %s and maxReceiveCount %d", attrs["RedrivePolicy"], dlq, q.RedrivePolicy.MaxReceiveCount)
			}
		})
	}
}

func TestProvisionIsIdempotent(t *testing.T) {
	tmpl := loadTemplate(t)
	names := Names{Prefix: UniquePrefix(t.Name())}
	first, err := Provision(t.Context(), testCfg, tmpl, names)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Provision(t.Context(), testCfg, tmpl, names)
	if err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second Provision answers %+v, first %+v", second, first)
	}
}

func TestProvisionRejectsUnknownDeadLetterQueue(t *testing.T) {
	tmpl, err := template.Parse([]byte(`
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Missing.Arn, maxReceiveCount: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Provision(t.Context(), testCfg, tmpl, Names{Prefix: UniquePrefix(t.Name())})
	if err == nil || !strings.Contains(err.Error(), "dead-letter queue Missing of Q is not a queue of the template") {
		t.Fatalf("Provision error = %v", err)
	}
}

func TestFunctionEnvResolvesAgainstProvisionedResources(t *testing.T) {
	res := ProvisionTest(t, testCfg)
	tmpl := loadTemplate(t)
	api := tmpl.Functions[slices.IndexFunc(tmpl.Functions, func(f template.Function) bool { return f.LogicalID == "ApiFunction" })]
	env, err := res.FunctionEnv(api)
	if err != nil {
		t.Fatal(err)
	}
	if env["LOG_LEVEL"] != "INFO" || env["TABLE_NAME"] != res.Ref("Table") || !strings.HasSuffix(env["TABLE_NAME"], "-Table") {
		t.Errorf("env = %v", env)
	}
	if _, err := dynamodb.NewFromConfig(testCfg).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(env["TABLE_NAME"])}); err != nil {
		t.Errorf("TABLE_NAME does not name a table: %v", err)
	}
	for _, pseudo := range []string{"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName"} {
		if v, ok := res.Lookup(pseudo, ""); !ok || v == "" {
			t.Errorf("pseudo parameter %s = %q, %v", pseudo, v, ok)
		}
	}
}

func TestS3PutGet(t *testing.T) {
	res := ProvisionTest(t, testCfg)
	client := s3.NewFromConfig(testCfg, S3PathStyle)
	bucket := aws.String(res.Ref("ExportsBucket"))
	body := "customer_id,points\nc1,42\n"
	if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: bucket, Key: aws.String("exports/m1.csv"), Body: strings.NewReader(body), ContentType: aws.String("text/csv"),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: bucket, Key: aws.String("exports/m1.csv")})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	data, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != body {
		t.Errorf("object = %q, want %q", data, body)
	}
}

func TestTransactionConditionCheck(t *testing.T) {
	res := ProvisionTest(t, testCfg)
	ddb := dynamodb.NewFromConfig(testCfg)
	table := aws.String(res.Ref("Table"))
	key := func(pk string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: pk}, "SK": &ddbtypes.AttributeValueMemberS{Value: "A"}}
	}
	if _, err := ddb.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: table, Item: key("exists")}); err != nil {
		t.Fatal(err)
	}
	transact := func(mustExist string) error {
		_, err := ddb.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
			{ConditionCheck: &ddbtypes.ConditionCheck{TableName: table, Key: key(mustExist), ConditionExpression: aws.String("attribute_exists(PK)")}},
			{Put: &ddbtypes.Put{TableName: table, Item: key("written")}},
		}})
		return err
	}
	written := func() bool {
		got, err := ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: table, Key: key("written"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return got.Item != nil
	}

	err := transact("missing")
	var canceled *ddbtypes.TransactionCanceledException
	if !errors.As(err, &canceled) {
		t.Fatalf("transaction with a failing condition: err = %v, want TransactionCanceledException", err)
	}
	if len(canceled.CancellationReasons) != 2 || aws.ToString(canceled.CancellationReasons[0].Code) != "ConditionalCheckFailed" {
		t.Errorf("cancellation reasons = %+v, want ConditionalCheckFailed first", canceled.CancellationReasons)
	}
	if written() {
		t.Fatal("the Put of a canceled transaction was applied")
	}

	if err := transact("exists"); err != nil {
		t.Fatalf("transaction with a passing condition: %v", err)
	}
	if !written() {
		t.Error("the Put of a committed transaction is missing")
	}
}

func TestForTestRefusesPartialEndpoints(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_SQS", "")
	_, _, err := ForTest(t.Context())
	if err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_SQS is not") {
		t.Fatalf("ForTest error = %v, want a refusal", err)
	}
}
