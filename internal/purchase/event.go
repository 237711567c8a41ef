// Package purchase is the canonical purchase event that points of sale and
// shops send, its validation, and what one order's events add up to. Pure Go.
package purchase

import (
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
)

// Status is an order's status in one event.
type Status string

// Statuses, in the order an order normally goes through them.
const (
	Created           Status = "created"
	Paid              Status = "paid"
	Completed         Status = "completed"
	PartiallyRefunded Status = "partially_refunded"
	Refunded          Status = "refunded"
	Cancelled         Status = "cancelled"
)

// Location is where the order was placed (a store, or the web shop).
type Location struct {
	ID   string
	Name string
}

// CustomerRef identifies the buyer by any of the identifiers a point of sale
// knows, or says the buyer is anonymous.
type CustomerRef struct {
	CustomerID string
	CardNumber string
	Email      string
	Phone      string
	ExternalID string
	GivenName  string // used when the customer is created by this purchase
	FamilyName string
	Anonymous  bool
}

// Line is one line of an order. Amounts are minor units: UnitPrice tax
// included, Discount and Tax totals of the line; UnitCost, when known, is what
// one unit cost the merchant.
type Line struct {
	SKU       string
	Name      string
	Category  string
	Quantity  int64
	UnitPrice int64
	Discount  int64
	Tax       int64
	UnitCost  *int64
	OnSale    bool
}

// Loyalty returns the line as the points rules see it.
func (l Line) Loyalty() loyalty.Line {
	return loyalty.Line{SKU: l.SKU, Category: l.Category, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Discount: l.Discount, Tax: l.Tax, OnSale: l.OnSale}
}

// RefundLine is an amount given back for a product: Amount is the net amount
// (after tax) refunded.
type RefundLine struct {
	SKU      string
	Quantity int64
	Amount   int64
}

// Event is one transition of one order.
type Event struct {
	EventID       string
	OrderID       string
	Status        Status
	OccurredAt    time.Time // with the offset the sender gave
	Location      Location
	Customer      CustomerRef
	Currency      string
	Lines         []Line
	RefundLines   []RefundLine
	RedemptionRef string // the checkout redemption (order reference) this order used, if any
}

// Limits of one event.
const (
	MaxLines     = 500
	maxIDLen     = 128
	maxAmount    = 1_000_000_000_00
	maxQuantity  = 1_000_000
	maxClockSkew = crm.MaxClockSkew
)

func validID(s string) bool {
	return s != "" && len(s) <= maxIDLen && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r == 0x7f })
}

// Validate checks an event against the merchant's currency and country (in
// which a national phone number is read), with the JSON Pointer paths of the
// webhook payload under prefix (e.g. "/events/3").
func (e Event) Validate(currency, region string, now time.Time, prefix string) error {
	var fe apperr.Fields
	add := func(path, format string, args ...any) { fe.Add(prefix+path, format, args...) }
	if !validID(e.EventID) {
		add("/event_id", "must be 1 to %d printable characters", maxIDLen)
	}
	if !validID(e.OrderID) {
		add("/order_id", "must be 1 to %d printable characters", maxIDLen)
	}
	switch e.Status {
	case Created, Paid, Completed, PartiallyRefunded, Refunded, Cancelled:
	default:
		add("/status", "must be created, paid, completed, partially_refunded, refunded or cancelled")
	}
	if e.OccurredAt.IsZero() {
		add("/occurred_at", "is required, as an RFC 3339 time with its offset")
	} else if e.OccurredAt.After(now.Add(maxClockSkew)) {
		add("/occurred_at", "is in the future")
	}
	if e.Location.ID != "" && !validID(e.Location.ID) || len(e.Location.Name) > 100 {
		add("/location", "id must be 1 to %d printable characters and name at most 100", maxIDLen)
	}
	if e.Currency != currency {
		add("/currency", "must be the merchant's currency, %s", currency)
	}
	c := e.Customer
	hasID := c.CustomerID != "" || c.CardNumber != "" || c.Email != "" || c.Phone != "" || c.ExternalID != ""
	switch {
	case c.Anonymous && hasID:
		add("/customer", "is either anonymous or identified, not both")
	case !c.Anonymous && !hasID:
		add("/customer", "needs one of customer_id, card_number, email, phone, external_id, or anonymous: true")
	}
	if c.Email != "" {
		if _, err := crm.NormalizeEmail(c.Email); err != nil {
			add("/customer/email", "must be an email address")
		}
	}
	if c.Phone != "" {
		if _, err := crm.NormalizePhone(c.Phone, region); err != nil {
			add("/customer/phone", "%s", apperr.As(err).Message)
		}
	}
	if c.CardNumber != "" {
		if _, err := crm.NormalizeCardNumber(c.CardNumber); err != nil {
			add("/customer/card_number", "must be 4 to 32 letters or digits")
		}
	}
	if c.ExternalID != "" && (len(c.ExternalID) > maxIDLen || strings.TrimSpace(c.ExternalID) != c.ExternalID) {
		add("/customer/external_id", "must be 1 to %d characters without surrounding spaces", maxIDLen)
	}
	if len(c.GivenName) > 100 || len(c.FamilyName) > 100 {
		add("/customer", "names must be at most 100 characters")
	}
	for _, f := range []struct{ path, v string }{{"/customer/given_name", c.GivenName}, {"/customer/family_name", c.FamilyName}, {"/location/name", e.Location.Name}} {
		if crm.HasControl(f.v) {
			add(f.path, "must not contain control characters")
		}
	}
	needsLines := e.Status != Refunded && e.Status != PartiallyRefunded && e.Status != Cancelled
	if needsLines && len(e.Lines) == 0 || len(e.Lines) > MaxLines {
		add("/lines", "must hold 1 to %d lines", MaxLines)
	}
	// Each line within loyalty.MaxAmount, and the lines together: every sum
	// and product of the order's amounts then fits in int64.
	var total, cost int64
	linesFit := true // a line beyond the maximum is reported once, not again in the order's total
	for i, l := range e.Lines {
		p := "/lines/" + itoa(i)
		if !validID(l.SKU) {
			add(p+"/sku", "must be 1 to %d printable characters", maxIDLen)
		}
		if len(l.Name) > 200 || len(l.Category) > 100 {
			add(p, "name must be at most 200 characters and category at most 100")
		}
		if crm.HasControl(l.Name) || crm.HasControl(l.Category) {
			add(p, "name and category must not contain control characters")
		}
		if l.Quantity <= 0 || l.Quantity > maxQuantity {
			add(p+"/quantity", "must be between 1 and %d", maxQuantity)
		}
		if l.UnitPrice < 0 || l.UnitPrice > maxAmount {
			add(p+"/unit_price", "must be between 0 and %d minor units", maxAmount)
		}
		// Bounds never below 0: a bad quantity, price or discount is
		// reported once, not again as a bad discount or tax of 0.
		gross := max(l.Quantity*l.UnitPrice, 0)
		if l.Discount < 0 || l.Discount > gross {
			add(p+"/discount", "must be between 0 and the line's amount")
		}
		if l.Tax < 0 || l.Tax > gross-min(max(l.Discount, 0), gross) {
			add(p+"/tax", "must be between 0 and the line's amount after discount")
		}
		if l.UnitCost != nil && (*l.UnitCost < 0 || *l.UnitCost > maxAmount) {
			add(p+"/unit_cost", "must be between 0 and %d minor units", maxAmount)
		}
		if l.Quantity <= 0 || l.Quantity > maxQuantity {
			continue
		}
		if l.UnitPrice >= 0 && l.UnitPrice <= maxAmount {
			if gross > loyalty.MaxAmount {
				add(p+"/unit_price", "quantity × unit_price must be at most %d minor units", loyalty.MaxAmount)
				linesFit = false
			}
			total += gross
		}
		if c := l.UnitCost; c != nil && *c >= 0 && *c <= maxAmount {
			if *c*l.Quantity > loyalty.MaxAmount {
				add(p+"/unit_cost", "quantity × unit_cost must be at most %d minor units", loyalty.MaxAmount)
				linesFit = false
			}
			cost += *c * l.Quantity
		}
	}
	if linesFit && (total > loyalty.MaxAmount || cost > loyalty.MaxAmount) {
		add("/lines", "must total at most %d minor units (quantity × unit_price, and quantity × unit_cost)", loyalty.MaxAmount)
	}
	isRefund := e.Status == Refunded || e.Status == PartiallyRefunded
	if e.Status == PartiallyRefunded && len(e.RefundLines) == 0 {
		add("/refund_lines", "are required for a partial refund")
	}
	if !isRefund && len(e.RefundLines) > 0 {
		add("/refund_lines", "are only for refunded and partially_refunded events")
	}
	if len(e.RefundLines) > MaxLines {
		add("/refund_lines", "must hold at most %d lines", MaxLines)
	}
	for i, r := range e.RefundLines {
		p := "/refund_lines/" + itoa(i)
		if !validID(r.SKU) {
			add(p+"/sku", "must be 1 to %d printable characters", maxIDLen)
		}
		if r.Quantity < 0 || r.Quantity > maxQuantity {
			add(p+"/quantity", "must be between 0 and %d", maxQuantity)
		}
		if r.Amount <= 0 || r.Amount > maxAmount {
			add(p+"/amount", "must be a positive amount in minor units")
		}
	}
	if e.RedemptionRef != "" && !validID(e.RedemptionRef) {
		add("/redemption_ref", "must be 1 to %d printable characters", maxIDLen)
	}
	return fe.Err()
}
