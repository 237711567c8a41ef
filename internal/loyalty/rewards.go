package loyalty

import (
	"strings"

	"github.com/regulars/regulars/internal/apperr"
)

// Reward is an item of the rewards catalog, unlocked by balance (a 5-point
// reward is lost when the balance drops to 4).
type Reward struct {
	ID          string
	Name        string
	Description string
	Cost        int64 // points
	Active      bool
	Stock       *int64 // nil: unlimited
}

// Validate checks a reward definition.
func (r Reward) Validate() (Reward, error) {
	var fe apperr.Fields
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || len(r.Name) > 100 {
		fe.Add("/name", "must be 1 to 100 characters")
	}
	if len(r.Description) > 1000 {
		fe.Add("/description", "must be at most 1000 characters")
	}
	if r.Cost <= 0 || r.Cost > maxPoints {
		fe.Add("/cost", "must be between 1 and %d points", maxPoints)
	}
	if r.Stock != nil && *r.Stock < 0 {
		fe.Add("/stock", "must not be negative")
	}
	if err := fe.Err(); err != nil {
		return Reward{}, err
	}
	return r, nil
}

// Available reports whether a customer with balance may redeem the reward now.
func (r Reward) Available(balance int64) bool {
	return r.Active && balance >= r.Cost && (r.Stock == nil || *r.Stock > 0)
}

// AvailableIDs returns the IDs of the rewards available at balance.
func AvailableIDs(rewards []Reward, balance int64) []string {
	var out []string
	for _, r := range rewards {
		if r.Available(balance) {
			out = append(out, r.ID)
		}
	}
	return out
}
