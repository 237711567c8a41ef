// Package ids makes the identifiers used everywhere: ULIDs, which sort by
// creation time and are safe in URLs and DynamoDB keys.
package ids

import (
	"crypto/rand"
	"time"

	"github.com/oklog/ulid/v2"
)

// New returns a fresh ULID for the given time.
func New(t time.Time) string {
	return ulid.MustNew(ulid.Timestamp(t), rand.Reader).String()
}

// Valid reports whether s is a canonical ULID string.
func Valid(s string) bool {
	if len(s) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(s)
	return err == nil
}
