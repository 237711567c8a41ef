package points

import (
	"context"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
)

// GiftStore is what running periodic gifts needs beyond Store.
type GiftStore interface {
	Store
	GiftSchedules(ctx context.Context, mid string) ([]loyalty.GiftSchedule, error)
	ListCustomers(ctx context.Context, mid string, q crm.Query) (crm.Page, error)
}

// GiftRun counts what one run of the periodic gifts did.
type GiftRun struct {
	Schedules int
	Given     int // customers credited now
	Already   int // customers credited earlier in the same period
}

// RunGifts gives every active schedule's points to its audience (active
// customers, with the schedule's tag if it has one) for the period holding
// asOf in the merchant's time zone. Each customer gets each schedule's gift
// at most once per period, so the nightly run may call it again after a
// failure, or twice, and nothing is given twice.
func RunGifts(ctx context.Context, svc *Service, store GiftStore, mid string, loc *time.Location, asOf time.Time) (GiftRun, error) {
	schedules, err := store.GiftSchedules(ctx, mid)
	if err != nil {
		return GiftRun{}, err
	}
	pv, err := store.Program(ctx, mid)
	if err != nil || !pv.Program.Enabled {
		return GiftRun{}, err // a disabled program gives nothing
	}
	var run GiftRun
	for _, g := range schedules {
		if !g.Active {
			continue
		}
		run.Schedules++
		src := loyalty.Source{Type: "gift:" + g.ID, ID: g.Cadence.Period(asOf, loc)}
		q := crm.Query{Order: crm.OrderEnrolled, State: crm.StateActive, Tag: crm.Fold(g.Tag), Limit: crm.MaxLimit, Now: asOf}
		for {
			page, err := store.ListCustomers(ctx, mid, q)
			if err != nil {
				return run, err
			}
			for _, c := range page.Customers {
				res, err := svc.post(ctx, mid, c.ID, &src, func(acc loyalty.Account, _ rules) ([]Op, func(*loyalty.Posting) error, error) {
					return []Op{{Kind: loyalty.KindGift, Points: g.Points, Reason: "periodic_gift", Note: g.Description,
						Actor: "rule:gift:" + g.ID, Source: src}}, nil, activeCustomer(acc.Customer)
				})
				if apperr.CodeOf(err) == apperr.Unprocessable {
					continue // suspended since the list was read
				}
				if err != nil {
					return run, err
				}
				if res.Replay {
					run.Already++
				} else {
					run.Given++
				}
			}
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
	}
	return run, nil
}
