package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/regulars/regulars/infra/devserver"
	"github.com/regulars/regulars/internal/webhook"
)

// TestPurchasesOnTheProfile: purchases delivered by signed webhook show on the
// profile (metrics), in the visit history with location shares, and on the
// timeline with the ledger, profile changes and external interactions.
func TestPurchasesOnTheProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t)
	// Rotation keeps two secrets: the previous one still verifies.
	var first, second struct {
		Data []struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		} `json:"data"`
	}
	e.must(http.StatusCreated, "POST", "/v1/webhook-secrets", e.key, nil).decode(t, &first)
	e.must(http.StatusCreated, "POST", "/v1/webhook-secrets", e.key, nil).decode(t, &second)
	if len(second.Data) != 2 || second.Data[1].ID != first.Data[0].ID || second.Data[1].Secret != "" {
		t.Fatalf("rotation: %+v", second)
	}
	c := e.create(map[string]any{"given_name": "Marta", "email": "marta@example.com"})
	at := time.Date(2025, 6, 10, 10, 0, 0, 0, time.UTC) // two purchases on two local days, whatever the time the test runs
	ev := func(id, order, loc string, at time.Time, amount int64) map[string]any {
		return map[string]any{"event_id": id, "order_id": order, "status": "paid", "occurred_at": at.Format(time.RFC3339),
			"location": map[string]any{"id": loc, "name": loc}, "customer": map[string]any{"email": "marta@example.com"}, "currency": "EUR",
			"lines": []map[string]any{{"sku": "MENU", "name": "Menú del día", "quantity": 1, "unit_price": amount, "tax": amount / 11}}}
	}
	body, _ := json.Marshal(map[string]any{"events": []any{ev("a", "O-1", "Centro", at, 1100), ev("b", "O-2", "Norte", at.Add(24*time.Hour), 2200)}})
	for i, secret := range []string{first.Data[0].Secret, second.Data[0].Secret} {
		sig, _ := webhook.Sign(secret, "msg_"+strconv.Itoa(i), time.Now(), body)
		e.must(http.StatusAccepted, "POST", "/v1/webhooks/"+e.merchant.ID+"/purchases", "", body,
			header("webhook-id", "msg_"+strconv.Itoa(i)), header("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10)), header("webhook-signature", sig))
	}
	e.drain(t)

	var got struct {
		customer
		Metrics struct {
			Tickets          int64    `json:"tickets"`
			Revenue          int64    `json:"revenue"`
			AOV              int64    `json:"aov"`
			FavoriteLocation string   `json:"favorite_location"`
			LastProducts     []string `json:"last_products"`
			FirstStore       string   `json:"first_store"`
		} `json:"metrics"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID, e.key, nil).decode(t, &got)
	// Net of tax: 10.00 + 20.00 on two days → 2 tickets, AOV 15.00; 10 points per 5.00 → 20 + 40.
	m := got.Metrics
	if m.Tickets != 2 || m.Revenue != 3000 || m.AOV != 1500 || m.FirstStore != "Centro" || len(m.LastProducts) != 1 || *got.PointsBalance != 60 {
		t.Fatalf("profile: %+v balance %d", m, *got.PointsBalance)
	}
	var visits struct {
		Data      []struct{ Type, Location string } `json:"data"`
		Locations []struct {
			Location string `json:"location"`
			ShareBP  int64  `json:"share_bp"`
		} `json:"locations"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/visits", e.key, nil).decode(t, &visits)
	if len(visits.Data) != 2 || visits.Data[0].Location != "Norte" || visits.Data[0].Type != "accrual" || len(visits.Locations) != 2 || visits.Locations[0].ShareBP != 5000 {
		t.Fatalf("visits: %+v", visits)
	}
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+c.ID, e.key, map[string]any{"favorite": true})
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/events", e.key, map[string]any{"type": "campaign_email_opened", "data": map[string]string{"campaign": "otoño"}})
	var tl struct {
		Data []struct {
			Kind  string `json:"kind"`
			Event *struct {
				Type string `json:"type"`
			} `json:"event"`
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/timeline?limit=100", e.key, nil).decode(t, &tl)
	kinds := map[string]int{}
	events := map[string]bool{}
	for _, x := range tl.Data {
		kinds[x.Kind]++
		if x.Event != nil {
			events[x.Event.Type] = true
		}
	}
	if kinds["purchase"] != 2 || kinds["ledger"] != 2 || kinds["visit"] != 2 || !events["profile_updated"] || !events["campaign_email_opened"] {
		t.Fatalf("timeline kinds %v events %v", kinds, events)
	}
	// Paging the timeline covers the same items.
	var n int
	cursor := ""
	for range 20 {
		e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/timeline?limit=3"+cursor, e.key, nil).decode(t, &tl)
		n += len(tl.Data)
		if tl.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *tl.NextCursor
	}
	if n != kinds["purchase"]+kinds["ledger"]+kinds["visit"]+kinds["event"] {
		t.Fatalf("paged %d items", n)
	}
	e.must(http.StatusBadRequest, "POST", "/v1/customers/"+c.ID+"/events", e.key, map[string]any{"type": "Badge Gained!"})
}

// drain feeds the ingest consumer until the queue is empty.
func (e *env) drain(t *testing.T) { e.drainFunction(t, "IngestFunction") }

// drainFunction feeds one queue consumer of template.yaml until its queue is empty.
func (e *env) drainFunction(t *testing.T, function string) {
	t.Helper()
	consumers, err := devserver.Consumers(t.Context(), e.tmpl, e.res, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("consumers: %v", err)
	}
	api := sqs.NewFromConfig(awsCfg)
	for _, c := range consumers {
		if c.Function != function {
			continue
		}
		if err := c.Drain(t.Context(), api, 1, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no consumer %s", function)
}

// TestAnalyticsOnDemand: a merchant starts a run for a date; the worker runs
// it; the run and each customer's analysis can be read.
func TestAnalyticsOnDemand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Analítica"})
	e.must(http.StatusNotFound, "GET", "/v1/customers/"+c.ID+"/analytics", e.key, nil)
	e.must(http.StatusNotFound, "GET", "/v1/analytics/runs/2026-11-01", e.key, nil)
	e.must(http.StatusAccepted, "POST", "/v1/analytics/runs", e.key, map[string]any{"as_of": "2026-11-01"})
	e.must(http.StatusBadRequest, "POST", "/v1/analytics/runs", e.key, map[string]any{"as_of": "2999-01-01"})
	e.must(http.StatusBadRequest, "POST", "/v1/analytics/runs", e.key, map[string]any{"as_of": "ayer"})
	e.drainFunction(t, "NightlyFunction")
	var run struct {
		Phase     string `json:"phase"`
		Customers int    `json:"customers"`
		Scored    int    `json:"scored"`
		NoFit     string `json:"no_fit"`
	}
	e.must(http.StatusOK, "GET", "/v1/analytics/runs/2026-11-01", e.key, nil).decode(t, &run)
	if run.Phase != "done" || run.Customers != 1 || run.Scored != 1 || run.NoFit == "" {
		t.Fatalf("run: %+v", run)
	}
	var a struct {
		RFM struct {
			Segment string `json:"segment"`
		} `json:"rfm"`
		NoPrediction string `json:"no_prediction"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/analytics", e.key, nil).decode(t, &a)
	if a.RFM.Segment != "hibernating" || a.NoPrediction == "" {
		t.Fatalf("analytics: %+v", a)
	}
}
