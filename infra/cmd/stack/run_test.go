package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestExecRunsCommandWithStackEnv(t *testing.T) {
	// The command sees the endpoints and DynamoDB Local answers there; its
	// exit status becomes the status of stack exec.
	script := `case "$AWS_ENDPOINT_URL_DYNAMODB" in http://127.0.0.1:*) ;; *) exit 10;; esac
case "$AWS_ENDPOINT_URL_S3" in http://127.0.0.1:*) ;; *) exit 11;; esac
exit 3`
	signals := make(chan os.Signal, 1)
	if got := run(t.Context(), []string{"exec", "--", "sh", "-c", script}, signals, io.Discard, io.Discard); got != 3 {
		t.Fatalf("exit status = %d, want 3", got)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"down"}, 2},
		{"exec without command", []string{"exec", "--"}, 2},
		{"bad flag", []string{"up", "-nope"}, 2},
		{"help", []string{"help"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(t.Context(), tc.args, nil, io.Discard, io.Discard); got != tc.want {
				t.Fatalf("run(%q) = %d, want %d", tc.args, got, tc.want)
			}
		})
	}
}

func TestUpPrintsEnvProvisionsAndStopsOnSignal(t *testing.T) {
	for _, k := range []string{"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, os.Getenv(k)) // restored after the test: provisioning exports the stack's env
	}
	out, w := io.Pipe()
	signals := make(chan os.Signal, 1)
	status := make(chan int, 1)
	go func() {
		status <- run(context.Background(), []string{"up", "-dynamodb-port", "0", "-fauxqs-port", "0", "-provision", "uptest"}, signals, w, io.Discard)
		w.Close()
	}()

	lines := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		lines[strings.TrimSpace(k)] = strings.TrimSpace(v)
		if strings.HasPrefix(sc.Text(), "# !Ref ExportsBucket") {
			break
		}
	}
	if !strings.HasPrefix(lines["export AWS_ENDPOINT_URL_DYNAMODB"], "http://127.0.0.1:") {
		t.Errorf("output lacks the DynamoDB endpoint: %v", lines)
	}
	if lines["# !Ref Table"] != "uptest-Table" || lines["# !Ref ExportsBucket"] != "uptest-exportsbucket" {
		t.Errorf("output lacks the provisioned resources: %v", lines)
	}

	signals <- syscall.SIGTERM
	go io.Copy(io.Discard, out)
	if got := <-status; got != 0 {
		t.Fatalf("exit status = %d, want 0", got)
	}
}
