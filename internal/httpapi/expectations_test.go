package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestNewRewardIsActive: a reward written without `active` is offered at
// once, on creation and on replacement; `"active": false` keeps it unseen.
func TestNewRewardIsActive(t *testing.T) {
	e := newEnv(t)
	var rw struct {
		ID     string `json:"id"`
		Active bool   `json:"active"`
	}
	e.must(http.StatusCreated, "POST", "/v1/rewards", e.key, map[string]any{"name": "Café gratis", "cost": 50}).decode(t, &rw)
	if !rw.Active {
		t.Errorf("a new reward without active is inactive")
	}
	e.must(http.StatusOK, "PUT", "/v1/rewards/"+rw.ID, e.key, map[string]any{"name": "Café gratis", "cost": 60, "active": false}).decode(t, &rw)
	if rw.Active {
		t.Errorf("active: false was not kept")
	}
	e.must(http.StatusOK, "PUT", "/v1/rewards/"+rw.ID, e.key, map[string]any{"name": "Café gratis", "cost": 60}).decode(t, &rw)
	if !rw.Active {
		t.Errorf("a replaced reward without active is inactive")
	}
}

// TestKindFilters: the ledger and the timeline filtered by kind, as a comma
// list or a repeated parameter, paged with the same filter; an unknown kind
// is a 400.
func TestKindFilters(t *testing.T) {
	e := newEnv(t)
	e.seedProgram(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	pts := "/v1/customers/" + c.ID + "/points"
	for _, p := range []int{10, 20, -5, 30} {
		e.must(http.StatusCreated, "POST", pts+"/entries", e.key, map[string]any{"points": p})
	}
	e.must(http.StatusCreated, "POST", pts+"/balance", e.key, map[string]any{"balance": 100})
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/events", e.key, map[string]any{"type": "email.open"})
	type page struct {
		Data []struct {
			Kind string `json:"kind"`
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	kinds := func(path string) []string {
		t.Helper()
		var out []string
		for {
			var p page
			e.must(http.StatusOK, "GET", path, e.key, nil).decode(t, &p)
			for _, d := range p.Data {
				out = append(out, d.Kind)
			}
			if p.NextCursor == nil {
				return out
			}
			path = strings.Split(path, "&cursor=")[0] + "&cursor=" + *p.NextCursor
		}
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{pts + "/entries?limit=1&kind=earn", []string{"earn", "earn", "earn"}},
		{pts + "/entries?limit=1&kind=spend,adjust", []string{"adjust", "spend"}},
		{pts + "/entries?limit=2&kind=spend&kind=adjust", []string{"adjust", "spend"}},
		{pts + "/entries?limit=50&kind=gift", nil},
		{"/v1/customers/" + c.ID + "/timeline?limit=2&kind=event", []string{"event"}},
		{"/v1/customers/" + c.ID + "/timeline?limit=2&kind=ledger", []string{"ledger", "ledger", "ledger", "ledger", "ledger"}},
		{"/v1/customers/" + c.ID + "/timeline?limit=50&kind=visit,purchase", nil},
	} {
		if got := kinds(tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("%s: kinds %v, want %v", tc.path, got, tc.want)
		}
	}
	for _, path := range []string{pts + "/entries?kind=bonus", pts + "/entries?kind=", pts + "/entries?kind=earn,,spend", "/v1/customers/" + c.ID + "/timeline?kind=entry"} {
		r := e.must(http.StatusBadRequest, "GET", path, e.key, nil)
		if !r.names("?kind", false) {
			t.Errorf("%s: %s, want ?kind", path, r.body)
		}
	}
}

// TestAddOneAddress: one address is added or removed without re-sending the
// others; adding it twice changes nothing, and removing it twice is a 404.
func TestAddOneAddress(t *testing.T) {
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana", "addresses": []map[string]any{{"label": "Casa", "line1": "Gran Vía 1", "country": "ES"}}})
	type withAddresses struct {
		Addresses []struct {
			ID      string `json:"id"`
			Label   string `json:"label"`
			Primary bool   `json:"primary"`
		} `json:"addresses"`
	}
	path := "/v1/customers/" + c.ID + "/addresses"
	work := map[string]any{"label": "Trabajo", "line1": " Serrano 5 ", "country": "es"}
	var got withAddresses
	e.must(http.StatusCreated, "POST", path, e.key, work, header("Idempotency-Key", "add-work")).decode(t, &got)
	if len(got.Addresses) != 2 || got.Addresses[1].Label != "Trabajo" || !got.Addresses[0].Primary || got.Addresses[1].Primary {
		t.Fatalf("added: %+v", got)
	}
	if r := e.must(http.StatusCreated, "POST", path, e.key, work, header("Idempotency-Key", "add-work")); r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the repeat was not replayed")
	}
	work["primary"] = true
	e.must(http.StatusOK, "POST", path, e.key, work).decode(t, &got) // the same address: not added again
	if len(got.Addresses) != 2 || got.Addresses[0].Primary || !got.Addresses[1].Primary {
		t.Fatalf("again as primary: %+v", got)
	}
	e.must(http.StatusNoContent, "DELETE", path+"/"+got.Addresses[1].ID, e.key, nil)
	e.must(http.StatusNotFound, "DELETE", path+"/"+got.Addresses[1].ID, e.key, nil)
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID, e.key, nil).decode(t, &got)
	if len(got.Addresses) != 1 || got.Addresses[0].Label != "Casa" || !got.Addresses[0].Primary {
		t.Fatalf("after the removal: %+v", got)
	}
	// An address read is sent back as it is: its id is ignored.
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+c.ID, e.key, map[string]any{"addresses": []any{map[string]any{"id": got.Addresses[0].ID, "label": "Casa", "line1": "Gran Vía 1", "country": "ES", "primary": true}}})
	r := e.must(http.StatusBadRequest, "POST", path, e.key, map[string]any{"line1": "x", "country": "Spain"})
	if !r.names("/country", false) {
		t.Errorf("bad country: %s", r.body)
	}
}
