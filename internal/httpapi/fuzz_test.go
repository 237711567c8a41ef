package httpapi

import (
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
)

// The seed corpus runs with every `go test`; `go test -fuzz=FuzzDecode…`
// explores further. The property: any body either decodes and validates, or
// is refused with an Invalid error that names a field; never a panic, never
// an internal error.
var fuzzSeeds = []string{
	`{}`,
	`{"given_name":"María José","email":"MJ@Example.com","phone":"+34 600 123 456","tags":["VIP"],"attributes":{"k":"v"},"addresses":[{"line1":"Calle Mayor 1","country":"es","primary":true}],"birthday":"1990-01-31","type":"prospect","state":"pending","enrolled_at":"2024-01-01T00:00:00Z"}`,
	`{"email":"x"}`, `{"favorite":"yes"}`, `{"ltv":1}`, `[]`, `null`, `{"a":`, `{"tags":[null]}`, `{"attributes":{"":""}}`,
	`{"addresses":[{},{}]}`, `{"birthday":"--02-30"}`, "{\"given_name\":\"\xff\"}", `{"email":"a@b.es","email":"a@b.es"}`,
	`{"tags":null,"attributes":null,"addresses":null,"phone":""}`,
}

func invalidWithField(t *testing.T, err error) {
	t.Helper()
	e := apperr.As(err)
	if e == nil || e.Code != apperr.Invalid {
		t.Fatalf("want an Invalid error, got %v", err)
	}
}

func FuzzDecodeCreateCustomer(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in createCustomerJSON
		if err := decodeJSON(body, "application/json", &in, readOnlyMembers...); err != nil {
			invalidWithField(t, err)
			return
		}
		c, err := crm.New("M", crm.Enrolment{Profile: in.profile(), State: in.State, EnrolledAt: in.EnrolledAt}, now)
		if err != nil {
			invalidWithField(t, err)
			if len(apperr.As(err).Fields) == 0 {
				t.Fatal("a validation error without a field path")
			}
			return
		}
		// A valid customer is canonical: normalising again changes nothing.
		again, err := c.Profile.Normalize(now, "")
		if err != nil || again.Email != c.Email || again.Phone != c.Phone || strings.Join(again.Tags, ",") != strings.Join(c.Tags, ",") {
			t.Fatalf("normalisation is not idempotent: %+v vs %+v (%v)", c.Profile, again, err)
		}
	})
}

func FuzzDecodePatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in patchJSON
		if err := decodeJSON(body, "application/json", &in, readOnlyMembers...); err != nil {
			invalidWithField(t, err)
			return
		}
		if _, err := presentMembers(body); err != nil {
			t.Fatalf("decoded but members unreadable: %v", err)
		}
	})
}

func FuzzListQuery(f *testing.F) {
	f.Add("limit", "10", "q", "jos")
	f.Add("order", "name", "q", "a@b.es")
	f.Add("favorite", "true", "tag", "VÍP")
	f.Add("cursor", "x", "activity", "active")
	f.Add("limit", "-1", "q", "+34")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		q, err := parseListQuery(map[string]string{k1: v1, k2: v2}, time.Now())
		if err != nil {
			invalidWithField(t, err)
			return
		}
		if q.Limit < 1 || q.Limit > crm.MaxLimit {
			t.Fatalf("limit %d accepted", q.Limit)
		}
	})
}
