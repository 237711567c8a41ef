// Package archtest checks the rules of docs/architecture.md that the
// compiler does not: which packages may link which.
package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// sdkFree are the domain and service packages: the SDK stays in the adapters
// (dynamo, queue, objects) and in app, which constructs the clients.
var sdkFree = []string{
	"analytics", "apperr", "checked", "contract", "crm", "cursor", "erasure", "exports", "httpapi", "idempotency",
	"ids", "imports", "ingest", "jobs", "loyalty", "multipart", "nightly", "points", "purchase", "purchasemsg",
	"tabular", "tenant", "webhook",
}

// awsService prefixes the AWS SDK's service clients (S3, SQS, DynamoDB, and
// the STS, SSO… that config brings).
const awsService = "github.com/aws/aws-sdk-go-v2/service/"

// No domain or service package links an AWS service client, even through
// another package: each reaches S3, SQS and DynamoDB through an interface it
// declares, and app hands it the adapter. The go command's test cache does
// not see what go list reads: rerun with -count=1, as make test does.
func TestServicesLinkNoAWSService(t *testing.T) {
	args := []string{"list", "-json=ImportPath,Deps"}
	for _, p := range sdkFree {
		args = append(args, "github.com/regulars/regulars/internal/"+p)
	}
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, &stderr)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	listed := 0
	for {
		var pkg struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		listed++
		var linked []string
		for _, d := range pkg.Deps {
			if strings.HasPrefix(d, awsService) {
				linked = append(linked, d)
			}
		}
		if len(linked) > 0 {
			t.Errorf("%s links %s", pkg.ImportPath, strings.Join(linked, ", "))
		}
	}
	if listed != len(sdkFree) {
		t.Fatalf("go list described %d packages, want %d", listed, len(sdkFree))
	}
}
