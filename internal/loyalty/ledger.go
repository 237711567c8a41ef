package loyalty

import (
	"regexp"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// Source is what caused an entry: an order, a reward, a rule, an action…
// (Type, ID) also makes automatic postings idempotent: one source, one posting.
type Source struct {
	Type string
	ID   string
}

// Entry is one immutable ledger movement. Points is signed; BalanceAfter is
// the customer's balance right after it. A void never edits an entry: it
// posts a reversal (Voids = the original) and marks the original VoidedBy.
type Entry struct {
	ID           string
	CustomerID   string
	Kind         Kind
	Points       int64
	BalanceAfter int64
	Reason       string
	Note         string
	Actor        string // "key:<api key id>" or "rule:<name>"
	Source       Source
	Location     string
	CreatedAt    time.Time // when it was posted: the transaction's time; lists, exports and reports order by it
	OccurredAt   time.Time // when what it records happened: a purchase's occurred_at, else CreatedAt
	Voids        string
	VoidedBy     string
}

// Credit reports whether the entry added points.
func (e Entry) Credit() bool { return e.Points > 0 }

// MovementFilter selects a merchant's ledger entries: those of a period
// (inclusive) that match every filter set.
type MovementFilter struct {
	From, To time.Time
	Customer string
	Min, Max *int64 // points
	Kind     Kind
	Reason   string
	Location string
}

// Match reports whether e passes the filters other than the period.
func (f MovementFilter) Match(e Entry) bool {
	switch {
	case f.Customer != "" && e.CustomerID != f.Customer,
		f.Min != nil && e.Points < *f.Min,
		f.Max != nil && e.Points > *f.Max,
		f.Kind != "" && e.Kind != f.Kind,
		f.Reason != "" && e.Reason != f.Reason,
		f.Location != "" && e.Location != f.Location:
		return false
	}
	return true
}

// EntryPage is a page of ledger entries.
type EntryPage struct {
	Entries    []Entry
	NextCursor string
}

// CheckoutRedemption is points redeemed against an order at checkout.
type CheckoutRedemption struct {
	OrderRef  string
	Points    int64
	Discount  int64 // minor units
	EntryID   string
	Cancelled bool
	Location  string
	VisitID   string // the redemption visit recorded with it at Location (none without one)
	CreatedAt time.Time
}

var reasonCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ValidNote checks the free-text note of a manual movement.
func ValidNote(path, note string) error {
	if len(note) > 500 || strings.ContainsRune(note, 0) {
		return apperr.Field(path, "must be at most 500 characters")
	}
	return nil
}

// ValidReason checks a reason code (lower-case snake_case).
func ValidReason(path, reason string) error {
	if !reasonCode.MatchString(reason) {
		return apperr.Field(path, "must be a lower-case code such as manual or birthday_bonus")
	}
	return nil
}

// ValidRef checks an external reference (order, review, action).
func ValidRef(path, ref string) error {
	if ref == "" || len(ref) > 128 || strings.ContainsFunc(ref, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return apperr.Field(path, "must be 1 to 128 printable characters without spaces")
	}
	return nil
}
