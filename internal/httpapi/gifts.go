package httpapi

import (
	"context"
	"net/http"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

type giftScheduleJSON struct {
	ID          string          `json:"id"`
	Points      int64           `json:"points"`
	Description string          `json:"description"`
	Cadence     loyalty.Cadence `json:"cadence"`
	Tag         string          `json:"tag"`
	Active      bool            `json:"active"`
}

func (s *Server) listGiftSchedules(ctx context.Context, r *request) (response, error) {
	gs, err := s.store.GiftSchedules(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	out := make([]giftScheduleJSON, len(gs))
	for i, g := range gs {
		out[i] = giftScheduleJSON(g)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": out}), nil
}

func (s *Server) createGiftSchedule(ctx context.Context, r *request) (response, error) {
	var in giftScheduleJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, "id"); err != nil {
		return response{}, err
	}
	in.ID = ids.New(r.now)
	g, err := loyalty.GiftSchedule(in).Validate()
	if err != nil {
		return response{}, err
	}
	if err := s.store.PutGiftSchedule(ctx, r.merchant.ID, g); err != nil {
		return response{}, err
	}
	resp := jsonResponse(http.StatusCreated, giftScheduleJSON(g))
	resp.headers["Location"] = "/v1/gift-schedules/" + g.ID
	return resp, nil
}

func (s *Server) deleteGiftSchedule(ctx context.Context, r *request) (response, error) {
	id := r.path["scheduleId"]
	if !ids.Valid(id) {
		return response{}, apperr.New(apperr.NotFound, "gift schedule not found")
	}
	if err := s.store.DeleteGiftSchedule(ctx, r.merchant.ID, id); err != nil {
		return response{}, err
	}
	return noContent(), nil
}
