package purchase

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// validEvent is a paid order with one line that passes validation:
// 2 × 2.50 = 5.00 gross, −0.50 discount = 4.50, −0.41 tax (10 % VAT
// included) → net 4.09.
func validEvent() Event {
	return Event{
		EventID:    "evt-1",
		OrderID:    "ord-1",
		Status:     Paid,
		OccurredAt: testNow.Add(-time.Hour),
		Location:   Location{ID: "mad-1", Name: "Madrid Malasaña"},
		Customer:   CustomerRef{Email: "ana@example.com", GivenName: "Ana"},
		Currency:   "EUR",
		Lines: []Line{{SKU: "CAFE", Name: "Café con leche", Category: "drinks", Quantity: 2, UnitPrice: 250,
			Discount: 50, Tax: 41, UnitCost: costOf(80)}},
	}
}

func TestValidate(t *testing.T) {
	const prefix = "/events/2"
	long := func(n int) string { return strings.Repeat("x", n) }
	plainLine := func(e *Event) { e.Lines[0].Discount, e.Lines[0].Tax = 0, 0 }
	for _, tc := range []struct {
		name  string
		edit  func(e *Event)
		paths []string // under prefix, in the order reported
	}{
		{name: "valid", edit: func(*Event) {}},

		// event_id and order_id: 1 to 128 printable characters, no spaces.
		{name: "event_id missing", edit: func(e *Event) { e.EventID = "" }, paths: []string{"/event_id"}},
		{name: "event_id with a space", edit: func(e *Event) { e.EventID = "evt 1" }, paths: []string{"/event_id"}},
		{name: "event_id with DEL", edit: func(e *Event) { e.EventID = "evt\x7f" }, paths: []string{"/event_id"}},
		{name: "event_id 128 characters", edit: func(e *Event) { e.EventID = long(128) }},
		{name: "event_id 129 characters", edit: func(e *Event) { e.EventID = long(129) }, paths: []string{"/event_id"}},
		{name: "order_id missing", edit: func(e *Event) { e.OrderID = "" }, paths: []string{"/order_id"}},
		{name: "order_id with a newline", edit: func(e *Event) { e.OrderID = "ord\n1" }, paths: []string{"/order_id"}},

		{name: "status missing", edit: func(e *Event) { e.Status = "" }, paths: []string{"/status"}},
		{name: "status unknown", edit: func(e *Event) { e.Status = "shipped" }, paths: []string{"/status"}},
		{name: "status in capitals", edit: func(e *Event) { e.Status = "PAID" }, paths: []string{"/status"}},

		// occurred_at: required; at most 5 minutes ahead of now (clock skew):
		// an event an hour ahead was applied with a future last visit.
		{name: "occurred_at missing", edit: func(e *Event) { e.OccurredAt = time.Time{} }, paths: []string{"/occurred_at"}},
		{name: "occurred_at exactly 5 minutes ahead", edit: func(e *Event) { e.OccurredAt = testNow.Add(5 * time.Minute) }},
		{name: "occurred_at 5 minutes and 1s ahead", edit: func(e *Event) { e.OccurredAt = testNow.Add(5*time.Minute + time.Second) }, paths: []string{"/occurred_at"}},
		{name: "occurred_at an hour ahead", edit: func(e *Event) { e.OccurredAt = testNow.Add(time.Hour) }, paths: []string{"/occurred_at"}},
		{name: "occurred_at years ago", edit: func(e *Event) { e.OccurredAt = testNow.AddDate(-5, 0, 0) }},

		// location: optional; its id printable, its name ≤ 100 bytes.
		{name: "no location", edit: func(e *Event) { e.Location = Location{} }},
		{name: "location name only", edit: func(e *Event) { e.Location = Location{Name: "Web"} }},
		{name: "location id with a space", edit: func(e *Event) { e.Location.ID = "mad 1" }, paths: []string{"/location"}},
		{name: "location name 101 bytes", edit: func(e *Event) { e.Location.Name = long(101) }, paths: []string{"/location"}},
		{name: "location name with a tab", edit: func(e *Event) { e.Location.Name = "Mala\tsaña" }, paths: []string{"/location/name"}},

		// Names: a control character is refused with its path, never dropped
		// (a name with one was once enrolled as "").
		{name: "given_name with a newline", edit: func(e *Event) { e.Customer.GivenName = "Ana\nMaría" }, paths: []string{"/customer/given_name"}},
		{name: "family_name with NUL", edit: func(e *Event) { e.Customer.FamilyName = "Gil\x00" }, paths: []string{"/customer/family_name"}},
		{name: "line name with a control character", edit: func(e *Event) { e.Lines[0].Name = "Café\x1b" }, paths: []string{"/lines/0"}},

		// currency: exactly the merchant's.
		{name: "currency mismatch", edit: func(e *Event) { e.Currency = "USD" }, paths: []string{"/currency"}},
		{name: "currency lower case", edit: func(e *Event) { e.Currency = "eur" }, paths: []string{"/currency"}},
		{name: "currency missing", edit: func(e *Event) { e.Currency = "" }, paths: []string{"/currency"}},

		// customer: anonymous xor at least one identifier.
		{name: "anonymous and identified", edit: func(e *Event) { e.Customer.Anonymous = true }, paths: []string{"/customer"}},
		{name: "anonymous with a card", edit: func(e *Event) { e.Customer = CustomerRef{Anonymous: true, CardNumber: "1234"} }, paths: []string{"/customer"}},
		{name: "anonymous only", edit: func(e *Event) { e.Customer = CustomerRef{Anonymous: true} }},
		{name: "neither", edit: func(e *Event) { e.Customer = CustomerRef{} }, paths: []string{"/customer"}},
		{name: "names are no identifier", edit: func(e *Event) { e.Customer = CustomerRef{GivenName: "Ana", FamilyName: "García"} }, paths: []string{"/customer"}},
		{name: "customer_id only", edit: func(e *Event) { e.Customer = CustomerRef{CustomerID: "01HZZZ"} }},
		{name: "external_id only", edit: func(e *Event) { e.Customer = CustomerRef{ExternalID: "pos-42"} }},
		{name: "email upper case is normalised", edit: func(e *Event) { e.Customer.Email = " Ana@Example.COM " }},
		{name: "bad email", edit: func(e *Event) { e.Customer.Email = "ana@" }, paths: []string{"/customer/email"}},
		{name: "email without a full domain", edit: func(e *Event) { e.Customer.Email = "ana@localhost" }, paths: []string{"/customer/email"}},
		{name: "email with a display name", edit: func(e *Event) { e.Customer.Email = "Ana <ana@example.com>" }, paths: []string{"/customer/email"}},
		{name: "phone with punctuation", edit: func(e *Event) { e.Customer.Phone = "+34 600-123-456" }},
		{name: "phone with 00 prefix", edit: func(e *Event) { e.Customer.Phone = "0034600123456" }},
		{name: "bad phone", edit: func(e *Event) { e.Customer.Phone = "+34 12345" }, paths: []string{"/customer/phone"}},
		{name: "national phone", edit: func(e *Event) { e.Customer.Phone = "600 123 456" }},
		{name: "card with dashes", edit: func(e *Event) { e.Customer.CardNumber = "abcd-1234" }},
		{name: "card too short", edit: func(e *Event) { e.Customer.CardNumber = "123" }, paths: []string{"/customer/card_number"}},
		{name: "card with a symbol", edit: func(e *Event) { e.Customer.CardNumber = "1234#5678" }, paths: []string{"/customer/card_number"}},
		{name: "external_id with spaces around", edit: func(e *Event) { e.Customer.ExternalID = " pos-42" }, paths: []string{"/customer/external_id"}},
		{name: "external_id 129 bytes", edit: func(e *Event) { e.Customer.ExternalID = long(129) }, paths: []string{"/customer/external_id"}},
		{name: "given name 101 bytes", edit: func(e *Event) { e.Customer.GivenName = long(101) }, paths: []string{"/customer"}},
		{name: "family name 101 bytes", edit: func(e *Event) { e.Customer.FamilyName = long(101) }, paths: []string{"/customer"}},
		{name: "every identifier bad", edit: func(e *Event) {
			e.Customer = CustomerRef{Email: "x", Phone: "x", CardNumber: "x", ExternalID: "x "}
		}, paths: []string{"/customer/email", "/customer/phone", "/customer/card_number", "/customer/external_id"}},

		// lines: 1 to 500, except for refunds and cancellations (0 to 500).
		{name: "created without lines", edit: func(e *Event) { e.Status, e.Lines = Created, nil }, paths: []string{"/lines"}},
		{name: "paid without lines", edit: func(e *Event) { e.Lines = []Line{} }, paths: []string{"/lines"}},
		{name: "completed without lines", edit: func(e *Event) { e.Status, e.Lines = Completed, nil }, paths: []string{"/lines"}},
		{name: "refunded without lines", edit: func(e *Event) { e.Status, e.Lines = Refunded, nil }},
		{name: "cancelled without lines", edit: func(e *Event) { e.Status, e.Lines = Cancelled, nil }},
		{name: "partially_refunded without lines", edit: func(e *Event) {
			e.Status, e.Lines, e.RefundLines = PartiallyRefunded, nil, []RefundLine{{SKU: "CAFE", Quantity: 1, Amount: 204}}
		}},
		{name: "cancelled with lines", edit: func(e *Event) { e.Status = Cancelled }},
		{name: "500 lines", edit: func(e *Event) { e.Lines = slices.Repeat(e.Lines, MaxLines) }},
		{name: "501 lines", edit: func(e *Event) { e.Lines = slices.Repeat(e.Lines, MaxLines+1) }, paths: []string{"/lines"}},
		{name: "501 lines on a refund", edit: func(e *Event) { e.Status, e.Lines = Refunded, slices.Repeat(e.Lines, MaxLines+1) }, paths: []string{"/lines"}},

		// One line: the index is in the path.
		{name: "second line's sku missing", edit: func(e *Event) {
			e.Lines = append(e.Lines, e.Lines[0])
			e.Lines[1].SKU = ""
		}, paths: []string{"/lines/1/sku"}},
		{name: "sku with a tab", edit: func(e *Event) { e.Lines[0].SKU = "CA\tFE" }, paths: []string{"/lines/0/sku"}},
		{name: "line name 201 bytes", edit: func(e *Event) { e.Lines[0].Name = long(201) }, paths: []string{"/lines/0"}},
		{name: "line category 101 bytes", edit: func(e *Event) { e.Lines[0].Category = long(101) }, paths: []string{"/lines/0"}},
		{name: "quantity 0", edit: func(e *Event) { plainLine(e); e.Lines[0].Quantity = 0 }, paths: []string{"/lines/0/quantity"}},
		{name: "quantity negative", edit: func(e *Event) { plainLine(e); e.Lines[0].Quantity = -1 }, paths: []string{"/lines/0/quantity"}},
		{name: "quantity 1,000,000", edit: func(e *Event) { e.Lines[0].Quantity = 1_000_000 }},
		{name: "quantity 1,000,001", edit: func(e *Event) { e.Lines[0].Quantity = 1_000_001 }, paths: []string{"/lines/0/quantity"}},
		// Quantity 0 makes the gross 0: the 0.50 discount and the 0.41 tax
		// no longer fit in it either.
		{name: "quantity 0 with discount and tax", edit: func(e *Event) { e.Lines[0].Quantity = 0 },
			paths: []string{"/lines/0/quantity", "/lines/0/discount", "/lines/0/tax"}},
		{name: "unit_price 0 (a gift)", edit: func(e *Event) { plainLine(e); e.Lines[0].UnitPrice = 0 }},
		{name: "unit_price negative", edit: func(e *Event) { plainLine(e); e.Lines[0].UnitPrice = -1 }, paths: []string{"/lines/0/unit_price"}},
		{name: "unit_price at the maximum", edit: func(e *Event) { e.Lines[0].UnitPrice = 1_000_000_000_00 }},
		{name: "unit_price above the maximum", edit: func(e *Event) { e.Lines[0].UnitPrice = 1_000_000_000_01 }, paths: []string{"/lines/0/unit_price"}},
		// Each line and the order within loyalty.MaxAmount (10^15): 93 lines of
		// 10^6 × 10^11 once summed to a wrapped (negative) order total.
		{name: "line amount at the maximum", edit: func(e *Event) { plainLine(e); e.Lines[0].Quantity, e.Lines[0].UnitPrice = 1_000_000, 1_000_000_000 }},
		{name: "line amount above the maximum", edit: func(e *Event) { plainLine(e); e.Lines[0].Quantity, e.Lines[0].UnitPrice = 1_000_000, 1_000_000_001 },
			paths: []string{"/lines/0/unit_price"}},
		{name: "93 lines of the largest quantity and price", edit: func(e *Event) {
			plainLine(e)
			e.Lines[0].Quantity, e.Lines[0].UnitPrice, e.Lines[0].UnitCost = 1_000_000, 1_000_000_000_00, nil
			e.Lines = slices.Repeat(e.Lines, 93)
		}, paths: func() (p []string) {
			for i := range 93 {
				p = append(p, "/lines/"+itoa(i)+"/unit_price")
			}
			return p
		}()},
		{name: "two lines at the maximum: the order is above it", edit: func(e *Event) {
			plainLine(e)
			e.Lines[0].Quantity, e.Lines[0].UnitPrice, e.Lines[0].UnitCost = 1_000_000, 1_000_000_000, nil
			e.Lines = slices.Repeat(e.Lines, 2)
		}, paths: []string{"/lines"}},
		{name: "line cost above the maximum", edit: func(e *Event) {
			plainLine(e)
			e.Lines[0].Quantity, e.Lines[0].UnitPrice, e.Lines[0].UnitCost = 1_000_000, 1, costOf(1_000_000_001)
		}, paths: []string{"/lines/0/unit_cost"}},
		{name: "501 refund lines", edit: func(e *Event) {
			e.Status, e.RefundLines = PartiallyRefunded, slices.Repeat([]RefundLine{{SKU: "CAFE", Quantity: 1, Amount: 1}}, MaxLines+1)
		}, paths: []string{"/refund_lines"}},
		// Gross 2 × 2.50 = 500: a discount of 500 is the whole line (tax
		// must then be 0), 501 is more than the line.
		{name: "discount equal to gross", edit: func(e *Event) { e.Lines[0].Discount, e.Lines[0].Tax = 500, 0 }},
		{name: "discount above gross", edit: func(e *Event) { e.Lines[0].Discount, e.Lines[0].Tax = 501, 0 }, paths: []string{"/lines/0/discount"}},
		{name: "discount negative", edit: func(e *Event) { e.Lines[0].Discount = -1 }, paths: []string{"/lines/0/discount"}},
		// After the 0.50 discount 4.50 remain: tax 450 is all of it (net 0), 451 is too much.
		{name: "tax equal to gross minus discount", edit: func(e *Event) { e.Lines[0].Tax = 450 }},
		{name: "tax above gross minus discount", edit: func(e *Event) { e.Lines[0].Tax = 451 }, paths: []string{"/lines/0/tax"}},
		{name: "tax negative", edit: func(e *Event) { e.Lines[0].Tax = -1 }, paths: []string{"/lines/0/tax"}},
		{name: "unit_cost unknown", edit: func(e *Event) { e.Lines[0].UnitCost = nil }},
		{name: "unit_cost 0", edit: func(e *Event) { e.Lines[0].UnitCost = costOf(0) }},
		{name: "unit_cost negative", edit: func(e *Event) { e.Lines[0].UnitCost = costOf(-1) }, paths: []string{"/lines/0/unit_cost"}},
		{name: "unit_cost above the maximum", edit: func(e *Event) { e.Lines[0].UnitCost = costOf(1_000_000_000_01) }, paths: []string{"/lines/0/unit_cost"}},

		// refund_lines: required for partially_refunded, allowed for
		// refunded, refused for every other status.
		{name: "partially_refunded without refund_lines", edit: func(e *Event) { e.Status = PartiallyRefunded }, paths: []string{"/refund_lines"}},
		{name: "refunded with refund_lines", edit: func(e *Event) {
			e.Status, e.RefundLines = Refunded, []RefundLine{{SKU: "CAFE", Quantity: 2, Amount: 409}}
		}},
		{name: "paid with refund_lines", edit: func(e *Event) { e.RefundLines = []RefundLine{{SKU: "CAFE", Amount: 1}} }, paths: []string{"/refund_lines"}},
		{name: "created with refund_lines", edit: func(e *Event) {
			e.Status, e.RefundLines = Created, []RefundLine{{SKU: "CAFE", Amount: 1}}
		}, paths: []string{"/refund_lines"}},
		{name: "cancelled with refund_lines", edit: func(e *Event) {
			e.Status, e.RefundLines = Cancelled, []RefundLine{{SKU: "CAFE", Amount: 1}}
		}, paths: []string{"/refund_lines"}},
		{name: "refund amount only (quantity 0)", edit: func(e *Event) {
			e.Status, e.RefundLines = PartiallyRefunded, []RefundLine{{SKU: "CAFE", Amount: 100}}
		}},
		{name: "refund line problems", edit: func(e *Event) {
			e.Status = PartiallyRefunded
			e.RefundLines = []RefundLine{
				{SKU: "CAFE", Quantity: 1, Amount: 100}, // fine
				{SKU: "", Quantity: 1, Amount: 100},
				{SKU: "CAFE", Quantity: -1, Amount: 100},
				{SKU: "CAFE", Quantity: 1_000_001, Amount: 100},
				{SKU: "CAFE", Quantity: 1, Amount: 0},
				{SKU: "CAFE", Quantity: 1, Amount: -5},
				{SKU: "CAFE", Quantity: 1, Amount: 1_000_000_000_01},
				{SKU: "CAFE", Quantity: 1, Amount: 1_000_000_000_00}, // the maximum: fine
			}
		}, paths: []string{"/refund_lines/1/sku", "/refund_lines/2/quantity", "/refund_lines/3/quantity",
			"/refund_lines/4/amount", "/refund_lines/5/amount", "/refund_lines/6/amount"}},

		{name: "redemption_ref", edit: func(e *Event) { e.RedemptionRef = "chk-9" }},
		{name: "redemption_ref with a space", edit: func(e *Event) { e.RedemptionRef = "chk 9" }, paths: []string{"/redemption_ref"}},
		{name: "redemption_ref 129 bytes", edit: func(e *Event) { e.RedemptionRef = long(129) }, paths: []string{"/redemption_ref"}},

		// Everything at once: every problem is reported, in field order.
		{name: "all wrong", edit: func(e *Event) {
			*e = Event{Status: "nope", Location: Location{ID: " "}, Customer: CustomerRef{Anonymous: true, Email: "bad"},
				Currency: "GBP", RefundLines: []RefundLine{{}}, RedemptionRef: "a b"}
		}, paths: []string{"/event_id", "/order_id", "/status", "/occurred_at", "/location", "/currency", "/customer",
			"/customer/email", "/lines", "/refund_lines", "/refund_lines/0/sku", "/refund_lines/0/amount", "/redemption_ref"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validEvent()
			tc.edit(&e)
			got := errPaths(t, e.Validate("EUR", "ES", testNow, prefix))
			var want []string
			for _, p := range tc.paths {
				want = append(want, prefix+p)
			}
			if !slices.Equal(got, want) {
				t.Errorf("paths = %q, want %q", got, want)
			}
		})
	}
}

func TestValidateWithoutPrefix(t *testing.T) {
	e := validEvent()
	e.Lines[0].Quantity = 0
	err := e.Validate("EUR", "ES", testNow, "")
	if got := joinPaths(errPaths(t, err)); got != "/lines/0/quantity,/lines/0/discount,/lines/0/tax" {
		t.Errorf("paths = %s", got)
	}
	ae := apperr.As(err)
	if ae.Fields[0].Message == "" {
		t.Error("a field error without a message")
	}
}

// Validate must not alter the event it checks (the caller keeps using it).
func TestValidateLeavesTheEventAlone(t *testing.T) {
	e := validEvent()
	e.Customer.Email = " Ana@Example.COM "
	e.Customer.CardNumber = "abcd-1234"
	_ = e.Validate("EUR", "ES", testNow, "")
	if e.Customer.Email != " Ana@Example.COM " || e.Customer.CardNumber != "abcd-1234" {
		t.Errorf("customer changed: %+v", e.Customer)
	}
}
