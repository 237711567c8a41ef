package crm

import (
	"errors"
	"maps"
	"slices"
	"time"
)

// Merge returns the survivor after absorbing a duplicate's profile, so that
// one person has one profile. The survivor wins every conflict:
//
//   - identifiers (email, phone, card number, external ID): an identifier the
//     survivor lacks is taken from the duplicate; the duplicate's others (and
//     the aliases it had itself absorbed) become the survivor's aliases, so
//     they keep resolving to the survivor;
//   - names, document, birthday, device and card template: the survivor's,
//     each empty one filled from the duplicate (the card template is never
//     empty, so it stays the survivor's);
//   - tags: the union (the survivor's first), at most MaxTags;
//   - favourite: either;
//   - attributes: the union, the survivor's value on a shared key, at most
//     MaxAttributes (the duplicate's further keys in key order are dropped);
//   - addresses: the survivor's, then the duplicate's that the survivor lacks
//     (compared without label and primary), not primary, at most MaxAddresses;
//     the survivor's primary stays primary;
//   - type: the more identified of the two (direct > prospect > anonymous);
//   - newsletter consent and state: the survivor's (consent is not inferred);
//   - enrolled_at: the earlier.
//
// Metrics and the wallet are not the profile's: storage recomputes them.
func Merge(survivor, dup Customer, now time.Time) Customer {
	out := survivor
	p, d := survivor.Profile, dup.Profile
	for _, f := range []struct{ dst, src *string }{{&p.Email, &d.Email}, {&p.Phone, &d.Phone},
		{&p.CardNumber, &d.CardNumber}, {&p.ExternalID, &d.ExternalID}, {&p.GivenName, &d.GivenName},
		{&p.FamilyName, &d.FamilyName}, {&p.DocumentNumber, &d.DocumentNumber}, {&p.Birthday, &d.Birthday},
		{&p.DeviceType, &d.DeviceType}, {&p.CardTemplate, &d.CardTemplate}} {
		if *f.dst == "" {
			*f.dst = *f.src
		}
	}
	p.Tags = mergeTags(p.Tags, d.Tags)
	p.Favorite = p.Favorite || d.Favorite
	p.Attributes = mergeAttributes(p.Attributes, d.Attributes)
	p.Addresses = mergeAddresses(p.Addresses, d.Addresses)
	if typeRank[d.Type] > typeRank[p.Type] {
		p.Type = d.Type
	}
	out.Profile = p
	var aliases []Unique
	for _, u := range append(slices.Clone(survivor.Aliases), dup.Uniques()...) {
		if slices.Contains(p.Uniques(), u) || slices.Contains(aliases, u) {
			continue
		}
		aliases = append(aliases, u)
	}
	out.Aliases = aliases
	if dup.EnrolledAt.Before(out.EnrolledAt) {
		out.EnrolledAt = dup.EnrolledAt
	}
	out.UpdatedAt = survivor.changedAt(now)
	return out
}

// Tombstone is what remains of a merged duplicate: its names and history,
// state merged, no identifiers (they resolve to the survivor now), no
// metrics (the survivor counts its purchases).
func (c Customer) Tombstone(survivor string, now time.Time) Customer {
	c.State, c.MergedInto = StateMerged, survivor
	c.Email, c.Phone, c.CardNumber, c.ExternalID, c.Aliases = "", "", "", "", nil
	c.Metrics = Metrics{}
	c.UpdatedAt = c.changedAt(now)
	return c
}

var typeRank = map[Type]int{TypeAnonymous: 1, TypeProspect: 2, TypeDirect: 3}

func mergeTags(a, b []string) []string {
	out := slices.Clone(a)
	seen := map[string]bool{}
	for _, t := range a {
		seen[Fold(t)] = true
	}
	for _, t := range b {
		if len(out) >= MaxTags {
			break
		}
		if k := Fold(t); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

func mergeAttributes(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := out[k]; !ok && len(out) < MaxAttributes {
			out[k] = b[k]
		}
	}
	return out
}

func mergeAddresses(a, b []Address) []Address {
	out := slices.Clone(a)
	same := func(x, y Address) bool {
		x.Label, x.Primary, y.Label, y.Primary = "", false, "", false
		return x == y
	}
	for _, addr := range b {
		if len(out) >= MaxAddresses || slices.ContainsFunc(out, func(o Address) bool { return same(o, addr) }) {
			continue
		}
		addr.Primary = len(a) == 0 && addr.Primary
		out = append(out, addr)
	}
	return out
}

// MergeStep is how far a merge has come; each step is resumable.
type MergeStep string

// Merge steps, in order.
const (
	// MergeCutover: nothing written yet but the merge record. The cut-over
	// moves, in one transaction, the points (a transfer pair), the profile,
	// the identifiers and the badges, and makes the duplicate a tombstone.
	MergeCutover MergeStep = "cutover"
	// MergeMove: the duplicate's orders, visits and segment memberships are
	// being moved to the survivor (its ticket days and score deleted), in
	// transactions of at most 100 items.
	MergeMove MergeStep = "move"
	// MergeMetrics: the survivor's metrics and ticket days are being
	// recomputed from its orders.
	MergeMetrics MergeStep = "metrics"
	// MergeDone: finished.
	MergeDone MergeStep = "done"
)

// ErrSurvivorGone says that a merge's survivor was itself merged (or
// deleted) after the cut-over: the rest of the duplicate goes to the
// customer the survivor was merged into.
var ErrSurvivorGone = errors.New("the survivor of the merge was merged or deleted since the cut-over")

// MergeRecord is the progress of the merge of a duplicate into a survivor.
type MergeRecord struct {
	SurvivorID  string
	DuplicateID string
	Step        MergeStep
	Points      int64 // the duplicate's balance, transferred at the cut-over
	Moved       int64 // items moved (or deleted) from the duplicate so far
	Actor       string
	StartedAt   time.Time
	FinishedAt  *time.Time
	Version     int64
}
