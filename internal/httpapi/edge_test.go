package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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

// TestCursorsTamperProof: a cursor continues only the list it came from —
// the same merchant, route, customer, order and filters — and anything else
// (a forged one naming another list's keys, an edited one, one of another
// list) is answered 400 at ?cursor before it reaches DynamoDB.
func TestCursorsTamperProof(t *testing.T) {
	e := newEnv(t)
	a := e.create(map[string]any{"given_name": "Ana", "tags": []string{"vip"}})
	b := e.create(map[string]any{"given_name": "Bea", "tags": []string{"vip"}})
	e.create(map[string]any{"given_name": "Carmen", "tags": []string{"vip"}})
	for _, c := range []customer{a, b} {
		for range 3 {
			e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/points/entries", e.key, map[string]any{"points": 10})
		}
	}
	var tokA, tokB struct {
		Token string `json:"token"`
	}
	e.must(http.StatusCreated, "POST", "/v1/customers/"+a.ID+"/portal-token", e.key, nil).decode(t, &tokA)
	e.must(http.StatusCreated, "POST", "/v1/customers/"+b.ID+"/portal-token", e.key, nil).decode(t, &tokB)
	_, otherKey := e.newMerchant("Otro")

	next := func(path, key string) string {
		t.Helper()
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		e.must(http.StatusOK, "GET", path, key, nil).decode(t, &page)
		if page.NextCursor == nil {
			t.Fatalf("GET %s: no next_cursor", path)
		}
		return *page.NextCursor
	}
	refused := func(path, key string) {
		t.Helper()
		r := e.call("GET", path, key, nil)
		if r.status != http.StatusBadRequest || len(r.paths()) != 1 || r.paths()[0] != "?cursor" {
			t.Errorf("GET %s: %d %s, want 400 at ?cursor", path, r.status, r.body)
		}
	}
	entriesA, entriesB := "/v1/customers/"+a.ID+"/points/entries", "/v1/customers/"+b.ID+"/points/entries"
	ledgerA := next(entriesA+"?limit=1", e.key)
	e.must(http.StatusOK, "GET", entriesA+"?limit=1&cursor="+ledgerA, e.key, nil)
	e.must(http.StatusOK, "GET", "/v1/me/entries?limit=1&cursor="+ledgerA, tokA.Token, nil) // the same ledger
	list := next("/v1/customers?limit=1&tag=vip", e.key)
	e.must(http.StatusOK, "GET", "/v1/customers?limit=1&tag=vip&cursor="+list, e.key, nil)
	timelineA := next("/v1/customers/"+a.ID+"/timeline?limit=1", e.key)
	e.must(http.StatusOK, "GET", "/v1/customers/"+a.ID+"/timeline?limit=1&cursor="+timelineA, e.key, nil)
	report := next("/v1/reports/points?limit=1", e.key)
	e.must(http.StatusOK, "GET", "/v1/reports/points?limit=1&cursor="+report, e.key, nil)

	// The unsigned cursors of before, naming another list's keys: DynamoDB
	// refused them with a ValidationException, answered 500.
	var bLedger struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	e.must(http.StatusOK, "GET", entriesB+"?limit=1", e.key, nil).decode(t, &bLedger)
	forge := func(v any) string {
		j, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(j)
	}
	mid := e.merchant.ID
	forgedLedger := forge(map[string]any{"l": "ledger:" + a.ID, "k": map[string]string{"PK": "M#" + mid + "#C#" + b.ID, "SK": "L#" + bLedger.Data[0].ID}})
	forgedList := forge(map[string]any{"l": "customers:last_visit:", "k": map[string]string{"PK": "M#" + mid + "#C#" + a.ID, "SK": "PROFILE",
		"GSI1PK": "M#" + mid + "#C#" + b.ID, "GSI1SK": "x"}})
	tampered := []byte(ledgerA)
	tampered[len(tampered)/3] ^= 1
	for _, tc := range []struct{ path, key string }{
		{entriesA + "?cursor=" + forgedLedger, e.key},
		{"/v1/me/entries?cursor=" + forgedLedger, tokA.Token},
		{"/v1/customers?cursor=" + forgedList, e.key},
		{entriesA + "?cursor=" + string(tampered), e.key},
		{entriesA + "?cursor=" + ledgerA + "x", e.key},
		{entriesA + "?cursor=" + list, e.key},            // another list's cursor
		{entriesB + "?cursor=" + ledgerA, e.key},         // another customer's ledger
		{"/v1/me/entries?cursor=" + ledgerA, tokB.Token}, // another customer's ledger, by token
		{"/v1/customers?cursor=" + list, e.key},          // without the filter it was made with
		{"/v1/customers?tag=vip&order=name&cursor=" + list, e.key},
		{"/v1/customers?tag=vip&activity=inactive&cursor=" + list, e.key},
		{"/v1/customers?tag=vip&q=ana&cursor=" + list, e.key},
		{"/v1/customers?tag=vip&cursor=" + list, otherKey}, // another merchant
		{"/v1/customers/" + b.ID + "/timeline?cursor=" + timelineA, e.key},
		{"/v1/customers/" + a.ID + "/timeline?cursor=" + ledgerA, e.key},
		{"/v1/reports/points?kind=earn&cursor=" + report, e.key},
		{"/v1/reports/points?cursor=" + timelineA, e.key},
		{"/v1/reports/points?cursor=" + report, otherKey},
	} {
		refused(tc.path, tc.key)
	}
}
