// Package purchasemsg is the JSON form of purchase events: the webhook
// payload merchants' points of sale send (one event, or {"events": [...]}),
// and the queue message between the webhook and the ingest function.
package purchasemsg

import (
	"bytes"
	"errors"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/purchase"
)

// MaxEvents is the most events one webhook request may carry.
const MaxEvents = 100

type locationJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type customerJSON struct {
	CustomerID string `json:"customer_id"`
	CardNumber string `json:"card_number"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	ExternalID string `json:"external_id"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Anonymous  bool   `json:"anonymous"`
}

type lineJSON struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Category  string `json:"category"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Discount  int64  `json:"discount"`
	Tax       int64  `json:"tax"`
	UnitCost  *int64 `json:"unit_cost,omitzero"`
	OnSale    bool   `json:"on_sale"`
}

type refundLineJSON struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	Amount   int64  `json:"amount"`
}

// EventJSON is the canonical purchase event on the wire.
type EventJSON struct {
	EventID       string           `json:"event_id"`
	OrderID       string           `json:"order_id"`
	Status        purchase.Status  `json:"status"`
	OccurredAt    string           `json:"occurred_at"` // RFC 3339 with offset
	Location      locationJSON     `json:"location"`
	Customer      customerJSON     `json:"customer"`
	Currency      string           `json:"currency"`
	Lines         []lineJSON       `json:"lines"`
	RefundLines   []refundLineJSON `json:"refund_lines"`
	RedemptionRef string           `json:"redemption_ref"`
}

func (e EventJSON) event(path string) (purchase.Event, error) {
	out := purchase.Event{EventID: e.EventID, OrderID: e.OrderID, Status: e.Status, Location: purchase.Location(e.Location),
		Customer: purchase.CustomerRef(e.Customer), Currency: e.Currency, RedemptionRef: e.RedemptionRef}
	if e.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339, e.OccurredAt)
		if err != nil {
			return purchase.Event{}, apperr.Field(path+"/occurred_at", "must be an RFC 3339 time with its offset, such as 2026-11-22T10:15:00+01:00")
		}
		out.OccurredAt = t
	}
	for _, l := range e.Lines {
		out.Lines = append(out.Lines, purchase.Line(l))
	}
	for _, r := range e.RefundLines {
		out.RefundLines = append(out.RefundLines, purchase.RefundLine(r))
	}
	return out, nil
}

// FromEvent is the wire form of an event.
func FromEvent(e purchase.Event) EventJSON {
	out := EventJSON{EventID: e.EventID, OrderID: e.OrderID, Status: e.Status, OccurredAt: e.OccurredAt.Format(time.RFC3339Nano),
		Location: locationJSON(e.Location), Customer: customerJSON(e.Customer), Currency: e.Currency, RedemptionRef: e.RedemptionRef,
		Lines: []lineJSON{}, RefundLines: []refundLineJSON{}}
	for _, l := range e.Lines {
		out.Lines = append(out.Lines, lineJSON(l))
	}
	for _, r := range e.RefundLines {
		out.RefundLines = append(out.RefundLines, refundLineJSON(r))
	}
	return out
}

type batchJSON struct {
	Events []EventJSON `json:"events"`
}

// DecodePayload reads a webhook body, one event or {"events": [...]}, and
// validates every event for the merchant's currency and country. Errors
// carry the JSON Pointer of the offending value; nothing is returned unless
// all are valid.
func DecodePayload(body []byte, currency, region string, now time.Time) ([]purchase.Event, error) {
	var probe map[string]jsontext.Value
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, decodeError(err)
	}
	var wire []EventJSON
	prefix := func(i int) string { return "" }
	if _, batch := probe["events"]; batch {
		var b batchJSON
		if err := json.Unmarshal(body, &b, json.RejectUnknownMembers(true)); err != nil {
			return nil, decodeError(err)
		}
		if len(b.Events) == 0 || len(b.Events) > MaxEvents {
			return nil, apperr.Field("/events", "must hold 1 to %d events", MaxEvents)
		}
		wire = b.Events
		prefix = func(i int) string { return "/events/" + itoa(i) }
	} else {
		var e EventJSON
		if err := json.Unmarshal(body, &e, json.RejectUnknownMembers(true)); err != nil {
			return nil, decodeError(err)
		}
		wire = []EventJSON{e}
	}
	var fe apperr.Fields
	out := make([]purchase.Event, 0, len(wire))
	for i, w := range wire {
		e, err := w.event(prefix(i))
		if err == nil {
			err = e.Validate(currency, region, now, prefix(i))
		}
		if err != nil {
			if !fe.Merge("", err) {
				return nil, err
			}
			continue
		}
		out = append(out, e)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeError(err error) error {
	var se *json.SemanticError
	if errors.As(err, &se) {
		if errors.Is(se.Err, json.ErrUnknownName) {
			return apperr.Field(string(se.JSONPointer), "is not a known field")
		}
		return apperr.Field(string(se.JSONPointer), "has the wrong type")
	}
	var sx *jsontext.SyntacticError
	if errors.As(err, &sx) {
		return apperr.Field(string(sx.JSONPointer), "malformed JSON at byte %d", sx.ByteOffset)
	}
	return apperr.Field("", "malformed JSON")
}

// Message is one event on the ingest queue.
type Message struct {
	MerchantID string    `json:"merchant_id"`
	WebhookID  string    `json:"webhook_id"`
	Event      EventJSON `json:"event"`
}

// Encode returns the queue message body of an event.
func Encode(mid, webhookID string, e purchase.Event) ([]byte, error) {
	return json.Marshal(Message{MerchantID: mid, WebhookID: webhookID, Event: FromEvent(e)}, json.Deterministic(true))
}

// Decode reads a queue message. The event is validated again by the
// consumer against the merchant it names.
func Decode(body []byte) (string, purchase.Event, error) {
	var m Message
	if err := json.Unmarshal(bytes.TrimSpace(body), &m, json.RejectUnknownMembers(true)); err != nil {
		return "", purchase.Event{}, decodeError(err)
	}
	if m.MerchantID == "" {
		return "", purchase.Event{}, apperr.Field("/merchant_id", "is required")
	}
	e, err := m.Event.event("/event")
	return m.MerchantID, e, err
}
