package crm

import "time"

// VisitType says what a customer did at a visit (seed 000).
type VisitType string

// Visit types.
const (
	VisitAccrual    VisitType = "accrual"    // bought and earned
	VisitRedemption VisitType = "redemption" // redeemed points or a reward
)

// Visit is one visit of a customer to a location.
type Visit struct {
	ID       string
	At       time.Time
	Location string
	Type     VisitType
	Source   string // what recorded it, e.g. "reward:<id>"
}

// Event is one entry of a customer's history that is neither a purchase nor
// a ledger movement: badge changes, profile changes, external interactions.
type Event struct {
	ID   string
	Type string // e.g. badge_gained, badge_lost
	At   time.Time
	Data map[string]string
}
