package purchasemsg

import (
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/apperr"
)

// FuzzDecodePayload: any body either decodes to 1 to MaxEvents valid events,
// which survive the queue unchanged, or is refused with an Invalid error
// carrying at least one field — never a panic, never both or neither.
// The seed corpus runs in plain `go test`; explore with
// go test -fuzz FuzzDecodePayload ./internal/purchasemsg/
func FuzzDecodePayload(f *testing.F) {
	single := eventBody(0)
	for _, body := range []string{
		single,
		batchBody(1),
		batchBody(3),
		batchBody(MaxEvents),
		batchBody(MaxEvents + 1),
		`{"events":[]}`,
		`{"events":null}`,
		`{"events":{}}`,
		`{}`,
		`null`,
		`[]`,
		`""`,
		``,
		`{`,
		`{"event_id":"a","event_id":"b"}`,
		"{\"event_id\":\"\xff\"}",
		strings.Replace(single, `+01:00"`, `"`, 1),
		strings.Replace(single, `"2026-03-14T10:05:00+01:00"`, `"9999-12-31T23:59:59+23:59"`, 1),
		strings.Replace(single, `"2026-03-14T10:05:00+01:00"`, `"0000-01-01T00:00:00+01:00"`, 1),
		strings.Replace(single, `"2026-03-14T10:05:00+01:00"`, `"2026-03-14T10:05:00.999999999999Z"`, 1),
		strings.Replace(single, `"quantity":2`, `"quantity":9223372036854775807`, 1),
		strings.Replace(single, `"unit_price":1210`, `"unit_price":-9223372036854775808`, 1),
		strings.Replace(single, `"discount":220`, `"discount":-9223372036854775808`, 1),
		strings.Replace(single, `"quantity":2`, `"quantity":1e3`, 1),
		strings.Replace(single, `"unit_cost":400`, `"unit_cost":null`, 1),
		strings.Replace(single, `"status":"paid"`, `"status":"cancelled","lines":null,"x":1`, 1),
		strings.Replace(single, `"email":"ana@example.com"`, `"anonymous":true`, 1),
		strings.Replace(single, `"email":"ana@example.com"`, `"email":"\u0000@example.com"`, 1),
		strings.Replace(single, `"status":"paid"`, `"status":"partially_refunded","refund_lines":[{"sku":"CAFE","quantity":0,"amount":1}]`, 1),
		`{"events":[` + single + `,` + strings.Replace(single, `"EUR"`, `"USD"`, 1) + `]}`,
		`{"events":[` + single + `],"events":[]}`,
		`{"events":[` + strings.Repeat("[", 100),
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := DecodePayload(body, "EUR", "ES", testNow)
		if err != nil {
			if evs != nil {
				t.Fatalf("events and an error: %v, %v", evs, err)
			}
			e := apperr.As(err)
			if e == nil || e.Code != apperr.Invalid || len(e.Fields) == 0 {
				t.Fatalf("not an Invalid error with a field: %#v", err)
			}
			for _, fe := range e.Fields {
				if fe.Path != "" && !strings.HasPrefix(fe.Path, "/") {
					t.Fatalf("path %q is no JSON pointer", fe.Path)
				}
				if fe.Message == "" {
					t.Fatalf("path %q without a message", fe.Path)
				}
			}
			return
		}
		if len(evs) == 0 || len(evs) > MaxEvents {
			t.Fatalf("%d events and no error", len(evs))
		}
		for i, e := range evs {
			if err := e.Validate("EUR", "ES", testNow, ""); err != nil {
				t.Fatalf("event %d decoded but invalid: %v", i, err)
			}
			msg, err := Encode("m-1", "wh-1", e)
			if err != nil {
				t.Fatalf("event %d: Encode: %v", i, err)
			}
			mid, got, err := Decode(msg)
			if err != nil || mid != "m-1" {
				t.Fatalf("event %d: Decode(%s): %v", i, msg, err)
			}
			sameEvent(t, got, e)
		}
	})
}
