package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

type jobReply struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	State    string `json:"state"`
	Progress struct {
		Written int64 `json:"written"`
	} `json:"progress"`
	Download *struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"download"`
}

// A merchant exports the customers of a tag through the API: the job is
// queued, the jobs worker (fed from the queue, as in Lambda) writes the file,
// and the job then links to a download that works.
func TestExportThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 3 {
		e.create(map[string]any{"given_name": fmt.Sprintf("=Ana %d", i), "email": fmt.Sprintf("ana%d@example.com", i), "tags": []string{"vip"},
			"newsletter_consent": true})
	}
	e.create(map[string]any{"given_name": "Otro", "email": "otro@example.com"})
	e.create(map[string]any{"given_name": "Sin consentimiento", "email": "sin@example.com", "tags": []string{"vip"}}) // not on an e-mail list
	var j jobReply
	r := e.must(http.StatusAccepted, "POST", "/v1/exports", e.key, map[string]any{"type": "customers", "columns": "emails",
		"filters": map[string]string{"tag": "VIP"}, "bom": true})
	r.decode(t, &j)
	if j.State != "queued" || j.Kind != "customer_export" || r.header.Get("Location") != "/v1/jobs/"+j.ID {
		t.Fatalf("queued job: %s", r.body)
	}
	e.must(http.StatusBadRequest, "POST", "/v1/exports", e.key, map[string]any{"type": "customers", "filters": map[string]string{"tag": ""}})
	e.drainFunction(t, "JobsFunction")
	e.must(http.StatusOK, "GET", "/v1/jobs/"+j.ID, e.key, nil).decode(t, &j)
	if j.State != "succeeded" || j.Progress.Written != 3 || j.Download == nil || time.Until(j.Download.ExpiresAt) < 10*time.Minute {
		t.Fatalf("finished job: %+v", j)
	}
	resp, err := http.Get(j.Download.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "\xEF\xBB\xBFemail,given_name,family_name,newsletter_consent\r\n") ||
		strings.Count(string(body), "\r\n") != 4 || !strings.Contains(string(body), ",'=Ana 0,") {
		t.Fatalf("download: %d %q", resp.StatusCode, body)
	}
	// Another merchant cannot read the job.
	_, other := e.newMerchant("Otra")
	e.must(http.StatusNotFound, "GET", "/v1/jobs/"+j.ID, other, nil)
}

// Deleting a customer with a long history answers 202 with an erasure job;
// the customer is gone at once, and once the job ran no item of the table
// names them, idempotency records of requests about them included; the
// same email then enrols a new customer from zero.
func TestErasureOfALongHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t)
	c := e.create(map[string]any{"given_name": "Larga", "family_name": "Historia", "email": "larga@example.com"})
	for i := range 600 { // entries and idempotency references: more items than the request erases itself
		e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/points/entries", e.key, map[string]any{"points": 1, "note": "visita"},
			header("Idempotency-Key", fmt.Sprintf("k-%d", i)))
	}
	var j jobReply
	e.must(http.StatusAccepted, "DELETE", "/v1/customers/"+c.ID, e.key, nil).decode(t, &j)
	if j.Kind != "erasure" {
		t.Fatalf("job %+v", j)
	}
	e.must(http.StatusNotFound, "GET", "/v1/customers/"+c.ID, e.key, nil)
	e.drainFunction(t, "JobsFunction")
	e.must(http.StatusOK, "GET", "/v1/jobs/"+j.ID, e.key, nil).decode(t, &j)
	if j.State != "succeeded" {
		t.Fatalf("erasure job: %+v", j)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &e.table})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if s := fmt.Sprint(it); strings.Contains(s, c.ID) || strings.Contains(s, "larga@example.com") || strings.Contains(s, "Larga") {
				t.Fatalf("left behind: %.300s", s)
			}
		}
	}
	again := e.create(map[string]any{"email": "larga@example.com"})
	var pts struct {
		Balance int64 `json:"balance"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+again.ID+"/points", e.key, nil).decode(t, &pts)
	if again.ID == c.ID || pts.Balance != 0 {
		t.Fatalf("re-enrolment: %s, balance %d", again.ID, pts.Balance)
	}
}

// Newsletter consent: a list filter, the default of the e-mail export, and
// each change on the timeline with what made it.
func TestNewsletterConsent(t *testing.T) {
	e := newEnv(t)
	yes := e.create(map[string]any{"given_name": "Sí", "email": "si@example.com", "newsletter_consent": true})
	no := e.create(map[string]any{"given_name": "No", "email": "no@example.com"})
	list := func(query string) []string {
		var page struct {
			Data []customer `json:"data"`
		}
		e.must(http.StatusOK, "GET", "/v1/customers?order=name"+query, e.key, nil).decode(t, &page)
		var out []string
		for _, c := range page.Data {
			out = append(out, c.GivenName)
		}
		return out
	}
	for query, want := range map[string]string{"&newsletter_consent=true": "Sí", "&newsletter_consent=false": "No", "&newsletter_consent=any": "No,Sí", "": "No,Sí"} {
		if got := strings.Join(list(query), ","); got != want {
			t.Errorf("list%s: %s, want %s", query, got, want)
		}
	}
	if got := e.must(http.StatusBadRequest, "GET", "/v1/customers?newsletter_consent=yes", e.key, nil).paths(); len(got) != 1 || got[0] != "?newsletter_consent" {
		t.Fatalf("bad filter: %v", got)
	}

	export := func(filters map[string]string) string {
		var j jobReply
		req := map[string]any{"type": "customers", "columns": "emails"}
		if filters != nil {
			req["filters"] = filters
		}
		e.must(http.StatusAccepted, "POST", "/v1/exports", e.key, req).decode(t, &j)
		e.drainFunction(t, "JobsFunction")
		e.must(http.StatusOK, "GET", "/v1/jobs/"+j.ID, e.key, nil).decode(t, &j)
		if j.Download == nil {
			t.Fatalf("export: %+v", j)
		}
		resp, err := http.Get(j.Download.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if got := export(nil); strings.Contains(got, "no@example.com") || !strings.Contains(got, "si@example.com") {
		t.Fatalf("the default e-mail export lists customers without consent:\n%s", got)
	}
	if got := export(map[string]string{"newsletter_consent": "any"}); !strings.Contains(got, "no@example.com") || !strings.Contains(got, "si@example.com") {
		t.Fatalf("newsletter_consent any:\n%s", got)
	}

	e.must(http.StatusOK, "PATCH", "/v1/customers/"+yes.ID, e.key, map[string]any{"newsletter_consent": false})
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+no.ID, e.key, map[string]any{"given_name": "Nuevo nombre"})
	consents := func(cid string) []string {
		var tl struct {
			Data []struct {
				Event *struct {
					Type string            `json:"type"`
					Data map[string]string `json:"data"`
				} `json:"event"`
			} `json:"data"`
		}
		e.must(http.StatusOK, "GET", "/v1/customers/"+cid+"/timeline?limit=100", e.key, nil).decode(t, &tl)
		var out []string
		for _, it := range tl.Data {
			if it.Event != nil && strings.HasPrefix(it.Event.Type, "consent_") {
				out = append(out, it.Event.Type+":"+it.Event.Data["channel"]+":"+it.Event.Data["source"])
			}
		}
		return out
	}
	if got := strings.Join(consents(yes.ID), " "); got != "consent_withdrawn:newsletter:api consent_given:newsletter:api" {
		t.Fatalf("timeline of a consent given and withdrawn: %s", got)
	}
	if got := consents(no.ID); len(got) != 0 {
		t.Fatalf("timeline without consent: %v", got)
	}
	e.must(http.StatusBadRequest, "POST", "/v1/customers/"+no.ID+"/events", e.key, map[string]any{"type": "consent_given"})
}
