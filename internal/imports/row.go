package imports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/tabular"
)

// errUnchanged stops an update that would change nothing: nothing is written.
var errUnchanged = errors.New("the row changes nothing")

// prepared is a data row validated by the CRM rules, before any call to
// the store: its report when the file alone decides it (lines), or the
// customer it describes and its identifiers.
type prepared struct {
	number    int
	parsed    crm.CSVRow
	candidate crm.Customer
	uniques   []crm.Unique
	lines     []Line
}

// prepare validates a data row; it calls nothing.
func (r *Runner) prepare(j *jobs.Job, p Params, layout crm.CSVLayout, row tabular.Row) (prepared, error) {
	pr := prepared{number: row.Number}
	var err error
	if pr.parsed, err = layout.Parse(row.Cells); err == nil {
		pr.parsed.Patch.Region, pr.parsed.Patch.Source = p.Country, "import"
		pr.candidate, err = pr.parsed.New(j.MerchantID, r.now())
	}
	if err != nil {
		pr.lines, err = rejected(pr.number, err)
		return pr, err
	}
	if pr.uniques = pr.candidate.Uniques(); len(pr.uniques) == 0 {
		pr.lines = []Line{{Row: pr.number, Outcome: Rejected, Reason: "has none of " + strings.Join(crm.IdentifyingColumns, ", ")}}
	}
	return pr, nil
}

// decision is what a row's reads decided: its plan, and whether the plan
// is fresh (its identifiers are not claimed yet) or the row's own claim
// from an earlier pass.
type decision struct {
	plan  RowClaim
	fresh bool
}

// window processes a window of prepared rows and returns each one's report
// lines: the outcome of processing them one after another, reached up to
// len(rows) rows at once. It goes in waves of consecutive rows whose order
// cannot matter. A wave ends before a row that shares an identifier with an
// earlier row of the wave (which must claim first), and before a row that
// resolves to the customer an earlier row of the wave resolved to (both
// would write it). Every row of a wave is looked up before any of it
// writes. No write of one row changes what another row of its wave reads:
// a row claims and writes only its own identifiers and its own customer.
// An error is about the service: the window is processed again later.
func (r *Runner) window(ctx context.Context, j *jobs.Job, p Params, rows []prepared) ([][]Line, error) {
	out := make([][]Line, len(rows))
	decided := make([]decision, len(rows))
	for from := 0; from < len(rows); {
		to, seen := from, map[crm.Unique]bool{}
		for ; to < len(rows); to++ {
			us := rows[to].uniques
			if slices.ContainsFunc(us, func(u crm.Unique) bool { return seen[u] }) {
				break
			}
			for _, u := range us {
				seen[u] = true
			}
		}
		if err := each(from, to, func(i int) (err error) {
			if out[i] = rows[i].lines; out[i] == nil {
				decided[i], out[i], err = r.lookup(ctx, j, p, rows[i])
			}
			return err
		}); err != nil {
			return nil, err
		}
		targets := map[string]bool{}
		for i := from; i < to; i++ {
			if out[i] != nil {
				continue
			}
			if cid := decided[i].plan.CustomerID; targets[cid] {
				clear(out[i:to]) // looked up again in the next wave
				to = i
			} else {
				targets[cid] = true
			}
		}
		if err := each(from, to, func(i int) (err error) {
			if out[i] == nil {
				out[i], err = r.write(ctx, j, p, rows[i], decided[i])
			}
			return err
		}); err != nil {
			return nil, err
		}
		from = to
	}
	return out, nil
}

// each calls fn for every i from from to to, all at once, and returns an
// error of one of them.
func each(from, to int, fn func(i int) error) error {
	var g errgroup.Group
	for i := from; i < to; i++ {
		g.Go(func() error { return fn(i) })
	}
	return g.Wait()
}

// lookup reads what decides a prepared row: the import's claims on its
// identifiers (a duplicate of an earlier row, or the row's own claim from
// an earlier pass) and the customers they name in the base. It returns
// the row's report when that settles it, else its decision.
func (r *Runner) lookup(ctx context.Context, j *jobs.Job, p Params, pr prepared) (decision, []Line, error) {
	claims, err := r.store.RowClaims(ctx, j.MerchantID, j.ID, pr.uniques)
	if err != nil {
		return decision{}, nil, err
	}
	if dup := duplicate(pr.number, pr.uniques, claims); dup != nil {
		return decision{}, []Line{*dup}, nil
	}
	if own := slices.IndexFunc(claims, func(c *RowClaim) bool { return c != nil && c.Row == pr.number }); own >= 0 {
		return decision{plan: *claims[own]}, nil, nil // this row, processed before: its plan stands
	}
	plan, reject, err := r.resolve(ctx, j.MerchantID, p, pr.parsed, pr.candidate, pr.number)
	return decision{plan: plan, fresh: true}, reject, err
}

// write claims a fresh plan's identifiers, then writes what the plan says
// and returns the row's report.
func (r *Runner) write(ctx context.Context, j *jobs.Job, p Params, pr prepared, d decision) ([]Line, error) {
	n, us, plan := pr.number, pr.uniques, d.plan
	if d.fresh {
		err := r.store.ClaimRow(ctx, j.MerchantID, j.ID, us, plan, j.CreatedAt.Add(ClaimTTL))
		if apperr.CodeOf(err) == apperr.Conflict {
			claims, err := r.store.RowClaims(ctx, j.MerchantID, j.ID, us)
			if err != nil {
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
	if err := r.apply(ctx, j, d, pr); err != nil {
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
	if plan.Outcome == Created && p.OpeningBalance && pr.parsed.Points > 0 {
		src := loyalty.Source{Type: "import", ID: j.ID + "-" + strconv.Itoa(n)}
		if _, err := r.points.OpenBalance(ctx, j.MerchantID, plan.CustomerID, pr.parsed.Points, src, j.Actor); err != nil {
			return nil, err
		}
	}
	if plan.Outcome == Created { // once per customer, however often the row runs
		c := pr.candidate
		c.ID = plan.CustomerID
		if _, err := r.points.AwardSignup(ctx, c, loyalty.EnrolImport, j.Actor); err != nil {
			return nil, err
		}
	}
	if plan.Outcome == Updated && len(plan.Changes) > 0 {
		out := make([]Line, len(plan.Changes))
		for i, ch := range plan.Changes {
			out[i] = Line{Row: n, Outcome: Updated, CustomerID: plan.CustomerID, Field: "/" + ch.Column,
				Reason: strconv.Quote(ch.Old) + " → " + strconv.Quote(ch.New)}
		}
		return out, nil
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
	return RowClaim{Row: n, Outcome: Updated, CustomerID: found.ID, Changes: crm.ColumnChanges(*found, next)}, nil, nil
}

// apply writes what the decision's plan says; done again, it writes
// nothing new.
func (r *Runner) apply(ctx context.Context, j *jobs.Job, d decision, pr prepared) error {
	switch d.plan.Outcome {
	case Created:
		if !d.fresh { // claimed by an earlier pass, which may have created it
			_, err := r.store.Customer(ctx, j.MerchantID, d.plan.CustomerID)
			if apperr.CodeOf(err) != apperr.NotFound {
				return err // nil: created before
			}
		}
		c := pr.candidate
		c.ID = d.plan.CustomerID
		return r.store.CreateCustomer(ctx, c)
	case Updated:
		_, err := r.store.UpdateCustomer(ctx, j.MerchantID, d.plan.CustomerID, func(c crm.Customer) (crm.Customer, error) {
			next, err := pr.parsed.Apply(c, r.now())
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
