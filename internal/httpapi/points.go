package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
)

type sourceJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type entryJSON struct {
	ID           string       `json:"id"`
	CustomerID   string       `json:"customer_id"`
	Kind         loyalty.Kind `json:"kind"`
	Points       int64        `json:"points"`
	BalanceAfter int64        `json:"balance_after"`
	Reason       string       `json:"reason"`
	Note         string       `json:"note"`
	Actor        string       `json:"actor"`
	Source       sourceJSON   `json:"source"`
	Location     string       `json:"location"`
	CreatedAt    time.Time    `json:"created_at"`
	OccurredAt   time.Time    `json:"occurred_at"`
	Voids        *string      `json:"voids"`
	VoidedBy     *string      `json:"voided_by"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func entryOf(e loyalty.Entry) entryJSON {
	return entryJSON{ID: e.ID, CustomerID: e.CustomerID, Kind: e.Kind, Points: e.Points, BalanceAfter: e.BalanceAfter,
		Reason: e.Reason, Note: e.Note, Actor: e.Actor, Source: sourceJSON(e.Source), Location: e.Location,
		CreatedAt: e.CreatedAt, OccurredAt: e.OccurredAt, Voids: optional(e.Voids), VoidedBy: optional(e.VoidedBy)}
}

func entriesOf(es []loyalty.Entry) []entryJSON {
	out := make([]entryJSON, len(es))
	for i, e := range es {
		out[i] = entryOf(e)
	}
	return out
}

type changeJSON struct {
	BalanceBefore int64       `json:"balance_before"`
	BalanceAfter  int64       `json:"balance_after"`
	RewardsGained []namedJSON `json:"rewards_gained"`
	RewardsLost   []namedJSON `json:"rewards_lost"`
	BadgesGained  []namedJSON `json:"badges_gained"`
	BadgesLost    []namedJSON `json:"badges_lost"`
}

// namedJSON is a reward or a badge named in a change: its id and its name
// (a badge's title), empty when the definition was deleted since.
type namedJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// changeOf names the rewards and badges of a change, reading the merchant's
// rewards and badges only when the change has some.
func (s *Server) changeOf(ctx context.Context, mid string, c points.Change) (changeJSON, error) {
	out := changeJSON{BalanceBefore: c.BalanceBefore, BalanceAfter: c.BalanceAfter}
	names := map[string]string{}
	if len(c.Rewards.Gained)+len(c.Rewards.Lost) > 0 {
		rewards, err := s.store.Rewards(ctx, mid)
		if err != nil {
			return changeJSON{}, err
		}
		for _, x := range rewards {
			names[x.ID] = x.Name
		}
	}
	if len(c.Badges.Gained)+len(c.Badges.Lost) > 0 {
		badges, err := s.store.Badges(ctx, mid)
		if err != nil {
			return changeJSON{}, err
		}
		for _, b := range badges {
			names[b.ID] = b.Title
		}
	}
	named := func(ids []string) []namedJSON {
		out := make([]namedJSON, len(ids))
		for i, id := range ids {
			out[i] = namedJSON{ID: id, Name: names[id]}
		}
		return out
	}
	out.RewardsGained, out.RewardsLost = named(c.Rewards.Gained), named(c.Rewards.Lost)
	out.BadgesGained, out.BadgesLost = named(c.Badges.Gained), named(c.Badges.Lost)
	return out, nil
}

// postingJSON answers every operation that posts to the ledger.
type postingJSON struct {
	Entries  []entryJSON `json:"entries"`
	Balance  int64       `json:"balance"`
	Change   *changeJSON `json:"change"`
	Replayed bool        `json:"replayed"`
}

func (s *Server) postingOf(ctx context.Context, mid string, res points.Result, balance int64) (postingJSON, error) {
	out := postingJSON{Entries: entriesOf(res.Entries), Balance: balance, Replayed: res.Replay}
	if !res.Replay && len(res.Entries) > 0 {
		ch, err := s.changeOf(ctx, mid, res.Change)
		if err != nil {
			return postingJSON{}, err
		}
		out.Change = &ch
	}
	return out, nil
}

// answerPosting answers 201 when entries were written now, 200 otherwise.
func (s *Server) answerPosting(ctx context.Context, r *request, cid string, res points.Result) (response, error) {
	acc, err := s.store.Account(ctx, r.merchant.ID, cid)
	if err != nil {
		return response{}, err
	}
	status := http.StatusOK
	if len(res.Entries) > 0 && !res.Replay {
		status = http.StatusCreated
	}
	out, err := s.postingOf(ctx, r.merchant.ID, res, acc.Wallet.Balance)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(status, out), nil
}

type lotJSON struct {
	EarnedAt  time.Time  `json:"earned_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	Remaining int64      `json:"remaining"`
}

type nextBadgeJSON struct {
	Badge   badgeJSON `json:"badge"`
	Missing int64     `json:"missing"`
}

type customerRewardJSON struct {
	rewardJSON
	Available bool `json:"available"`
}

type pointsSummaryJSON struct {
	CustomerID  string               `json:"customer_id"`
	Balance     int64                `json:"balance"`
	EarnedTotal int64                `json:"earned_total"`
	Value       int64                `json:"value"` // minor units at the redemption rate
	Currency    string               `json:"currency"`
	Lots        []lotJSON            `json:"lots"`
	Badges      []badgeJSON          `json:"badges"`
	NextBadge   *nextBadgeJSON       `json:"next_badge"`
	Rewards     []customerRewardJSON `json:"rewards"`
}

// summary answers a customer's points page (points.Service.Summary).
func (s *Server) summary(ctx context.Context, mid, currency, cid string) (pointsSummaryJSON, error) {
	sum, err := s.points.Summary(ctx, mid, cid)
	if err != nil {
		return pointsSummaryJSON{}, err
	}
	w := sum.Wallet
	out := pointsSummaryJSON{CustomerID: cid, Balance: w.Balance, EarnedTotal: w.EarnedTotal, Currency: currency,
		Value: sum.Value, Lots: []lotJSON{}, Badges: []badgeJSON{}, Rewards: customerRewards(sum.Rewards, w.Balance)}
	for _, l := range w.Lots {
		out.Lots = append(out.Lots, lotJSON(l))
	}
	for _, b := range sum.Held {
		out.Badges = append(out.Badges, badgeOf(b))
	}
	if nb := sum.NextBadge; nb != nil {
		out.NextBadge = &nextBadgeJSON{Badge: badgeOf(nb.Badge), Missing: nb.Missing}
	}
	return out, nil
}

func customerRewards(rewards []loyalty.Reward, balance int64) []customerRewardJSON {
	out := make([]customerRewardJSON, len(rewards))
	for i, x := range rewards {
		out[i] = customerRewardJSON{rewardJSON: rewardOf(x), Available: x.Available(balance)}
	}
	return out
}

func (s *Server) getPoints(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	out, err := s.summary(ctx, r.merchant.ID, r.merchant.Currency, cid)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, out), nil
}

type entryPageJSON struct {
	Data       []entryJSON `json:"data"`
	NextCursor *string     `json:"next_cursor"`
}

func (s *Server) listEntries(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	return s.entryPage(ctx, r, cid, "kind")
}

// entryPage answers a page of a customer's ledger; filters names the query
// filters the route takes besides limit and cursor ("kind").
func (s *Server) entryPage(ctx context.Context, r *request, cid string, filters ...string) (response, error) {
	page, err := parsePage(r.query, filters...)
	if err != nil {
		return response{}, err
	}
	var kinds []loyalty.Kind
	if slices.Contains(filters, "kind") {
		names, err := kindsParam(r.query, loyalty.KindNames())
		if err != nil {
			return response{}, err
		}
		for _, k := range names {
			kinds = append(kinds, loyalty.Kind(k))
		}
	}
	if _, err := s.store.Customer(ctx, r.merchant.ID, cid); err != nil {
		return response{}, err
	}
	entries, err := s.store.Entries(ctx, r.merchant.ID, cid, page.limit, page.cursor, kinds...)
	if err != nil {
		return response{}, err
	}
	out := entryPageJSON{Data: entriesOf(entries.Entries)}
	if entries.NextCursor != "" {
		out.NextCursor = &entries.NextCursor
	}
	return jsonResponse(http.StatusOK, out), nil
}

type manualJSON struct {
	Points   int64  `json:"points"`
	Note     string `json:"note"`
	Reason   string `json:"reason"`
	Location string `json:"location"`
}

func (s *Server) decodeManual(r *request) (string, points.Manual, error) {
	cid, err := customerID(r)
	if err != nil {
		return "", points.Manual{}, err
	}
	var in manualJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return "", points.Manual{}, err
	}
	return cid, points.Manual{Points: in.Points, Note: in.Note, Reason: in.Reason, Location: in.Location, Actor: r.actor()}, nil
}

func (s *Server) postEntry(ctx context.Context, r *request) (response, error) {
	cid, m, err := s.decodeManual(r)
	if err != nil {
		return response{}, err
	}
	res, err := s.points.Post(ctx, r.merchant.ID, cid, m)
	if err != nil {
		return response{}, err
	}
	return s.answerPosting(ctx, r, cid, res)
}

func (s *Server) previewEntry(ctx context.Context, r *request) (response, error) {
	cid, m, err := s.decodeManual(r)
	if err != nil {
		return response{}, err
	}
	ch, err := s.points.Preview(ctx, r.merchant.ID, cid, m)
	if err != nil {
		return response{}, err
	}
	out, err := s.changeOf(ctx, r.merchant.ID, ch)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, out), nil
}

type noteJSON struct {
	Note string `json:"note"`
}

func (s *Server) voidEntry(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	eid := r.path["entryId"]
	if !ids.Valid(eid) {
		return response{}, apperr.New(apperr.NotFound, "ledger entry not found")
	}
	var in noteJSON
	if len(r.body) > 0 {
		if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
			return response{}, err
		}
	}
	res, err := s.points.Void(ctx, r.merchant.ID, cid, eid, in.Note, r.actor())
	if err != nil {
		return response{}, err
	}
	return s.answerPosting(ctx, r, cid, res)
}

type setBalanceJSON struct {
	Balance int64  `json:"balance"`
	Note    string `json:"note"`
}

func (s *Server) setBalance(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in setBalanceJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	res, err := s.points.SetBalance(ctx, r.merchant.ID, cid, in.Balance, in.Note, r.actor())
	if err != nil {
		return response{}, err
	}
	return s.answerPosting(ctx, r, cid, res)
}

type actionJSON struct {
	Action    points.Action `json:"action"`
	Reference string        `json:"reference"`
}

func (s *Server) postAction(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in actionJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	if _, err := s.store.Customer(ctx, r.merchant.ID, cid); err != nil {
		return response{}, err
	}
	res, err := s.points.AwardAction(ctx, r.merchant.ID, cid, in.Action, in.Reference, r.actor())
	if err != nil {
		return response{}, err
	}
	return s.answerPosting(ctx, r, cid, res)
}

type lineJSON struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Category  string `json:"category"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Discount  int64  `json:"discount"`
	Tax       int64  `json:"tax"`
	OnSale    bool   `json:"on_sale"`
}

func linesOf(in []lineJSON) []loyalty.Line {
	out := make([]loyalty.Line, len(in))
	for i, l := range in {
		out[i] = loyalty.Line{SKU: l.SKU, Category: l.Category, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			Discount: l.Discount, Tax: l.Tax, OnSale: l.OnSale}
	}
	return out
}

type quoteRequestJSON struct {
	Cart []lineJSON `json:"cart"`
}

type quoteJSON struct {
	Balance        int64    `json:"balance"`
	Currency       string   `json:"currency"`
	CartTotal      int64    `json:"cart_total"`
	Eligible       int64    `json:"eligible"`
	MaxPoints      int64    `json:"max_points"`
	PointsDiscount int64    `json:"points_discount"`
	BadgeDiscount  int64    `json:"badge_discount"`
	Badges         []string `json:"badges"`
	Reason         *string  `json:"reason"`
}

func (s *Server) quote(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in quoteRequestJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	q, err := s.points.Quote(ctx, r.merchant.ID, cid, linesOf(in.Cart))
	if err != nil {
		return response{}, err
	}
	acc, err := s.store.Account(ctx, r.merchant.ID, cid)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, quoteJSON{Balance: acc.Wallet.Balance, Currency: r.merchant.Currency, CartTotal: q.CartTotal,
		Eligible: q.Eligible, MaxPoints: q.MaxPoints, PointsDiscount: q.MaxDiscount, BadgeDiscount: q.BadgeDiscount,
		Badges: q.Badges, Reason: optional(string(q.Reason))}), nil
}

type redeemJSON struct {
	OrderRef string     `json:"order_ref"`
	Points   int64      `json:"points"`
	Cart     []lineJSON `json:"cart"`
	Location string     `json:"location"`
}

type redemptionJSON struct {
	OrderRef  string    `json:"order_ref"`
	Points    int64     `json:"points"`
	Discount  int64     `json:"discount"`
	Currency  string    `json:"currency"`
	EntryID   string    `json:"entry_id"`
	Cancelled bool      `json:"cancelled"`
	Location  string    `json:"location"`
	CreatedAt time.Time `json:"created_at"`
	Balance   int64     `json:"balance"`
}

func (s *Server) redemptionResponse(ctx context.Context, r *request, cid string, red loyalty.CheckoutRedemption, status int) (response, error) {
	acc, err := s.store.Account(ctx, r.merchant.ID, cid)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(status, redemptionJSON{OrderRef: red.OrderRef, Points: red.Points, Discount: red.Discount,
		Currency: r.merchant.Currency, EntryID: red.EntryID, Cancelled: red.Cancelled, Location: red.Location,
		CreatedAt: red.CreatedAt, Balance: acc.Wallet.Balance}), nil
}

func (s *Server) redeem(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in redeemJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	red, replay, err := s.points.Redeem(ctx, r.merchant.ID, cid, in.OrderRef, in.Points, linesOf(in.Cart), in.Location, r.actor())
	if err != nil {
		return response{}, err
	}
	status := http.StatusCreated
	if replay {
		status = http.StatusOK
	}
	return s.redemptionResponse(ctx, r, cid, red, status)
}

func (s *Server) cancelRedemption(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	ref := r.path["orderRef"]
	if loyalty.ValidRef("", ref) != nil {
		return response{}, apperr.New(apperr.NotFound, "redemption not found")
	}
	if len(r.body) > 0 {
		var none struct{}
		if err := decodeJSON(r.body, r.header("Content-Type"), &none); err != nil {
			return response{}, err
		}
	}
	red, err := s.points.CancelRedemption(ctx, r.merchant.ID, cid, ref, r.actor())
	if err != nil {
		return response{}, err
	}
	return s.redemptionResponse(ctx, r, cid, red, http.StatusOK)
}

type customerRewardsJSON struct {
	Balance int64                `json:"balance"`
	Data    []customerRewardJSON `json:"data"`
}

func (s *Server) listCustomerRewards(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	return s.customerRewardsFor(ctx, r.merchant.ID, cid)
}

func (s *Server) customerRewardsFor(ctx context.Context, mid, cid string) (response, error) {
	acc, err := s.store.Account(ctx, mid, cid)
	if err != nil {
		return response{}, err
	}
	rewards, err := s.store.Rewards(ctx, mid)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, customerRewardsJSON{Balance: acc.Wallet.Balance, Data: customerRewards(rewards, acc.Wallet.Balance)}), nil
}

type locationJSON struct {
	Location string `json:"location"`
}

func (s *Server) redeemReward(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	rid := r.path["rewardId"]
	if !ids.Valid(rid) {
		return response{}, apperr.New(apperr.NotFound, "reward not found")
	}
	var in locationJSON
	if len(r.body) > 0 {
		if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
			return response{}, err
		}
	}
	if _, err := s.store.Customer(ctx, r.merchant.ID, cid); err != nil {
		return response{}, err
	}
	res, err := s.points.RedeemReward(ctx, r.merchant.ID, cid, rid, in.Location, r.actor())
	if err != nil {
		return response{}, err
	}
	return s.answerPosting(ctx, r, cid, res)
}
