// Package template reads the SAM template (template.yaml at the repository
// root), the single source of truth for the functions, their routes and event
// sources, the table, the queues and the bucket. The local stack provisions
// and serves what it declares, so there is no second schema that can drift.
//
// CloudFormation short-form tags (!Ref, !GetAtt, !Sub, !If, ...) are read
// through yaml.Node, so they never break parsing; references become Values
// that are resolved later against locally provisioned resources.
//
// The parts the local stack reproduces (table and queue properties) are read
// strictly: a property it does not know is an error rather than silently
// ignored, unless it is listed as having no local effect.
package template

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FileName is the name of the template at the repository root.
const FileName = "template.yaml"

// Template is what the local stack needs from template.yaml, in document order.
type Template struct {
	Functions []Function
	Tables    []Table
	Queues    []Queue
	Buckets   []Bucket
	// SSMParameters are the parameters of type AWS::SSM::Parameter::Value<…>,
	// whose deployed value is read from Systems Manager (secrets such as
	// the cursor key): the local stack makes its own value for each.
	SSMParameters []string
}

// Function is an AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Env is the function's environment: Globals.Function.Environment.Variables
	// overlaid with the function's own.
	Env map[string]Value
	// Timeout is the function's Timeout (Globals.Function's, else Lambda's
	// default of 3 s): each invocation's deadline.
	Timeout   time.Duration
	Routes    []Route    // HttpApi events
	SQSEvents []SQSEvent // SQS events
	Schedules []Schedule // Schedule and ScheduleV2 events
}

// Route is an HttpApi event.
type Route struct {
	Method string // upper case, e.g. GET, or ANY
	Path   string // e.g. /v1/customers/{customerId}
}

// Key is the API Gateway route key, e.g. "GET /v1/customers/{customerId}".
func (r Route) Key() string { return r.Method + " " + r.Path }

// SQSEvent is an SQS event source of a function.
type SQSEvent struct {
	Name                    string // the event's key under Events
	Queue                   string // logical id of the queue (from !GetAtt Queue.Arn)
	BatchSize               int    // SAM's default, 10, when not declared
	ReportBatchItemFailures bool   // FunctionResponseTypes contains ReportBatchItemFailures
}

// Schedule is a Schedule or ScheduleV2 event of a function.
type Schedule struct {
	Name       string // the event's key under Events
	Expression string // rate(...) or cron(...)
}

// Table is an AWS::DynamoDB::Table.
type Table struct {
	LogicalID              string
	BillingMode            string // PAY_PER_REQUEST (the only mode supported locally)
	AttributeDefinitions   []AttributeDefinition
	KeySchema              []KeyElement
	GlobalSecondaryIndexes []GlobalSecondaryIndex
	TTLAttribute           string // "" when time to live is not enabled
}

// AttributeDefinition declares the type of a key attribute.
type AttributeDefinition struct {
	AttributeName string
	AttributeType string // S, N or B
}

// KeyElement is one element of a key schema.
type KeyElement struct {
	AttributeName string
	KeyType       string // HASH or RANGE
}

// GlobalSecondaryIndex is a GSI of a table.
type GlobalSecondaryIndex struct {
	IndexName  string
	KeySchema  []KeyElement
	Projection Projection
}

// Projection is the projection of an index.
type Projection struct {
	ProjectionType   string // ALL, KEYS_ONLY or INCLUDE
	NonKeyAttributes []string
}

// Queue is an AWS::SQS::Queue. Undeclared attributes hold SQS's defaults.
type Queue struct {
	LogicalID              string
	VisibilityTimeout      int // seconds; SQS default 30
	MessageRetentionPeriod int // seconds; SQS default 345600 (4 days)
	RedrivePolicy          *RedrivePolicy
}

// SQS defaults for attributes a queue does not declare.
const (
	defaultVisibilityTimeout      = 30
	defaultMessageRetentionPeriod = 345600
	defaultSQSBatchSize           = 10
)

// RedrivePolicy sends messages to a dead-letter queue after MaxReceiveCount receives.
type RedrivePolicy struct {
	DeadLetterQueue string // logical id (from deadLetterTargetArn: !GetAtt Queue.Arn)
	MaxReceiveCount int
}

// Bucket is an AWS::S3::Bucket. Its properties (encryption, public access
// block, lifecycle) have no local effect and are not read.
type Bucket struct {
	LogicalID string
}

type parameter struct {
	def        string
	hasDefault bool
	ssm        bool // of type AWS::SSM::Parameter::Value<…>
}

// Properties that have no local effect, per resource type. Any other property
// not read by the parser is an error, so that the local stack never silently
// differs from what is deployed.
var (
	ignoredTableProperties = set(
		"TableName", // local names come from the caller (tests use a prefix)
		"PointInTimeRecoverySpecification",
		"SSESpecification",
		"DeletionProtectionEnabled",
		"ContributorInsightsSpecification",
		"TableClass",
		"Tags",
	)
	ignoredQueueProperties = set(
		"QueueName", // local names come from the caller
		"SqsManagedSseEnabled",
		"KmsMasterKeyId",
		"KmsDataKeyReusePeriodSeconds",
		"Tags",
	)
)

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// Find returns the path of template.yaml in the working directory or the
// nearest parent that has one (tests run in their package's directory).
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", FileName, err)
	}
	for {
		path := filepath.Join(dir, FileName)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("find %s: %w", FileName, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find %s: not in the working directory or any parent", FileName)
		}
		dir = parent
	}
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template from its YAML text.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("parse template: empty document")
	}
	root := doc.Content[0]

	params, err := parseParameters(field(root, "Parameters"))
	if err != nil {
		return nil, err
	}
	t := &Template{}
	for name, p := range params {
		if p.ssm {
			t.SSMParameters = append(t.SSMParameters, name)
		}
	}
	slices.Sort(t.SSMParameters)
	globalEnv, err := environment(field(field(root, "Globals"), "Function"), params, "Globals.Function")
	if err != nil {
		return nil, err
	}
	globalTimeout, err := timeout(field(field(root, "Globals"), "Function"), defaultFunctionTimeout, "Globals.Function")
	if err != nil {
		return nil, err
	}

	resources, err := pairs(field(root, "Resources"), "Resources")
	if err != nil {
		return nil, err
	}
	for _, r := range resources {
		what := "Resources." + r.key
		typ, err := str(field(r.value, "Type"), what+".Type")
		if err != nil {
			return nil, err
		}
		props := field(r.value, "Properties")
		switch typ {
		case "AWS::Serverless::Function":
			f, err := parseFunction(r.key, props, globalEnv, globalTimeout, params)
			if err != nil {
				return nil, err
			}
			t.Functions = append(t.Functions, f)
		case "AWS::DynamoDB::Table":
			tbl, err := parseTable(r.key, props)
			if err != nil {
				return nil, err
			}
			t.Tables = append(t.Tables, tbl)
		case "AWS::SQS::Queue":
			q, err := parseQueue(r.key, props)
			if err != nil {
				return nil, err
			}
			t.Queues = append(t.Queues, q)
		case "AWS::S3::Bucket":
			t.Buckets = append(t.Buckets, Bucket{LogicalID: r.key})
		}
	}
	return t, nil
}

func parseParameters(n *yaml.Node) (map[string]parameter, error) {
	ps, err := pairs(n, "Parameters")
	if err != nil {
		return nil, err
	}
	params := make(map[string]parameter, len(ps))
	for _, p := range ps {
		var param parameter
		if n := field(p.value, "Type"); n != nil {
			typ, err := str(n, "Parameters."+p.key+".Type")
			if err != nil {
				return nil, err
			}
			param.ssm = strings.HasPrefix(typ, "AWS::SSM::Parameter::Value<")
		}
		if d := field(p.value, "Default"); d != nil {
			if param.def, err = str(d, "Parameters."+p.key+".Default"); err != nil {
				return nil, err
			}
			param.hasDefault = true
		}
		params[p.key] = param
	}
	return params, nil
}

// environment reads Environment.Variables of a function or of Globals.Function.
func environment(props *yaml.Node, params map[string]parameter, what string) (map[string]Value, error) {
	vars, err := pairs(field(field(props, "Environment"), "Variables"), what+".Environment.Variables")
	if err != nil {
		return nil, err
	}
	env := make(map[string]Value, len(vars))
	for _, v := range vars {
		if env[v.key], err = value(v.value, params, what+".Environment.Variables."+v.key); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// defaultFunctionTimeout is Lambda's timeout when the template sets none.
const defaultFunctionTimeout = 3 * time.Second

// timeout reads the Timeout (seconds) of a function or of Globals.Function.
func timeout(props *yaml.Node, def time.Duration, what string) (time.Duration, error) {
	n := field(props, "Timeout")
	if n == nil {
		return def, nil
	}
	secs, err := integer(n, what+".Timeout")
	if err != nil {
		return 0, err
	}
	if secs < 1 || secs > 900 {
		return 0, errorAt(n, "%s.Timeout: %d is not 1 to 900 seconds", what, secs)
	}
	return time.Duration(secs) * time.Second, nil
}

func parseFunction(id string, props *yaml.Node, globalEnv map[string]Value, globalTimeout time.Duration, params map[string]parameter) (Function, error) {
	what := "Resources." + id + ".Properties"
	own, err := environment(props, params, what)
	if err != nil {
		return Function{}, err
	}
	limit, err := timeout(props, globalTimeout, what)
	if err != nil {
		return Function{}, err
	}
	f := Function{LogicalID: id, Timeout: limit, Env: make(map[string]Value, len(globalEnv)+len(own))}
	for k, v := range globalEnv {
		f.Env[k] = v
	}
	for k, v := range own {
		f.Env[k] = v
	}

	events, err := pairs(field(props, "Events"), what+".Events")
	if err != nil {
		return Function{}, err
	}
	for _, e := range events {
		ewhat := what + ".Events." + e.key
		typ, err := str(field(e.value, "Type"), ewhat+".Type")
		if err != nil {
			return Function{}, err
		}
		eprops := field(e.value, "Properties")
		switch typ {
		case "HttpApi":
			r, err := parseRoute(eprops, ewhat)
			if err != nil {
				return Function{}, err
			}
			f.Routes = append(f.Routes, r)
		case "SQS":
			s, err := parseSQSEvent(e.key, eprops, ewhat)
			if err != nil {
				return Function{}, err
			}
			f.SQSEvents = append(f.SQSEvents, s)
		case "Schedule", "ScheduleV2":
			key := "Schedule"
			if typ == "ScheduleV2" {
				key = "ScheduleExpression"
			}
			expr, err := str(field(eprops, key), ewhat+".Properties."+key)
			if err != nil {
				return Function{}, err
			}
			f.Schedules = append(f.Schedules, Schedule{Name: e.key, Expression: expr})
		default:
			return Function{}, errorAt(e.value, "%s: event type %s is not supported by the local stack", ewhat, typ)
		}
	}
	return f, nil
}

func parseRoute(props *yaml.Node, what string) (Route, error) {
	method, err := str(field(props, "Method"), what+".Properties.Method")
	if err != nil {
		return Route{}, err
	}
	path, err := str(field(props, "Path"), what+".Properties.Path")
	if err != nil {
		return Route{}, err
	}
	return Route{Method: strings.ToUpper(method), Path: path}, nil
}

func parseSQSEvent(name string, props *yaml.Node, what string) (SQSEvent, error) {
	queue, err := arnOf(field(props, "Queue"), what+".Properties.Queue")
	if err != nil {
		return SQSEvent{}, err
	}
	e := SQSEvent{Name: name, Queue: queue, BatchSize: defaultSQSBatchSize}
	if n := field(props, "BatchSize"); n != nil {
		if e.BatchSize, err = integer(n, what+".Properties.BatchSize"); err != nil {
			return SQSEvent{}, err
		}
	}
	types, err := strs(field(props, "FunctionResponseTypes"), what+".Properties.FunctionResponseTypes")
	if err != nil {
		return SQSEvent{}, err
	}
	for _, t := range types {
		e.ReportBatchItemFailures = e.ReportBatchItemFailures || t == "ReportBatchItemFailures"
	}
	return e, nil
}

// arnOf returns the logical id X of a "!GetAtt X.Arn" that must name a
// resource of this template.
func arnOf(n *yaml.Node, what string) (string, error) {
	v, err := value(n, nil, what)
	if err != nil {
		return "", err
	}
	if v.fn != "Fn::GetAtt" || v.attr != "Arn" {
		return "", errorAt(n, "%s: expected !GetAtt <LogicalId>.Arn of a resource in this template, got %s", what, v)
	}
	return v.id, nil
}

func parseTable(id string, props *yaml.Node) (Table, error) {
	what := "Resources." + id + ".Properties"
	ps, err := pairs(props, what)
	if err != nil {
		return Table{}, err
	}
	t := Table{LogicalID: id}
	for _, p := range ps {
		pwhat := what + "." + p.key
		switch p.key {
		case "BillingMode":
			if t.BillingMode, err = str(p.value, pwhat); err != nil {
				return Table{}, err
			}
			if t.BillingMode != "PAY_PER_REQUEST" {
				return Table{}, errorAt(p.value, "%s: only PAY_PER_REQUEST is supported by the local stack", pwhat)
			}
		case "AttributeDefinitions":
			list, err := items(p.value, pwhat)
			if err != nil {
				return Table{}, err
			}
			for _, item := range list {
				var d AttributeDefinition
				if d.AttributeName, err = str(field(item, "AttributeName"), pwhat+".AttributeName"); err != nil {
					return Table{}, err
				}
				if d.AttributeType, err = str(field(item, "AttributeType"), pwhat+".AttributeType"); err != nil {
					return Table{}, err
				}
				t.AttributeDefinitions = append(t.AttributeDefinitions, d)
			}
		case "KeySchema":
			if t.KeySchema, err = keySchema(p.value, pwhat); err != nil {
				return Table{}, err
			}
		case "GlobalSecondaryIndexes":
			list, err := items(p.value, pwhat)
			if err != nil {
				return Table{}, err
			}
			for _, item := range list {
				gsi, err := parseGSI(item, pwhat)
				if err != nil {
					return Table{}, err
				}
				t.GlobalSecondaryIndexes = append(t.GlobalSecondaryIndexes, gsi)
			}
		case "TimeToLiveSpecification":
			enabled, err := boolean(field(p.value, "Enabled"), pwhat+".Enabled")
			if err != nil {
				return Table{}, err
			}
			if enabled {
				if t.TTLAttribute, err = str(field(p.value, "AttributeName"), pwhat+".AttributeName"); err != nil {
					return Table{}, err
				}
			}
		default:
			if !ignoredTableProperties[p.key] {
				return Table{}, errorAt(p.value, "%s: property not supported by the local stack (teach infra/template)", pwhat)
			}
		}
	}
	if t.BillingMode == "" {
		return Table{}, errorAt(props, "%s: BillingMode PAY_PER_REQUEST is required by the local stack", what)
	}
	if len(t.KeySchema) == 0 {
		return Table{}, errorAt(props, "%s: KeySchema is required", what)
	}
	return t, nil
}

func parseGSI(n *yaml.Node, what string) (GlobalSecondaryIndex, error) {
	var g GlobalSecondaryIndex
	ps, err := pairs(n, what)
	if err != nil {
		return g, err
	}
	for _, p := range ps {
		pwhat := what + "." + p.key
		switch p.key {
		case "IndexName":
			g.IndexName, err = str(p.value, pwhat)
		case "KeySchema":
			g.KeySchema, err = keySchema(p.value, pwhat)
		case "Projection":
			if g.Projection.ProjectionType, err = str(field(p.value, "ProjectionType"), pwhat+".ProjectionType"); err != nil {
				return g, err
			}
			g.Projection.NonKeyAttributes, err = strs(field(p.value, "NonKeyAttributes"), pwhat+".NonKeyAttributes")
		default:
			err = errorAt(p.value, "%s: property not supported by the local stack (teach infra/template)", pwhat)
		}
		if err != nil {
			return g, err
		}
	}
	if g.IndexName == "" || len(g.KeySchema) == 0 || g.Projection.ProjectionType == "" {
		return g, errorAt(n, "%s: IndexName, KeySchema and Projection are required", what)
	}
	return g, nil
}

func keySchema(n *yaml.Node, what string) ([]KeyElement, error) {
	list, err := items(n, what)
	if err != nil {
		return nil, err
	}
	out := make([]KeyElement, len(list))
	for i, item := range list {
		if out[i].AttributeName, err = str(field(item, "AttributeName"), what+".AttributeName"); err != nil {
			return nil, err
		}
		if out[i].KeyType, err = str(field(item, "KeyType"), what+".KeyType"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseQueue(id string, props *yaml.Node) (Queue, error) {
	what := "Resources." + id + ".Properties"
	ps, err := pairs(props, what)
	if err != nil {
		return Queue{}, err
	}
	q := Queue{
		LogicalID:              id,
		VisibilityTimeout:      defaultVisibilityTimeout,
		MessageRetentionPeriod: defaultMessageRetentionPeriod,
	}
	for _, p := range ps {
		pwhat := what + "." + p.key
		switch p.key {
		case "VisibilityTimeout":
			q.VisibilityTimeout, err = integer(p.value, pwhat)
		case "MessageRetentionPeriod":
			q.MessageRetentionPeriod, err = integer(p.value, pwhat)
		case "RedrivePolicy":
			q.RedrivePolicy = &RedrivePolicy{}
			if q.RedrivePolicy.DeadLetterQueue, err = arnOf(field(p.value, "deadLetterTargetArn"), pwhat+".deadLetterTargetArn"); err != nil {
				return Queue{}, err
			}
			q.RedrivePolicy.MaxReceiveCount, err = integer(field(p.value, "maxReceiveCount"), pwhat+".maxReceiveCount")
		default:
			if !ignoredQueueProperties[p.key] {
				err = errorAt(p.value, "%s: property not supported by the local stack (teach infra/template)", pwhat)
			}
		}
		if err != nil {
			return Queue{}, err
		}
	}
	return q, nil
}
