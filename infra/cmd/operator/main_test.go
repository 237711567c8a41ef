package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/tenant"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

// operatorTest provisions a table with one merchant for the operator
// commands (TABLE_NAME) and captures what they print.
func operatorTest(t *testing.T) (*dynamo.Store, tenant.Merchant, *bytes.Buffer) {
	t.Helper()
	res := localstack.ProvisionTest(t, awsCfg)
	t.Setenv("TABLE_NAME", res.Ref("Table"))
	st := dynamo.New(dynamodb.NewFromConfig(awsCfg), res.Ref("Table"))
	m, _, err := seed.Merchant(t.Context(), st, "Café Central", "EUR", "Europe/Madrid", tenant.ScopeAdmin, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	prev := stdout
	stdout = out
	t.Cleanup(func() { stdout = prev })
	return st, m, out
}

// TestKeyCreatePrintsTheKeyID: `key create` prints the new key's id, which
// `key revoke` needs, beside the secret shown once.
func TestKeyCreatePrintsTheKeyID(t *testing.T) {
	st, m, out := operatorTest(t)
	if err := run(t.Context(), []string{"key", "create", "-merchant", m.ID, "-scope", "read", "-name", "caja 2"}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		APIKey string `json:"api_key"`
		KeyID  string `json:"key_id"`
		Name   string `json:"name"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	k, err := st.APIKeyByHash(t.Context(), tenant.HashSecret(got.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyID == "" || got.KeyID != k.ID || got.Name != "caja 2" {
		t.Fatalf("printed %s; the key is %s", out.Bytes(), k.ID)
	}
}

// `customers index-values` keys the value orders of old profiles and says
// how many it keyed: none for a merchant whose profiles are all current.
func TestIndexValuesCommand(t *testing.T) {
	_, m, out := operatorTest(t)
	if err := run(t.Context(), []string{"customers", "index-values", "-merchant", m.ID}); err != nil {
		t.Fatal(err)
	}
	var got struct{ Indexed *int }
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Indexed == nil || *got.Indexed != 0 {
		t.Fatalf("output %s (%v)", out.String(), err)
	}
}
