package httpapi_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/webhook"
)

// TestWebhookTellsNoMerchant: a delivery to a merchant that exists (with or
// without a secret) and one to a merchant that does not get the same answer,
// header by header, whatever is wrong with it.
func TestWebhookTellsNoMerchant(t *testing.T) {
	e := newEnv(t)
	var secrets struct {
		Data []struct {
			Secret string `json:"secret"`
		} `json:"data"`
	}
	e.must(http.StatusCreated, "POST", "/v1/webhook-secrets", e.key, nil).decode(t, &secrets)
	other, _ := e.newMerchant("Sin secreto") // no webhook secret yet
	targets := map[string]string{
		"real merchant":              e.merchant.ID,
		"merchant without a secret":  other.ID,
		"unknown merchant":           "01ARZ3NDEKTSV4RRFFQ69G5FAV",
		"malformed merchant":         "not-a-merchant",
		"unknown, lower-case digits": "01arz3ndektsv4rrffq69g5fav",
	}
	body := `{"events":[]}`
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	signed, _ := webhook.Sign(secrets.Data[0].Secret, "msg_1", now, []byte(body))
	for name, headers := range map[string]map[string]string{
		"no headers":           {},
		"no signature":         {"webhook-id": "msg_1", "webhook-timestamp": ts},
		"no timestamp":         {"webhook-id": "msg_1", "webhook-signature": signed},
		"timestamp not a time": {"webhook-id": "msg_1", "webhook-timestamp": "yesterday", "webhook-signature": signed},
		"stale timestamp":      {"webhook-id": "msg_1", "webhook-timestamp": strconv.FormatInt(now.Add(-time.Hour).Unix(), 10), "webhook-signature": signed},
		"wrong signature":      {"webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": "v1,AAAA"},
		"id too long":          {"webhook-id": string(bytes.Repeat([]byte("x"), 300)), "webhook-timestamp": ts, "webhook-signature": signed},
	} {
		var first reply
		var firstTarget string
		for target, mid := range targets {
			var opts []opt
			for k, v := range headers {
				opts = append(opts, header(k, v))
			}
			r := e.call("POST", "/v1/webhooks/"+mid+"/purchases", "", body, opts...)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%s to the %s: %d, want 401: %s", name, target, r.status, r.body)
			}
			if firstTarget == "" {
				first, firstTarget = r, target
				continue
			}
			if !bytes.Equal(r.body, first.body) || r.header.Get("WWW-Authenticate") != first.header.Get("WWW-Authenticate") {
				t.Errorf("%s: the %s answers %s, the %s %s", name, target, r.body, firstTarget, first.body)
			}
		}
	}
}

// TestPortalTokenNotKept: a customer-area token is shown once, like an API
// key: the idempotency record of the request that issued it keeps neither it
// nor the answer, and a repeat answers 409 without it.
func TestPortalTokenNotKept(t *testing.T) {
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Lucía"})
	var tok struct {
		Token string `json:"token"`
	}
	path := "/v1/customers/" + c.ID + "/portal-token"
	e.must(http.StatusCreated, "POST", path, e.key, map[string]any{"ttl_seconds": 3600}, header("Idempotency-Key", "pt-1")).decode(t, &tok)
	if !strings.HasPrefix(tok.Token, "ct_") {
		t.Fatalf("token %q", tok.Token)
	}
	e.must(http.StatusOK, "GET", "/v1/me/points", tok.Token, nil)

	out, err := dynamodb.NewFromConfig(awsCfg).GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(e.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "M#" + e.merchant.ID + "#IDEM#pt-1"}, "SK": &types.AttributeValueMemberS{Value: "IDEM"}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatal("no idempotency record for pt-1")
	}
	if done, _ := out.Item["done"].(*types.AttributeValueMemberBOOL); done == nil || !done.Value {
		t.Fatalf("the record is not complete: %v", out.Item)
	}
	for _, name := range []string{"body", "headers"} {
		if v, ok := out.Item[name]; ok && !isNull(v) {
			t.Errorf("the idempotency record keeps the answer's %s: %v", name, v)
		}
	}
	signature := tok.Token[strings.LastIndex(tok.Token, ".")+1:]
	if items := e.itemsOf(signature); len(items) != 0 {
		t.Fatalf("the table keeps the token: %v", items)
	}

	r := e.must(http.StatusConflict, "POST", path, e.key, map[string]any{"ttl_seconds": 3600}, header("Idempotency-Key", "pt-1"))
	if strings.Contains(string(r.body), signature) || !strings.Contains(r.problem.Detail, "shown once") {
		t.Fatalf("the repeat: %s", r.body)
	}
	// A refusal is no secret: it is kept and replayed as usual.
	e.must(http.StatusBadRequest, "POST", path, e.key, map[string]any{"ttl_seconds": 1}, header("Idempotency-Key", "pt-2"))
	if r := e.must(http.StatusBadRequest, "POST", path, e.key, map[string]any{"ttl_seconds": 1}, header("Idempotency-Key", "pt-2")); r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a 400 is not replayed: %v", r.header)
	}
}

func isNull(v types.AttributeValue) bool {
	n, ok := v.(*types.AttributeValueMemberNULL)
	return ok && n.Value
}
