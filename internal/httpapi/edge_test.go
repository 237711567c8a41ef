package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/infra/devserver"
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
	var badge1, badge2 struct {
		ID string `json:"id"`
	}
	e.must(http.StatusCreated, "POST", "/v1/badges", e.key, map[string]any{"title": "Uno", "from": 1}).decode(t, &badge1)
	e.must(http.StatusCreated, "POST", "/v1/badges", e.key, map[string]any{"title": "Dos", "from": 1}).decode(t, &badge2)
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
	holders := next("/v1/badges/"+badge1.ID+"/customers?limit=1", e.key)
	e.must(http.StatusOK, "GET", "/v1/badges/"+badge1.ID+"/customers?limit=1&cursor="+holders, e.key, nil)
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
		{"/v1/customers?tag=vip&cursor=" + list, otherKey},                  // another merchant
		{"/v1/badges/" + badge2.ID + "/customers?cursor=" + holders, e.key}, // another badge's holders
		{"/v1/customers?cursor=" + holders, e.key},
		{"/v1/customers/" + b.ID + "/timeline?cursor=" + timelineA, e.key},
		{"/v1/customers/" + a.ID + "/timeline?cursor=" + ledgerA, e.key},
		{"/v1/reports/points?kind=earn&cursor=" + report, e.key},
		{"/v1/reports/points?cursor=" + timelineA, e.key},
		{"/v1/reports/points?cursor=" + report, otherKey},
	} {
		refused(tc.path, tc.key)
	}
}

// rawReply is an answer read without the harness's checks (which refuse
// any 5xx), validated against docs/openapi.yaml all the same.
type rawReply struct {
	status int
	header http.Header
	body   []byte
}

// raw makes a request with client (whose Timeout is the bound the answer
// must come within) and checks the answer against the spec.
func (e *env) raw(client *http.Client, base, method, path, tmplPath, key string, body []byte, headers map[string]string) (rawReply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, base+path, rd)
	if err != nil {
		return rawReply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return rawReply{}, err
	}
	defer resp.Body.Close()
	out := rawReply{status: resp.StatusCode, header: resp.Header}
	if out.body, err = io.ReadAll(resp.Body); err != nil {
		return rawReply{}, err
	}
	spec.ValidateResponse(e.t, method, tmplPath, resp.StatusCode, out.body)
	return out, nil
}

// TestDatabaseDownAnswers503: with DynamoDB unreachable, every kind of
// request (API key, customer token, webhook signature, Idempotency-Key)
// answers 503 problem+json with Retry-After, quickly, instead of a 500
// after seconds of retries.
func TestDatabaseDownAnswers503(t *testing.T) {
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	var tok struct {
		Token string `json:"token"`
	}
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/portal-token", e.key, nil).decode(t, &tok)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://"+closed) // the functions below are built with DynamoDB down
	gw, err := devserver.Gateway(t.Context(), e.tmpl, e.res, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	down := httptest.NewServer(gw)
	defer down.Close()
	client := &http.Client{Timeout: 2 * time.Second} // the bound: far below the 10 s timeout
	for _, tc := range []struct {
		method, path, tmplPath, key string
		body                        []byte
		headers                     map[string]string
	}{
		{"GET", "/v1/merchant", "/v1/merchant", e.key, nil, nil},
		{"GET", "/v1/customers?limit=5", "/v1/customers", e.key, nil, nil},
		{"POST", "/v1/customers", "/v1/customers", e.key, []byte(`{"given_name":"Bea"}`), map[string]string{"Idempotency-Key": "down-1"}},
		{"POST", "/v1/customers/" + c.ID + "/points/entries", "/v1/customers/{customerId}/points/entries", e.key, []byte(`{"points":5}`), nil},
		{"GET", "/v1/me/points", "/v1/me/points", tok.Token, nil, nil},
		{"POST", "/v1/webhooks/" + e.merchant.ID + "/purchases", "/v1/webhooks/{merchantId}/purchases", "", []byte(`{"events":[]}`), nil},
	} {
		r, err := e.raw(client, down.URL, tc.method, tc.path, tc.tmplPath, tc.key, tc.body, tc.headers)
		if err != nil {
			t.Fatalf("%s %s: no answer within %s: %v", tc.method, tc.path, client.Timeout, err)
		}
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1" || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d, Retry-After %q: %s; want 503 problem+json with Retry-After", tc.method, tc.path, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
}

// TestConcurrentWritesAnswerInTime: 200 postings to one customer at once,
// through the gateway that enforces ApiFunction's 10 s timeout: each answers
// within it, 201 or, when it cannot get its turn in time, 409 or 503 with
// Retry-After; and the ledger is exact afterwards.
func TestConcurrentWritesAnswerInTime(t *testing.T) {
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	const writers = 200
	client := &http.Client{Timeout: 12 * time.Second} // the function's 10 s, and the gateway's own time
	path := "/v1/customers/" + c.ID + "/points/entries"
	type outcome struct {
		r   rawReply
		err error
	}
	outcomes := make(chan outcome, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			r, err := e.raw(client, e.url, "POST", path, "/v1/customers/{customerId}/points/entries", e.key, []byte(`{"points":1,"note":"burst `+strconv.Itoa(i)+`"}`), nil)
			outcomes <- outcome{r, err}
		})
	}
	wg.Wait()
	close(outcomes)
	counts := map[int]int{}
	for o := range outcomes {
		if o.err != nil {
			t.Fatalf("a posting got no answer within %s: %v", client.Timeout, o.err)
		}
		counts[o.r.status]++
		switch o.r.status {
		case http.StatusCreated:
		case http.StatusConflict, http.StatusServiceUnavailable:
			if o.r.header.Get("Retry-After") == "" {
				t.Errorf("%d without Retry-After: %s", o.r.status, o.r.body)
			}
		default:
			t.Errorf("a posting answered %d: %s", o.r.status, o.r.body)
		}
	}
	t.Logf("answers: %v", counts)
	if counts[http.StatusCreated] == 0 {
		t.Fatalf("no posting went through: %v", counts)
	}

	// Exact: the balance is the sum of the entries, and every 201 has its
	// entry (a 503 may have landed too: its write and its answer crossed).
	var acc struct {
		Balance int64 `json:"balance"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/points", e.key, nil).decode(t, &acc)
	var sum, entries int64
	for cursor := ""; ; {
		var page struct {
			Data []struct {
				Points int64 `json:"points"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		q := path + "?limit=100"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		e.must(http.StatusOK, "GET", q, e.key, nil).decode(t, &page)
		for _, en := range page.Data {
			sum += en.Points
			entries++
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if sum != acc.Balance || entries < int64(counts[http.StatusCreated]) || entries > writers {
		t.Fatalf("balance %d, %d entries summing %d, %d postings answered 201", acc.Balance, entries, sum, counts[http.StatusCreated])
	}
}
