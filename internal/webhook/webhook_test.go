package webhook

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// The example of the Standard Webhooks specification: a library that follows
// it computes the same signature.
func TestSpecificationExample(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	id := "msg_p5jXN8AQM9LWM0D4loKWxJek"
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	got, err := Sign(secret, id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if _, err := Verify([]string{secret}, map[string]string{HeaderID: id, HeaderTimestamp: "1614265330", HeaderSignature: got}, body, ts); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	old, current := NewSecret(), NewSecret()
	body := []byte(`{"order_id":"T-1"}`)
	sig := func(secret string, at time.Time, b []byte) map[string]string {
		s, err := Sign(secret, "msg_1", at, b)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{HeaderID: "msg_1", HeaderTimestamp: strconv.FormatInt(at.Unix(), 10), HeaderSignature: s}
	}
	for _, tc := range []struct {
		name    string
		secrets []string
		headers map[string]string
		body    []byte
		ok      bool
	}{
		{"current secret", []string{current}, sig(current, now, body), body, true},
		{"either secret during rotation", []string{current, old}, sig(old, now, body), body, true},
		{"several signatures, one good", []string{current}, func() map[string]string {
			h := sig(current, now, body)
			h[HeaderSignature] = "v1,AAAA " + h[HeaderSignature]
			return h
		}(), body, true},
		{"within tolerance", []string{current}, sig(current, now.Add(-4*time.Minute), body), body, true},
		{"stale timestamp", []string{current}, sig(current, now.Add(-6*time.Minute), body), body, false},
		{"future timestamp", []string{current}, sig(current, now.Add(6*time.Minute), body), body, false},
		{"retired secret", []string{current}, sig(old, now, body), body, false},
		{"tampered body", []string{current}, sig(current, now, body), []byte(`{"order_id":"T-2"}`), false},
		{"other version", []string{current}, func() map[string]string {
			h := sig(current, now, body)
			h[HeaderSignature] = strings.Replace(h[HeaderSignature], "v1,", "v2,", 1)
			return h
		}(), body, false},
		{"missing headers", []string{current}, map[string]string{}, body, false},
		{"bad timestamp", []string{current}, map[string]string{HeaderID: "m", HeaderTimestamp: "soon", HeaderSignature: "v1,x"}, body, false},
	} {
		_, err := Verify(tc.secrets, tc.headers, tc.body, now)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil && apperr.CodeOf(err) != apperr.Unauthorized {
			t.Errorf("%s: code %s, want unauthorized", tc.name, apperr.CodeOf(err))
		}
	}
}
