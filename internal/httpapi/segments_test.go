package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestDynamicSegments: a merchant-defined segment is recomputed at every
// run; members can be listed, counted and used to filter the customer list;
// entering and leaving show on the timeline.
func TestDynamicSegments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var seg struct {
		ID   string `json:"id"`
		Rule struct {
			Any []map[string]any `json:"any"`
		} `json:"rule"`
	}
	e.must(http.StatusCreated, "POST", "/v1/segments", e.key, map[string]any{"name": "VIP o favoritos",
		"rule": map[string]any{"any": []any{
			map[string]any{"field": "tag", "op": "contains", "value": "VÍP"}, // compared folded, like customers' tags
			map[string]any{"all": []any{map[string]any{"field": "state", "op": "eq", "value": "suspended"}, map[string]any{"field": "points_balance", "op": "gte", "value": 0}}},
		}}}).decode(t, &seg)
	if len(seg.Rule.Any) != 2 {
		t.Fatalf("rule round trip: %+v", seg)
	}
	vip := e.create(map[string]any{"given_name": "Vera", "tags": []string{"VIP"}})
	e.create(map[string]any{"given_name": "Otro"})
	e.must(http.StatusAccepted, "POST", "/v1/analytics/runs", e.key, map[string]any{"as_of": "2026-11-01"})
	e.drainFunction(t, "NightlyFunction")

	var list struct {
		Data []struct {
			ID        string `json:"id"`
			Customers int64  `json:"customers"`
		} `json:"data"`
	}
	e.must(http.StatusOK, "GET", "/v1/segments", e.key, nil).decode(t, &list)
	if len(list.Data) != 1 || list.Data[0].Customers != 1 {
		t.Fatalf("segments: %+v", list)
	}
	var members page
	e.must(http.StatusOK, "GET", "/v1/segments/"+seg.ID+"/customers", e.key, nil).decode(t, &members)
	if len(members.Data) != 1 || members.Data[0].ID != vip.ID {
		t.Fatalf("members: %+v", members.Data)
	}
	if got := e.list("?segment=" + seg.ID); len(got) != 1 || got[0] != "Vera" {
		t.Fatalf("customer list by segment: %v", got)
	}
	// Vera leaves the segment at the next run.
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+vip.ID, e.key, map[string]any{"tags": []string{}})
	e.must(http.StatusAccepted, "POST", "/v1/analytics/runs", e.key, map[string]any{"as_of": "2026-11-02"})
	e.drainFunction(t, "NightlyFunction")
	if got := e.list("?segment=" + seg.ID); len(got) != 0 {
		t.Fatalf("after leaving: %v", got)
	}
	var tl struct {
		Data []struct {
			Event *struct {
				Type string `json:"type"`
			} `json:"event"`
		} `json:"data"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+vip.ID+"/timeline?limit=100", e.key, nil).decode(t, &tl)
	var types []string
	for _, x := range tl.Data {
		if x.Event != nil {
			types = append(types, x.Event.Type)
		}
	}
	if !slices.Contains(types, "segment_entered") || !slices.Contains(types, "segment_left") {
		t.Fatalf("timeline events: %v", types)
	}
	for _, bad := range []struct {
		body any
		path string
	}{
		{map[string]any{"name": "x", "rule": map[string]any{"field": "shoe_size", "op": "eq", "value": 42}}, "/rule/field"},
		{map[string]any{"name": "x", "rule": map[string]any{"field": "tag", "op": "gt", "value": "a"}}, "/rule/op"},
		{map[string]any{"name": "x", "rule": map[string]any{"field": "tag", "op": "gt", "value": 5}}, "/rule/op"},
		{map[string]any{"name": "x", "rule": map[string]any{"all": []any{map[string]any{"field": "ltv", "op": "contains", "value": "a"}}}}, "/rule/all/0/op"},
		{map[string]any{"name": "x", "rule": map[string]any{"field": "ltv", "op": "gte", "value": map[string]any{}}}, "/rule/value"},
		{map[string]any{"name": "", "rule": map[string]any{"field": "active", "op": "eq", "value": true}}, "/name"},
		{map[string]any{"name": "x", "rule": map[string]any{}}, "/rule"},
		{map[string]any{"name": "x", "rule": map[string]any{"field": "points_balance", "op": "gt", "value": "100"}}, "/rule/value"},
		{map[string]any{"name": "x", "rule": map[string]any{"field": "affinity", "op": "in", "value": "café"}}, "/rule/value"},
		{map[string]any{"name": "x", "rule": map[string]any{"field": "ltv", "op": "between", "value": []int{9, 1}}}, "/rule/value"},
	} {
		r := e.must(http.StatusBadRequest, "POST", "/v1/segments", e.key, bad.body)
		if !slices.Contains(r.paths(), bad.path) {
			t.Errorf("%v: paths %v, want %s", bad.body, r.paths(), bad.path)
		}
	}
	e.must(http.StatusBadRequest, "GET", "/v1/customers?segment=nope", e.key, nil)
	e.must(http.StatusBadRequest, "GET", "/v1/customers?segment="+seg.ID+"&q=vera", e.key, nil)
	// An id that names no segment of the merchant lists nobody, as the spec says; an export refuses it.
	if got := e.list("?segment=01ARZ3NDEKTSV4RRFFQ69G5FAV"); len(got) != 0 {
		t.Errorf("unknown segment lists %v", got)
	}
	e.must(http.StatusBadRequest, "POST", "/v1/exports", e.key, `{"type":"customers","filters":{"segment":"01ARZ3NDEKTSV4RRFFQ69G5FAV"}}`)
	e.must(http.StatusNotFound, "GET", "/v1/segments/01ARZ3NDEKTSV4RRFFQ69G5FAV/customers", e.key, nil)
	e.must(http.StatusNoContent, "DELETE", "/v1/segments/"+seg.ID, e.key, nil)
}
