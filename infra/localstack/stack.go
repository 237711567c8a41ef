// Package localstack runs the local AWS emulators that stand in for the
// deployed stack (DynamoDB Local for DynamoDB, fauxqs for SQS and S3), and
// provisions in them exactly the resources that template.yaml declares.
//
// Both emulators listen on 127.0.0.1 only. The same SDK code that runs in
// Lambda talks to them through the standard endpoint variables
// (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3). S3
// goes through the S3 front (s3front.go), a reverse proxy in this process that
// verifies presigned URLs (expiry, signature) before forwarding to fauxqs,
// which checks no signature.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/regulars/regulars/infra/template"
)

// DefaultStartTimeout bounds start-up: the JVM of DynamoDB Local takes a few
// seconds on a small machine, more when tests run in parallel.
const DefaultStartTimeout = 60 * time.Second

var errOtherFailed = errors.New("the other emulator failed")

// Options configures Start.
type Options struct {
	// Dir is the infra directory (holding local/ and node_modules/). Empty
	// means the infra directory beside the template.yaml found by template.Find.
	Dir string
	// DynamoPort, FauxqsPort and S3Port (the S3 front) are the loopback
	// ports; 0 picks a free one.
	DynamoPort, FauxqsPort, S3Port int
	// LogDir receives dynamodb.log and fauxqs.log. Empty means a temporary
	// directory that Stop removes (it is kept when start-up fails).
	LogDir string
	// StartTimeout bounds start-up; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// Logger receives the S3 front's lines (one per refused request); nil
	// means slog.Default().
	Logger *slog.Logger
}

// Stack is a running pair of emulators and the S3 front.
type Stack struct {
	DynamoEndpoint string // http://127.0.0.1:port of DynamoDB Local
	FauxqsEndpoint string // http://127.0.0.1:port of fauxqs (SQS, and S3 behind the front)
	S3Endpoint     string // http://127.0.0.1:port of the S3 front, forwarding to fauxqs
	LogDir         string

	removeLogs bool
	procs      []*process
	front      *s3Front
	stopOnce   sync.Once
	stopErr    error
}

// Start checks the prerequisites, starts DynamoDB Local and fauxqs, waits
// until both answer, then starts the S3 front (in this process, forwarding
// to fauxqs). ctx bounds
// start-up only: the emulators and the front run until Stop.
//
// The front verifies presigned URLs with the credentials that Env hands the
// SDK, read from this process's environment now: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY when set, else the dummy pair local/local.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	dir, err := infraDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	l, err := checkPrerequisites(dir)
	if err != nil {
		return nil, fmt.Errorf("local stack prerequisites:\n%w", err)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	dynamoPort, err := portOrFree(opts.DynamoPort)
	if err != nil {
		return nil, err
	}
	fauxqsPort, err := portOrFree(opts.FauxqsPort)
	if err != nil {
		return nil, err
	}

	s := &Stack{
		DynamoEndpoint: "http://127.0.0.1:" + strconv.Itoa(dynamoPort),
		FauxqsEndpoint: "http://127.0.0.1:" + strconv.Itoa(fauxqsPort),
		LogDir:         opts.LogDir,
	}
	if s.LogDir == "" {
		if s.LogDir, err = os.MkdirTemp("", "regulars-stack-"); err != nil {
			return nil, fmt.Errorf("start local stack: %w", err)
		}
		s.removeLogs = true
	} else if err := os.MkdirAll(s.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("start local stack: %w", err)
	}

	err = s.launch(ctx, l, dynamoPort, fauxqsPort, opts.StartTimeout)
	if err == nil {
		log := opts.Logger
		if log == nil {
			log = slog.Default()
		}
		if s.front, err = startS3Front(s.FauxqsEndpoint, opts.S3Port, stackCredentials(), time.Now, log); err == nil {
			s.S3Endpoint = s.front.endpoint
		}
	}
	if err != nil {
		s.removeLogs = false // keep the logs that the error points to
		if stopErr := s.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, err
	}
	return s, nil
}

func (s *Stack) launch(ctx context.Context, l layout, dynamoPort, fauxqsPort int, timeout time.Duration) error {
	dynamo, err := startProcess("DynamoDB Local", filepath.Join(s.LogDir, "dynamodb.log"),
		"java",
		"-Djava.net.preferIPv4Stack=true",             // one IPv4 socket on 127.0.0.1, not a dual-stack one
		"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", // quick start and few threads: suits test runs on small machines
		"-Djava.library.path="+filepath.Join(l.dynamoDir, "DynamoDBLocal_lib"),
		"-cp", filepath.Join(l.dynamoDir, "DynamoDBLocal.jar")+string(filepath.ListSeparator)+filepath.Join(l.dynamoDir, "DynamoDBLocal_lib", "*"),
		l.dynamoLauncher,
		"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(dynamoPort),
	)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, dynamo)
	fauxqs, err := startProcess("fauxqs", filepath.Join(s.LogDir, "fauxqs.log"),
		"node", l.fauxqsLauncher, strconv.Itoa(fauxqsPort))
	if err != nil {
		return err
	}
	s.procs = append(s.procs, fauxqs)

	ctx, cancelTimeout := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no answer within %s", timeout))
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	checks := []struct {
		p     *process
		check func(context.Context) error
	}{
		{dynamo, func(ctx context.Context) error { return dynamoHealthy(ctx, client, s.DynamoEndpoint) }},
		{fauxqs, func(ctx context.Context) error { return fauxqsHealthy(ctx, client, s.FauxqsEndpoint) }},
	}
	errs := make(chan error, len(checks))
	for _, c := range checks {
		go func() {
			err := c.p.waitHealthy(ctx, c.check)
			if err != nil {
				cancel(errOtherFailed) // stop waiting for the other
			}
			errs <- err
		}()
	}
	var failed []error
	for range checks {
		if err := <-errs; err != nil && !errors.Is(err, errOtherFailed) {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("start local stack: %w", errors.Join(failed...))
	}
	return nil
}

// dynamoHealthy sends ListTables; DynamoDB Local does not check signatures.
func dynamoHealthy(ctx context.Context, client *http.Client, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(`{"Limit":1}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	return expectOK(client, req)
}

func fauxqsHealthy(ctx context.Context, client *http.Client, endpoint string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/health", nil)
	if err != nil {
		return err
	}
	return expectOK(client, req)
}

func expectOK(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL, resp.Status)
	}
	return nil
}

// Stop stops the S3 front and both emulators (SIGTERM, then SIGKILL) and
// removes a temporary log directory. It is safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.front != nil { // first: no request reaches a stopping fauxqs
			errs = append(errs, s.front.stop())
		}
		for _, p := range s.procs {
			errs = append(errs, p.stop())
		}
		if s.removeLogs {
			errs = append(errs, os.RemoveAll(s.LogDir))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// Env returns the environment that points the AWS SDK at the stack: the
// per-service endpoint variables (S3 at the S3 front), and AWS_REGION and
// dummy credentials for those not already set in this process's environment.
func (s *Stack) Env() map[string]string {
	env := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": s.DynamoEndpoint,
		"AWS_ENDPOINT_URL_SQS":      s.FauxqsEndpoint,
		"AWS_ENDPOINT_URL_S3":       s.S3Endpoint,
	}
	if os.Getenv("AWS_REGION") == "" {
		env["AWS_REGION"] = "us-east-1"
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		env["AWS_ACCESS_KEY_ID"] = localCredentials.AccessKeyID
		env["AWS_SECRET_ACCESS_KEY"] = localCredentials.SecretAccessKey
	}
	return env
}

// localCredentials are the dummy credentials Env exports when the environment
// has none. The emulators accept any; the S3 front checks presigned URLs
// against them.
var localCredentials = aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}

// stackCredentials are the credentials the SDK ends up with in an
// environment made by Env: those already in this process's environment (Env
// keeps them, and the SDK's default chain prefers them), else
// localCredentials.
func stackCredentials() aws.Credentials {
	if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")}
	}
	return localCredentials
}

// infraDir returns dir, or the infra directory of the repository.
func infraDir(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	tmpl, err := template.Find()
	if err != nil {
		return "", fmt.Errorf("locate infra directory: %w", err)
	}
	return filepath.Join(filepath.Dir(tmpl), "infra"), nil
}

// portOrFree returns port, or a free loopback port when port is 0.
func portOrFree(port int) (int, error) {
	if port != 0 {
		return port, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
