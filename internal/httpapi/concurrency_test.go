package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentSpendsAndRedemptions: 100 spends and redemptions race on one
// customer and every request is delivered twice (same Idempotency-Key). The
// balance must equal the sum of the entries, never go below zero, and no
// request may be applied twice. A request that cannot get its turn within
// the function's timeout answers 503 (its write, in flight at the deadline,
// may have landed: at most one entry more per such request).
func TestConcurrentSpendsAndRedemptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t)
	c := e.create(map[string]any{"given_name": "Concurrida"})
	pts := "/v1/customers/" + c.ID + "/points"
	e.must(http.StatusCreated, "POST", pts+"/entries", e.key, map[string]any{"points": 1000, "note": "saldo inicial"})
	cart := []map[string]any{{"sku": "MENU", "quantity": 1, "unit_price": 10000}}

	type call struct {
		path string
		body map[string]any
		key  string
	}
	var calls []call
	for i := range 100 {
		if i%2 == 0 {
			calls = append(calls, call{pts + "/entries", map[string]any{"points": -15, "note": fmt.Sprint("gasto ", i)}, fmt.Sprint("spend-", i)})
		} else {
			calls = append(calls, call{"/v1/customers/" + c.ID + "/redemptions", map[string]any{"order_ref": fmt.Sprint("O-", i), "points": 12, "cart": cart}, fmt.Sprint("redeem-", i)})
		}
	}
	type outcome struct {
		status int
		body   string
	}
	results := make([][2]outcome, len(calls))
	var wg sync.WaitGroup
	for i, cl := range calls {
		for d := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.call("POST", cl.path, e.key, cl.body, header("Idempotency-Key", cl.key))
				results[i][d] = outcome{r.status, string(r.body)}
			}()
		}
	}
	wg.Wait()

	applied, unsure := 0, 0
	for i, pair := range results {
		a, b := pair[0], pair[1]
		ok := func(o outcome) bool { return o.status == http.StatusCreated }
		switch {
		case ok(a) && ok(b):
			if a.body != b.body {
				t.Errorf("request %d applied twice:\n%s\n%s", i, a.body, b.body)
			}
			applied++
		case ok(a) || ok(b):
			other := b
			if ok(b) {
				other = a
			}
			if other.status != http.StatusConflict && other.status != http.StatusServiceUnavailable { // the duplicate arrived while the first ran, or ran out of time
				t.Errorf("request %d: duplicate answered %d: %s", i, other.status, other.body)
			}
			applied++
		default:
			for _, o := range pair {
				if o.status != http.StatusUnprocessableEntity && o.status != http.StatusConflict && o.status != http.StatusServiceUnavailable {
					t.Errorf("request %d: %d %s", i, o.status, o.body)
				}
			}
			if pair[0].status == http.StatusServiceUnavailable || pair[1].status == http.StatusServiceUnavailable {
				unsure++
			}
		}
	}
	var entries struct {
		Data []struct {
			Kind         string `json:"kind"`
			Points       int64  `json:"points"`
			BalanceAfter int64  `json:"balance_after"`
		} `json:"data"`
	}
	e.must(http.StatusOK, "GET", pts+"/entries?limit=100", e.key, nil).decode(t, &entries)
	sum, n := e.ledgerSum(t, c.ID)
	var summary struct {
		Balance int64 `json:"balance"`
	}
	e.must(http.StatusOK, "GET", pts, e.key, nil).decode(t, &summary)
	if summary.Balance != sum || summary.Balance < 0 {
		t.Fatalf("balance %d, sum of entries %d", summary.Balance, sum)
	}
	if n < applied+1 || n > applied+1+unsure {
		t.Fatalf("%d entries for %d applied requests (+1 opening) and %d out of time", n, applied, unsure)
	}
	for _, x := range entries.Data {
		if x.BalanceAfter < 0 {
			t.Fatalf("balance went below zero: %+v", x)
		}
	}
	if applied+unsure < 60 {
		t.Fatalf("only %d of 100 requests applied and %d out of time: the retries are not working", applied, unsure)
	}
	t.Logf("%d of 100 requests applied, %d out of time, final balance %d", applied, unsure, summary.Balance)
}
