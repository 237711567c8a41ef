package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
)

type posting struct {
	Entries []struct {
		ID           string `json:"id"`
		Kind         string `json:"kind"`
		Points       int64  `json:"points"`
		BalanceAfter int64  `json:"balance_after"`
		Voids        string `json:"voids"`
	} `json:"entries"`
	Balance int64 `json:"balance"`
	Change  struct {
		RewardsGained []named `json:"rewards_gained"`
		RewardsLost   []named `json:"rewards_lost"`
		BadgesGained  []named `json:"badges_gained"`
		BadgesLost    []named `json:"badges_lost"`
	} `json:"change"`
	Replayed bool `json:"replayed"`
}

// named is a reward or a badge in a change: its id and name.
type named struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// seedProgram switches on a program with the default rates (10 points per
// 5.00, 100 points = 1.00), action points and redemption limits.
func (e *env) seedProgram(t *testing.T) {
	e.must(http.StatusOK, "PUT", "/v1/program", e.key, map[string]any{
		"version": 0, "enabled": true,
		"earning":       map[string]any{"points_per_step": 10, "step_amount": 500, "trigger": "paid", "overrides": []any{}, "excluded_products": []string{}},
		"actions":       map[string]any{"signup": 50, "newsletter": 20, "review": 5, "review_once_per_customer": false, "signup_on": "card"},
		"redemption":    map[string]any{"points": 100, "amount": 100, "min_balance": 50, "min_cart": 1000, "max_discount": map[string]any{"kind": "percent", "value": 5000}, "exclude_on_sale": true, "excluded_products": []string{}, "allowed_products": []string{}},
		"refund_policy": "within_balance", "expiry_days": 0,
	})
}

// The signup points follow one rule on every enrolment path: by default
// (signup_on any) POST /v1/customers awards them as the card enrolment does,
// once per customer, to active customers; signup_on card keeps them to cards.
func TestSignupOnEveryEnrolment(t *testing.T) {
	e := newEnv(t)
	program := func(version int, actions map[string]any) {
		e.must(http.StatusOK, "PUT", "/v1/program", e.key, map[string]any{
			"version": version, "enabled": true,
			"earning":       map[string]any{"points_per_step": 10, "step_amount": 500, "trigger": "paid", "overrides": []any{}, "excluded_products": []string{}},
			"actions":       actions,
			"redemption":    map[string]any{"points": 100, "amount": 100, "min_balance": 0, "min_cart": 0, "max_discount": nil, "exclude_on_sale": false, "excluded_products": []string{}, "allowed_products": []string{}},
			"refund_policy": "within_balance", "expiry_days": 0,
		})
	}
	program(0, map[string]any{"signup": 50, "newsletter": 0, "review": 0, "review_once_per_customer": true}) // signup_on omitted: any
	var got struct {
		Actions struct {
			SignupOn string `json:"signup_on"`
		} `json:"actions"`
	}
	e.must(http.StatusOK, "GET", "/v1/program", e.key, nil).decode(t, &got)
	if got.Actions.SignupOn != "any" {
		t.Fatalf("signup_on %q, want any", got.Actions.SignupOn)
	}
	var enrolled struct {
		Customer customer `json:"customer"`
	}
	balance := func(cid string) int64 {
		var c customer
		e.must(http.StatusOK, "GET", "/v1/customers/"+cid, e.key, nil).decode(t, &c)
		if total, _ := e.ledgerSum(t, cid); total != *c.PointsBalance {
			t.Fatalf("balance %d, sum of entries %d", *c.PointsBalance, total)
		}
		return *c.PointsBalance
	}
	api := e.create(map[string]any{"email": "api@example.com"})
	if *api.PointsBalance != 50 || balance(api.ID) != 50 {
		t.Fatalf("POST /v1/customers: balance %d, want 50", *api.PointsBalance)
	}
	e.must(http.StatusOK, "POST", "/v1/customers/"+api.ID+"/actions", e.key, map[string]any{"action": "signup"}) // already awarded
	if balance(api.ID) != 50 {
		t.Fatal("signup awarded twice")
	}
	if pending := e.create(map[string]any{"email": "pendiente@example.com", "state": "pending"}); balance(pending.ID) != 0 {
		t.Fatal("a pending customer earned the signup points")
	}
	e.must(http.StatusCreated, "POST", "/v1/cards/enrol", e.key, map[string]any{"email": "card@example.com"}).decode(t, &enrolled)
	if balance(enrolled.Customer.ID) != 50 {
		t.Fatal("card enrolment without signup points")
	}

	program(1, map[string]any{"signup": 50, "newsletter": 0, "review": 0, "review_once_per_customer": true, "signup_on": "card"})
	if c := e.create(map[string]any{"email": "api2@example.com"}); balance(c.ID) != 0 {
		t.Fatal("signup_on card: POST /v1/customers awarded signup points")
	}
	e.must(http.StatusCreated, "POST", "/v1/cards/enrol", e.key, map[string]any{"email": "card2@example.com"}).decode(t, &enrolled)
	if balance(enrolled.Customer.ID) != 50 {
		t.Fatal("signup_on card: card enrolment without signup points")
	}
	e.must(http.StatusBadRequest, "PUT", "/v1/program", e.key, map[string]any{"version": 2, "enabled": true,
		"earning": map[string]any{"points_per_step": 10, "step_amount": 500, "trigger": "paid"}, "actions": map[string]any{"signup_on": "never"},
		"redemption": map[string]any{"points": 100, "amount": 100}, "refund_policy": "within_balance"})
}

// ledgerSum reads every entry of a customer and returns their sum and count.
func (e *env) ledgerSum(t *testing.T, cid string) (int64, int) {
	t.Helper()
	var sum int64
	n := 0
	cursor := ""
	for {
		var p struct {
			Data []struct {
				Points int64 `json:"points"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		e.must(http.StatusOK, "GET", "/v1/customers/"+cid+"/points/entries?limit=100"+cursor, e.key, nil).decode(t, &p)
		for _, x := range p.Data {
			sum += x.Points
			n++
		}
		if p.NextCursor == nil {
			return sum, n
		}
		cursor = "&cursor=" + *p.NextCursor
	}
}

func TestPointsLedgerFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t)
	var reward struct{ ID string }
	e.must(http.StatusCreated, "POST", "/v1/rewards", e.key, map[string]any{"name": "Café gratis", "cost": 5, "active": true, "stock": 1}).decode(t, &reward)
	var bronze struct{ ID string }
	e.must(http.StatusCreated, "POST", "/v1/badges", e.key, map[string]any{"title": "Cliente Bronce", "from": 100, "to": 500}).decode(t, &bronze)
	c := e.create(map[string]any{"given_name": "Ana"})
	pts := "/v1/customers/" + c.ID + "/points"

	var p posting
	e.must(http.StatusCreated, "POST", pts+"/entries", e.key, map[string]any{"points": 5, "note": "bienvenida"}).decode(t, &p)
	if p.Balance != 5 || len(p.Entries) != 1 || p.Entries[0].BalanceAfter != 5 || !slices.Contains(p.Change.RewardsGained, named{reward.ID, "Café gratis"}) {
		t.Fatalf("earn 5: %+v", p)
	}
	earnID := p.Entries[0].ID
	// 5 → 4 points loses the 5-point reward. The preview writes nothing.
	var ch struct {
		BalanceAfter int64   `json:"balance_after"`
		RewardsLost  []named `json:"rewards_lost"`
	}
	e.must(http.StatusOK, "POST", pts+"/preview", e.key, map[string]any{"points": -1}).decode(t, &ch)
	if ch.BalanceAfter != 4 || !slices.Contains(ch.RewardsLost, named{reward.ID, "Café gratis"}) {
		t.Fatalf("preview: %+v", ch)
	}
	r := e.must(http.StatusUnprocessableEntity, "POST", pts+"/entries", e.key, map[string]any{"points": -6})
	if !slices.Contains(r.paths(), "/points") {
		t.Fatalf("overspend: %s", r.body)
	}
	// Set balance posts the difference; the badge is gained.
	e.must(http.StatusCreated, "POST", pts+"/balance", e.key, map[string]any{"balance": 120, "note": "migración"}).decode(t, &p)
	if p.Balance != 120 || p.Entries[0].Points != 115 || p.Entries[0].Kind != "adjust" || !slices.Contains(p.Change.BadgesGained, named{bronze.ID, "Cliente Bronce"}) {
		t.Fatalf("set balance: %+v", p)
	}
	e.must(http.StatusOK, "POST", pts+"/balance", e.key, map[string]any{"balance": 120}) // nothing to do
	var holders page
	e.must(http.StatusOK, "GET", "/v1/badges/"+bronze.ID+"/customers", e.key, nil).decode(t, &holders)
	if len(holders.Data) != 1 || holders.Data[0].ID != c.ID {
		t.Fatalf("badge holders: %+v", holders.Data)
	}
	// Void the first earn: a reversal entry, the original marked.
	e.must(http.StatusCreated, "POST", pts+"/entries/"+earnID+"/void", e.key, map[string]any{"note": "error"}).decode(t, &p)
	if p.Balance != 115 || p.Entries[0].Kind != "void" || p.Entries[0].Voids != earnID || p.Entries[0].Points != -5 {
		t.Fatalf("void: %+v", p)
	}
	e.must(http.StatusConflict, "POST", pts+"/entries/"+earnID+"/void", e.key, nil)

	// Checkout: 20.00 cart with a 5.00 on-sale line; 50 % cap of the eligible 15.00 → 7.50, balance worth 1.15.
	cart := []map[string]any{{"sku": "CAFE", "quantity": 3, "unit_price": 500}, {"sku": "TARTA", "quantity": 1, "unit_price": 500, "on_sale": true}}
	var q struct {
		MaxPoints      int64   `json:"max_points"`
		PointsDiscount int64   `json:"points_discount"`
		Reason         *string `json:"reason"`
	}
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/checkout/quote", e.key, map[string]any{"cart": cart}).decode(t, &q)
	if q.MaxPoints != 115 || q.PointsDiscount != 115 || q.Reason != nil {
		t.Fatalf("quote: %+v", q)
	}
	small := []map[string]any{{"sku": "CAFE", "quantity": 1, "unit_price": 500}}
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/checkout/quote", e.key, map[string]any{"cart": small}).decode(t, &q)
	if q.MaxPoints != 0 || q.Reason == nil || *q.Reason != "cart_below_minimum" {
		t.Fatalf("small cart quote: %+v", q)
	}
	var red struct {
		Points   int64  `json:"points"`
		Discount int64  `json:"discount"`
		Balance  int64  `json:"balance"`
		EntryID  string `json:"entry_id"`
	}
	redeem := map[string]any{"order_ref": "T-1001", "points": 100, "cart": cart, "location": "Centro"}
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/redemptions", e.key, redeem).decode(t, &red)
	if red.Discount != 100 || red.Balance != 15 {
		t.Fatalf("redeem: %+v", red)
	}
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/redemptions", e.key, redeem) // same order: replay
	redeem["points"] = 10
	e.must(http.StatusConflict, "POST", "/v1/customers/"+c.ID+"/redemptions", e.key, redeem)
	// A checkout redemption is given back only by its cancellation, never voided by hand, so the
	// cancellation of its order cannot find it "already voided" (docs/operations.md, triage).
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/customers/"+c.ID+"/points/entries/"+red.EntryID+"/void", e.key, nil)
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/redemptions/T-1001/cancel", e.key, nil).decode(t, &red)
	if red.Balance != 115 {
		t.Fatalf("cancel: %+v", red)
	}
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/redemptions/T-1001/cancel", e.key, nil)
	e.must(http.StatusNotFound, "POST", "/v1/customers/"+c.ID+"/redemptions/T-404/cancel", e.key, nil)

	// Reward: stock 1; the second redemption finds it out of stock.
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/rewards/"+reward.ID+"/redeem", e.key, map[string]any{"location": "Centro"}).decode(t, &p)
	if p.Balance != 110 {
		t.Fatalf("reward: %+v", p)
	}
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/customers/"+c.ID+"/rewards/"+reward.ID+"/redeem", e.key, nil)

	// Actions: signup once; reviews per reference.
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/actions", e.key, map[string]any{"action": "signup"})
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/actions", e.key, map[string]any{"action": "signup"}).decode(t, &p)
	if !p.Replayed {
		t.Fatalf("second signup: %+v", p)
	}
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/actions", e.key, map[string]any{"action": "review", "reference": "rev-1"})
	e.must(http.StatusCreated, "POST", "/v1/customers/"+c.ID+"/actions", e.key, map[string]any{"action": "review", "reference": "rev-2"})
	e.must(http.StatusBadRequest, "POST", "/v1/customers/"+c.ID+"/actions", e.key, map[string]any{"action": "review"})

	var sum struct {
		Balance int64 `json:"balance"`
		Badges  []struct {
			ID string `json:"id"`
		} `json:"badges"`
	}
	e.must(http.StatusOK, "GET", pts, e.key, nil).decode(t, &sum)
	total, n := e.ledgerSum(t, c.ID)
	if sum.Balance != 170 || total != sum.Balance {
		t.Fatalf("balance %d, sum of %d entries %d", sum.Balance, n, total)
	}
	var cust customer
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID, e.key, nil).decode(t, &cust)
	if *cust.PointsBalance != 170 {
		t.Fatalf("profile balance %d", *cust.PointsBalance)
	}
}

func TestEnrolWithCardAndPortal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t) // signup 50, newsletter 20
	e.must(http.StatusCreated, "POST", "/v1/card-templates", e.key, map[string]any{"id": "verano", "name": "Verano 2026", "kind": "promotion", "active": true})
	e.must(http.StatusBadRequest, "POST", "/v1/card-templates", e.key, map[string]any{"id": "verano", "name": "otra", "active": true})
	var enrolled struct {
		Customer customer `json:"customer"`
		Points   posting  `json:"points"`
	}
	e.must(http.StatusCreated, "POST", "/v1/cards/enrol", e.key, map[string]any{"card_template": "verano", "given_name": "Lola",
		"email": "lola@example.com", "newsletter_consent": true}).decode(t, &enrolled)
	if enrolled.Customer.CardNumber == "" || enrolled.Points.Balance != 70 || len(enrolled.Points.Entries) != 2 {
		t.Fatalf("enrol: %+v", enrolled)
	}
	e.must(http.StatusBadRequest, "POST", "/v1/cards/enrol", e.key, map[string]any{"card_template": "invierno"})
	e.must(http.StatusConflict, "POST", "/v1/cards/enrol", e.key, map[string]any{"card_number": enrolled.Customer.CardNumber})
	cid := enrolled.Customer.ID

	// The customer area: a token reads only its own customer.
	var tok struct {
		Token string `json:"token"`
	}
	e.must(http.StatusCreated, "POST", "/v1/customers/"+cid+"/portal-token", e.key, map[string]any{"ttl_seconds": 600}).decode(t, &tok)
	var mine struct {
		CustomerID string `json:"customer_id"`
		Balance    int64  `json:"balance"`
	}
	e.must(http.StatusOK, "GET", "/v1/me/points", tok.Token, nil).decode(t, &mine)
	if mine.CustomerID != cid || mine.Balance != 70 {
		t.Fatalf("me: %+v", mine)
	}
	e.must(http.StatusOK, "GET", "/v1/me/entries", tok.Token, nil)
	e.must(http.StatusOK, "GET", "/v1/me/rewards", tok.Token, nil)
	// A customer token is no API key, and writes nothing.
	e.must(http.StatusUnauthorized, "GET", "/v1/customers/"+cid, tok.Token, nil)
	e.must(http.StatusUnauthorized, "GET", "/v1/me/points", tok.Token[:len(tok.Token)-2]+"xx", nil)
	e.must(http.StatusBadRequest, "POST", "/v1/customers/"+cid+"/portal-token", e.key, map[string]any{"ttl_seconds": 10})
	// Erasing the customer ends the token.
	e.must(http.StatusNoContent, "DELETE", "/v1/customers/"+cid, e.key, nil)
	e.must(http.StatusUnauthorized, "GET", "/v1/me/points", tok.Token, nil)
}

func TestPointsReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedProgram(t)
	a := e.create(map[string]any{"given_name": "A"})
	b := e.create(map[string]any{"given_name": "B"})
	for _, m := range []struct {
		cid    string
		points int64
		loc    string
	}{{a.ID, 100, "Centro"}, {a.ID, -30, "Centro"}, {b.ID, 200, "Norte"}, {b.ID, 40, ""}} {
		e.must(http.StatusCreated, "POST", "/v1/customers/"+m.cid+"/points/entries", e.key, map[string]any{"points": m.points, "location": m.loc})
	}
	type report struct {
		Data       []struct{ Points int64 } `json:"data"`
		NextCursor *string                  `json:"next_cursor"`
		Summary    struct {
			Operations    int64 `json:"operations"`
			PointsTotal   int64 `json:"points_total"`
			AveragePoints int64 `json:"average_points"`
		} `json:"summary"`
		Totals struct {
			OutstandingBalance int64  `json:"outstanding_balance"`
			Liability          int64  `json:"liability"`
			Currency           string `json:"currency"`
		} `json:"totals"`
	}
	var r report
	e.must(http.StatusOK, "GET", "/v1/reports/points", e.key, nil).decode(t, &r)
	// 100 points = 1.00 EUR: 310 outstanding points are worth 3.10.
	if r.Totals.OutstandingBalance != 310 || r.Totals.Liability != 310 || r.Totals.Currency != "EUR" || len(r.Data) != 4 {
		t.Fatalf("report: %+v", r)
	}
	e.must(http.StatusOK, "GET", "/v1/reports/points?customer_id="+a.ID, e.key, nil).decode(t, &r)
	if len(r.Data) != 2 || r.Summary.PointsTotal != 70 {
		t.Fatalf("by customer: %+v", r)
	}
	e.must(http.StatusOK, "GET", "/v1/reports/points?location=Norte&kind=earn", e.key, nil).decode(t, &r)
	if len(r.Data) != 1 || r.Data[0].Points != 200 {
		t.Fatalf("by location and kind: %+v", r)
	}
	e.must(http.StatusOK, "GET", "/v1/reports/points?min=0&max=100", e.key, nil).decode(t, &r)
	if len(r.Data) != 2 || r.Summary.Operations != 2 || r.Summary.AveragePoints != 70 {
		t.Fatalf("by value: %+v", r)
	}
	e.must(http.StatusOK, "GET", "/v1/reports/points?limit=3", e.key, nil).decode(t, &r)
	if len(r.Data) != 3 || r.NextCursor == nil || r.Summary.Operations != 4 {
		t.Fatalf("page 1: %+v", r)
	}
	e.must(http.StatusOK, "GET", "/v1/reports/points?limit=3&cursor="+*r.NextCursor, e.key, nil).decode(t, &r)
	if len(r.Data) != 1 || r.NextCursor != nil {
		t.Fatalf("page 2: %+v", r)
	}
	// Erasing a customer takes their balance out of the outstanding total.
	e.must(http.StatusNoContent, "DELETE", "/v1/customers/"+b.ID, e.key, nil)
	e.must(http.StatusOK, "GET", "/v1/reports/points?limit=1", e.key, nil).decode(t, &r)
	if r.Totals.OutstandingBalance != 70 {
		t.Fatalf("outstanding after erasure: %d, want 70", r.Totals.OutstandingBalance)
	}
	e.must(http.StatusBadRequest, "GET", "/v1/reports/points?from=yesterday", e.key, nil)
	e.must(http.StatusBadRequest, "GET", "/v1/reports/points?kind=bonus", e.key, nil)
}
