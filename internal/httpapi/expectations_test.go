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
