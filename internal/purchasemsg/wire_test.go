package purchasemsg

import (
	"bytes"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/purchase"
)

// testNow is the webhook's clock in every test.
var testNow = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func costOf(v int64) *int64 { return &v }

// eventBody is a valid event as a till sends it; n numbers its IDs.
// CAFE: 2 × 12.10 − 2.20 discount − 2.00 tax = net 20.00.
func eventBody(n int) string {
	return `{"event_id":"evt-` + strconv.Itoa(n) + `","order_id":"ord-` + strconv.Itoa(n) + `","status":"paid",` +
		`"occurred_at":"2026-03-14T10:05:00+01:00",` +
		`"location":{"id":"mad-1","name":"Madrid Malasaña"},` +
		`"customer":{"email":"ana@example.com","given_name":"Ana"},` +
		`"currency":"EUR",` +
		`"lines":[{"sku":"CAFE","name":"Café con leche","category":"drinks","quantity":2,"unit_price":1210,"discount":220,"tax":200,"unit_cost":400}]}`
}

func batchBody(n int) string {
	events := make([]string, n)
	for i := range events {
		events[i] = eventBody(i)
	}
	return `{"events":[` + strings.Join(events, ",") + `]}`
}

// edit replaces the first occurrence of old in body, and fails if absent.
func edit(t testing.TB, body, old, new string) string {
	t.Helper()
	if !strings.Contains(body, old) {
		t.Fatalf("%q not in the body", old)
	}
	return strings.Replace(body, old, new, 1)
}

// wantEvent is eventBody(n) decoded.
func wantEvent(n int) purchase.Event {
	return purchase.Event{
		EventID:    "evt-" + strconv.Itoa(n),
		OrderID:    "ord-" + strconv.Itoa(n),
		Status:     purchase.Paid,
		OccurredAt: time.Date(2026, 3, 14, 9, 5, 0, 0, time.UTC),
		Location:   purchase.Location{ID: "mad-1", Name: "Madrid Malasaña"},
		Customer:   purchase.CustomerRef{Email: "ana@example.com", GivenName: "Ana"},
		Currency:   "EUR",
		Lines: []purchase.Line{{SKU: "CAFE", Name: "Café con leche", Category: "drinks", Quantity: 2, UnitPrice: 1210,
			Discount: 220, Tax: 200, UnitCost: costOf(400)}},
	}
}

// sameEvent compares two events deeply, with their times compared as
// instants that must also keep their UTC offset.
func sameEvent(t testing.TB, got, want purchase.Event) {
	t.Helper()
	_, gotOff := got.OccurredAt.Zone()
	_, wantOff := want.OccurredAt.Zone()
	if !got.OccurredAt.Equal(want.OccurredAt) || gotOff != wantOff {
		t.Errorf("occurred_at %v, want %v", got.OccurredAt, want.OccurredAt)
	}
	got.OccurredAt, want.OccurredAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event\n got %#v\nwant %#v", got, want)
	}
}

// invalidPaths returns the field paths of an apperr Invalid error, and
// fails the test on anything else.
func invalidPaths(t testing.TB, err error) []string {
	t.Helper()
	e := apperr.As(err)
	if e == nil || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		t.Fatalf("error %v is not an Invalid error with fields", err)
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Path
		if f.Message == "" {
			t.Errorf("%s: no message", f.Path)
		}
	}
	return out
}

func TestDecodeSingleEvent(t *testing.T) {
	got, err := DecodePayload([]byte(eventBody(7)), "EUR", "ES", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	want := wantEvent(7)
	want.OccurredAt = want.OccurredAt.In(time.FixedZone("", 3600))
	sameEvent(t, got[0], want)
}

func TestDecodeBatch(t *testing.T) {
	for _, n := range []int{1, 3, MaxEvents} {
		got, err := DecodePayload([]byte(batchBody(n)), "EUR", "ES", testNow)
		if err != nil {
			t.Fatalf("%d events: %v", n, err)
		}
		if len(got) != n {
			t.Fatalf("%d events decoded, want %d", len(got), n)
		}
		for i, e := range got { // in the order sent
			if e.EventID != "evt-"+strconv.Itoa(i) {
				t.Fatalf("event %d is %s", i, e.EventID)
			}
		}
	}
}

// Everything a till may leave out of an event that needs no lines.
func TestDecodeMinimalEvents(t *testing.T) {
	for _, body := range []string{
		`{"event_id":"e","order_id":"o","status":"cancelled","occurred_at":"2026-03-14T10:05:00Z","customer":{"anonymous":true},"currency":"EUR"}`,
		`{"event_id":"e","order_id":"o","status":"refunded","occurred_at":"2026-03-14T10:05:00Z","customer":{"card_number":"1234"},"currency":"EUR","lines":null,"refund_lines":[]}`,
		`{"event_id":"e","order_id":"o","status":"partially_refunded","occurred_at":"2026-03-14T10:05:00.123456789-05:00","customer":{"phone":"+34600123456"},"currency":"EUR","refund_lines":[{"sku":"CAFE","amount":5}]}`,
		// Whitespace around the document is fine.
		"\n\t " + eventBody(1) + "\r\n",
	} {
		if _, err := DecodePayload([]byte(body), "EUR", "ES", testNow); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	single, batch := eventBody(0), batchBody(5)
	for _, tc := range []struct {
		name  string
		body  string
		paths []string
	}{
		// Sizes of a batch.
		{"no events", `{"events":[]}`, []string{"/events"}},
		{"null events", `{"events":null}`, []string{"/events"}},
		{"101 events", batchBody(MaxEvents + 1), []string{"/events"}},

		// Validation, with the event's index in the path; every invalid
		// event is reported, not only the first.
		{"single: bad quantity", edit(t, single, `"quantity":2`, `"quantity":0`), []string{"/lines/0/quantity", "/lines/0/discount", "/lines/0/tax"}},
		{"batch: bad quantity", `{"events":[` + eventBody(0) + `,` + eventBody(1) + `,` + eventBody(2) + `,` +
			edit(t, eventBody(3), `"quantity":2`, `"quantity":2000000`) + `,` + eventBody(4) + `]}`,
			[]string{"/events/3/lines/0/quantity"}},
		{"batch: several events wrong", `{"events":[` + eventBody(0) + `,` +
			edit(t, eventBody(1), `"2026-03-14T10:05:00+01:00"`, `"2026-03-14T10:05:00"`) + `,` +
			edit(t, edit(t, eventBody(2), `"EUR"`, `"USD"`), `"evt-2"`, `""`) + `,` +
			edit(t, eventBody(3), `"status":"paid"`, `"status":"partially_refunded"`) + `]}`,
			[]string{"/events/1/occurred_at", "/events/2/event_id", "/events/2/currency", "/events/3/refund_lines"}},
		{"future event", edit(t, single, `"2026-03-14T10:05:00+01:00"`, `"2026-03-17T10:05:00+01:00"`), []string{"/occurred_at"}},
		{"missing everything", `{}`, []string{"/event_id", "/order_id", "/status", "/occurred_at", "/currency", "/customer", "/lines"}},
		{"null", `null`, []string{"/event_id", "/order_id", "/status", "/occurred_at", "/currency", "/customer", "/lines"}},

		// occurred_at must be RFC 3339 with an offset.
		{"occurred_at without offset", edit(t, single, `+01:00"`, `"`), []string{"/occurred_at"}},
		{"occurred_at date only", edit(t, single, `"2026-03-14T10:05:00+01:00"`, `"2026-03-14"`), []string{"/occurred_at"}},
		{"occurred_at with a space", edit(t, single, `"2026-03-14T10:05:00+01:00"`, `"2026-03-14 10:05:00+01:00"`), []string{"/occurred_at"}},
		{"occurred_at unix", edit(t, single, `"2026-03-14T10:05:00+01:00"`, `"1773479100"`), []string{"/occurred_at"}},
		{"occurred_at empty", edit(t, single, `"2026-03-14T10:05:00+01:00"`, `""`), []string{"/occurred_at"}},
		{"batch: occurred_at without offset", edit(t, batch, `"evt-4","order_id":"ord-4","status":"paid","occurred_at":"2026-03-14T10:05:00+01:00"`,
			`"evt-4","order_id":"ord-4","status":"paid","occurred_at":"2026-03-14T10:05:00"`), []string{"/events/4/occurred_at"}},

		// Unknown members, at every level, with their path.
		{"unknown top-level member", edit(t, single, `{"event_id"`, `{"shop":1,"event_id"`), []string{"/shop"}},
		{"member of another case", edit(t, single, `"event_id"`, `"Event_ID"`), []string{"/Event_ID"}},
		{"unknown location member", edit(t, single, `"id":"mad-1"`, `"id":"mad-1","city":"Madrid"`), []string{"/location/city"}},
		{"unknown customer member", edit(t, single, `"given_name"`, `"first_name"`), []string{"/customer/first_name"}},
		{"unknown batch member", `{"events":[` + eventBody(0) + `],"source":"pos"}`, []string{"/source"}},
		{"event member beside events", `{"event_id":"x","events":[` + eventBody(0) + `]}`, []string{"/event_id"}},
		{"unknown member in an event of a batch", `{"events":[` + eventBody(0) + `,` + edit(t, eventBody(1), `"status"`, `"state":1,"status"`) + `]}`,
			[]string{"/events/1/state"}},
		{"unknown member in a batch's location", `{"events":[` + eventBody(0) + `,` + edit(t, eventBody(1), `"id":"mad-1"`, `"zip":"28004","id":"mad-1"`) + `]}`,
			[]string{"/events/1/location/zip"}},
		{"unknown member in a batch's customer", `{"events":[` + edit(t, eventBody(0), `"email"`, `"vip":true,"email"`) + `]}`,
			[]string{"/events/0/customer/vip"}},
		{"unknown member in a batch's line", `{"events":[` + eventBody(0) + `,` + eventBody(1) + `,` + edit(t, eventBody(2), `"sku":"CAFE"`, `"sku":"CAFE","colour":"red"`) + `]}`,
			[]string{"/events/2/lines/0/colour"}},
		{"unknown member in a batch's refund line", `{"events":[` + edit(t, edit(t, eventBody(0), `"status":"paid"`, `"status":"refunded"`),
			`"currency":"EUR"`, `"currency":"EUR","refund_lines":[{"sku":"CAFE","amount":1,"reason":"broken"}]`) + `]}`,
			[]string{"/events/0/refund_lines/0/reason"}},

		// Wrong types.
		{"quantity as a string", edit(t, single, `"quantity":2`, `"quantity":"2"`), []string{"/lines/0/quantity"}},
		{"quantity with a fraction", edit(t, single, `"quantity":2`, `"quantity":1.5`), []string{"/lines/0/quantity"}},
		{"quantity beyond int64", edit(t, single, `"quantity":2`, `"quantity":1e30`), []string{"/lines/0/quantity"}},
		{"unit_cost as a string", edit(t, single, `"unit_cost":400`, `"unit_cost":"4.00"`), []string{"/lines/0/unit_cost"}},
		{"status as a number", edit(t, single, `"status":"paid"`, `"status":2`), []string{"/status"}},
		{"occurred_at as a number", edit(t, single, `"occurred_at":"2026-03-14T10:05:00+01:00"`, `"occurred_at":1773479100`), []string{"/occurred_at"}},
		{"anonymous as a string", edit(t, single, `"email":"ana@example.com"`, `"anonymous":"yes"`), []string{"/customer/anonymous"}},
		{"customer as a string", edit(t, single, `"customer":{"email":"ana@example.com","given_name":"Ana"}`, `"customer":"ana@example.com"`), []string{"/customer"}},
		{"events as an object", `{"events":{"0":` + eventBody(0) + `}}`, []string{"/events"}},
		{"an event as a string", `{"events":[` + eventBody(0) + `,"evt-1"]}`, []string{"/events/1"}},
		{"batch: quantity as a string", `{"events":[` + eventBody(0) + `,` + edit(t, eventBody(1), `"quantity":2`, `"quantity":"2"`) + `]}`,
			[]string{"/events/1/lines/0/quantity"}},
		{"a top-level array", `[` + eventBody(0) + `]`, []string{""}},
		{"a top-level string", `"evt"`, []string{""}},
		{"a top-level number", `42`, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := DecodePayload([]byte(tc.body), "EUR", "ES", testNow)
			if evs != nil {
				t.Errorf("events returned with an error: %v", evs)
			}
			if got := invalidPaths(t, err); !slices.Equal(got, tc.paths) {
				t.Errorf("paths %q, want %q (%v)", got, tc.paths, err)
			}
		})
	}
}

func TestDecodePayloadMoreUnknownsAndTypes(t *testing.T) {
	single := eventBody(0)
	for _, tc := range []struct {
		name, body, path string
	}{
		{"unknown line member", edit(t, single, `"unit_cost":400`, `"unit_cost":400,"vat_rate":10`), "/lines/0/vat_rate"},
		{"unknown refund line member", edit(t, edit(t, single, `"status":"paid"`, `"status":"refunded"`), `"currency":"EUR"`,
			`"currency":"EUR","refund_lines":[{"sku":"CAFE","amount":1},{"sku":"CAFE","amount":1,"why":"x"}]`), "/refund_lines/1/why"},
		{"lines as an object", edit(t, single, `"lines":[{"sku":"CAFE","name":"Café con leche","category":"drinks","quantity":2,"unit_price":1210,"discount":220,"tax":200,"unit_cost":400}]`,
			`"lines":{"sku":"CAFE"}`), "/lines"},
		{"a line as a number", edit(t, single, `"lines":[`, `"lines":[1,`), "/lines/0"},
		{"refund amount as a bool", edit(t, edit(t, single, `"status":"paid"`, `"status":"refunded"`), `"currency":"EUR"`,
			`"currency":"EUR","refund_lines":[{"sku":"CAFE","amount":true}]`), "/refund_lines/0/amount"},
		{"location as an array", edit(t, single, `"location":{"id":"mad-1","name":"Madrid Malasaña"}`, `"location":["mad-1"]`), "/location"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePayload([]byte(tc.body), "EUR", "ES", testNow)
			if got := invalidPaths(t, err); !slices.Equal(got, []string{tc.path}) {
				t.Errorf("paths %q, want %q (%v)", got, tc.path, err)
			}
		})
	}
}

// Malformed JSON is an Invalid error with one field (the path of where
// reading stopped, "" for the document) whose message says so.
func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{
		``,
		` `,
		`{`,
		`{"event_id": }`,
		`{"event_id":"a",}`,
		`{"event_id":"a"} {}`,
		`{"events":[` + eventBody(0) + `,]}`,
		`{"events":[` + eventBody(0),
		`{'event_id':'a'}`,
		"{\"event_id\":\"\xff\"}",                // not UTF-8
		`{"event_id":"a","event_id":"b"}`,        // a duplicate member
		`{"events":[],"events":[]}`,              // a duplicate batch member
		`{"customer":{"email":"a","email":"b"}}`, // a duplicate nested member
		`{"lines":[{"quantity":01}]}`,            // a leading zero
		`{"lines":[{"quantity":NaN}]}`,           //
		`{"event_id":"a\u12"}`,                   // a broken escape
		`{"events":[` + strings.Repeat("[", 20000), // deep nesting
	} {
		evs, err := DecodePayload([]byte(body), "EUR", "ES", testNow)
		if evs != nil || err == nil {
			t.Errorf("%.40q: decoded %v", body, evs)
			continue
		}
		if len(invalidPaths(t, err)) != 1 {
			t.Errorf("%.40q: %v", body, err)
		}
	}
	// The byte offset and the path of the problem are given.
	_, err := DecodePayload([]byte(`{"customer":{"email": }}`), "EUR", "ES", testNow)
	if f := apperr.As(err).Fields[0]; f.Path != "/customer/email" || !strings.Contains(f.Message, "byte 22") {
		t.Errorf("field %+v", f)
	}
}

// A full event through the queue: every field survives, and the time keeps
// its instant and its offset.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	full := purchase.Event{
		EventID:    "evt-1",
		OrderID:    "ord-1",
		Status:     purchase.PartiallyRefunded,
		OccurredAt: time.Date(2026, 7, 14, 23, 59, 59, 123456789, madrid), // +02:00 in summer
		Location:   purchase.Location{ID: "mad-1", Name: "Madrid Malasaña"},
		Customer: purchase.CustomerRef{CustomerID: "01J0000000000000000000000", CardNumber: "ABCD1234", Email: "ana@example.com",
			Phone: "+34600123456", ExternalID: "pos-42", GivenName: "Ana", FamilyName: "García López"},
		Currency: "EUR",
		Lines: []purchase.Line{
			{SKU: "CAFE", Name: "Café con leche", Category: "drinks", Quantity: 2, UnitPrice: 1210, Discount: 220, Tax: 200, UnitCost: costOf(400), OnSale: true},
			{SKU: "GIFT", Name: "Muestra", Quantity: 1, UnitPrice: 0, UnitCost: costOf(0)}, // a known cost of 0 is not "unknown"
			{SKU: "NAPO", Quantity: 1, UnitPrice: 550, Tax: 50},                            // no cost known
		},
		RefundLines:   []purchase.RefundLine{{SKU: "CAFE", Quantity: 1, Amount: 1000}, {SKU: "NAPO", Amount: 500}},
		RedemptionRef: "chk-9",
	}
	anonymous := purchase.Event{EventID: "e", OrderID: "o", Status: purchase.Cancelled, Currency: "EUR",
		OccurredAt: time.Date(2026, 1, 10, 18, 30, 0, 0, time.FixedZone("", -5*3600)), Customer: purchase.CustomerRef{Anonymous: true}}
	utc := wantEvent(3)
	for _, e := range []purchase.Event{full, anonymous, utc} {
		body, err := Encode("m-1", "wh-1", e)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Encode("m-1", "wh-1", e)
		if err != nil || !bytes.Equal(body, again) {
			t.Errorf("Encode is not deterministic")
		}
		mid, got, err := Decode(body)
		if err != nil {
			t.Fatalf("Decode(%s): %v", body, err)
		}
		if mid != "m-1" {
			t.Errorf("merchant %q", mid)
		}
		sameEvent(t, got, e)
		if err := got.Validate("EUR", "ES", testNow.AddDate(0, 6, 0), ""); err != nil {
			t.Errorf("decoded event invalid: %v", err)
		}

		// The message's event is a webhook payload of its own.
		var m struct {
			Event jsontext.Value `json:"event"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		evs, err := DecodePayload(m.Event, "EUR", "ES", testNow.AddDate(0, 6, 0))
		if err != nil || len(evs) != 1 {
			t.Fatalf("the message's event as a payload: %v", err)
		}
		sameEvent(t, evs[0], e)
	}
	// The wire form keeps the offset as the till gave it.
	body, _ := Encode("m-1", "wh-1", full)
	if !bytes.Contains(body, []byte(`"occurred_at":"2026-07-14T23:59:59.123456789+02:00"`)) || !bytes.Contains(body, []byte(`"webhook_id":"wh-1"`)) {
		t.Errorf("message %s", body)
	}
	// Around the message, whitespace is fine.
	if _, _, err := Decode(append(append([]byte("\n "), body...), '\n')); err != nil {
		t.Errorf("with whitespace: %v", err)
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	e := wantEvent(1)
	e.OccurredAt = e.OccurredAt.In(time.FixedZone("", 3600))
	body, err := Encode("m-1", "wh-1", e)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(body)
	for _, tc := range []struct {
		name, body, path string
	}{
		{"no merchant", edit(t, msg, `"merchant_id":"m-1"`, `"merchant_id":""`), "/merchant_id"},
		{"unknown member", edit(t, msg, `"merchant_id"`, `"tenant":1,"merchant_id"`), "/tenant"},
		{"unknown event member", edit(t, msg, `"event_id"`, `"shop":1,"event_id"`), "/event/shop"},
		{"bad occurred_at", edit(t, msg, `+01:00"`, `"`), "/event/occurred_at"},
		{"wrong type", edit(t, msg, `"quantity":2`, `"quantity":"2"`), "/event/lines/0/quantity"},
		{"malformed", msg[:len(msg)-1], ""},
		{"not an object", `[]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode([]byte(tc.body))
			if got := invalidPaths(t, err); !slices.Equal(got, []string{tc.path}) {
				t.Errorf("paths %q, want %q (%v)", got, tc.path, err)
			}
		})
	}
	// Decode leaves validation to the consumer: an event that fails it
	// still decodes.
	bad := wantEvent(1)
	bad.Lines = nil
	body, _ = Encode("m-1", "wh-1", bad)
	if _, e, err := Decode(body); err != nil || e.Lines != nil {
		t.Errorf("Decode of an invalid event: %v", err)
	}
}

// The signed webhook refuses orders whose amounts would not fit int64 once
// multiplied and summed (issue #10: 93 lines of the largest quantity and
// price made a revenue of 0, 185 made 1.07e15 points), and so does the
// queue's consumer, which validates the decoded event again.
func TestDecodeRefusesAmountsBeyondTheMaximum(t *testing.T) {
	line := `{"sku":"CAFE","quantity":1000000,"unit_price":100000000000}`
	body := edit(t, eventBody(1), `"lines":[{"sku":"CAFE","name":"Café con leche","category":"drinks","quantity":2,"unit_price":1210,"discount":220,"tax":200,"unit_cost":400}]`,
		`"lines":[`+strings.TrimSuffix(strings.Repeat(line+",", 93), ",")+`]`)
	_, err := DecodePayload([]byte(body), "EUR", "ES", testNow)
	if paths := invalidPaths(t, err); len(paths) != 93 || paths[0] != "/lines/0/unit_price" {
		t.Fatalf("93 largest lines: %v", paths)
	}
	fits := `{"sku":"CAFE","quantity":1000000,"unit_price":1000000000}` // 10^15 each: two are too much together
	body = edit(t, eventBody(1), `"lines":[{"sku":"CAFE","name":"Café con leche","category":"drinks","quantity":2,"unit_price":1210,"discount":220,"tax":200,"unit_cost":400}]`,
		`"lines":[`+fits+`,`+fits+`]`)
	if _, err := DecodePayload([]byte(body), "EUR", "ES", testNow); !slices.Equal(invalidPaths(t, err), []string{"/lines"}) {
		t.Fatalf("two lines of 10^15: %v", err)
	}
	msg := []byte(`{"merchant_id":"M1","webhook_id":"msg_1","event":` + body + `}`)
	_, e, err := Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Validate("EUR", "ES", testNow, "/event"); !slices.Equal(invalidPaths(t, err), []string{"/event/lines"}) {
		t.Fatalf("queue message of two lines of 10^15: %v", err)
	}
}
