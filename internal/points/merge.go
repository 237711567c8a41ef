package points

import (
	"context"
	"errors"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/purchase"
)

// MergeStore is the storage a merge of duplicates needs.
type MergeStore interface {
	Customer(ctx context.Context, mid, cid string) (crm.Customer, error)
	MergeRecord(ctx context.Context, mid, dup string) (crm.MergeRecord, error)
	StartMerge(ctx context.Context, mid string, rec crm.MergeRecord) (crm.MergeRecord, bool, error)
	AbandonMerge(ctx context.Context, mid string, rec crm.MergeRecord) error
	CutOverMerge(ctx context.Context, mid string, rec crm.MergeRecord, fn func(survivor, dup loyalty.Account) (loyalty.MergeCutover, error)) (crm.MergeRecord, error)
	MoveMerged(ctx context.Context, mid string, rec crm.MergeRecord) (crm.MergeRecord, error)
	ChainEnd(ctx context.Context, mid, cid string) (string, error)
	RetargetMerge(ctx context.Context, mid string, rec crm.MergeRecord, survivor string) (crm.MergeRecord, error)
	EraseMerged(ctx context.Context, mid string, rec crm.MergeRecord, at time.Time) (crm.MergeRecord, error)
	FinishMerge(ctx context.Context, mid string, rec crm.MergeRecord, at time.Time, fold func(stored crm.Metrics, orders []purchase.Order) (crm.Metrics, map[string]purchase.Day, error)) (crm.MergeRecord, error)
}

// MergeResult is where a merge stands, with the survivor as it is now.
type MergeResult struct {
	Record   crm.MergeRecord
	Survivor crm.Customer
}

// Done reports whether the merge is finished.
func (r MergeResult) Done() bool { return r.Record.Step == crm.MergeDone }

// Merge merges the customer dup into survivor (two profiles of one person),
// resumably: a merge record, created once per duplicate, holds
// the step reached, and every step is one transaction that advances it.
//
//  1. cutover, one transaction: the duplicate's balance B moves with a
//     transfer pair (−B on the duplicate, +B on the survivor, the lots kept
//     with their dates, the outstanding points unchanged), the survivor gets
//     the merged profile (crm.Merge) and the badges of its new balance, the
//     duplicate's identifiers resolve to the survivor, and the duplicate
//     becomes a tombstone (state merged) that refuses every change; both
//     timelines get a customer_merged event;
//  2. move, in batches: the duplicate's orders (with their merchant-wide
//     claims), visits and segment memberships go to the survivor; its
//     ticket days and score are deleted;
//  3. metrics: the survivor's metrics and ticket days are folded afresh from
//     all of their orders (a day both bought on counts once), keeping the
//     latest visit and the first purchase of both (purchase.Carry).
//
// It runs at most steps transactions (0: no limit) and stops early when the
// context's deadline is near; the answer then is not Done, and calling Merge
// again carries on. Merging again a duplicate merged into the same survivor
// changes nothing. A survivor merged into another customer after the
// cut-over passes the merge on: the rest of the duplicate's history moves to
// that customer (the end of the chain of merges), which the result names.
func (s *Service) Merge(ctx context.Context, store MergeStore, mid, survivorID, dupID, actor string, loc *time.Location, steps int) (MergeResult, error) {
	if survivorID == dupID {
		return MergeResult{}, apperr.Field("/duplicate_id", "must be another customer than the one it is merged into")
	}
	rec, err := store.MergeRecord(ctx, mid, dupID)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		if rec, err = s.startMerge(ctx, store, mid, survivorID, dupID, actor); err != nil {
			return MergeResult{}, err
		}
	case err != nil:
		return MergeResult{}, err
	}
	if rec.SurvivorID != survivorID {
		// The survivor asked for may have been merged since, into the
		// customer this merge now goes to: carry on.
		if into, err := store.ChainEnd(ctx, mid, survivorID); err != nil || into != rec.SurvivorID {
			return MergeResult{}, apperr.New(apperr.Conflict, "customer %s was merged (or is being merged) into customer %s", dupID, rec.SurvivorID)
		}
	}
	var r rules
	if rec.Step == crm.MergeCutover {
		if r, err = s.rules(ctx, mid); err != nil {
			return MergeResult{}, err
		}
	}
	for n := 0; rec.Step != crm.MergeDone && (steps == 0 || n < steps) && !nearDeadline(ctx); n++ {
		switch rec.Step {
		case crm.MergeCutover:
			var refused error
			rec, err = store.CutOverMerge(ctx, mid, rec, func(survivor, dup loyalty.Account) (loyalty.MergeCutover, error) {
				if refused = mergeable(survivor.Customer, dup.Customer); refused != nil {
					return loyalty.MergeCutover{}, refused
				}
				return r.cutover(survivor, dup, actor, s.now().UTC())
			})
			if refused != nil || apperr.CodeOf(err) == apperr.NotFound {
				// Impossible after all (a customer merged or deleted since):
				// nothing was written but the record, which goes.
				if aerr := store.AbandonMerge(ctx, mid, rec); aerr != nil {
					return MergeResult{}, errors.Join(err, aerr)
				}
			}
		case crm.MergeMove:
			rec, err = store.MoveMerged(ctx, mid, rec)
		case crm.MergeMetrics:
			now := s.now().UTC()
			rec, err = store.FinishMerge(ctx, mid, rec, now, func(stored crm.Metrics, orders []purchase.Order) (crm.Metrics, map[string]purchase.Day, error) {
				m, days, err := purchase.Fold(orders, loc, now)
				if err != nil {
					return m, nil, err
				}
				return purchase.Carry(m, stored), days, nil
			})
		}
		if errors.Is(err, crm.ErrSurvivorGone) {
			rec, err = followSurvivor(ctx, store, mid, rec, s.now().UTC())
		}
		if err != nil {
			return MergeResult{Record: rec}, err
		}
	}
	survivor, err := store.Customer(ctx, mid, rec.SurvivorID)
	return MergeResult{Record: rec, Survivor: survivor}, err
}

// followSurvivor carries a merge whose survivor was merged since the cut-over
// on to the customer the survivor was merged into: the rest of the
// duplicate's history ends where the survivor's did. When the survivor (or
// the end of its chain) was deleted, the rest is erased as the survivor's
// history was, a batch per call, and the merge ends done.
func followSurvivor(ctx context.Context, store MergeStore, mid string, rec crm.MergeRecord, now time.Time) (crm.MergeRecord, error) {
	into, err := store.ChainEnd(ctx, mid, rec.SurvivorID)
	deleted := apperr.CodeOf(err) == apperr.NotFound
	switch {
	case deleted && into == rec.SurvivorID:
		return store.EraseMerged(ctx, mid, rec, now)
	case err != nil && !deleted:
		return rec, err
	case into == rec.SurvivorID: // not merged after all: the step runs again
		return rec, nil
	}
	return store.RetargetMerge(ctx, mid, rec, into) // the step runs again there
}

// mergeMargin is the time a merge leaves before its context's deadline.
const mergeMargin = 3 * time.Second

func nearDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < mergeMargin
}

// startMerge checks that both customers exist and can be merged, and creates
// the merge record (or finds the one a concurrent request created).
func (s *Service) startMerge(ctx context.Context, store MergeStore, mid, survivorID, dupID, actor string) (crm.MergeRecord, error) {
	survivor, err := store.Customer(ctx, mid, survivorID)
	if err != nil {
		return crm.MergeRecord{}, err
	}
	dup, err := store.Customer(ctx, mid, dupID)
	if err != nil {
		return crm.MergeRecord{}, err
	}
	if err := mergeable(survivor, dup); err != nil {
		return crm.MergeRecord{}, err
	}
	rec, _, err := store.StartMerge(ctx, mid, crm.MergeRecord{SurvivorID: survivorID, DuplicateID: dupID, Actor: actor, StartedAt: s.now().UTC()})
	return rec, err
}

// mergeable refuses to merge a tombstone, or into one.
func mergeable(survivor, dup crm.Customer) error {
	if survivor.State == crm.StateMerged {
		return apperr.New(apperr.Conflict, "customer %s was merged into customer %s: merge into that customer instead", survivor.ID, survivor.MergedInto)
	}
	if dup.State == crm.StateMerged {
		return apperr.New(apperr.Conflict, "customer %s was already merged into customer %s", dup.ID, dup.MergedInto)
	}
	return nil
}

// cutover decides the cut-over of a merge: the merged survivor and its
// wallet (the duplicate's absorbed) with the badges it now holds, the
// tombstone with an empty wallet and no badges, the transfer pair when the
// duplicate held points, and the customer_merged events. Wallets whose sum
// is beyond loyalty.MaxBalance are refused (422).
func (r rules) cutover(survivor, dup loyalty.Account, actor string, now time.Time) (loyalty.MergeCutover, error) {
	sid, did := survivor.Customer.ID, dup.Customer.ID
	w, err := survivor.Wallet.Absorb(dup.Wallet)
	if err != nil {
		return loyalty.MergeCutover{}, err
	}
	held := loyalty.IDs(loyalty.Held(r.badges, w.Balance, w.EarnedTotal))
	b := dup.Wallet.Balance
	sp := loyalty.Posting{Wallet: w, Badges: held, Events: badgeEvents(loyalty.Diff(survivor.Badges, held), now)}
	dp := loyalty.Posting{Events: badgeEvents(loyalty.Diff(dup.Badges, nil), now)}
	if b != 0 {
		transfer := loyalty.Entry{Kind: loyalty.KindTransfer, Reason: "merge", Actor: actor, CreatedAt: now, OccurredAt: now}
		out, in := transfer, transfer
		out.ID, out.CustomerID, out.Points, out.BalanceAfter, out.Source = ids.New(now), did, -b, 0, loyalty.Source{Type: "customer", ID: sid}
		in.ID, in.CustomerID, in.Points, in.BalanceAfter, in.Source = ids.New(now), sid, b, w.Balance, loyalty.Source{Type: "customer", ID: did}
		dp.Entries, sp.Entries = []loyalty.Entry{out}, []loyalty.Entry{in}
	}
	points := itoa64(b)
	sp.Events = append(sp.Events, crm.Event{ID: ids.New(now), Type: "customer_merged", At: now,
		Data: map[string]string{"duplicate_id": did, "survivor_id": sid, "points": points}})
	dp.Events = append(dp.Events, crm.Event{ID: ids.New(now), Type: "customer_merged", At: now,
		Data: map[string]string{"duplicate_id": did, "survivor_id": sid, "points": points}})
	merged := crm.Merge(survivor.Customer, dup.Customer, now)
	merged.Metrics = purchase.Carry(merged.Metrics, dup.Customer.Metrics) // the latest visit of both
	return loyalty.MergeCutover{Survivor: merged, Duplicate: dup.Customer.Tombstone(sid, now),
		SurvivorPosting: sp, DuplicatePosting: dp}, nil
}
