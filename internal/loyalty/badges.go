package loyalty

import (
	"net/url"
	"slices"
	"strings"

	"github.com/regulars/regulars/internal/apperr"
)

// Basis is what a badge interval is measured on.
type Basis string

// Bases.
const (
	BasisBalance     Basis = "balance"      // the current balance (the default)
	BasisEarnedTotal Basis = "earned_total" // every point ever earned
)

// MaxBadges bounds a merchant's badges: the profile holds the IDs of those
// held and, until they are written, one pending timeline event per badge a
// posting gained or lost, within DynamoDB's 400 KB item.
const MaxBadges = 500

// Badge is a level unlocked while the basis lies in [From, To) (e.g.
// "Cliente Bronce" from 100 to 500 points). To nil means no upper bound.
type Badge struct {
	ID          string
	Title       string
	Description string
	IconURL     string
	From        int64
	To          *int64
	Basis       Basis
	Discount    *Cap // automatic checkout discount while held
}

// Validate checks a badge definition.
func (b Badge) Validate() (Badge, error) {
	var fe apperr.Fields
	b.Title = strings.TrimSpace(b.Title)
	if b.Title == "" || len(b.Title) > 100 {
		fe.Add("/title", "must be 1 to 100 characters")
	}
	if len(b.Description) > 1000 {
		fe.Add("/description", "must be at most 1000 characters")
	}
	if b.IconURL != "" {
		if u, err := url.Parse(b.IconURL); err != nil || u.Scheme != "https" || u.Host == "" || len(b.IconURL) > 2048 {
			fe.Add("/icon_url", "must be an https URL")
		}
	}
	if b.From < 0 || b.From > MaxBalance {
		fe.Add("/from", "must be between 0 and %d", MaxBalance)
	}
	switch {
	case b.To != nil && *b.To <= b.From:
		fe.Add("/to", "must be greater than from (the interval is [from, to))")
	case b.To != nil && *b.To > MaxBalance:
		fe.Add("/to", "must be at most %d", MaxBalance)
	}
	switch b.Basis {
	case "":
		b.Basis = BasisBalance
	case BasisBalance, BasisEarnedTotal:
	default:
		fe.Add("/basis", "must be balance or earned_total")
	}
	if d := b.Discount; d != nil {
		switch {
		case d.Kind == CapFixed && (d.Value <= 0 || d.Value > MaxAmount):
			fe.Add("/discount/value", "must be a positive amount in minor units, at most %d", MaxAmount)
		case d.Kind == CapPercent && (d.Value <= 0 || d.Value > 10000):
			fe.Add("/discount/value", "must be between 1 and 10000 basis points")
		case d.Kind != CapFixed && d.Kind != CapPercent:
			fe.Add("/discount/kind", "must be fixed or percent")
		}
	}
	if err := fe.Err(); err != nil {
		return Badge{}, err
	}
	return b, nil
}

func (b Badge) value(balance, earnedTotal int64) int64 {
	if b.Basis == BasisEarnedTotal {
		return earnedTotal
	}
	return balance
}

// Holds reports whether a customer with these figures holds the badge.
func (b Badge) Holds(balance, earnedTotal int64) bool {
	v := b.value(balance, earnedTotal)
	return v >= b.From && (b.To == nil || v < *b.To)
}

// Held returns the badges held, in the order given.
func Held(badges []Badge, balance, earnedTotal int64) []Badge {
	var out []Badge
	for _, b := range badges {
		if b.Holds(balance, earnedTotal) {
			out = append(out, b)
		}
	}
	return out
}

// NextBadge is the closest badge not yet reached and the points missing.
type NextBadge struct {
	Badge   Badge
	Missing int64
}

// Next returns the badge with the fewest points missing among those whose
// interval starts above the customer's figure, if any.
func Next(badges []Badge, balance, earnedTotal int64) (NextBadge, bool) {
	var best NextBadge
	found := false
	for _, b := range badges {
		v := b.value(balance, earnedTotal)
		if b.From <= v {
			continue
		}
		if m := b.From - v; !found || m < best.Missing || (m == best.Missing && b.ID < best.Badge.ID) {
			best, found = NextBadge{Badge: b, Missing: m}, true
		}
	}
	return best, found
}

// Change lists what a balance change gains and loses.
type Change struct {
	Gained []string // IDs
	Lost   []string
}

// Diff compares two sets of IDs.
func Diff(before, after []string) Change {
	var c Change
	for _, id := range after {
		if !slices.Contains(before, id) {
			c.Gained = append(c.Gained, id)
		}
	}
	for _, id := range before {
		if !slices.Contains(after, id) {
			c.Lost = append(c.Lost, id)
		}
	}
	return c
}

// IDs returns the IDs of badges.
func IDs(badges []Badge) []string {
	out := make([]string, len(badges))
	for i, b := range badges {
		out[i] = b.ID
	}
	return out
}
