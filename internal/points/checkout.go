package points

import (
	"context"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

// Action is a customer action that earns fixed points.
type Action string

// Actions.
const (
	ActionSignup     Action = "signup"
	ActionNewsletter Action = "newsletter"
	ActionReview     Action = "review"
)

// AwardAction posts the points of an action, once: signup and newsletter once
// per customer; reviews once per customer or once per review reference, as
// the program says. A repeated action answers the first entry.
func (s *Service) AwardAction(ctx context.Context, mid, cid string, a Action, ref, actor string) (Result, error) {
	pv, err := s.store.Program(ctx, mid)
	if err != nil {
		return Result{}, err
	}
	return s.award(ctx, pv.Program, mid, cid, a, ref, actor)
}

// award posts the points program p gives action a.
func (s *Service) award(ctx context.Context, p loyalty.Program, mid, cid string, a Action, ref, actor string) (Result, error) {
	var points int64
	id := "once"
	switch a {
	case ActionSignup:
		points = p.Actions.Signup
	case ActionNewsletter:
		points = p.Actions.Newsletter
	case ActionReview:
		points = p.Actions.Review
		if !p.Actions.ReviewOncePerCustomer {
			if err := loyalty.ValidRef("/reference", ref); err != nil {
				return Result{}, apperr.Field("/reference", "is required: this program awards every review, identified by its reference")
			}
			id = ref
		}
	default:
		return Result{}, apperr.Field("/action", "must be signup, newsletter or review")
	}
	if !p.Enabled || points == 0 {
		return Result{}, nil // nothing to award; nothing claimed, so a later program may award it
	}
	src := loyalty.Source{Type: "action:" + string(a), ID: id}
	return s.post(ctx, mid, cid, &src, func(acc loyalty.Account, _ rules) ([]Op, func(*loyalty.Posting) error, error) {
		return []Op{{Kind: loyalty.KindEarn, Points: points, Reason: string(a), Actor: actor, Source: src}}, nil, activeCustomer(acc.Customer)
	})
}

// AwardSignup awards the signup points to a customer who just enrolled by
// path, when the program's signup rule covers that path: once per customer
// (the source claim of AwardAction), so an enrolment done twice (a message
// delivered again, an import run again) awards nothing more. A customer who
// is not active (pending) gets none.
func (s *Service) AwardSignup(ctx context.Context, c crm.Customer, path loyalty.EnrolmentPath, actor string) (Result, error) {
	if c.State != crm.StateActive {
		return Result{}, nil
	}
	pv, err := s.store.Program(ctx, c.MerchantID)
	if err != nil {
		return Result{}, err
	}
	if !pv.Program.Actions.SignupFor(path) {
		return Result{}, nil
	}
	return s.award(ctx, pv.Program, c.MerchantID, c.ID, ActionSignup, "", actor)
}

// Quote answers the checkout question for a customer and a cart.
func (s *Service) Quote(ctx context.Context, mid, cid string, cart []loyalty.Line) (loyalty.Quote, error) {
	if err := validCart(cart); err != nil {
		return loyalty.Quote{}, err
	}
	r, err := s.rules(ctx, mid)
	if err != nil {
		return loyalty.Quote{}, err
	}
	acc, err := s.store.Account(ctx, mid, cid)
	if err != nil {
		return loyalty.Quote{}, err
	}
	return r.quote(acc, cart)
}

func (r rules) quote(acc loyalty.Account, cart []loyalty.Line) (loyalty.Quote, error) {
	held := loyalty.Held(r.badges, acc.Wallet.Balance, acc.Wallet.EarnedTotal)
	return r.program.QuoteCart(acc.Wallet.Balance, acc.Customer.State == crm.StateActive, cart, held)
}

// MaxCartLines bounds a cart.
const MaxCartLines = 500

// validCart checks a cart: each line, and the lines together, within
// loyalty.MaxAmount, so that every sum and product of the quote fits int64.
func validCart(cart []loyalty.Line) error {
	var fe apperr.Fields
	if len(cart) == 0 || len(cart) > MaxCartLines {
		fe.Add("/cart", "must hold 1 to %d lines", MaxCartLines)
	}
	var total int64
	linesFit := true // a line beyond the maximum is reported once, not again in the total
	for i, l := range cart {
		p := "/cart/" + itoa(i)
		if l.SKU == "" || len(l.SKU) > 64 {
			fe.Add(p+"/sku", "must be 1 to 64 characters")
		}
		validQuantity, validPrice := l.Quantity > 0 && l.Quantity <= 1_000_000, l.UnitPrice >= 0 && l.UnitPrice <= 1_000_000_000_00
		if !validQuantity {
			fe.Add(p+"/quantity", "must be between 1 and 1000000")
		}
		if !validPrice {
			fe.Add(p+"/unit_price", "must be between 0 and 100000000000 minor units")
		}
		if !validQuantity || !validPrice {
			continue
		}
		amount := l.Quantity * l.UnitPrice // ≤ 10^17: no overflow
		if amount > loyalty.MaxAmount {
			fe.Add(p+"/unit_price", "quantity × unit_price must be at most %d minor units", loyalty.MaxAmount)
			linesFit = false
		}
		total += amount
		if l.Discount < 0 || l.Discount > amount {
			fe.Add(p+"/discount", "must be between 0 and the line's amount")
		}
		if l.Tax < 0 || l.Tax > amount {
			fe.Add(p+"/tax", "must be between 0 and the line's amount")
		}
	}
	if linesFit && total > loyalty.MaxAmount {
		fe.Add("/cart", "must total at most %d minor units (quantity × unit_price)", loyalty.MaxAmount)
	}
	return fe.Err()
}

// Redeem commits points against an order at checkout, once per order
// reference: the points are checked against a fresh quote of the cart, spent
// as a redeem entry, and the discount returned. Repeating the same order
// reference answers the first redemption.
func (s *Service) Redeem(ctx context.Context, mid, cid, orderRef string, points int64, cart []loyalty.Line, location, actor string) (loyalty.CheckoutRedemption, bool, error) {
	var fe apperr.Fields
	fe.Merge("", loyalty.ValidRef("/order_ref", orderRef))
	if len(location) > 64 {
		fe.Add("/location", "must be at most 64 characters")
	}
	if points <= 0 {
		fe.Add("/points", "must be a positive number of points")
	}
	fe.Merge("", validCart(cart))
	if err := fe.Err(); err != nil {
		return loyalty.CheckoutRedemption{}, false, err
	}
	if prev, err := s.store.Redemption(ctx, mid, cid, orderRef); err == nil {
		if prev.Points != points {
			return loyalty.CheckoutRedemption{}, false, apperr.New(apperr.Conflict,
				"order %s already redeemed %d points", orderRef, prev.Points).With("redemption_points", prev.Points)
		}
		return prev, true, nil
	} else if apperr.CodeOf(err) != apperr.NotFound {
		return loyalty.CheckoutRedemption{}, false, err
	}
	var red loyalty.CheckoutRedemption
	src := loyalty.Source{Type: "order", ID: orderRef}
	_, err := s.post(ctx, mid, cid, nil, func(acc loyalty.Account, r rules) ([]Op, func(*loyalty.Posting) error, error) {
		q, err := r.quote(acc, cart)
		switch {
		case err != nil:
			return nil, nil, err
		case q.Reason != loyalty.ReasonNone:
			return nil, nil, (&apperr.Error{Code: apperr.Unprocessable, Message: "Points cannot be redeemed on this cart: " + string(q.Reason) + ".",
				Fields: []apperr.FieldError{{Path: "/points", Message: string(q.Reason)}}}).With("reason", string(q.Reason)).With("balance", acc.Wallet.Balance)
		case points > q.MaxPoints:
			return nil, nil, (&apperr.Error{Code: apperr.Unprocessable, Message: "More points than this cart allows.",
				Fields: []apperr.FieldError{{Path: "/points", Message: "at most " + itoa64(q.MaxPoints) + " points on this cart"}}}).
				With("max_points", q.MaxPoints).With("balance", acc.Wallet.Balance)
		}
		discount := r.program.DiscountFor(points, q)
		return []Op{{Kind: loyalty.KindRedeem, Points: -points, Reason: "checkout", Actor: actor, Location: location, Source: src}},
			func(p *loyalty.Posting) error {
				red = loyalty.CheckoutRedemption{OrderRef: orderRef, Points: points, Discount: discount,
					EntryID: p.Entries[0].ID, Location: location, CreatedAt: p.Entries[0].CreatedAt}
				if location != "" { // kept on the redemption: a cancellation takes the visit back
					red.VisitID = ids.New(red.CreatedAt)
					p.Visit = &crm.Visit{ID: red.VisitID, At: red.CreatedAt, Location: location, Type: crm.VisitRedemption, Source: "order:" + orderRef}
				}
				p.Redemption = &red
				return nil
			}, activeCustomer(acc.Customer)
	})
	if apperr.CodeOf(err) == apperr.Conflict {
		// A concurrent commit of the same order won: answer it.
		if prev, gerr := s.store.Redemption(ctx, mid, cid, orderRef); gerr == nil && prev.Points == points {
			return prev, true, nil
		}
	}
	if err != nil {
		return loyalty.CheckoutRedemption{}, false, err
	}
	return red, false, nil
}

// CancelRedemption gives back the points of a checkout redemption, as a
// void of its redeem entry, and takes back the visit it recorded (in the same
// posting). Cancelling twice answers the cancelled redemption.
func (s *Service) CancelRedemption(ctx context.Context, mid, cid, orderRef, actor string) (loyalty.CheckoutRedemption, error) {
	red, err := s.store.Redemption(ctx, mid, cid, orderRef)
	if err != nil {
		return loyalty.CheckoutRedemption{}, err
	}
	if red.Cancelled {
		return red, nil
	}
	orig, err := s.store.Entry(ctx, mid, cid, red.EntryID)
	if err != nil {
		return loyalty.CheckoutRedemption{}, err
	}
	_, err = s.post(ctx, mid, cid, nil, func(acc loyalty.Account, _ rules) ([]Op, func(*loyalty.Posting) error, error) {
		return []Op{{Kind: loyalty.KindVoid, Points: -orig.Points, Reason: "redemption_cancelled", Actor: actor,
				Source: loyalty.Source{Type: "order", ID: orderRef}}},
			func(p *loyalty.Posting) error {
				p.Entries[0].Voids = orig.ID
				p.Voided = &orig
				cancelled := red
				cancelled.Cancelled = true
				p.Redemption = &cancelled
				if red.VisitID != "" { // the visit the redemption recorded goes too
					p.Unvisit = &crm.Visit{ID: red.VisitID, At: red.CreatedAt}
				}
				return nil
			}, nil
	})
	if apperr.CodeOf(err) == apperr.Conflict {
		if again, gerr := s.store.Redemption(ctx, mid, cid, orderRef); gerr == nil && again.Cancelled {
			return again, nil
		}
	}
	if err != nil {
		return loyalty.CheckoutRedemption{}, err
	}
	red.Cancelled = true
	return red, nil
}

// RedeemReward spends a reward's cost, takes one from its stock and records a
// redemption visit at the location (shown in the customer's visit history).
func (s *Service) RedeemReward(ctx context.Context, mid, cid, rid, location, actor string) (Result, error) {
	if len(location) > 64 {
		return Result{}, apperr.Field("/location", "must be at most 64 characters")
	}
	return s.post(ctx, mid, cid, nil, func(acc loyalty.Account, r rules) ([]Op, func(*loyalty.Posting) error, error) {
		var reward *loyalty.Reward
		for i := range r.rewards {
			if r.rewards[i].ID == rid {
				reward = &r.rewards[i]
			}
		}
		switch {
		case reward == nil:
			return nil, nil, apperr.New(apperr.NotFound, "reward not found")
		case !r.program.Enabled:
			return nil, nil, apperr.New(apperr.Unprocessable, "the points program is disabled")
		case !reward.Active:
			return nil, nil, apperr.New(apperr.Unprocessable, "this reward is not active")
		case reward.Stock != nil && *reward.Stock <= 0:
			return nil, nil, apperr.New(apperr.Unprocessable, "this reward is out of stock")
		}
		return []Op{{Kind: loyalty.KindRedeem, Points: -reward.Cost, Reason: "reward", Actor: actor, Location: location,
				Source: loyalty.Source{Type: "reward", ID: rid}}},
			func(p *loyalty.Posting) error {
				p.Reward = reward
				at := p.Entries[0].CreatedAt
				p.Visit = &crm.Visit{ID: ids.New(at), At: at, Location: location, Type: crm.VisitRedemption, Source: "reward:" + rid}
				return nil
			}, activeCustomer(acc.Customer)
	})
}

// Expire posts the expiry of every lot of the customer expired at asOf, once
// per customer and day: the nightly run calls it for the customers the store
// lists as having points expiring by asOf.
func (s *Service) Expire(ctx context.Context, mid, cid string, asOf time.Time) (Result, error) {
	src := loyalty.Source{Type: "expiry", ID: asOf.UTC().Format("2006-01-02")}
	return s.post(ctx, mid, cid, &src, func(acc loyalty.Account, _ rules) ([]Op, func(*loyalty.Posting) error, error) {
		n := acc.Wallet.Expiring(asOf)
		if n == 0 {
			return nil, nil, nil
		}
		return []Op{{Kind: loyalty.KindExpire, Points: -n, Reason: "expiry", Actor: "rule:expiry", Source: src}},
			func(p *loyalty.Posting) error {
				// The lots themselves go: Debit took the oldest, which are the expired ones.
				p.Wallet, _ = acc.Wallet.Expire(asOf)
				return nil
			}, nil
	})
}
