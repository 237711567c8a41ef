package imports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/tabular"
)

// errUnchanged stops an update that would change nothing: nothing is written.
var errUnchanged = errors.New("the row changes nothing")

// row processes one data row and returns its report lines. An error is
// about the service, not the row: the slice stops and the row is processed
// again later.
func (r *Runner) row(ctx context.Context, j *jobs.Job, p Params, layout crm.CSVLayout, row tabular.Row) ([]Line, error) {
	n, now := row.Number, r.now()
	parsed, err := layout.Parse(row.Cells)
	if err != nil {
		return rejected(n, err)
	}
	// The row's own customer: validated and normalised, with its identifiers.
	candidate, err := parsed.New(j.MerchantID, now)
	if err != nil {
		return rejected(n, err)
	}
	us := candidate.Uniques()
	if len(us) == 0 {
		return []Line{{Row: n, Outcome: Rejected, Reason: "has none of " + strings.Join(crm.IdentifyingColumns, ", ")}}, nil
	}
	claims, err := r.store.RowClaims(ctx, j.MerchantID, j.ID, us)
	if err != nil {
		return nil, err
	}
	if dup := duplicate(n, us, claims); dup != nil {
		return []Line{*dup}, nil
	}
	var plan RowClaim
	if own := slices.IndexFunc(claims, func(c *RowClaim) bool { return c != nil && c.Row == n }); own >= 0 {
		plan = *claims[own] // this row, processed before: its plan stands
	} else {
		var reject []Line
		if plan, reject, err = r.resolve(ctx, j.MerchantID, p, parsed, candidate, n); err != nil || reject != nil {
			return reject, err
		}
		err := r.store.ClaimRow(ctx, j.MerchantID, j.ID, us, plan, j.CreatedAt.Add(ClaimTTL))
		if apperr.CodeOf(err) == apperr.Conflict {
			if claims, err = r.store.RowClaims(ctx, j.MerchantID, j.ID, us); err != nil {
				return nil, err
			}
			if dup := duplicate(n, us, claims); dup != nil {
				return []Line{*dup}, nil
			}
			for i, c := range claims {
				if c != nil && c.Row > n { // only when the import runs again: a later row took it the first time
					return []Line{{Row: n, Outcome: Rejected, Field: "/" + crm.CSVColumn(us[i]), Reason: fmt.Sprintf("taken by row %d", c.Row)}}, nil
				}
			}
			return nil, fmt.Errorf("row %d: its identifiers changed while being claimed; retry", n)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := r.apply(ctx, j, plan, parsed, candidate); err != nil {
		if aboutRow(err) {
			// The base changed since the row was resolved (another writer took an
			// identifier, the customer was deleted): nothing of the row is kept.
			if err := r.store.ReleaseRow(ctx, j.MerchantID, j.ID, us, n); err != nil {
				return nil, err
			}
			r.log.WarnContext(ctx, "import row rejected after resolution: the base changed", "merchant", j.MerchantID, "job", j.ID, "row", n, "err", err)
			return rejected(n, err)
		}
		return nil, err
	}
	if plan.Outcome == Created && p.OpeningBalance && parsed.Points > 0 {
		src := loyalty.Source{Type: "import", ID: j.ID + "-" + strconv.Itoa(n)}
		if _, err := r.points.OpenBalance(ctx, j.MerchantID, plan.CustomerID, parsed.Points, src, j.Actor); err != nil {
			return nil, err
		}
	}
	return []Line{{Row: n, Outcome: plan.Outcome, CustomerID: plan.CustomerID}}, nil
}

// duplicate is the rejection of row n when an earlier row of the import
// claimed one of its identifiers.
func duplicate(n int, us []crm.Unique, claims []*RowClaim) *Line {
	for i, c := range claims {
		if c != nil && c.Row < n {
			return &Line{Row: n, Outcome: Rejected, Field: "/" + crm.CSVColumn(us[i]), Reason: fmt.Sprintf("duplicate of row %d", c.Row)}
		}
	}
	return nil
}

// resolve finds the row's customer by each of its identifiers and plans
// the row: create, update (when something changes), leave unchanged, skip,
// or reject when the identifiers belong to different customers.
func (r *Runner) resolve(ctx context.Context, mid string, p Params, parsed crm.CSVRow, candidate crm.Customer, n int) (RowClaim, []Line, error) {
	var found *crm.Customer
	var foundBy crm.Unique
	for _, u := range candidate.Uniques() {
		c, err := r.store.CustomerByUnique(ctx, mid, u)
		switch {
		case apperr.CodeOf(err) == apperr.NotFound:
			continue
		case err != nil:
			return RowClaim{}, nil, err
		case found == nil:
			found, foundBy = &c, u
		case c.ID != found.ID:
			return RowClaim{}, []Line{{Row: n, Outcome: Rejected, Field: "/" + crm.CSVColumn(u),
				Reason: fmt.Sprintf("conflicts with customers %s (by %s) and %s (by %s)", found.ID, crm.CSVColumn(foundBy), c.ID, crm.CSVColumn(u))}}, nil
		}
	}
	switch {
	case found == nil:
		return RowClaim{Row: n, Outcome: Created, CustomerID: candidate.ID}, nil, nil
	case p.OnExisting == Skip:
		return RowClaim{Row: n, Outcome: Skipped, CustomerID: found.ID}, nil, nil
	}
	next, err := parsed.Apply(*found, r.now())
	if err != nil {
		reject, err := rejected(n, err)
		return RowClaim{}, reject, err
	}
	if len(crm.ChangedFields(*found, next)) == 0 {
		return RowClaim{Row: n, Outcome: Unchanged, CustomerID: found.ID}, nil, nil
	}
	return RowClaim{Row: n, Outcome: Updated, CustomerID: found.ID}, nil, nil
}

// apply writes what plan says; done again, it writes nothing new.
func (r *Runner) apply(ctx context.Context, j *jobs.Job, plan RowClaim, parsed crm.CSVRow, candidate crm.Customer) error {
	switch plan.Outcome {
	case Created:
		_, err := r.store.Customer(ctx, j.MerchantID, plan.CustomerID)
		if apperr.CodeOf(err) != apperr.NotFound {
			return err // nil: created before
		}
		candidate.ID = plan.CustomerID
		return r.store.CreateCustomer(ctx, candidate)
	case Updated:
		_, err := r.store.UpdateCustomer(ctx, j.MerchantID, plan.CustomerID, func(c crm.Customer) (crm.Customer, error) {
			next, err := parsed.Apply(c, r.now())
			if err == nil && len(crm.ChangedFields(c, next)) == 0 {
				return crm.Customer{}, errUnchanged
			}
			return next, err
		})
		if errors.Is(err, errUnchanged) {
			return nil
		}
		return err
	}
	return nil
}

// rejected is the report of a row that fails validation: one line per
// problem.
func rejected(n int, err error) ([]Line, error) {
	e := apperr.As(err)
	if e == nil {
		return nil, err
	}
	if len(e.Fields) == 0 {
		return []Line{{Row: n, Outcome: Rejected, Reason: e.Message}}, nil
	}
	out := make([]Line, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = Line{Row: n, Outcome: Rejected, Field: f.Path, Reason: f.Message}
	}
	return out, nil
}

// aboutRow reports whether a write failed because of the row's data rather
// than the service: such a row is rejected, anything else retried.
func aboutRow(err error) bool {
	e := apperr.As(err)
	switch {
	case e == nil:
		return false
	case e.Code == apperr.Conflict:
		return len(e.Fields) > 0 // an identifier another customer holds; not a concurrent write
	}
	return e.Code == apperr.Invalid || e.Code == apperr.NotFound || e.Code == apperr.Unprocessable
}
