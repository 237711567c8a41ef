package idempotency

import (
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"3f1c-4e2a_order:991", true},
		{strings.Repeat("k", 255), true},
		{"", false},
		{strings.Repeat("k", 256), false},
		{"has space", false},
		{"ñ", false},
		{"tab\t", false},
	} {
		if err := ValidKey(tc.key); (err == nil) != tc.ok {
			t.Errorf("ValidKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
	}
}

func TestDecide(t *testing.T) {
	fp := Fingerprint("POST /v1/customers", "", []byte(`{"email":"a@b.co"}`))
	for _, tc := range []struct {
		name   string
		stored Record
		fp     string
		want   Outcome
	}{
		{"same request, finished", Record{Fingerprint: fp, Done: true, Status: 201}, fp, Replay},
		{"same request, running", Record{Fingerprint: fp}, fp, InProgress},
		{"other body", Record{Fingerprint: fp, Done: true}, Fingerprint("POST /v1/customers", "", []byte(`{}`)), Mismatch},
		{"other route", Record{Fingerprint: fp}, Fingerprint("POST /v1/api-keys", "", []byte(`{"email":"a@b.co"}`)), Mismatch},
	} {
		if got := Decide(tc.stored, tc.fp); got != tc.want {
			t.Errorf("%s: Decide = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFingerprintSeparatesFields(t *testing.T) {
	if Fingerprint("a", "bc", nil) == Fingerprint("ab", "c", nil) {
		t.Fatal("route and target must not run together")
	}
}
