// Package ingest applies purchase events from the queue: it finds (or
// creates) the customer of each event and has the points service apply it.
// The SQS handler reports failures per message, so a poison message is
// retried and dead-lettered alone.
package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/purchase"
	"github.com/regulars/regulars/internal/purchasemsg"
	"github.com/regulars/regulars/internal/tenant"
)

// Store is what ingestion reads and writes.
type Store interface {
	points.OrderStore
	Merchant(ctx context.Context, mid string) (tenant.Merchant, error)
	Customer(ctx context.Context, mid, cid string) (crm.Customer, error)
	CustomerByUnique(ctx context.Context, mid string, u crm.Unique) (crm.Customer, error)
	CreateCustomer(ctx context.Context, c crm.Customer) error
	OrderOwner(ctx context.Context, mid, orderID string) (string, error)
}

// Ingestor applies purchase events.
type Ingestor struct {
	store  Store
	points *points.Service
	now    func() time.Time
	log    *slog.Logger
}

// New returns an ingestor.
func New(store Store, svc *points.Service, now func() time.Time, log *slog.Logger) *Ingestor {
	return &Ingestor{store: store, points: svc, now: now, log: log}
}

// Outcome says what happened to one event.
type Outcome string

// Outcomes.
const (
	Applied   Outcome = "applied"   // the order changed
	Duplicate Outcome = "duplicate" // the event was applied before: nothing changed
	Anonymous Outcome = "anonymous" // no customer to attach it to: acknowledged, not stored
)

// Apply applies one event of a merchant.
func (in *Ingestor) Apply(ctx context.Context, mid string, e purchase.Event) (Outcome, error) {
	m, err := in.store.Merchant(ctx, mid)
	if err != nil {
		return "", err
	}
	if err := e.Validate(m.Currency, m.Country, in.now(), "/event"); err != nil {
		return "", err
	}
	if e.Customer.Anonymous {
		return Anonymous, nil
	}
	cid, enrolling, err := in.customerOf(ctx, m, e)
	if err != nil {
		return "", err
	}
	if enrolling != nil {
		// Before the purchase: a message failing after the enrolment and
		// delivered again finds them not yet buying, and awards once.
		if _, err := in.points.AwardSignup(ctx, *enrolling, loyalty.EnrolPurchase, "rule:signup"); err != nil {
			return "", err
		}
	}
	changed, err := in.points.ApplyPurchase(ctx, in.store, mid, cid, e, m.Location())
	if err != nil {
		return "", err
	}
	if e.Status == purchase.Cancelled && e.RedemptionRef != "" {
		if err := in.points.CancelOrderRedemption(ctx, mid, cid, e.RedemptionRef); err != nil {
			return "", err
		}
	}
	if !changed {
		return Duplicate, nil
	}
	return Applied, nil
}

// customerOf finds the event's customer: the owner of the order if an earlier
// event placed it; else the customer ID; else the card, external ID, email or
// phone; else a new customer enrolled with those identifiers. The customer
// is also returned as enrolling when found by an identifier without any
// purchase yet, or enrolled now: their first purchase is their enrolment.
func (in *Ingestor) customerOf(ctx context.Context, m tenant.Merchant, e purchase.Event) (string, *crm.Customer, error) {
	if cid, err := in.store.OrderOwner(ctx, m.ID, e.OrderID); err == nil {
		return cid, nil, nil
	} else if apperr.CodeOf(err) != apperr.NotFound {
		return "", nil, err
	}
	ref := e.Customer
	if ref.CustomerID != "" {
		c, err := in.store.Customer(ctx, m.ID, ref.CustomerID)
		if err == nil && c.MergedInto != "" {
			return c.MergedInto, nil, nil // a merged duplicate buys as the customer it became
		}
		if err == nil {
			return c.ID, nil, nil
		}
		if apperr.CodeOf(err) != apperr.NotFound {
			return "", nil, err
		}
	}
	card, _ := crm.NormalizeCardNumber(ref.CardNumber)
	email, _ := crm.NormalizeEmail(ref.Email)
	phone, _ := crm.NormalizePhone(ref.Phone, m.Country)
	uniques := []crm.Unique{{Kind: "card", Value: card}, {Kind: "external_id", Value: ref.ExternalID}, {Kind: "email", Value: email}, {Kind: "phone", Value: phone}}
	for attempt := 0; attempt < 3; attempt++ {
		for _, u := range uniques {
			if u.Value == "" {
				continue
			}
			c, err := in.store.CustomerByUnique(ctx, m.ID, u)
			if err == nil && c.Metrics.FirstPurchaseAt == nil {
				return c.ID, &c, nil
			}
			if err == nil {
				return c.ID, nil, nil
			}
			if apperr.CodeOf(err) != apperr.NotFound {
				return "", nil, err
			}
		}
		enrolled := e.OccurredAt
		if now := in.now(); enrolled.After(now) {
			enrolled = now // a clock a little ahead (within crm.MaxClockSkew) does not make a future enrolment
		}
		profile := crm.Profile{CardNumber: card, ExternalID: ref.ExternalID, Email: email, Phone: phone,
			GivenName: ref.GivenName, FamilyName: ref.FamilyName, Type: crm.TypeDirect}
		c, err := crm.New(m.ID, crm.Enrolment{Profile: profile, EnrolledAt: &enrolled, Region: m.Country, Source: "purchase"}, in.now())
		if err != nil {
			return "", nil, err
		}
		err = in.store.CreateCustomer(ctx, c)
		if apperr.CodeOf(err) == apperr.Conflict {
			continue // another event enrolled them first: look again
		}
		if err != nil {
			return "", nil, err
		}
		in.log.InfoContext(ctx, "customer enrolled by a purchase", "merchant", m.ID, "customer", c.ID, "order", e.OrderID)
		return c.ID, &c, nil
	}
	return "", nil, apperr.New(apperr.Conflict, "the customer of order %s could not be resolved", e.OrderID)
}

// HandleSQS is the ingest Lambda handler: each message is one event; the
// ones that fail are reported so that only they are retried (and, after the
// queue's maxReceiveCount, dead-lettered).
func (in *Ingestor) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		log := in.log.With("message_id", rec.MessageId, "receive_count", rec.Attributes["ApproximateReceiveCount"])
		mid, e, err := purchasemsg.Decode([]byte(rec.Body))
		var out Outcome
		if err == nil {
			out, err = in.Apply(ctx, mid, e)
		}
		if err != nil {
			log.ErrorContext(ctx, "purchase event failed", "merchant", mid, "order", e.OrderID, "event", e.EventID, "err", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		log.InfoContext(ctx, "purchase event", "merchant", mid, "order", e.OrderID, "event", e.EventID, "status", e.Status, "outcome", out)
	}
	return resp, nil
}
