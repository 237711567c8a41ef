// Package points is the application service of the points program: it reads
// the program's rules, decides each posting with the pure loyalty package and
// has storage write it in one transaction. No SDK, no HTTP.
package points

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

// Store is the storage the service needs.
type Store interface {
	Program(ctx context.Context, mid string) (loyalty.ProgramVersion, error)
	Badges(ctx context.Context, mid string) ([]loyalty.Badge, error)
	Rewards(ctx context.Context, mid string) ([]loyalty.Reward, error)
	Account(ctx context.Context, mid, cid string) (loyalty.Account, error)
	Entry(ctx context.Context, mid, cid, eid string) (loyalty.Entry, error)
	PostedEntry(ctx context.Context, mid, cid string, src loyalty.Source) (loyalty.Entry, error)
	Redemption(ctx context.Context, mid, cid, orderRef string) (loyalty.CheckoutRedemption, error)
	Post(ctx context.Context, mid, cid string, fn func(loyalty.Account) (loyalty.Posting, error)) (loyalty.Account, loyalty.Posting, error)
}

// Service runs points operations.
type Service struct {
	store Store
	now   func() time.Time
}

// New returns a service; now is the clock.
func New(store Store, now func() time.Time) *Service { return &Service{store: store, now: now} }

// rules is what a posting decides with.
type rules struct {
	program loyalty.Program
	badges  []loyalty.Badge
	rewards []loyalty.Reward
}

func (s *Service) rules(ctx context.Context, mid string) (rules, error) {
	pv, err := s.store.Program(ctx, mid)
	if err != nil {
		return rules{}, err
	}
	badges, err := s.store.Badges(ctx, mid)
	if err != nil {
		return rules{}, err
	}
	rewards, err := s.store.Rewards(ctx, mid)
	if err != nil {
		return rules{}, err
	}
	return rules{program: pv.Program, badges: badges, rewards: rewards}, nil
}

// Change is what a movement does to what the customer can reach.
type Change struct {
	BalanceBefore int64
	BalanceAfter  int64
	Rewards       loyalty.Change
	Badges        loyalty.Change
}

// Result is the outcome of a posting.
type Result struct {
	Entries []loyalty.Entry
	Change  Change
	Replay  bool // the source had been posted before: nothing was written now
}

// Then combines two results posted one after the other.
func (r Result) Then(next Result) Result {
	switch {
	case len(next.Entries) == 0:
		return r
	case len(r.Entries) == 0:
		return next
	}
	out := Result{Entries: append(append([]loyalty.Entry{}, r.Entries...), next.Entries...), Replay: r.Replay && next.Replay}
	out.Change = Change{BalanceBefore: r.Change.BalanceBefore, BalanceAfter: next.Change.BalanceAfter}
	for _, ch := range []Change{r.Change, next.Change} {
		out.Change.Rewards.Gained = append(out.Change.Rewards.Gained, ch.Rewards.Gained...)
		out.Change.Rewards.Lost = append(out.Change.Rewards.Lost, ch.Rewards.Lost...)
		out.Change.Badges.Gained = append(out.Change.Badges.Gained, ch.Badges.Gained...)
		out.Change.Badges.Lost = append(out.Change.Badges.Lost, ch.Badges.Lost...)
	}
	return out
}

// Op is one movement to post.
type Op struct {
	Kind     loyalty.Kind
	Points   int64 // signed: positive adds, negative takes
	Reason   string
	Note     string
	Actor    string
	Location string
	Source   loyalty.Source
	Claim    bool // post at most once per Source
}

// apply computes a movement on a wallet: credits form lots (earned ones
// counting toward earned_total); debits are strict for spends and
// redemptions, and follow the refund policy for refunds and voids.
func apply(w loyalty.Wallet, op Op, p loyalty.Program, now time.Time) (loyalty.Wallet, int64, error) {
	if op.Points >= 0 {
		earned := op.Kind == loyalty.KindEarn || op.Kind == loyalty.KindGift || op.Kind == loyalty.KindImport
		w, err := w.Credit(op.Points, now, p.ExpiryFor(now), earned)
		return w, op.Points, err
	}
	mode := loyalty.Strict
	if op.Kind == loyalty.KindRefund || op.Kind == loyalty.KindVoid {
		mode = loyalty.ModeFor(p.RefundPolicy)
	}
	w, taken, err := w.Debit(-op.Points, mode)
	return w, -taken, err
}

// plan builds the posting of ops on an account, with badge changes recorded.
func (r rules) plan(acc loyalty.Account, ops []Op, now time.Time) (loyalty.Posting, Change, error) {
	w := acc.Wallet
	var entries []loyalty.Entry
	for _, op := range ops {
		next, moved, err := apply(w, op, r.program, now)
		if err != nil {
			return loyalty.Posting{}, Change{}, err
		}
		w = next
		if moved == 0 && op.Kind != loyalty.KindVoid {
			continue // nothing moved (e.g. a refund within an empty balance): no entry
		}
		entries = append(entries, loyalty.Entry{ID: ids.New(now), CustomerID: acc.Customer.ID, Kind: op.Kind, Points: moved,
			BalanceAfter: w.Balance, Reason: op.Reason, Note: op.Note, Actor: op.Actor, Source: op.Source,
			Location: op.Location, CreatedAt: now, OccurredAt: now})
	}
	held := loyalty.IDs(loyalty.Held(r.badges, w.Balance, w.EarnedTotal))
	ch := Change{BalanceBefore: acc.Wallet.Balance, BalanceAfter: w.Balance,
		Rewards: loyalty.Diff(loyalty.AvailableIDs(r.rewards, acc.Wallet.Balance), loyalty.AvailableIDs(r.rewards, w.Balance)),
		Badges:  loyalty.Diff(acc.Badges, held)}
	p := loyalty.Posting{Wallet: w, Badges: held, Entries: entries, Events: badgeEvents(ch.Badges, now)}
	return p, ch, nil
}

// badgeEvents are the timeline events of the badges gained and lost.
func badgeEvents(ch loyalty.Change, now time.Time) []crm.Event {
	var evs []crm.Event
	for _, id := range ch.Gained {
		evs = append(evs, crm.Event{ID: ids.New(now), Type: "badge_gained", At: now, Data: map[string]string{"badge_id": id}})
	}
	for _, id := range ch.Lost {
		evs = append(evs, crm.Event{ID: ids.New(now), Type: "badge_lost", At: now, Data: map[string]string{"badge_id": id}})
	}
	return evs
}

// post runs one operation: its ops (from build, on fresh data at every retry)
// posted together. A claimed source posted before answers its first entry
// with Replay set.
func (s *Service) post(ctx context.Context, mid, cid string, claim *loyalty.Source,
	build func(acc loyalty.Account, r rules) ([]Op, func(*loyalty.Posting) error, error)) (Result, error) {
	if claim != nil {
		if e, err := s.store.PostedEntry(ctx, mid, cid, *claim); err == nil {
			return Result{Entries: []loyalty.Entry{e}, Replay: true}, nil
		} else if apperr.CodeOf(err) != apperr.NotFound {
			return Result{}, err
		}
	}
	r, err := s.rules(ctx, mid)
	if err != nil {
		return Result{}, err
	}
	var change Change
	_, posting, err := s.store.Post(ctx, mid, cid, func(acc loyalty.Account) (loyalty.Posting, error) {
		ops, extra, err := build(acc, r)
		if err != nil {
			return loyalty.Posting{}, err
		}
		now := s.now().UTC()
		p, ch, err := r.plan(acc, ops, now)
		if err != nil {
			return loyalty.Posting{}, err
		}
		if claim != nil {
			if len(p.Entries) == 0 {
				return loyalty.Posting{}, errNothing
			}
			p.Claim = claim
		}
		if extra != nil {
			if err := extra(&p); err != nil {
				return loyalty.Posting{}, err
			}
		}
		change = ch
		return p, nil
	})
	var already *loyalty.ErrAlreadyPosted
	switch {
	case errors.As(err, &already):
		e, gerr := s.store.Entry(ctx, mid, cid, already.EntryID)
		if gerr != nil {
			return Result{}, gerr
		}
		return Result{Entries: []loyalty.Entry{e}, Replay: true}, nil
	case errors.Is(err, errNothing):
		return Result{Change: change}, nil
	case err != nil:
		return Result{}, err
	}
	return Result{Entries: posting.Entries, Change: change}, nil
}

// errNothing stops a claimed posting that would move no points: nothing is
// written, so the source may be posted later (e.g. once the program awards it).
var errNothing = errors.New("nothing to post")

func activeCustomer(c crm.Customer) error {
	if c.State != crm.StateActive {
		return apperr.New(apperr.Unprocessable, "the customer is %s: points cannot change until they are reactivated", c.State)
	}
	return nil
}

// Manual is a movement entered by the merchant (earn or spend, with a
// note). Points are signed: positive earns, negative spends.
type Manual struct {
	Points   int64
	Note     string
	Reason   string
	Location string
	Actor    string
}

func (m Manual) op() Op {
	kind := loyalty.KindEarn
	if m.Points < 0 {
		kind = loyalty.KindSpend
	}
	reason := m.Reason
	if reason == "" {
		reason = "manual"
	}
	return Op{Kind: kind, Points: m.Points, Reason: reason, Note: m.Note, Actor: m.Actor, Location: m.Location,
		Source: loyalty.Source{Type: "manual"}}
}

// Validate checks a manual movement.
func (m Manual) Validate() error {
	var fe apperr.Fields
	if m.Points == 0 || m.Points > 1_000_000_000 || m.Points < -1_000_000_000 {
		fe.Add("/points", "must be a non-zero integer: positive to add, negative to take")
	}
	fe.Merge("", loyalty.ValidNote("/note", m.Note))
	if m.Reason != "" {
		fe.Merge("", loyalty.ValidReason("/reason", m.Reason))
	}
	if len(m.Location) > 64 {
		fe.Add("/location", "must be at most 64 characters")
	}
	return fe.Err()
}

// Post posts a manual movement.
func (s *Service) Post(ctx context.Context, mid, cid string, m Manual) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	return s.post(ctx, mid, cid, nil, func(acc loyalty.Account, _ rules) ([]Op, func(*loyalty.Posting) error, error) {
		return []Op{m.op()}, nil, activeCustomer(acc.Customer)
	})
}

// Preview answers what a manual movement would do, writing nothing.
func (s *Service) Preview(ctx context.Context, mid, cid string, m Manual) (Change, error) {
	if err := m.Validate(); err != nil {
		return Change{}, err
	}
	r, err := s.rules(ctx, mid)
	if err != nil {
		return Change{}, err
	}
	acc, err := s.store.Account(ctx, mid, cid)
	if err != nil {
		return Change{}, err
	}
	if err := activeCustomer(acc.Customer); err != nil {
		return Change{}, err
	}
	_, ch, err := r.plan(acc, []Op{m.op()}, s.now().UTC())
	return ch, err
}

// SetBalance posts the difference to target as an adjustment, so the
// balance becomes target.
func (s *Service) SetBalance(ctx context.Context, mid, cid string, target int64, note, actor string) (Result, error) {
	var fe apperr.Fields
	if target < 0 || target > 1_000_000_000 {
		fe.Add("/balance", "must be between 0 and 1000000000")
	}
	fe.Merge("", loyalty.ValidNote("/note", note))
	if err := fe.Err(); err != nil {
		return Result{}, err
	}
	return s.post(ctx, mid, cid, nil, func(acc loyalty.Account, _ rules) ([]Op, func(*loyalty.Posting) error, error) {
		diff := target - acc.Wallet.Balance
		if diff == 0 {
			return nil, nil, nil
		}
		return []Op{{Kind: loyalty.KindAdjust, Points: diff, Reason: "set_balance", Note: note, Actor: actor,
			Source: loyalty.Source{Type: "set_balance"}}}, nil, nil
	})
}

// Void reverses an entry instead of deleting it: a reversal entry is
// posted and the original marked voided; both stay in the history. Voids of
// voids are refused.
func (s *Service) Void(ctx context.Context, mid, cid, eid, note, actor string) (Result, error) {
	if err := loyalty.ValidNote("/note", note); err != nil {
		return Result{}, err
	}
	orig, err := s.store.Entry(ctx, mid, cid, eid)
	if err != nil {
		return Result{}, err
	}
	switch {
	case orig.VoidedBy != "":
		return Result{}, apperr.New(apperr.Conflict, "this entry was already voided by %s", orig.VoidedBy)
	case orig.Kind == loyalty.KindVoid:
		return Result{}, apperr.New(apperr.Unprocessable, "a void cannot be voided: post a new movement instead")
	case orig.Kind == loyalty.KindRedeem && orig.Source.Type == "order":
		return Result{}, apperr.New(apperr.Unprocessable,
			"this entry is the checkout redemption of order %s: cancel it with POST /v1/customers/{id}/redemptions/%s/cancel", orig.Source.ID, orig.Source.ID)
	}
	return s.post(ctx, mid, cid, nil, func(acc loyalty.Account, _ rules) ([]Op, func(*loyalty.Posting) error, error) {
		op := Op{Kind: loyalty.KindVoid, Points: -orig.Points, Reason: "void", Note: note, Actor: actor,
			Source: loyalty.Source{Type: "entry", ID: orig.ID}}
		return []Op{op}, func(p *loyalty.Posting) error {
			if len(p.Entries) != 1 {
				return fmt.Errorf("void produced %d entries", len(p.Entries))
			}
			p.Entries[0].Voids = orig.ID
			p.Voided = &orig
			if orig.Kind == loyalty.KindEarn || orig.Kind == loyalty.KindGift || orig.Kind == loyalty.KindImport {
				p.Wallet.EarnedTotal -= orig.Points // voided points were never earned
			}
			return nil
		}, nil
	})
}

func itoa(i int) string     { return strconv.Itoa(i) }
func itoa64(i int64) string { return strconv.FormatInt(i, 10) }

// RecomputeBadges brings a customer's held badges in line with the current
// definitions (after a merchant changed them), recording the changes on the
// timeline, and writes the events an earlier posting left pending; it writes
// nothing when nothing changed and nothing is pending. acc is the customer's
// account as the caller read it: it decides whether anything changed, and a
// change is planned on the account read again in the posting.
func (s *Service) RecomputeBadges(ctx context.Context, mid string, acc loyalty.Account) error {
	badges, err := s.store.Badges(ctx, mid) // all the decision needs; a change reads every rule
	if err != nil {
		return err
	}
	held := loyalty.IDs(loyalty.Held(badges, acc.Wallet.Balance, acc.Wallet.EarnedTotal))
	if ch := loyalty.Diff(acc.Badges, held); len(ch.Gained) == 0 && len(ch.Lost) == 0 && !acc.EventsPending {
		return nil
	}
	_, err = s.post(ctx, mid, acc.Customer.ID, nil, func(loyalty.Account, rules) ([]Op, func(*loyalty.Posting) error, error) {
		return nil, nil, nil
	})
	return err
}
