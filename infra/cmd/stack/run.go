package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/template"
)

const usage = `usage:
  stack exec [flags] -- command [args...]
      Start a stack on free ports, run command with the stack's AWS_* variables
      in its environment, stop the stack, and exit with the command's status.
  stack up [flags]
      Start a stack in the foreground, print its environment as export lines,
      and stop it on SIGINT or SIGTERM.
Run "stack exec -h" or "stack up -h" for the flags.
`

// run executes the command line args and returns the exit status. signals
// delivers SIGINT and SIGTERM received by the process.
func run(ctx context.Context, args []string, signals <-chan os.Signal, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "exec":
		return execCommand(ctx, args[1:], signals, stderr, log)
	case "up":
		return up(ctx, args[1:], signals, stdout, stderr, log)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "stack: unknown command %q\n%s", args[0], usage)
		return 2
	}
}

// stackFlags registers the flags that configure the stack.
func stackFlags(fs *flag.FlagSet, dynamoPort, fauxqsPort, s3Port int) *localstack.Options {
	opts := &localstack.Options{}
	fs.StringVar(&opts.Dir, "dir", "", "infra directory (default: infra/ beside template.yaml)")
	fs.IntVar(&opts.DynamoPort, "dynamodb-port", dynamoPort, "loopback port of DynamoDB Local (0: a free port)")
	fs.IntVar(&opts.FauxqsPort, "fauxqs-port", fauxqsPort, "loopback port of fauxqs, SQS and S3 (0: a free port)")
	fs.IntVar(&opts.S3Port, "s3-port", s3Port, "loopback port of the S3 front that checks presigned URLs before fauxqs (0: a free port)")
	fs.StringVar(&opts.LogDir, "logs", "", "directory kept for dynamodb.log and fauxqs.log (default: a temporary one, removed on stop)")
	fs.DurationVar(&opts.StartTimeout, "timeout", localstack.DefaultStartTimeout, "start-up deadline")
	return opts
}

// startStack starts a stack; a signal during start-up aborts it.
func startStack(ctx context.Context, opts localstack.Options, signals <-chan os.Signal, log *slog.Logger) (*localstack.Stack, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case sig := <-signals:
			cancel(fmt.Errorf("interrupted by %v", sig))
		case <-done:
		}
	}()
	opts.Logger = log
	stack, err := localstack.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	log.Info("local stack started", "dynamodb", stack.DynamoEndpoint, "fauxqs", stack.FauxqsEndpoint, "s3", stack.S3Endpoint, "logs", stack.LogDir)
	return stack, nil
}

func stopStack(stack *localstack.Stack, log *slog.Logger) {
	if err := stack.Stop(); err != nil {
		log.Error("stop local stack", "err", err)
		return
	}
	log.Info("local stack stopped")
}

func execCommand(ctx context.Context, args []string, signals <-chan os.Signal, stderr io.Writer, log *slog.Logger) int {
	fs := flag.NewFlagSet("stack exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := stackFlags(fs, 0, 0, 0)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprint(stderr, "stack exec: no command\n"+usage)
		return 2
	}

	stack, err := startStack(ctx, *opts, signals, log)
	if err != nil {
		fmt.Fprintf(stderr, "stack: %v\n", err)
		return 1
	}
	defer stopStack(stack, log)

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	for k, v := range stack.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "stack exec: %v\n", err)
		return 127
	}

	// Forward signals to the command until it exits; the stack stops after it.
	var wg sync.WaitGroup
	exited := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case sig := <-signals:
				cmd.Process.Signal(sig)
			case <-exited:
				return
			}
		}
	})
	err = cmd.Wait()
	close(exited)
	wg.Wait()
	return exitStatus(err, stderr)
}

// exitStatus maps the command's end to an exit status, 128+n for signal n as
// shells do.
func exitStatus(err error, stderr io.Writer) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	default:
		fmt.Fprintf(stderr, "stack exec: %v\n", err)
		return 1
	}
}

func up(ctx context.Context, args []string, signals <-chan os.Signal, stdout, stderr io.Writer, log *slog.Logger) int {
	fs := flag.NewFlagSet("stack up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := stackFlags(fs, 8000, 4566, 4567)
	prefix := fs.String("provision", "", "also provision template.yaml's resources with this name prefix (e.g. regulars)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stack up: unexpected arguments %q\n", fs.Args())
		return 2
	}

	stack, err := startStack(ctx, *opts, signals, log)
	if err != nil {
		fmt.Fprintf(stderr, "stack: %v\n", err)
		return 1
	}
	defer stopStack(stack, log)

	env := stack.Env()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(stdout, "export %s=%s\n", k, env[k])
	}
	if *prefix != "" {
		if err := provision(ctx, env, *prefix, stdout); err != nil {
			fmt.Fprintf(stderr, "stack: provision: %v\n", err)
			return 1
		}
	}
	log.Info("local stack up; SIGINT (Ctrl-C) or SIGTERM stops it")
	sig := <-signals
	log.Info("stopping local stack", "signal", sig.String())
	return 0
}

// provision creates the template's resources and prints what each logical id
// resolves to (as !Ref would).
func provision(ctx context.Context, env map[string]string, prefix string, stdout io.Writer) error {
	for k, v := range env {
		os.Setenv(k, v)
	}
	path, err := template.Find()
	if err != nil {
		return err
	}
	tmpl, err := template.Load(path)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	res, err := localstack.Provision(ctx, cfg, tmpl, localstack.Names{Prefix: prefix})
	if err != nil {
		return err
	}
	var ids []string
	for _, t := range tmpl.Tables {
		ids = append(ids, t.LogicalID)
	}
	for _, q := range tmpl.Queues {
		ids = append(ids, q.LogicalID)
	}
	for _, b := range tmpl.Buckets {
		ids = append(ids, b.LogicalID)
	}
	for _, id := range ids {
		fmt.Fprintf(stdout, "# !Ref %s = %s\n", id, res.Ref(id))
	}
	return nil
}
