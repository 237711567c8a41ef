package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestMergeCustomers merges a duplicate through the API: points (a transfer
// pair, the merchant's outstanding points unchanged, balance = Σ entries on
// both), profile (survivor wins conflicts), identifiers (search resolves the
// duplicate's email to the survivor), the tombstone (GET shows it merged, no
// list shows it, changes are refused), both timelines, and the idempotent
// repeat.
func TestMergeCustomers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t)
	s := e.create(map[string]any{"given_name": "Lucía", "email": "lucia@example.com", "tags": []string{"vip"},
		"attributes": map[string]string{"leche": "avena"}})
	d := e.create(map[string]any{"given_name": "Lucia", "family_name": "Gil", "email": "lucia.gil@example.com",
		"phone": "+34611223344", "tags": []string{"desayunos", "VIP"}, "favorite": true,
		"attributes": map[string]string{"leche": "entera", "tienda": "Sol"}})
	for cid, pts := range map[string]int{s.ID: 120, d.ID: 300} {
		e.must(http.StatusCreated, "POST", "/v1/customers/"+cid+"/points/entries", e.key, map[string]any{"points": pts})
	}
	e.must(http.StatusCreated, "POST", "/v1/customers/"+d.ID+"/points/entries", e.key, map[string]any{"points": -50})
	var report struct {
		Totals struct {
			OutstandingBalance int64 `json:"outstanding_balance"`
		} `json:"totals"`
	}
	e.must(http.StatusOK, "GET", "/v1/reports/points", e.key, nil).decode(t, &report)
	outstanding := report.Totals.OutstandingBalance
	_, dEntries := e.ledgerSum(t, d.ID)

	type result struct {
		Survivor struct {
			customer
			Aliases []struct {
				Kind  string `json:"kind"`
				Value string `json:"value"`
			} `json:"aliases"`
		} `json:"survivor"`
		Merge struct {
			Step              string `json:"step"`
			PointsTransferred int64  `json:"points_transferred"`
		} `json:"merge"`
	}
	var res result
	e.must(http.StatusOK, "POST", "/v1/customers/"+s.ID+"/merge", e.key, map[string]any{"duplicate_id": d.ID},
		header("Idempotency-Key", "merge-1")).decode(t, &res)
	got := res.Survivor
	if res.Merge.Step != "done" || res.Merge.PointsTransferred != 250 || *got.PointsBalance != 370 {
		t.Fatalf("merge answer %+v, balance %d", res.Merge, *got.PointsBalance)
	}
	if got.Email != "lucia@example.com" || got.Phone != "+34611223344" || got.FamilyName != "Gil" || !got.Favorite ||
		!slices.Equal(got.Tags, []string{"vip", "desayunos"}) || got.Attributes["leche"] != "avena" || got.Attributes["tienda"] != "Sol" ||
		len(got.Aliases) != 1 || got.Aliases[0].Value != "lucia.gil@example.com" {
		t.Fatalf("survivor %+v", got)
	}
	for cid, want := range map[string]int64{s.ID: 370, d.ID: 0} {
		var c customer
		e.must(http.StatusOK, "GET", "/v1/customers/"+cid, e.key, nil).decode(t, &c)
		if sum, _ := e.ledgerSum(t, cid); *c.PointsBalance != want || sum != want {
			t.Fatalf("customer %s: balance %d, entries %d, want %d", cid, *c.PointsBalance, sum, want)
		}
	}
	e.must(http.StatusOK, "GET", "/v1/reports/points", e.key, nil).decode(t, &report)
	if report.Totals.OutstandingBalance != outstanding {
		t.Fatalf("outstanding points %d, were %d", report.Totals.OutstandingBalance, outstanding)
	}
	// The tombstone: shown as merged, in no list or search (by name, email); its
	// email finds the survivor (e.list answers given names).
	var tomb struct {
		customer
		MergedInto string `json:"merged_into"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers/"+d.ID, e.key, nil).decode(t, &tomb)
	if tomb.State != "merged" || tomb.MergedInto != s.ID || tomb.Email != "" {
		t.Fatalf("duplicate after the merge %+v", tomb)
	}
	if ids := e.list(""); !slices.Equal(ids, []string{"Lucía"}) {
		t.Fatalf("customer list %v", ids)
	}
	if ids := e.list("?q=lucia.gil%40example.com"); !slices.Equal(ids, []string{"Lucía"}) {
		t.Fatalf("search by the duplicate's email %v", ids)
	}
	if ids := e.list("?q=gil"); !slices.Equal(ids, []string{"Lucía"}) {
		t.Fatalf("search by name %v", ids)
	}
	e.must(http.StatusConflict, "PATCH", "/v1/customers/"+d.ID, e.key, map[string]any{"favorite": false})
	e.must(http.StatusConflict, "POST", "/v1/customers/"+d.ID+"/points/entries", e.key, map[string]any{"points": 1})
	// Both timelines record the merge; the duplicate's ledger ends with the transfer.
	for _, cid := range []string{s.ID, d.ID} {
		var tl struct {
			Data []struct {
				Kind  string `json:"kind"`
				Event *struct {
					Type string            `json:"type"`
					Data map[string]string `json:"data"`
				} `json:"event"`
				Entry *struct {
					Kind   string `json:"kind"`
					Points int64  `json:"points"`
				} `json:"entry"`
			} `json:"data"`
		}
		e.must(http.StatusOK, "GET", "/v1/customers/"+cid+"/timeline?limit=100", e.key, nil).decode(t, &tl)
		merged, transfer := false, false
		for _, it := range tl.Data {
			merged = merged || it.Event != nil && it.Event.Type == "customer_merged" && it.Event.Data["duplicate_id"] == d.ID
			transfer = transfer || it.Entry != nil && it.Entry.Kind == "transfer" && (it.Entry.Points == 250) == (cid == s.ID)
		}
		if !merged || !transfer {
			t.Fatalf("timeline of %s: merged event %v, transfer entry %v", cid, merged, transfer)
		}
	}
	// Merging again changes nothing: with the same key it replays, without one
	// it answers the finished merge.
	r := e.must(http.StatusOK, "POST", "/v1/customers/"+s.ID+"/merge", e.key, map[string]any{"duplicate_id": d.ID}, header("Idempotency-Key", "merge-1"))
	if r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("the repeated key was not replayed")
	}
	e.must(http.StatusOK, "POST", "/v1/customers/"+s.ID+"/merge", e.key, map[string]any{"duplicate_id": d.ID}).decode(t, &res)
	if *res.Survivor.PointsBalance != 370 {
		t.Fatalf("balance after merging again %d", *res.Survivor.PointsBalance)
	}
	if _, n := e.ledgerSum(t, d.ID); n != dEntries+1 {
		t.Fatalf("duplicate entries %d, want %d and the transfer", n, dEntries)
	}
	// Refusals: a tombstone is merged nowhere else, nothing is merged into it,
	// and another merchant's customers are not found.
	o := e.create(map[string]any{"given_name": "Otro"})
	e.must(http.StatusConflict, "POST", "/v1/customers/"+o.ID+"/merge", e.key, map[string]any{"duplicate_id": d.ID})
	e.must(http.StatusConflict, "POST", "/v1/customers/"+d.ID+"/merge", e.key, map[string]any{"duplicate_id": o.ID})
	_, bKey := e.newMerchant("Otra tienda")
	e.must(http.StatusNotFound, "POST", "/v1/customers/"+s.ID+"/merge", bKey, map[string]any{"duplicate_id": o.ID})
	e.must(http.StatusNotFound, "POST", "/v1/customers/"+o.ID+"/merge", e.key, map[string]any{"duplicate_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"})
}
