package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/regulars/regulars/infra/template"
)

// helloPackage is the baseline of size and cold init: the smallest Go Lambda.
const helloPackage = "./infra/bench/hello"

// initTimeout bounds one cold start.
const initTimeout = 10 * time.Second

// benchFunctions builds every function of the template as `make build` does,
// reports its size, and measures its cold init on this host, each beside the
// hello-world Lambda.
func benchFunctions(ctx context.Context, e *environment, runs int, progress func(string)) ([]FunctionResult, error) {
	dir, err := os.MkdirTemp("", "regulars-bench-")
	if err != nil {
		return nil, fmt.Errorf("directory for the binaries: %w", err)
	}
	defer os.RemoveAll(dir)

	progress("build " + helloPackage)
	hello, err := build(ctx, e.root, filepath.Join(dir, "hello"), helloPackage)
	if err != nil {
		return nil, err
	}
	helloSize, err := sizeMiB(hello.arm64)
	if err != nil {
		return nil, err
	}
	rt := newRuntimeAPI()
	defer rt.srv.Close()

	var out []FunctionResult
	for _, f := range e.tmpl.Functions {
		pkg, err := lambdaPackage(e.root, f.LogicalID)
		if err != nil {
			return nil, err
		}
		progress("build " + pkg)
		bins, err := build(ctx, e.root, filepath.Join(dir, f.LogicalID), pkg)
		if err != nil {
			return nil, err
		}
		size, err := sizeMiB(bins.arm64)
		if err != nil {
			return nil, err
		}
		env, err := functionEnv(e, f)
		if err != nil {
			return nil, err
		}
		progress(fmt.Sprintf("cold starts of %s and hello (%d each)", f.LogicalID, runs))
		fn, hl, err := rt.coldStarts(ctx, bins.host, hello.host, env, runs)
		if err != nil {
			return nil, fmt.Errorf("cold init of %s: %w", f.LogicalID, err)
		}
		r := FunctionResult{LogicalID: f.LogicalID, Package: pkg, SizeMiB: size, HelloSizeMiB: helloSize,
			SizeRatio: ratio(size, helloSize), Init: summarizeLatency(fn), HelloInit: summarizeLatency(hl)}
		r.InitRatio = ratio(r.Init.P50, r.HelloInit.P50)
		out = append(out, r)
	}
	return out, nil
}

// lambdaPackage returns the package of a function of the template: its
// logical ID without the "Function" suffix, lower-cased, under functions/
// (ApiFunction → ./functions/api), as the Makefile's build targets assume.
func lambdaPackage(root, logicalID string) (string, error) {
	name, ok := strings.CutSuffix(logicalID, "Function")
	if !ok || name == "" {
		return "", fmt.Errorf("function %s of template.yaml: its logical ID must be <Name>Function, built from functions/<name>", logicalID)
	}
	pkg := "./functions/" + strings.ToLower(name)
	if fi, err := os.Stat(filepath.Join(root, pkg)); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("function %s of template.yaml: package %s does not exist (<Name>Function is built from functions/<name>)", logicalID, pkg)
	}
	return pkg, nil
}

// binaries are the two builds of one package.
type binaries struct {
	arm64 string // linux/arm64, as deployed
	host  string // this host's OS and architecture, to run here
}

// build builds pkg with the flags of `make build` into dir, for linux/arm64
// and for this host.
func build(ctx context.Context, root, dir, pkg string) (binaries, error) {
	b := binaries{arm64: filepath.Join(dir, "arm64", "bootstrap"), host: filepath.Join(dir, "host", "bootstrap")}
	for _, t := range []struct{ goos, goarch, out string }{
		{"linux", "arm64", b.arm64},
		{runtime.GOOS, runtime.GOARCH, b.host},
	} {
		if err := os.MkdirAll(filepath.Dir(t.out), 0o755); err != nil {
			return binaries{}, err
		}
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", t.out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.goos, "GOARCH="+t.goarch)
		if out, err := cmd.CombinedOutput(); err != nil {
			return binaries{}, fmt.Errorf("go build %s for %s/%s: %w\n%s", pkg, t.goos, t.goarch, err, out)
		}
	}
	return b, nil
}

func sizeMiB(path string) (float64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return float64(fi.Size()) / (1 << 20), nil
}

// functionVars are the variables of this process's environment that a
// function gets: the stack's endpoints, region and credentials.
var functionVars = []string{
	"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3",
	"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
}

// functionEnv is the environment of a function started here: its variables
// from template.yaml resolved against the provisioned resources, and the
// stack's endpoint variables, and nothing else of this process's.
func functionEnv(e *environment, f template.Function) ([]string, error) {
	vars, err := e.res.FunctionEnv(f)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, k := range functionVars {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env, nil
}

// runtimeAPI stands in for the Lambda Runtime API on a loopback port. It
// notes when a function asks for its first invocation (the aws-lambda-go
// runtime does so once main's init is done) and holds that request until the
// function is killed.
type runtimeAPI struct {
	srv  *httptest.Server
	next chan time.Time
}

func newRuntimeAPI() *runtimeAPI {
	r := &runtimeAPI{next: make(chan time.Time, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(_ http.ResponseWriter, req *http.Request) {
		select {
		case r.next <- time.Now():
		default:
		}
		<-req.Context().Done()
	})
	r.srv = httptest.NewServer(mux)
	return r
}

// coldStarts starts fn and hello runs times each, alternately (ABBA), after
// one discarded start of each, and returns the durations to ready.
func (r *runtimeAPI) coldStarts(ctx context.Context, fn, hello string, env []string, runs int) (fnTimes, helloTimes []time.Duration, err error) {
	type subject struct {
		bin   string
		times *[]time.Duration
	}
	for i := -1; i < runs; i++ {
		order := []subject{{hello, &helloTimes}, {fn, &fnTimes}}
		if i%2 != 0 {
			slices.Reverse(order)
		}
		for _, s := range order {
			d, err := r.coldStart(ctx, s.bin, env)
			if err != nil {
				return nil, nil, err
			}
			if i >= 0 {
				*s.times = append(*s.times, d)
			}
		}
	}
	return fnTimes, helloTimes, nil
}

// coldStart starts bin and returns the time from starting the process to its
// first request for an invocation; then it kills the process.
func (r *runtimeAPI) coldStart(ctx context.Context, bin string, env []string) (time.Duration, error) {
	select { // a late request of a previous run
	case <-r.next:
	default:
	}
	var out bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = slices.Concat(env, []string{"AWS_LAMBDA_RUNTIME_API=" + r.srv.Listener.Addr().String()})
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = procAttr()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	timeout := time.NewTimer(initTimeout)
	defer timeout.Stop()

	var ready time.Time
	var failure error
	select {
	case ready = <-r.next:
	case err := <-exited:
		return 0, fmt.Errorf("%s exited before asking for an invocation (%v); its output:\n%s", bin, err, out.String())
	case <-timeout.C:
		failure = fmt.Errorf("%s did not ask for an invocation within %s", bin, initTimeout)
	case <-ctx.Done():
		failure = ctx.Err()
	}
	cmd.Process.Kill()
	<-exited
	if failure != nil {
		return 0, fmt.Errorf("%w; its output:\n%s", failure, out.String())
	}
	return ready.Sub(start), nil
}
