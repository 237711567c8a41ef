package httpapi

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/purchase"
)

type visitJSON struct {
	ID       string        `json:"id"`
	At       time.Time     `json:"at"`
	Location string        `json:"location"`
	Type     crm.VisitType `json:"type"`
	Source   string        `json:"source"`
}

type locationShareJSON struct {
	Location string `json:"location"`
	Visits   int    `json:"visits"`
	ShareBP  int64  `json:"share_bp"` // basis points of all visits
	Accruals int    `json:"accruals"`
	Redeemed int    `json:"redemptions"`
}

type visitsJSON struct {
	Data      []visitJSON         `json:"data"`
	Locations []locationShareJSON `json:"locations"`
}

// listVisits is the visit history: date, location and type of every
// visit, and each location's share of them (the customer's favourite stores).
func (s *Server) listVisits(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	if _, err := s.store.Customer(ctx, r.merchant.ID, cid); err != nil {
		return response{}, err
	}
	visits, err := s.store.Visits(ctx, r.merchant.ID, cid)
	if err != nil {
		return response{}, err
	}
	out := visitsJSON{Data: make([]visitJSON, len(visits)), Locations: []locationShareJSON{}}
	byLoc := map[string]*locationShareJSON{}
	for i, v := range visits {
		out.Data[i] = visitJSON(v)
		l := byLoc[v.Location]
		if l == nil {
			l = &locationShareJSON{Location: v.Location}
			byLoc[v.Location] = l
		}
		l.Visits++
		if v.Type == crm.VisitRedemption {
			l.Redeemed++
		} else {
			l.Accruals++
		}
	}
	for _, l := range byLoc {
		l.ShareBP = int64(l.Visits) * 10000 / int64(len(visits))
		out.Locations = append(out.Locations, *l)
	}
	sort.Slice(out.Locations, func(i, j int) bool {
		a, b := out.Locations[i], out.Locations[j]
		return a.Visits > b.Visits || a.Visits == b.Visits && a.Location < b.Location
	})
	return jsonResponse(http.StatusOK, out), nil
}

type orderLineJSON struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Category  string `json:"category"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Discount  int64  `json:"discount"`
	Tax       int64  `json:"tax"`
	UnitCost  *int64 `json:"unit_cost"`
	OnSale    bool   `json:"on_sale"`
}

type orderJSON struct {
	OrderID  string          `json:"order_id"`
	Location string          `json:"location"`
	Statuses []string        `json:"statuses"`
	Lines    []orderLineJSON `json:"lines"`
	Net      int64           `json:"net"`
	Refunded int64           `json:"refunded"`
	Points   int64           `json:"points"` // earned minus reversed
}

type eventJSON struct {
	ID   string            `json:"id"`
	Type string            `json:"type"`
	At   time.Time         `json:"at"`
	Data map[string]string `json:"data"`
}

type timelineItemJSON struct {
	Kind  string     `json:"kind"` // purchase, ledger, visit, event
	At    time.Time  `json:"at"`
	ID    string     `json:"id"`
	Order *orderJSON `json:"purchase,omitzero"`
	Entry *entryJSON `json:"entry,omitzero"`
	Visit *visitJSON `json:"visit,omitzero"`
	Event *eventJSON `json:"event,omitzero"`
}

func timelineOf(t purchase.TimelineItem) timelineItemJSON {
	out := timelineItemJSON{Kind: t.Kind(), At: t.At, ID: t.ID}
	switch {
	case t.Order != nil:
		o := t.Order
		j := orderJSON{OrderID: o.OrderID, Location: o.Location.Name, Lines: []orderLineJSON{}, Net: o.Net(), Refunded: o.Refunded(),
			Points: o.PointsEarned - o.PointsReversed, Statuses: []string{}}
		for st := range o.Statuses {
			j.Statuses = append(j.Statuses, string(st))
		}
		sort.Strings(j.Statuses)
		for _, l := range o.Lines {
			j.Lines = append(j.Lines, orderLineJSON(l))
		}
		out.Order = &j
	case t.Entry != nil:
		e := entryOf(*t.Entry)
		out.Entry = &e
	case t.Visit != nil:
		v := visitJSON(*t.Visit)
		out.Visit = &v
	case t.Event != nil:
		e := eventJSON{ID: t.Event.ID, Type: t.Event.Type, At: t.Event.At, Data: t.Event.Data}
		out.Event = &e
	}
	return out
}

type timelineJSON struct {
	Data       []timelineItemJSON `json:"data"`
	NextCursor *string            `json:"next_cursor"`
}

// getTimeline is the customer's timeline: one chronological feed, newest first.
func (s *Server) getTimeline(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	page, err := parsePage(r.query, "kind")
	if err != nil {
		return response{}, err
	}
	kinds, err := kindsParam(r.query, purchase.TimelineKinds)
	if err != nil {
		return response{}, err
	}
	if _, err := s.store.Customer(ctx, r.merchant.ID, cid); err != nil {
		return response{}, err
	}
	items, next, err := s.store.Timeline(ctx, r.merchant.ID, cid, page.limit, page.cursor, kinds...)
	if err != nil {
		return response{}, err
	}
	out := timelineJSON{Data: make([]timelineItemJSON, len(items))}
	for i, t := range items {
		out.Data[i] = timelineOf(t)
	}
	if next != "" {
		out.NextCursor = &next
	}
	return jsonResponse(http.StatusOK, out), nil
}

type interactionJSON struct {
	Type       string            `json:"type"`
	OccurredAt *time.Time        `json:"occurred_at"`
	Data       map[string]string `json:"data"`
}

// postEvent records an external interaction on the timeline: a campaign
// email delivered, opened or clicked, a form answer…
func (s *Server) postEvent(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in interactionJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	var at time.Time
	if in.OccurredAt != nil {
		at = *in.OccurredAt
	}
	ev, err := crm.NewInteraction(in.Type, at, in.Data, r.now)
	if err != nil {
		return response{}, err
	}
	if err := s.store.AddEvent(ctx, r.merchant.ID, cid, ev); err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusCreated, eventJSON{ID: ev.ID, Type: ev.Type, At: ev.At, Data: ev.Data}), nil
}
