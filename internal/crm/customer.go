// Package crm is the customer base: profiles, their validation and
// normalisation, and the metrics shown beside them. It is pure Go: storage and
// HTTP live elsewhere.
package crm

import (
	"slices"
	"time"
)

// Type says how a customer came to the merchant.
type Type string

// Customer types.
const (
	TypeAnonymous Type = "anonymous" // bought without identifying
	TypeProspect  Type = "prospect"  // left contact details, has not bought
	TypeDirect    Type = "direct"    // registered or bought as an identified customer
)

// State is the account state.
type State string

// Customer states.
const (
	StatePending   State = "pending"   // waiting for the merchant to activate them
	StateActive    State = "active"    // may buy and earn
	StateSuspended State = "suspended" // kept, but neither earns nor redeems
	StateMerged    State = "merged"    // a duplicate merged into another customer: a tombstone (see Merge)
)

// ActivityWindow is how recent a transaction must be for a customer to count
// as active.
const ActivityWindow = 30 * 24 * time.Hour

// MaxClockSkew is how far ahead of the server's clock a time sent by a
// client or a point of sale (an enrolment, a purchase) may be: a clock a
// little fast. Anything later is refused, so no stored time is in the future
// by more than this.
const MaxClockSkew = 5 * time.Minute

// DefaultCardTemplate is the card a customer gets when none is named.
const DefaultCardTemplate = "standard"

// Address is one postal address; exactly one of a customer's addresses is primary.
type Address struct {
	Label      string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	Country    string // ISO 3166-1 alpha-2
	Primary    bool
}

// Profile is the part of a customer that the merchant writes.
type Profile struct {
	ExternalID        string
	CardNumber        string
	CardTemplate      string
	GivenName         string
	FamilyName        string
	Email             string // normalised: trimmed, lower-case domain and local part
	Phone             string // E.164
	DocumentNumber    string
	Birthday          string // YYYY-MM-DD, or --MM-DD when the year is unknown
	DeviceType        string
	Tags              []string
	Favorite          bool
	Attributes        map[string]string
	Addresses         []Address
	Type              Type
	NewsletterConsent bool
}

// Metrics are computed from purchases and the ledger; they are never written
// through the API. Money is in minor units of the merchant's currency.
type Metrics struct {
	Tickets         int64 // purchase days, all time
	Tickets12M      int64
	Revenue         int64 // net of tax, discounts and refunds; equals LTV
	Revenue12M      int64
	Margin          int64 // revenue minus known cost
	Margin12M       int64
	Units           int64
	LastVisitAt     *time.Time
	FirstPurchaseAt *time.Time
	FirstStore      string
	PointsBalance   int64
	LastProducts    []string         // products of the last ticket
	LocationVisits  map[string]int64 // counted orders by location: the favourite is the most visited
}

// FavoriteLocation is the location of most visits (ties: alphabetical).
func (m Metrics) FavoriteLocation() string {
	best, n := "", int64(0)
	for loc, c := range m.LocationVisits {
		if c > n || c == n && loc < best {
			best, n = loc, c
		}
	}
	return best
}

// AveragePrice is revenue per unit bought, rounded down.
func (m Metrics) AveragePrice() int64 {
	if m.Units == 0 {
		return 0
	}
	return m.Revenue / m.Units
}

// AOV is the average order value: revenue per ticket, rounded down.
func (m Metrics) AOV() int64 {
	if m.Tickets == 0 {
		return 0
	}
	return m.Revenue / m.Tickets
}

// Customer is one person in a merchant's base.
type Customer struct {
	ID         string
	MerchantID string
	Profile
	State      State
	EnrolledAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Metrics    Metrics
	// MergedInto is the survivor of a merged duplicate (State merged).
	MergedInto string
	// Aliases are the identifiers of duplicates merged into this customer
	// that now resolve to them besides their own (see Merge).
	Aliases []Unique
	// Version increases with every write; storage uses it for optimistic locking.
	Version int64
	// Source is what writes this version (api, card, import, purchase): a
	// change of newsletter consent goes on the timeline with it. Not stored.
	Source string
}

// Active reports whether the customer made a transaction in the 30 days before now.
func (c Customer) Active(now time.Time) bool {
	return c.Metrics.LastVisitAt != nil && now.Sub(*c.Metrics.LastVisitAt) <= ActivityWindow
}

// HasTag reports whether the customer carries tag, compared case- and accent-insensitively.
func (c Customer) HasTag(tag string) bool {
	return slices.Contains(c.TagKeys(), Fold(tag))
}

// TagKeys returns the folded tags, the form filters compare against.
func (c Customer) TagKeys() []string {
	keys := make([]string, 0, len(c.Tags))
	for _, t := range c.Tags {
		keys = append(keys, Fold(t))
	}
	return keys
}

// FullName is "given family", trimmed.
func (c Customer) FullName() string {
	switch {
	case c.GivenName == "":
		return c.FamilyName
	case c.FamilyName == "":
		return c.GivenName
	}
	return c.GivenName + " " + c.FamilyName
}

// Unique is one identifier that no two customers of a merchant may share.
type Unique struct {
	Kind  string // "email", "phone", "card", "external_id"
	Value string
}

// Uniques lists the customer's unique identifiers: the profile's and the
// aliases taken over from merged duplicates.
func (c Customer) Uniques() []Unique {
	u := c.Profile.Uniques()
	for _, a := range c.Aliases {
		if !slices.Contains(u, a) {
			u = append(u, a)
		}
	}
	return u
}

// Uniques lists the profile's unique identifiers.
func (p Profile) Uniques() []Unique {
	var u []Unique
	for _, x := range []Unique{{"email", p.Email}, {"phone", p.Phone}, {"card", p.CardNumber}, {"external_id", p.ExternalID}} {
		if x.Value != "" {
			u = append(u, x)
		}
	}
	return u
}
