package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
)

// mergeSteps bounds the transactions (each of at most 100 items) one
// request runs; a merge with more work answers 202 and a repeat continues it.
const mergeSteps = 50

type mergeJSON struct {
	SurvivorID        string     `json:"survivor_id"`
	DuplicateID       string     `json:"duplicate_id"`
	Step              string     `json:"step"`
	PointsTransferred int64      `json:"points_transferred"`
	ItemsMoved        int64      `json:"items_moved"`
	StartedAt         time.Time  `json:"started_at"`
	FinishedAt        *time.Time `json:"finished_at"`
}

type mergeResultJSON struct {
	Survivor customerJSON `json:"survivor"`
	Merge    mergeJSON    `json:"merge"`
}

// mergeCustomer merges the customer of duplicate_id into the customer of the
// path (points.Service.Merge): 200 when done, 202 while work is left.
func (s *Server) mergeCustomer(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in struct {
		DuplicateID string `json:"duplicate_id"`
	}
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	if !ids.Valid(in.DuplicateID) {
		return response{}, apperr.Field("/duplicate_id", "must be the ID of a customer")
	}
	res, err := s.points.Merge(ctx, s.store, r.merchant.ID, cid, in.DuplicateID, r.actor(), r.merchant.Location(), mergeSteps)
	if err != nil {
		return response{}, err
	}
	rec := res.Record
	status := http.StatusOK
	if !res.Done() {
		status = http.StatusAccepted
	}
	return jsonResponse(status, mergeResultJSON{Survivor: customerOf(res.Survivor, r.merchant.Currency, r.now),
		Merge: mergeJSON{SurvivorID: rec.SurvivorID, DuplicateID: rec.DuplicateID, Step: string(rec.Step),
			PointsTransferred: rec.Points, ItemsMoved: rec.Moved, StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt}}), nil
}
