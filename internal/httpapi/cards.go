package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
)

type cardTemplateJSON struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Kind      crm.CardKind `json:"kind"`
	Active    bool         `json:"active"`
	CreatedAt *time.Time   `json:"created_at"`
}

func cardTemplateOf(t crm.CardTemplate) cardTemplateJSON {
	out := cardTemplateJSON{ID: t.ID, Name: t.Name, Kind: t.Kind, Active: t.Active}
	if !t.CreatedAt.IsZero() {
		out.CreatedAt = &t.CreatedAt
	}
	return out
}

func (s *Server) listCardTemplates(ctx context.Context, r *request) (response, error) {
	ts, err := s.store.CardTemplates(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	out := make([]cardTemplateJSON, len(ts))
	for i, t := range ts {
		out[i] = cardTemplateOf(t)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": out}), nil
}

type createCardTemplateJSON struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Kind   crm.CardKind `json:"kind"`
	Active bool         `json:"active"`
}

func (s *Server) createCardTemplate(ctx context.Context, r *request) (response, error) {
	var in createCardTemplateJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, "created_at"); err != nil {
		return response{}, err
	}
	t, err := crm.CardTemplate{ID: in.ID, Name: in.Name, Kind: in.Kind, Active: in.Active, CreatedAt: r.now}.Validate()
	if err != nil {
		return response{}, err
	}
	if err := s.store.CreateCardTemplate(ctx, r.merchant.ID, t); err != nil {
		return response{}, err
	}
	resp := jsonResponse(http.StatusCreated, cardTemplateOf(t))
	resp.headers["Location"] = "/v1/card-templates/" + t.ID
	return resp, nil
}

type enrolJSON struct {
	Customer customerJSON `json:"customer"`
	Points   postingJSON  `json:"points"`
}

// enrolWithCard enrols a customer by issuing them a card: a new
// customer with an active card of a template (a number is generated when none
// is given), and the program's signup (and newsletter) points.
func (s *Server) enrolWithCard(ctx context.Context, r *request) (response, error) {
	var in createCustomerJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, readOnlyMembers...); err != nil {
		return response{}, err
	}
	ts, err := s.store.CardTemplates(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	if in.CardTemplate == "" {
		in.CardTemplate = crm.DefaultCardTemplate
	}
	usable := false
	for _, t := range ts {
		usable = usable || (t.ID == in.CardTemplate && t.Active)
	}
	if !usable {
		return response{}, apperr.Field("/card_template", "must name an active card template of this merchant")
	}
	if in.State != "" && in.State != crm.StateActive {
		return response{}, apperr.Field("/state", "a card enrolment makes an active customer")
	}
	generated := in.CardNumber == ""
	var c crm.Customer
	for attempt := 0; ; attempt++ {
		if generated {
			in.CardNumber = crm.NewCardNumber()
		}
		c, err = crm.New(r.merchant.ID, crm.Enrolment{Profile: in.profile(), State: in.State, EnrolledAt: in.EnrolledAt, Region: r.merchant.Country, Source: "card"}, r.now)
		if err != nil {
			return response{}, err
		}
		err = s.store.CreateCustomer(ctx, c)
		if e := apperr.As(err); generated && e != nil && e.Code == apperr.Conflict && len(e.Fields) > 0 && e.Fields[0].Path == "/card_number" && attempt < 3 {
			continue // a generated number collided: draw another
		}
		if err != nil {
			return response{}, err
		}
		break
	}
	res, err := s.points.AwardSignup(ctx, c, loyalty.EnrolCard, r.actor())
	if err != nil {
		return response{}, err
	}
	if c.NewsletterConsent {
		more, err := s.points.AwardAction(ctx, r.merchant.ID, c.ID, points.ActionNewsletter, "", r.actor())
		if err != nil {
			return response{}, err
		}
		res = res.Then(more)
	}
	acc, err := s.store.Account(ctx, r.merchant.ID, c.ID)
	if err != nil {
		return response{}, err
	}
	posting, err := s.postingOf(ctx, r.merchant.ID, res, acc.Wallet.Balance)
	if err != nil {
		return response{}, err
	}
	resp := jsonResponse(http.StatusCreated, enrolJSON{Customer: customerOf(acc.Customer, r.merchant.Currency, r.now),
		Points: posting})
	resp.headers["Location"] = "/v1/customers/" + c.ID
	return resp, nil
}
