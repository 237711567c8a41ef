package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/tenant"
)

type portalTokenRequestJSON struct {
	TTLSeconds int64 `json:"ttl_seconds"`
}

type portalTokenJSON struct {
	Token      string    `json:"token"`
	CustomerID string    `json:"customer_id"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// issuePortalToken gives the merchant a token to hand to one customer: it
// reads only that customer's balance, history, badges and rewards.
func (s *Server) issuePortalToken(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	in := portalTokenRequestJSON{TTLSeconds: int64(tenant.DefaultPortalTTL / time.Second)}
	if len(r.body) > 0 {
		if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
			return response{}, err
		}
	}
	ttl := time.Duration(in.TTLSeconds) * time.Second
	if ttl < time.Minute || ttl > tenant.MaxPortalTTL {
		return response{}, apperr.Field("/ttl_seconds", "must be between 60 and %d seconds", int64(tenant.MaxPortalTTL/time.Second))
	}
	if _, err := s.store.Customer(ctx, r.merchant.ID, cid); err != nil {
		return response{}, err
	}
	tok, exp := tenant.IssuePortalToken(r.merchant, cid, ttl, r.now)
	return jsonResponse(http.StatusCreated, portalTokenJSON{Token: tok, CustomerID: cid, ExpiresAt: exp}), nil
}

func (s *Server) myPoints(ctx context.Context, r *request) (response, error) {
	if len(r.query) > 0 {
		return response{}, apperr.Field("?"+firstKey(r.query), "is not a known parameter")
	}
	out, err := s.summary(ctx, r.merchant.ID, r.merchant.Currency, r.customer)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, out), nil
}

func (s *Server) myEntries(ctx context.Context, r *request) (response, error) {
	return s.entryPage(ctx, r, r.customer)
}

func (s *Server) myRewards(ctx context.Context, r *request) (response, error) {
	if len(r.query) > 0 {
		return response{}, apperr.Field("?"+firstKey(r.query), "is not a known parameter")
	}
	return s.customerRewardsFor(ctx, r.merchant.ID, r.customer)
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}
