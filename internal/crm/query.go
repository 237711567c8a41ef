package crm

import (
	"slices"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// Order is a sort order of the customer list.
type Order string

// The orders. LastVisit is the default: newest visit first.
const (
	OrderLastVisit Order = "last_visit"     // newest first; never-visited last
	OrderEnrolled  Order = "enrolled"       // newest enrolment first
	OrderName      Order = "name"           // A→Z by folded full name
	OrderLTV       Order = "ltv"            // highest LTV (all-time revenue) first
	OrderBalance   Order = "points_balance" // highest points balance first
)

// Activity filters on the 30-day activity rule.
type Activity string

// Activity filter values.
const (
	ActivityActive   Activity = "active"
	ActivityInactive Activity = "inactive"
)

// SearchKind says how a free-text search is answered.
type SearchKind int

// Search kinds.
const (
	SearchNone  SearchKind = iota
	SearchEmail            // exact, normalised email
	SearchPhone            // exact E.164 phone
	SearchName             // prefix of any word of the name, folded
)

// Query selects a page of a merchant's customers.
type Query struct {
	Order        Order
	Activity     Activity
	State        State
	Type         Type
	CardTemplate string
	Favorite     *bool
	Tag          string // folded
	Segment      string // a dynamic segment's ID: its members as of the last run
	Ranges       Ranges
	Search       string // normalised for its kind
	SearchKind   SearchKind
	Limit        int
	Cursor       string
	Now          time.Time

	// NewsletterConsent keeps the customers who gave (true) or did not give
	// (false) their newsletter consent; nil keeps both.
	NewsletterConsent *bool
}

// Ranges are the list's inclusive range filters on value and last visit;
// nil bounds are open. A customer who never visited is outside every
// last-visit range.
type Ranges struct {
	LTVMin, LTVMax             *int64 // Metrics.Revenue, minor units
	BalanceMin, BalanceMax     *int64 // points
	LastVisitFrom, LastVisitTo *time.Time
}

// Set reports whether any bound is given.
func (r Ranges) Set() bool {
	return r.LTVMin != nil || r.LTVMax != nil || r.BalanceMin != nil || r.BalanceMax != nil || r.LastVisitFrom != nil || r.LastVisitTo != nil
}

// Match reports whether c is within every bound.
func (r Ranges) Match(c Customer) bool {
	m := c.Metrics
	in := func(v int64, lo, hi *int64) bool { return (lo == nil || v >= *lo) && (hi == nil || v <= *hi) }
	if !in(m.Revenue, r.LTVMin, r.LTVMax) || !in(m.PointsBalance, r.BalanceMin, r.BalanceMax) {
		return false
	}
	if r.LastVisitFrom != nil || r.LastVisitTo != nil {
		switch {
		case m.LastVisitAt == nil,
			r.LastVisitFrom != nil && m.LastVisitAt.Before(*r.LastVisitFrom),
			r.LastVisitTo != nil && m.LastVisitAt.After(*r.LastVisitTo):
			return false
		}
	}
	return true
}

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// ParseSearch classifies a free-text search: an email, a phone number, or a
// name prefix.
func ParseSearch(q string) (string, SearchKind, error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return "", SearchNone, nil
	case strings.Contains(q, "@"):
		e, err := NormalizeEmail(q)
		if err != nil {
			return "", SearchNone, apperr.Field("?q", "looks like an email address but is not a valid one")
		}
		return e, SearchEmail, nil
	case strings.HasPrefix(q, "+") || strings.HasPrefix(q, "00"):
		p, err := NormalizePhone(q, "")
		if err != nil {
			return "", SearchNone, apperr.Field("?q", "looks like a phone number but is not a valid international one")
		}
		return p, SearchPhone, nil
	}
	f := Fold(q)
	if f == "" {
		return "", SearchNone, apperr.Field("?q", "must contain a letter or digit")
	}
	return f, SearchName, nil
}

// WithNationalPhone turns a name search that is a valid phone number
// written in region's national form ("600 123 456" in ES) into a phone
// search; raw is the search as typed.
func (q Query) WithNationalPhone(raw, region string) Query {
	if q.SearchKind == SearchName && region != "" {
		if p, err := NormalizePhone(raw, region); err == nil {
			q.Search, q.SearchKind = p, SearchPhone
		}
	}
	return q
}

// Matches reports whether c passes the query's filters (not its search,
// which storage answers through an index).
func (q Query) Matches(c Customer) bool {
	switch {
	case q.Activity == ActivityActive && !c.Active(q.Now),
		q.Activity == ActivityInactive && c.Active(q.Now),
		q.State != "" && c.State != q.State,
		q.Type != "" && c.Type != q.Type,
		q.CardTemplate != "" && c.CardTemplate != q.CardTemplate,
		q.Favorite != nil && c.Favorite != *q.Favorite,
		q.Tag != "" && !c.HasTag(q.Tag),
		!q.Ranges.Match(c),
		q.NewsletterConsent != nil && c.NewsletterConsent != *q.NewsletterConsent,
		q.SearchKind == SearchName && !matchesName(c, q.Search):
		return false
	}
	return true
}

// Filtered reports whether Matches may refuse a customer: a list without
// filters reads no more items than it returns.
func (q Query) Filtered() bool {
	return q.Activity != "" || q.State != "" || q.Type != "" || q.CardTemplate != "" || q.Favorite != nil || q.Tag != "" ||
		q.Ranges.Set() || q.NewsletterConsent != nil || q.SearchKind == SearchName
}

// SearchToken is the word of a name search that the index is asked for: the
// first, cut as stored tokens are.
func (q Query) SearchToken() string {
	first, _, _ := strings.Cut(q.Search, " ")
	return truncateToken(first)
}

// matchesName reports whether every word of search starts some word of c's names.
func matchesName(c Customer, search string) bool {
	tokens := c.NameTokens()
	for _, w := range strings.Fields(search) {
		w = truncateToken(w)
		if !slices.ContainsFunc(tokens, func(t string) bool { return strings.HasPrefix(t, w) }) {
			return false
		}
	}
	return true
}

// FirstMatchingToken returns the smallest of c's name tokens that starts with
// prefix: a customer found through several tokens is returned only at this one,
// so a search never lists anyone twice.
func FirstMatchingToken(c Customer, prefix string) string {
	for _, t := range c.NameTokens() {
		if strings.HasPrefix(t, prefix) {
			return t
		}
	}
	return ""
}

// Page is one page of a list.
type Page struct {
	Customers  []Customer
	NextCursor string
}
