package template

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// lookupMap answers Lookup from "Id" (Ref) and "Id.Attr" keys.
func lookupMap(m map[string]string) Lookup {
	return func(id, attr string) (string, bool) {
		key := id
		if attr != "" {
			key += "." + attr
		}
		v, ok := m[key]
		return v, ok
	}
}

func TestLoadRepositoryTemplate(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}

	if len(tmpl.Functions) == 0 {
		t.Fatal("no functions")
	}
	api := tmpl.Functions[slices.IndexFunc(tmpl.Functions, func(f Function) bool { return f.LogicalID == "ApiFunction" })]
	var keys []string
	for _, r := range api.Routes {
		keys = append(keys, r.Key())
	}
	for _, want := range []string{"GET /openapi.json", "GET /v1/customers/{customerId}", "DELETE /v1/api-keys/{keyId}", "POST /v1/customers/{customerId}/suspend"} {
		if !slices.Contains(keys, want) {
			t.Errorf("ApiFunction routes %v lack %q", keys, want)
		}
	}
	lookup := lookupMap(map[string]string{"Table": "local-Table"})
	for name, want := range map[string]string{"TABLE_NAME": "local-Table", "LOG_LEVEL": "INFO"} {
		got, err := api.Env[name].Resolve(lookup)
		if err != nil || got != want {
			t.Errorf("ApiFunction env %s = %q, %v; want %q", name, got, err, want)
		}
	}

	if len(tmpl.Tables) != 1 {
		t.Fatalf("tables = %+v, want one", tmpl.Tables)
	}
	table := tmpl.Tables[0]
	if table.LogicalID != "Table" || table.BillingMode != "PAY_PER_REQUEST" || table.TTLAttribute != "expires_at" {
		t.Errorf("table = %+v", table)
	}
	if len(table.AttributeDefinitions) != 14 || len(table.GlobalSecondaryIndexes) != 6 {
		t.Errorf("table has %d attribute definitions and %d GSIs, want 14 and 6", len(table.AttributeDefinitions), len(table.GlobalSecondaryIndexes))
	}
	wantKey := []KeyElement{{"PK", "HASH"}, {"SK", "RANGE"}}
	if !reflect.DeepEqual(table.KeySchema, wantKey) {
		t.Errorf("key schema = %+v, want %+v", table.KeySchema, wantKey)
	}

	queues := map[string]Queue{}
	for _, q := range tmpl.Queues {
		queues[q.LogicalID] = q
	}
	wantQueues := map[string]Queue{
		"PurchasesDeadLetterQueue": {LogicalID: "PurchasesDeadLetterQueue", VisibilityTimeout: 30, MessageRetentionPeriod: 1209600},
		"PurchasesQueue": {LogicalID: "PurchasesQueue", VisibilityTimeout: 180, MessageRetentionPeriod: 345600,
			RedrivePolicy: &RedrivePolicy{DeadLetterQueue: "PurchasesDeadLetterQueue", MaxReceiveCount: 5}},
		"NightlyDeadLetterQueue": {LogicalID: "NightlyDeadLetterQueue", VisibilityTimeout: 30, MessageRetentionPeriod: 1209600},
		"NightlyQueue": {LogicalID: "NightlyQueue", VisibilityTimeout: 5400, MessageRetentionPeriod: 345600,
			RedrivePolicy: &RedrivePolicy{DeadLetterQueue: "NightlyDeadLetterQueue", MaxReceiveCount: 20}},
		"JobsDeadLetterQueue": {LogicalID: "JobsDeadLetterQueue", VisibilityTimeout: 30, MessageRetentionPeriod: 1209600},
		"JobsQueue": {LogicalID: "JobsQueue", VisibilityTimeout: 5400, MessageRetentionPeriod: 345600,
			RedrivePolicy: &RedrivePolicy{DeadLetterQueue: "JobsDeadLetterQueue", MaxReceiveCount: 5}},
	}
	if !reflect.DeepEqual(queues, wantQueues) {
		t.Errorf("queues = %+v, want %+v", queues, wantQueues)
	}
	if !reflect.DeepEqual(tmpl.Buckets, []Bucket{{LogicalID: "ExportsBucket"}}) {
		t.Errorf("buckets = %+v", tmpl.Buckets)
	}
}

const eventsTemplate = `
Globals:
  Function:
    Environment:
      Variables:
        SHARED: global
        OVERRIDDEN: global
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          OVERRIDDEN: own
          QUEUE_URL: !Ref Queue
      Events:
        Purchases:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 25
            FunctionResponseTypes: [ReportBatchItemFailures]
        Defaults:
          Type: SQS
          Properties:
            Queue: {"Fn::GetAtt": [Queue, Arn]}
        Nightly:
          Type: Schedule
          Properties: {Schedule: "cron(0 3 * * ? *)"}
        Hourly:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(1 hour)}
        Root:
          Type: HttpApi
          Properties: {Path: /, Method: get}
`

func TestParseEvents(t *testing.T) {
	tmpl, err := Parse([]byte(eventsTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if len(tmpl.Functions) != 1 {
		t.Fatalf("functions = %+v", tmpl.Functions)
	}
	f := tmpl.Functions[0]
	wantSQS := []SQSEvent{
		{Name: "Purchases", Queue: "Queue", BatchSize: 25, ReportBatchItemFailures: true},
		{Name: "Defaults", Queue: "Queue", BatchSize: 10},
	}
	if !reflect.DeepEqual(f.SQSEvents, wantSQS) {
		t.Errorf("SQS events = %+v, want %+v", f.SQSEvents, wantSQS)
	}
	wantSchedules := []Schedule{{Name: "Nightly", Expression: "cron(0 3 * * ? *)"}, {Name: "Hourly", Expression: "rate(1 hour)"}}
	if !reflect.DeepEqual(f.Schedules, wantSchedules) {
		t.Errorf("schedules = %+v, want %+v", f.Schedules, wantSchedules)
	}
	if len(f.Routes) != 1 || f.Routes[0].Key() != "GET /" {
		t.Errorf("routes = %+v, want GET /", f.Routes)
	}

	env := map[string]string{}
	for k, v := range f.Env {
		if env[k], err = v.Resolve(lookupMap(map[string]string{"Queue": "http://q"})); err != nil {
			t.Fatal(err)
		}
	}
	wantEnv := map[string]string{"SHARED": "global", "OVERRIDDEN": "own", "QUEUE_URL": "http://q"}
	if !reflect.DeepEqual(env, wantEnv) {
		t.Errorf("env = %v, want %v", env, wantEnv)
	}
	if len(tmpl.Queues) != 1 || tmpl.Queues[0].VisibilityTimeout != 30 || tmpl.Queues[0].MessageRetentionPeriod != 345600 {
		t.Errorf("queue defaults = %+v", tmpl.Queues)
	}
}

func TestValueResolve(t *testing.T) {
	lookup := lookupMap(map[string]string{
		"Table":       "local-Table",
		"Table.Arn":   "arn:aws:dynamodb:us-east-1:000000000000:table/local-Table",
		"Queue":       "http://127.0.0.1:4566/000000000000/local-Queue",
		"AWS::Region": "us-east-1",
		"Level":       "DEBUG", // the caller overrides a parameter's default
	})
	tests := []struct {
		name, yaml, want, err string
	}{
		{name: "literal", yaml: `plain`, want: "plain"},
		{name: "number literal", yaml: `42`, want: "42"},
		{name: "ref resource", yaml: `!Ref Table`, want: "local-Table"},
		{name: "ref long form", yaml: `{Ref: Queue}`, want: "http://127.0.0.1:4566/000000000000/local-Queue"},
		{name: "ref parameter default", yaml: `!Ref LogLevel`, want: "INFO"},
		{name: "ref parameter overridden by lookup", yaml: `!Ref Level`, want: "DEBUG"},
		{name: "ref parameter without default", yaml: `!Ref NoDefault`, err: "parameter has no Default"},
		{name: "ref unknown", yaml: `!Ref Nope`, err: "no such resource or parameter"},
		{name: "getatt", yaml: `!GetAtt Table.Arn`, want: "arn:aws:dynamodb:us-east-1:000000000000:table/local-Table"},
		{name: "getatt list", yaml: `!GetAtt [Table, Arn]`, want: "arn:aws:dynamodb:us-east-1:000000000000:table/local-Table"},
		{name: "getatt unknown attribute", yaml: `!GetAtt Table.StreamArn`, err: "no such resource attribute"},
		{name: "sub", yaml: `!Sub "${Table.Arn}/index/*"`, want: "arn:aws:dynamodb:us-east-1:000000000000:table/local-Table/index/*"},
		{name: "sub ref and pseudo", yaml: `!Sub "${Table}@${AWS::Region}:${LogLevel}"`, want: "local-Table@us-east-1:INFO"},
		{name: "sub escaped", yaml: `!Sub "${!Literal}-${Table}"`, want: "${Literal}-local-Table"},
		{name: "sub variables", yaml: `!Sub ["${Name}.csv", {Name: !Ref Table}]`, want: "local-Table.csv"},
		{name: "sub long form", yaml: `{"Fn::Sub": "x-${Table}"}`, want: "x-local-Table"},
		{name: "sub unterminated", yaml: `!Sub "${Table"`, err: "unterminated"},
		{name: "unsupported intrinsic", yaml: `!If [IsProd, a, b]`, err: "Fn::If is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "Parameters:\n  LogLevel: {Type: String, Default: INFO}\n  Level: {Type: String, Default: WARN}\n  NoDefault: {Type: String}\n" +
				"Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          V: " + tc.yaml + "\n"
			tmpl, err := Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.Functions[0].Env["V"].Resolve(lookup)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Resolve = %q, %v; want error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	table := func(props string) string {
		return "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n" + props
	}
	const key = "      KeySchema: [{AttributeName: PK, KeyType: HASH}]\n"
	tests := []struct {
		name, yaml, err string
	}{
		{name: "not yaml", yaml: "Resources: [", err: "parse template"},
		{name: "empty", yaml: "", err: "empty document"},
		{name: "resource without type", yaml: "Resources:\n  X: {Properties: {}}\n", err: "Resources.X.Type: missing"},
		{name: "unknown table property", yaml: table("      BillingMode: PAY_PER_REQUEST\n" + key + "      StreamSpecification: {StreamViewType: NEW_IMAGE}\n"), err: "line 7: Resources.T.Properties.StreamSpecification: property not supported"},
		{name: "intrinsic billing mode", yaml: table("      BillingMode: !If [C, PAY_PER_REQUEST, PROVISIONED]\n" + key), err: "expected a literal value, not !If"},
		{name: "provisioned", yaml: table("      BillingMode: PROVISIONED\n" + key), err: "only PAY_PER_REQUEST"},
		{name: "no billing mode", yaml: table(key), err: "BillingMode PAY_PER_REQUEST is required"},
		{name: "gsi without projection", yaml: table("      BillingMode: PAY_PER_REQUEST\n" + key + "      GlobalSecondaryIndexes: [{IndexName: G, KeySchema: [{AttributeName: A, KeyType: HASH}]}]\n"), err: "IndexName, KeySchema and Projection are required"},
		{name: "unknown queue property", yaml: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {FifoQueue: true}\n", err: "FifoQueue: property not supported"},
		{name: "queue timeout not a number", yaml: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {VisibilityTimeout: soon}\n", err: "expected an integer"},
		{name: "dead letter arn literal", yaml: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {RedrivePolicy: {deadLetterTargetArn: 'arn:aws:sqs:x', maxReceiveCount: 3}}\n", err: "expected !GetAtt <LogicalId>.Arn"},
		{name: "unsupported event", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        S3:\n          Type: S3\n", err: "event type S3 is not supported"},
		{name: "route without path", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E: {Type: HttpApi, Properties: {Method: GET}}\n", err: "Properties.Path: missing"},
		{name: "env not a mapping", yaml: "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {Environment: {Variables: [A]}}\n", err: "expected a mapping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, FileName)
	if err := os.WriteFile(want, []byte("Resources: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	got, err := Find()
	if err != nil || got != want {
		t.Fatalf("Find() = %q, %v; want %q", got, err, want)
	}
}

// TestCursorKeyFromSSM: every function gets CURSOR_KEY from the CursorKey
// parameter, which CloudFormation reads from SSM and the local stack makes.
func TestCursorKeyFromSSM(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tmpl.SSMParameters, []string{"CursorKey"}) {
		t.Fatalf("SSM parameters %v, want [CursorKey]", tmpl.SSMParameters)
	}
	lookup := lookupMap(map[string]string{"CursorKey": "local-key"})
	for _, f := range tmpl.Functions {
		if got, err := f.Env["CURSOR_KEY"].Resolve(lookup); err != nil || got != "local-key" {
			t.Errorf("%s: CURSOR_KEY = %q, %v", f.LogicalID, got, err)
		}
	}
}

// TestFunctionTimeouts: each function's Timeout is its own, else Globals'.
func TestFunctionTimeouts(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"ApiFunction": 10 * time.Second, "WebhookFunction": 10 * time.Second, "IngestFunction": 30 * time.Second,
		"SchedulerFunction": 10 * time.Second, "NightlyFunction": 900 * time.Second, "JobsFunction": 900 * time.Second}
	for _, f := range tmpl.Functions {
		if f.Timeout != want[f.LogicalID] {
			t.Errorf("%s: timeout %v, want %v", f.LogicalID, f.Timeout, want[f.LogicalID])
		}
	}
	if _, err := Parse([]byte("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Timeout: 0\n")); err == nil {
		t.Error("a timeout of 0 s parses")
	}
	tmpl, err = Parse([]byte("Resources:\n  F:\n    Type: AWS::Serverless::Function\n"))
	if err != nil || tmpl.Functions[0].Timeout != 3*time.Second {
		t.Errorf("no Timeout anywhere: %+v, %v; want Lambda's 3 s", tmpl, err)
	}
}
