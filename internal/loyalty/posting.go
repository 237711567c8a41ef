package loyalty

import (
	"time"

	"github.com/regulars/regulars/internal/crm"
)

// Account is a customer with their wallet, as a posting reads it.
type Account struct {
	Customer crm.Customer
	Wallet   Wallet
	Badges   []string // IDs of the badges held
	// EventsPending says that timeline events of earlier postings (badges
	// gained and lost) are recorded but not yet written: the next posting
	// writes them.
	EventsPending bool
}

// Posting is everything one ledger operation writes, atomically: the wallet
// after it, its entries (whose points add up to the balance change) and what
// comes with them.
type Posting struct {
	Wallet     Wallet
	Badges     []string
	Entries    []Entry
	Claim      *Source             // posted at most once per source
	Voided     *Entry              // the original entry of a void, to be marked
	Redemption *CheckoutRedemption // a new checkout redemption, or one cancelled
	Reward     *Reward             // a reward redeemed: its stock goes down by one
	Visit      *crm.Visit
	Unvisit    *crm.Visit // a visit taken back (a cancelled checkout redemption's): its ID and At
	Events     []crm.Event
	Metrics    *crm.Metrics // new purchase metrics, when a purchase is applied
	Type       crm.Type     // the customer's new type, when it changes (a prospect who buys becomes direct); "" leaves it
}

// ErrAlreadyPosted says a source was posted before, as EntryID.
type ErrAlreadyPosted struct{ EntryID string }

func (e *ErrAlreadyPosted) Error() string { return "already posted as entry " + e.EntryID }

// ProgramVersion is one saved version of a program.
type ProgramVersion struct {
	Program   Program
	UpdatedAt time.Time
	UpdatedBy string
}

// MergeCutover is what the cut-over of a merge of duplicates writes at once:
// both customers as they become (the survivor with the merged profile, the
// duplicate as a tombstone) and the postings of the points transfer.
type MergeCutover struct {
	Survivor, Duplicate               crm.Customer
	SurvivorPosting, DuplicatePosting Posting
}
