// Package idempotency holds the rules of the Idempotency-Key header: which
// keys are acceptable, how a request is fingerprinted, and what a repeated
// key means. Storage keeps the records; the HTTP layer applies the outcome.
package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Record is what is kept of a request made with a key.
type Record struct {
	Fingerprint string // hash of route, path parameters and body
	Done        bool   // false while the first request is still running
	Status      int
	Body        []byte
	Headers     map[string]string
}

// ValidKey checks a client-chosen key: 1 to 255 printable ASCII characters.
func ValidKey(k string) error {
	if len(k) == 0 || len(k) > 255 {
		return apperr.Field("Idempotency-Key", "must be 1 to 255 characters")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return apperr.Field("Idempotency-Key", "must be printable ASCII without spaces")
		}
	}
	return nil
}

// Fingerprint identifies a request's intent: the same key must come with the
// same route, target and body.
func Fingerprint(route, target string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(route))
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Outcome is what to do with a request whose key was already used.
type Outcome int

// Outcomes.
const (
	Replay     Outcome = iota // answer with the stored response
	InProgress                // the first request is still running: 409
	Mismatch                  // the key was used for a different request: 422
)

// Decide compares a stored record with a new request's fingerprint.
func Decide(stored Record, fingerprint string) Outcome {
	switch {
	case stored.Fingerprint != fingerprint:
		return Mismatch
	case !stored.Done:
		return InProgress
	}
	return Replay
}
