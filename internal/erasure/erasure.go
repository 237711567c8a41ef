// Package erasure finishes deleting a customer whose history is too large
// to erase within the API request: the profile and identifiers are gone at
// once (dynamo.Store.DeleteCustomer), and a job removes the rest in slices.
package erasure

import (
	"context"
	"encoding/json"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/jobs"
)

// Store erases what a deleted customer left.
type Store interface {
	EraseCustomerData(ctx context.Context, mid, cid string, max int) (erased int, done bool, err error)
}

// Params names the customer of an erasure job.
type Params struct {
	CustomerID string `json:"customer_id"`
}

// Batch is how many items one call erases between checks of the deadline.
const Batch = 500

// Runner runs erasure jobs.
type Runner struct {
	store Store
	now   func() time.Time
}

// NewRunner returns an erasure runner.
func NewRunner(store Store, now func() time.Time) *Runner { return &Runner{store: store, now: now} }

// Run erases until nothing is left or the slice's time is up.
func (r *Runner) Run(ctx context.Context, s jobs.Slice) (bool, error) {
	var p Params
	if err := json.Unmarshal(s.Job.Params, &p); err != nil || p.CustomerID == "" {
		return false, apperr.New(apperr.Invalid, "an erasure job without its customer")
	}
	for {
		n, done, err := r.store.EraseCustomerData(ctx, s.Job.MerchantID, p.CustomerID, Batch)
		s.Job.Progress.Processed += int64(n)
		s.Job.Progress.Written = s.Job.Progress.Processed
		if err != nil || done {
			return done, err
		}
		if s.Expired(r.now()) {
			return false, nil
		}
	}
}
