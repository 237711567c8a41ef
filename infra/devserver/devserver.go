// Package devserver assembles the local gateway from template.yaml: every
// function that declares HttpApi routes is built with the same constructor its
// Lambda main uses, with the environment the template gives it resolved
// against the local resources.
package devserver

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/regulars/regulars/infra/gateway"
	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/template"
	"github.com/regulars/regulars/internal/app"
)

// constructors build each function's HTTP handler, by logical ID.
var constructors = map[string]func(ctx context.Context, env app.Env, log *slog.Logger) (gateway.Handler, error){
	"ApiFunction": func(ctx context.Context, env app.Env, log *slog.Logger) (gateway.Handler, error) {
		srv, err := app.NewAPI(ctx, env, log)
		if err != nil {
			return nil, err
		}
		return srv.Handle, nil
	},
	"WebhookFunction": func(ctx context.Context, env app.Env, log *slog.Logger) (gateway.Handler, error) {
		srv, err := app.NewWebhook(ctx, env, log)
		if err != nil {
			return nil, err
		}
		return srv.Handle, nil
	},
}

// consumers build each queue consumer's handler, by logical ID.
var consumers = map[string]func(ctx context.Context, env app.Env, log *slog.Logger) (gateway.SQSHandler, error){
	"IngestFunction": func(ctx context.Context, env app.Env, log *slog.Logger) (gateway.SQSHandler, error) {
		in, err := app.NewIngest(ctx, env, log)
		if err != nil {
			return nil, err
		}
		return in.HandleSQS, nil
	},
	"NightlyFunction": func(ctx context.Context, env app.Env, log *slog.Logger) (gateway.SQSHandler, error) {
		w, err := app.NewNightly(ctx, env, log)
		if err != nil {
			return nil, err
		}
		return w.HandleSQS, nil
	},
	"JobsFunction": func(ctx context.Context, env app.Env, log *slog.Logger) (gateway.SQSHandler, error) {
		w, err := app.NewJobs(ctx, env, log)
		if err != nil {
			return nil, err
		}
		return w.HandleSQS, nil
	},
}

// schedulers build each scheduled function's handler, by logical ID.
var schedulers = map[string]func(ctx context.Context, env app.Env, log *slog.Logger) (func(context.Context, events.EventBridgeEvent) error, error){
	"SchedulerFunction": app.NewScheduler,
}

// Schedules builds the scheduled functions of t, by logical ID, to be fired
// on demand: locally nothing keeps time for EventBridge.
func Schedules(ctx context.Context, t *template.Template, res localstack.Resources, log *slog.Logger) (map[string]func(context.Context) error, error) {
	out := map[string]func(context.Context) error{}
	for _, f := range t.Functions {
		if len(f.Schedules) == 0 {
			continue
		}
		h, err := build(ctx, schedulers, f, "schedules", res, log)
		if err != nil {
			return nil, err
		}
		timeout := f.Timeout
		out[f.LogicalID] = func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, timeout) // the function's deadline, as in Lambda
			defer cancel()
			return h(ctx, events.EventBridgeEvent{Version: "0", DetailType: "Scheduled Event", Source: "aws.events", Time: time.Now().UTC()})
		}
	}
	return out, nil
}

// Consumers builds the SQS event sources of t: each function with an SQS
// event, fed from the local queue the template names.
func Consumers(ctx context.Context, t *template.Template, res localstack.Resources, log *slog.Logger) ([]gateway.Consumer, error) {
	var out []gateway.Consumer
	for _, f := range t.Functions {
		for _, ev := range f.SQSEvents {
			h, err := build(ctx, consumers, f, "feeds a queue to", res, log)
			if err != nil {
				return nil, err
			}
			arn, _ := res.Lookup(ev.Queue, "Arn")
			out = append(out, gateway.Consumer{Function: f.LogicalID, QueueURL: res.Ref(ev.Queue), QueueARN: arn,
				BatchSize: ev.BatchSize, ReportBatchItemFailures: ev.ReportBatchItemFailures, Handler: h, RetryDelay: time.Second, Timeout: f.Timeout})
		}
	}
	return out, nil
}

// System is the local system of template.yaml over provisioned resources:
// the gateway of its routes and its queue consumers (not polling yet).
type System struct {
	Template  *template.Template
	Gateway   *gateway.Gateway
	Consumers []gateway.Consumer
}

// Assemble finds and loads template.yaml and builds its gateway and queue
// consumers over res: what the tests that go end to end (webhook, queue,
// ingest, API) start from.
func Assemble(ctx context.Context, res localstack.Resources, log *slog.Logger) (System, error) {
	path, err := template.Find()
	if err != nil {
		return System{}, err
	}
	t, err := template.Load(path)
	if err != nil {
		return System{}, err
	}
	gw, err := Gateway(ctx, t, res, log)
	if err != nil {
		return System{}, err
	}
	cs, err := Consumers(ctx, t, res, log)
	if err != nil {
		return System{}, err
	}
	return System{Template: t, Gateway: gw, Consumers: cs}, nil
}

// Gateway builds the local gateway for every HttpApi route of t.
func Gateway(ctx context.Context, t *template.Template, res localstack.Resources, log *slog.Logger) (*gateway.Gateway, error) {
	var routes []gateway.Route
	for _, f := range t.Functions {
		if len(f.Routes) == 0 {
			continue
		}
		h, err := build(ctx, constructors, f, "routes HTTP requests to", res, log)
		if err != nil {
			return nil, err
		}
		for _, r := range f.Routes {
			routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Handler: h, Timeout: f.Timeout})
		}
	}
	return gateway.New(routes, log)
}

// build makes function f's handler with its constructor in table, in the
// environment the template gives it; what names what the template asks of
// f, for the error when no constructor exists.
func build[H any](ctx context.Context, table map[string]func(context.Context, app.Env, *slog.Logger) (H, error), f template.Function,
	what string, res localstack.Resources, log *slog.Logger) (H, error) {
	var none H
	construct, ok := table[f.LogicalID]
	if !ok {
		return none, fmt.Errorf("template.yaml %s %s, which the local gateway cannot build: add it to infra/devserver", what, f.LogicalID)
	}
	env, err := res.FunctionEnv(f)
	if err != nil {
		return none, fmt.Errorf("%s environment: %w", f.LogicalID, err)
	}
	h, err := construct(ctx, func(k string) string { return env[k] }, log.With("function", f.LogicalID))
	if err != nil {
		return none, fmt.Errorf("build %s: %w", f.LogicalID, err)
	}
	return h, nil
}
