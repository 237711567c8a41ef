package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

type capJSON struct {
	Kind  loyalty.CapKind `json:"kind"`
	Value int64           `json:"value"`
}

func capOf(c *loyalty.Cap) *capJSON {
	if c == nil {
		return nil
	}
	return &capJSON{Kind: c.Kind, Value: c.Value}
}

func (c *capJSON) cap() *loyalty.Cap {
	if c == nil {
		return nil
	}
	return &loyalty.Cap{Kind: c.Kind, Value: c.Value}
}

type overrideJSON struct {
	SKU           string `json:"sku"`
	PointsPerUnit *int64 `json:"points_per_unit,omitzero"`
	Percent       *int64 `json:"percent,omitzero"`
}

type earningJSON struct {
	PointsPerStep    int64           `json:"points_per_step"`
	StepAmount       int64           `json:"step_amount"`
	Trigger          loyalty.Trigger `json:"trigger"`
	Overrides        []overrideJSON  `json:"overrides"`
	ExcludedProducts []string        `json:"excluded_products"`
}

type actionsJSON struct {
	Signup                int64            `json:"signup"`
	Newsletter            int64            `json:"newsletter"`
	Review                int64            `json:"review"`
	ReviewOncePerCustomer bool             `json:"review_once_per_customer"`
	SignupOn              loyalty.SignupOn `json:"signup_on"`
}

type redemptionRulesJSON struct {
	Points           int64    `json:"points"`
	Amount           int64    `json:"amount"`
	MinBalance       int64    `json:"min_balance"`
	MinCart          int64    `json:"min_cart"`
	MaxDiscount      *capJSON `json:"max_discount"`
	ExcludeOnSale    bool     `json:"exclude_on_sale"`
	ExcludedProducts []string `json:"excluded_products"`
	AllowedProducts  []string `json:"allowed_products"`
}

// programRulesJSON is the writable part of the program.
type programRulesJSON struct {
	Enabled      bool                 `json:"enabled"`
	Earning      earningJSON          `json:"earning"`
	Actions      actionsJSON          `json:"actions"`
	Redemption   redemptionRulesJSON  `json:"redemption"`
	RefundPolicy loyalty.RefundPolicy `json:"refund_policy"`
	ExpiryDays   int64                `json:"expiry_days"`
}

type programJSON struct {
	Version int64 `json:"version"`
	programRulesJSON
	Currency  string     `json:"currency"`
	UpdatedAt *time.Time `json:"updated_at"`
	UpdatedBy string     `json:"updated_by"`
}

func programOf(pv loyalty.ProgramVersion, currency string) programJSON {
	p := pv.Program
	ov := make([]overrideJSON, len(p.Earning.Overrides))
	for i, o := range p.Earning.Overrides {
		ov[i] = overrideJSON{SKU: o.SKU, PointsPerUnit: o.PointsPerUnit, Percent: o.Percent}
	}
	out := programJSON{Version: p.Version, Currency: currency, UpdatedBy: pv.UpdatedBy,
		programRulesJSON: programRulesJSON{Enabled: p.Enabled,
			Earning: earningJSON{PointsPerStep: p.Earning.PointsPerStep, StepAmount: p.Earning.StepAmount, Trigger: p.Earning.Trigger,
				Overrides: ov, ExcludedProducts: p.Earning.ExcludedProducts},
			Actions: actionsJSON(p.Actions),
			Redemption: redemptionRulesJSON{Points: p.Redemption.Points, Amount: p.Redemption.Amount, MinBalance: p.Redemption.MinBalance,
				MinCart: p.Redemption.MinCart, MaxDiscount: capOf(p.Redemption.MaxDiscount), ExcludeOnSale: p.Redemption.ExcludeOnSale,
				ExcludedProducts: p.Redemption.ExcludedProducts, AllowedProducts: p.Redemption.AllowedProducts},
			RefundPolicy: p.RefundPolicy, ExpiryDays: p.ExpiryDays}}
	if out.Actions.SignupOn == "" { // saved before the rule existed
		out.Actions.SignupOn = loyalty.SignupAny
	}
	if !pv.UpdatedAt.IsZero() {
		out.UpdatedAt = &pv.UpdatedAt
	}
	return out
}

func (in programRulesJSON) program() loyalty.Program {
	ov := make([]loyalty.ProductOverride, len(in.Earning.Overrides))
	for i, o := range in.Earning.Overrides {
		ov[i] = loyalty.ProductOverride{SKU: o.SKU, PointsPerUnit: o.PointsPerUnit, Percent: o.Percent}
	}
	r := in.Redemption
	return loyalty.Program{Enabled: in.Enabled,
		Earning: loyalty.Earning{PointsPerStep: in.Earning.PointsPerStep, StepAmount: in.Earning.StepAmount, Trigger: in.Earning.Trigger,
			Overrides: ov, ExcludedProducts: in.Earning.ExcludedProducts},
		Actions: loyalty.Actions(in.Actions),
		Redemption: loyalty.Redemption{Points: r.Points, Amount: r.Amount, MinBalance: r.MinBalance, MinCart: r.MinCart,
			MaxDiscount: r.MaxDiscount.cap(), ExcludeOnSale: r.ExcludeOnSale, ExcludedProducts: r.ExcludedProducts, AllowedProducts: r.AllowedProducts},
		RefundPolicy: in.RefundPolicy, ExpiryDays: in.ExpiryDays}
}

func (s *Server) getProgram(ctx context.Context, r *request) (response, error) {
	pv, err := s.store.Program(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, programOf(pv, r.merchant.Currency)), nil
}

type putProgramJSON struct {
	Version int64 `json:"version"` // the version being replaced: 0 for the first save
	programRulesJSON
}

func (s *Server) putProgram(ctx context.Context, r *request) (response, error) {
	var in putProgramJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, "currency", "updated_at", "updated_by"); err != nil {
		return response{}, err
	}
	p, err := in.program().Validate()
	if err != nil {
		return response{}, err
	}
	if in.Version < 0 {
		return response{}, apperr.Field("/version", "must be the version being replaced (0 for the first save)")
	}
	pv, err := s.store.SaveProgram(ctx, r.merchant.ID, p, in.Version, r.actor(), r.now)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, programOf(pv, r.merchant.Currency)), nil
}

func (s *Server) listProgramVersions(ctx context.Context, r *request) (response, error) {
	versions, err := s.store.ProgramVersions(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	out := make([]programJSON, len(versions))
	for i, v := range versions {
		out[i] = programOf(v, r.merchant.Currency)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": out}), nil
}

// actor names who made a change: the API key.
func (r *request) actor() string { return "key:" + r.key.ID }

type badgeJSON struct {
	ID          string        `json:"id"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	IconURL     string        `json:"icon_url"`
	From        int64         `json:"from"`
	To          *int64        `json:"to"`
	Basis       loyalty.Basis `json:"basis"`
	Discount    *capJSON      `json:"discount"`
}

func badgeOf(b loyalty.Badge) badgeJSON {
	return badgeJSON{ID: b.ID, Title: b.Title, Description: b.Description, IconURL: b.IconURL, From: b.From, To: b.To,
		Basis: b.Basis, Discount: capOf(b.Discount)}
}

func (s *Server) listBadges(ctx context.Context, r *request) (response, error) {
	badges, err := s.store.Badges(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	out := make([]badgeJSON, len(badges))
	for i, b := range badges {
		out[i] = badgeOf(b)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": out}), nil
}

func (s *Server) saveBadge(ctx context.Context, r *request, id string, status int) (response, error) {
	var in badgeJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, "id"); err != nil {
		return response{}, err
	}
	b, err := loyalty.Badge{ID: id, Title: in.Title, Description: in.Description, IconURL: in.IconURL, From: in.From, To: in.To,
		Basis: in.Basis, Discount: in.Discount.cap()}.Validate()
	if err != nil {
		return response{}, err
	}
	if err := s.store.PutBadge(ctx, r.merchant.ID, b, status == http.StatusOK); err != nil {
		return response{}, err
	}
	resp := jsonResponse(status, badgeOf(b))
	resp.headers["Location"] = "/v1/badges/" + b.ID
	return resp, nil
}

func (s *Server) createBadge(ctx context.Context, r *request) (response, error) {
	badges, err := s.store.Badges(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	if len(badges) >= loyalty.MaxBadges {
		return response{}, apperr.New(apperr.Unprocessable, "a merchant may define at most %d badges: delete one first", loyalty.MaxBadges)
	}
	return s.saveBadge(ctx, r, ids.New(r.now), http.StatusCreated)
}

func (s *Server) putBadge(ctx context.Context, r *request) (response, error) {
	id, err := s.configID(ctx, r, "badgeId", "badge")
	if err != nil {
		return response{}, err
	}
	return s.saveBadge(ctx, r, id, http.StatusOK)
}

func (s *Server) deleteBadge(ctx context.Context, r *request) (response, error) {
	id, err := s.configID(ctx, r, "badgeId", "badge")
	if err != nil {
		return response{}, err
	}
	if err := s.store.DeleteBadge(ctx, r.merchant.ID, id); err != nil {
		return response{}, err
	}
	return noContent(), nil
}

// configID validates the ID of a badge or reward of the merchant and checks it exists.
func (s *Server) configID(ctx context.Context, r *request, param, what string) (string, error) {
	id := r.path[param]
	notFound := apperr.New(apperr.NotFound, "%s not found", what)
	if !ids.Valid(id) {
		return "", notFound
	}
	var exists bool
	switch what {
	case "badge":
		badges, err := s.store.Badges(ctx, r.merchant.ID)
		if err != nil {
			return "", err
		}
		for _, b := range badges {
			exists = exists || b.ID == id
		}
	case "reward":
		rewards, err := s.store.Rewards(ctx, r.merchant.ID)
		if err != nil {
			return "", err
		}
		for _, x := range rewards {
			exists = exists || x.ID == id
		}
	}
	if !exists {
		return "", notFound
	}
	return id, nil
}

func (s *Server) listBadgeCustomers(ctx context.Context, r *request) (response, error) {
	id, err := s.configID(ctx, r, "badgeId", "badge")
	if err != nil {
		return response{}, err
	}
	page, err := parsePage(r.query)
	if err != nil {
		return response{}, err
	}
	holders, err := s.store.BadgeHolders(ctx, r.merchant.ID, id, page.limit, page.cursor)
	if err != nil {
		return response{}, err
	}
	return customerPage(r, holders), nil
}

type rewardJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Cost        int64  `json:"cost"`
	Active      bool   `json:"active"`
	Stock       *int64 `json:"stock"`
}

func rewardOf(x loyalty.Reward) rewardJSON {
	return rewardJSON{ID: x.ID, Name: x.Name, Description: x.Description, Cost: x.Cost, Active: x.Active, Stock: x.Stock}
}

func (s *Server) listRewards(ctx context.Context, r *request) (response, error) {
	rewards, err := s.store.Rewards(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	out := make([]rewardJSON, len(rewards))
	for i, x := range rewards {
		out[i] = rewardOf(x)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": out}), nil
}

// rewardInputJSON is a reward as written: without `active`, a reward is
// active, as a merchant who adds one to the catalog expects.
type rewardInputJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Cost        int64  `json:"cost"`
	Active      *bool  `json:"active"`
	Stock       *int64 `json:"stock"`
}

func (s *Server) saveReward(ctx context.Context, r *request, id string, status int) (response, error) {
	var in rewardInputJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, "id"); err != nil {
		return response{}, err
	}
	x, err := loyalty.Reward{ID: id, Name: in.Name, Description: in.Description, Cost: in.Cost, Active: in.Active == nil || *in.Active, Stock: in.Stock}.Validate()
	if err != nil {
		return response{}, err
	}
	if err := s.store.PutReward(ctx, r.merchant.ID, x, status == http.StatusOK); err != nil {
		return response{}, err
	}
	resp := jsonResponse(status, rewardOf(x))
	resp.headers["Location"] = "/v1/rewards/" + x.ID
	return resp, nil
}

func (s *Server) createReward(ctx context.Context, r *request) (response, error) {
	return s.saveReward(ctx, r, ids.New(r.now), http.StatusCreated)
}

func (s *Server) putReward(ctx context.Context, r *request) (response, error) {
	id, err := s.configID(ctx, r, "rewardId", "reward")
	if err != nil {
		return response{}, err
	}
	return s.saveReward(ctx, r, id, http.StatusOK)
}

func (s *Server) deleteReward(ctx context.Context, r *request) (response, error) {
	id, err := s.configID(ctx, r, "rewardId", "reward")
	if err != nil {
		return response{}, err
	}
	if err := s.store.DeleteReward(ctx, r.merchant.ID, id); err != nil {
		return response{}, err
	}
	return noContent(), nil
}
