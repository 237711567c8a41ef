package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/tenant"
)

type merchantJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Currency  string    `json:"currency"`
	TimeZone  string    `json:"time_zone"`
	Country   *string   `json:"country"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) getMerchant(_ context.Context, r *request) (response, error) {
	m := r.merchant
	out := merchantJSON{ID: m.ID, Name: m.Name, Currency: m.Currency, TimeZone: m.TimeZone, CreatedAt: m.CreatedAt}
	if m.Country != "" {
		out.Country = &m.Country
	}
	return jsonResponse(http.StatusOK, out), nil
}

type apiKeyJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scope     string     `json:"scope"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	Secret    string     `json:"secret,omitempty"` // only in the answer to its creation
}

func apiKeyOf(k tenant.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Scope: string(k.Scope), Prefix: k.Prefix, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

func (s *Server) listAPIKeys(ctx context.Context, r *request) (response, error) {
	keys, err := s.store.APIKeys(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = apiKeyOf(k)
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": out}), nil
}

type createAPIKeyJSON struct {
	Name  string `json:"name"`
	Scope string `json:"scope"`
}

func (s *Server) createAPIKey(ctx context.Context, r *request) (response, error) {
	var in createAPIKeyJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, "id", "prefix", "secret", "created_at", "revoked_at"); err != nil {
		return response{}, err
	}
	var fe apperr.Fields
	scope, err := tenant.ParseScope(in.Scope)
	fe.Merge("", err)
	if len(in.Name) > 100 {
		fe.Add("/name", "must be at most 100 characters")
	}
	if err := fe.Err(); err != nil {
		return response{}, err
	}
	k, secret := tenant.NewAPIKey(r.merchant.ID, in.Name, scope, r.now)
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return response{}, err
	}
	out := apiKeyOf(k)
	out.Secret = secret
	resp := jsonResponse(http.StatusCreated, out)
	resp.headers["Location"] = "/v1/api-keys/" + k.ID
	return resp, nil
}

func (s *Server) revokeAPIKey(ctx context.Context, r *request) (response, error) {
	kid := r.path["keyId"]
	if !ids.Valid(kid) {
		return response{}, apperr.New(apperr.NotFound, "API key not found")
	}
	k, err := s.store.RevokeAPIKey(ctx, r.merchant.ID, kid, r.now)
	if apperr.CodeOf(err) == apperr.NotFound {
		return response{}, apperr.New(apperr.NotFound, "API key not found")
	}
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, apiKeyOf(k)), nil
}
