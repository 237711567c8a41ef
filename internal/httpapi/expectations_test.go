package httpapi_test

import (
	"net/http"
	"testing"
)

// TestNewRewardIsActive: a reward written without `active` is offered at
// once, on creation and on replacement; `"active": false` keeps it unseen.
func TestNewRewardIsActive(t *testing.T) {
	e := newEnv(t)
	var rw struct {
		ID     string `json:"id"`
		Active bool   `json:"active"`
	}
	e.must(http.StatusCreated, "POST", "/v1/rewards", e.key, map[string]any{"name": "Café gratis", "cost": 50}).decode(t, &rw)
	if !rw.Active {
		t.Errorf("a new reward without active is inactive")
	}
	e.must(http.StatusOK, "PUT", "/v1/rewards/"+rw.ID, e.key, map[string]any{"name": "Café gratis", "cost": 60, "active": false}).decode(t, &rw)
	if rw.Active {
		t.Errorf("active: false was not kept")
	}
	e.must(http.StatusOK, "PUT", "/v1/rewards/"+rw.ID, e.key, map[string]any{"name": "Café gratis", "cost": 60}).decode(t, &rw)
	if !rw.Active {
		t.Errorf("a replaced reward without active is inactive")
	}
}
