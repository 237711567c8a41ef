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

// OrderStore applies purchase events to a customer's order in one transaction.
type OrderStore interface {
	ApplyOrder(ctx context.Context, mid, cid, orderID string, fn func(acc loyalty.Account, o purchase.Order, days purchase.Days) (purchase.Decision, error)) error
}

// errApplied stops the application of an event applied before: nothing is written.
var errApplied = errors.New("event already applied")

// ApplyPurchase applies one order event to its customer, exactly once and in
// any arrival order: the order's lines and statuses are folded together; the
// program's points are earned when the order reaches the trigger status and
// reversed in proportion to refunds (under the refund policy) or entirely
// when it is cancelled; the customer's metrics and ticket days move from the
// order's old contribution to its new one; a first counted order records an
// accrual visit; a counted order makes an anonymous customer or a prospect
// direct. A customer who is not active earns nothing. It reports
// whether anything was written.
func (s *Service) ApplyPurchase(ctx context.Context, store OrderStore, mid, cid string, e purchase.Event, loc *time.Location) (bool, error) {
	r, err := s.rules(ctx, mid)
	if err != nil {
		return false, err
	}
	err = store.ApplyOrder(ctx, mid, cid, e.OrderID, func(acc loyalty.Account, o purchase.Order, days purchase.Days) (purchase.Decision, error) {
		if o.Applied(e.EventID) {
			return purchase.Decision{}, errApplied
		}
		now := s.now().UTC()
		after := o.Apply(e)
		after.CustomerID = acc.Customer.ID
		before, next := purchase.ContributionOf(o), purchase.ContributionOf(after)
		var dates []string
		for _, c := range []purchase.Contribution{before, next} {
			if c.Counted {
				dates = append(dates, purchase.LocalDate(c.At, loc))
			}
		}
		current, err := days(dates...)
		if err != nil {
			return purchase.Decision{}, err
		}
		metrics, changed, err := purchase.Update(acc.Customer.Metrics, current, before, next, loc, now)
		if err != nil {
			return purchase.Decision{}, err
		}
		// A customer who is not active buys (the metrics count) but earns nothing.
		earned, reversed, err := after.Points(r.program, acc.Customer.State == crm.StateActive)
		if err != nil {
			return purchase.Decision{}, err
		}
		src := loyalty.Source{Type: "order", ID: e.OrderID}
		var ops []Op
		if d := earned - o.PointsEarned; d > 0 {
			ops = append(ops, Op{Kind: loyalty.KindEarn, Points: d, Reason: "purchase", Actor: "rule:purchase", Location: e.Location.Name, Source: src})
		}
		if d := reversed - o.PointsReversed; d > 0 {
			ops = append(ops, Op{Kind: loyalty.KindRefund, Points: -d, Reason: "purchase_" + string(e.Status), Actor: "rule:purchase", Location: e.Location.Name, Source: src})
		}
		after.PointsEarned, after.PointsReversed = earned, reversed
		p, _, err := r.plan(acc, ops, now)
		if err != nil {
			return purchase.Decision{}, err
		}
		// Purchase entries are posted now (CreatedAt, the order of every list
		// and report) and record when the purchase happened.
		for i := range p.Entries {
			p.Entries[i].OccurredAt = e.OccurredAt.UTC()
		}
		p.Metrics = &metrics
		if !before.Counted && next.Counted {
			where := next.Location.Name
			if where == "" {
				where = next.Location.ID
			}
			p.Visit = &crm.Visit{ID: ids.New(next.At), At: next.At.UTC(), Location: where, Type: crm.VisitAccrual, Source: "order:" + e.OrderID}
		}
		if next.Counted && acc.Customer.Type != crm.TypeDirect {
			// Buying as an identified customer makes an anonymous customer or a prospect direct.
			p.Type = crm.TypeDirect
			p.Events = append(p.Events, crm.Event{ID: ids.New(now), Type: "profile_updated", At: now,
				Data: map[string]string{"fields": "type", "source": "purchase"}})
		}
		return purchase.Decision{Order: after, Days: changed, Posting: p}, nil
	})
	switch {
	case errors.Is(err, errApplied):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// CancelOrderRedemption gives back the points of the checkout redemption an
// order used, once the order is cancelled; an unknown or cancelled
// redemption is no error.
func (s *Service) CancelOrderRedemption(ctx context.Context, mid, cid, ref string) error {
	_, err := s.CancelRedemption(ctx, mid, cid, ref, "rule:purchase")
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil
	}
	return err
}
