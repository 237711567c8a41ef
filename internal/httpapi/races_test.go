package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/httpapi"
)

// partitionSKs lists the sort keys of a customer's partition that start with
// prefix, read from the table itself.
func (e *env) partitionSKs(cid, prefix string) []string {
	e.t.Helper()
	out, err := dynamodb.NewFromConfig(awsCfg).Query(e.t.Context(), &dynamodb.QueryInput{TableName: aws.String(e.table),
		KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "M#" + e.merchant.ID + "#C#" + cid}},
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	var sks []string
	for _, it := range out.Items {
		if sk := it["SK"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(sk, prefix) {
			sks = append(sks, sk)
		}
	}
	return sks
}

// TestNothingUnderErasedCustomer: after a DELETE, requests about the erased
// id with an Idempotency-Key answer 404 (every time: nothing is kept for a
// repeat to replay) and leave nothing that mentions the id anywhere in the
// table.
func TestNothingUnderErasedCustomer(t *testing.T) {
	e := newEnv(t)
	e.seedProgram(t)
	gone := e.create(map[string]any{"given_name": "Ana", "email": "ana@example.com"})
	other := e.create(map[string]any{"given_name": "Otra"})
	e.must(http.StatusNoContent, "DELETE", "/v1/customers/"+gone.ID, e.key, nil)
	if items := e.itemsOf(gone.ID); len(items) != 0 {
		t.Fatalf("after the deletion: %v", items)
	}
	for i, req := range []struct {
		path string
		body any
	}{
		{"/v1/customers/" + gone.ID + "/points/entries", map[string]any{"points": 10}},
		{"/v1/customers/" + gone.ID + "/merge", map[string]any{"duplicate_id": other.ID}},
		{"/v1/customers/" + other.ID + "/merge", map[string]any{"duplicate_id": gone.ID}},
		{"/v1/customers/" + gone.ID + "/events", map[string]any{"type": "campaign_email_opened"}},
		{"/v1/customers/" + gone.ID + "/suspend", nil},
		{"/v1/customers/" + gone.ID + "/redemptions", map[string]any{"order_ref": "T-1", "points": 10,
			"cart": []map[string]any{{"sku": "CAFE", "quantity": 1, "unit_price": 1000}}}},
		{"/v1/customers/" + gone.ID + "/portal-token", nil},
	} {
		key := header("Idempotency-Key", "erased-"+string(rune('a'+i)))
		for range 2 {
			if r := e.call("POST", req.path, e.key, req.body, key); r.status != http.StatusNotFound {
				t.Fatalf("POST %s: %d %s", req.path, r.status, r.body)
			}
		}
	}
	if items := e.itemsOf(gone.ID); len(items) != 0 {
		t.Fatalf("written about the erased customer: %v", items)
	}
}

// TestNothingUnderMergedAway: of two opposite merges, the losing one (B←A
// after A←B) answers 409 and writes nothing under the tombstone B: the
// reference to its idempotency record goes to the survivor A, whose erasure
// takes it; an interaction for the tombstone is refused too.
func TestNothingUnderMergedAway(t *testing.T) {
	e := newEnv(t)
	a := e.create(map[string]any{"given_name": "Ana", "email": "ana@example.com"})
	b := e.create(map[string]any{"given_name": "Ana", "phone": "+34600111222"})
	e.must(http.StatusOK, "POST", "/v1/customers/"+a.ID+"/merge", e.key, map[string]any{"duplicate_id": b.ID},
		header("Idempotency-Key", "a-b"))
	before := e.partitionSKs(b.ID, "")
	e.must(http.StatusConflict, "POST", "/v1/customers/"+b.ID+"/merge", e.key, map[string]any{"duplicate_id": a.ID},
		header("Idempotency-Key", "b-a"))
	e.must(http.StatusConflict, "POST", "/v1/customers/"+b.ID+"/events", e.key, map[string]any{"type": "campaign_email_opened"},
		header("Idempotency-Key", "b-event"))
	if after := e.partitionSKs(b.ID, ""); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("written under the tombstone: %v, before %v", after, before)
	}
	if refs := e.partitionSKs(a.ID, "IDEM#"); strings.Join(refs, " ") != "IDEM#a-b IDEM#b-a IDEM#b-event" {
		t.Fatalf("the survivor's references: %v", refs)
	}
	// The replay is the kept answer; erasing the survivor erases both records.
	if r := e.must(http.StatusConflict, "POST", "/v1/customers/"+b.ID+"/merge", e.key, map[string]any{"duplicate_id": a.ID},
		header("Idempotency-Key", "b-a")); r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("not replayed: %v", r.header)
	}
	e.must(http.StatusNoContent, "DELETE", "/v1/customers/"+a.ID, e.key, nil)
	for _, k := range []string{"a-b", "b-a", "b-event"} {
		if items := e.itemsOf("#IDEM#" + k); len(items) != 0 {
			t.Fatalf("record %s outlives the survivor's erasure: %v", k, items)
		}
	}
}

// racingStore runs race once, inside the first attempt of the next
// UpdateCustomer, after the caller's change was decided and before it is
// written: a concurrent writer that commits first.
type racingStore struct {
	*dynamo.Store
	race func()
}

func (s *racingStore) UpdateCustomer(ctx context.Context, mid, cid string, fn func(crm.Customer) (crm.Customer, error)) (crm.Customer, error) {
	return s.Store.UpdateCustomer(ctx, mid, cid, func(c crm.Customer) (crm.Customer, error) {
		next, err := fn(c)
		if race := s.race; race != nil {
			s.race = nil
			race()
		}
		return next, err
	})
}

// TestPatchTimedAtCommit: a PATCH that arrives at 10:00:00 and loses its
// first write to an import committed at 10:00:02 is written at 10:00:03,
// the time of its retry (from the server's injected clock), not at its
// arrival: updated_at does not go back and the timeline shows the PATCH as
// the newest change.
func TestPatchTimedAtCommit(t *testing.T) {
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	arrival := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := arrival
	st := &racingStore{Store: e.store}
	st.race = func() {
		imported := arrival.Add(2 * time.Second)
		tags := []string{"importado"}
		if _, err := e.store.UpdateCustomer(t.Context(), e.merchant.ID, c.ID, func(c crm.Customer) (crm.Customer, error) {
			return crm.Patch{Tags: &tags}.Apply(c, imported)
		}); err != nil {
			t.Fatal(err)
		}
		clock = arrival.Add(3 * time.Second)
	}
	srv := httpapi.New(st, slog.New(slog.DiscardHandler), func() time.Time { return clock }, func() ([]byte, error) { return nil, nil })
	resp, err := srv.Handle(t.Context(), events.APIGatewayV2HTTPRequest{RouteKey: "PATCH /v1/customers/{customerId}",
		RawPath: "/v1/customers/" + c.ID, PathParameters: map[string]string{"customerId": c.ID},
		Headers: map[string]string{"Authorization": "Bearer " + e.key, "Content-Type": "application/json"},
		Body:    `{"family_name":"Ruiz"}`, RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "PATCH"}}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d %s %v", resp.StatusCode, resp.Body, err)
	}
	got, err := e.store.Customer(t.Context(), e.merchant.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := arrival.Add(3 * time.Second); !got.UpdatedAt.Equal(want) || got.FamilyName != "Ruiz" || len(got.Tags) != 1 {
		t.Fatalf("updated_at %v (want %v), profile %+v", got.UpdatedAt, want, got.Profile)
	}
	var tl struct {
		Data []struct {
			Kind  string `json:"kind"`
			Event struct {
				Type string            `json:"type"`
				Data map[string]string `json:"data"`
			} `json:"event"`
		} `json:"data"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/timeline", e.key, nil).decode(t, &tl)
	var changes []string
	for _, it := range tl.Data {
		if it.Event.Type == "profile_updated" {
			changes = append(changes, it.Event.Data["fields"])
		}
	}
	if strings.Join(changes, " ") != "family_name tags" {
		t.Fatalf("profile changes, newest first: %v", changes)
	}
}

// TestCancelledRedemptionTakesBackItsVisit: a checkout redemption at a
// location records a redemption visit; cancelling it takes the visit back
// (history and location shares); the other redemption keeps its own.
func TestCancelledRedemptionTakesBackItsVisit(t *testing.T) {
	e := newEnv(t)
	e.seedProgram(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/points/entries", e.key, map[string]any{"points": 300})
	cart := []map[string]any{{"sku": "CAFE", "quantity": 4, "unit_price": 500}}
	visits := func() (n int, shares int) {
		var v struct {
			Data      []struct{ Type string } `json:"data"`
			Locations []struct{ Visits int }  `json:"locations"`
		}
		e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/visits", e.key, nil).decode(t, &v)
		for _, l := range v.Locations {
			shares += l.Visits
		}
		return len(v.Data), shares
	}
	for _, ref := range []string{"T-1", "T-2"} {
		e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/redemptions", e.key,
			map[string]any{"order_ref": ref, "points": 100, "cart": cart, "location": "Centro"})
	}
	if n, shares := visits(); n != 2 || shares != 2 {
		t.Fatalf("after two redemptions: %d visits, %d in the shares", n, shares)
	}
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/redemptions/T-1/cancel", e.key, nil)
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/redemptions/T-1/cancel", e.key, nil)
	if n, shares := visits(); n != 1 || shares != 1 {
		t.Fatalf("after cancelling one: %d visits, %d in the shares", n, shares)
	}
	if sum, _ := e.ledgerSum(t, c.ID); sum != 200 {
		t.Fatalf("ledger sum %d", sum)
	}
}
