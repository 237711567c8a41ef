package points_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/purchase"
)

// mergeCase is a survivor and a duplicate with points and purchases: the
// survivor bought once, on a day the duplicate also bought on; the duplicate
// bought 42 orders in all, enough for several move batches.
type mergeCase struct {
	st          *dynamo.Store
	svc         *points.Service
	loc         *time.Location
	survivor    string
	dup         string
	outstanding int64
}

const dupOrders = 42

func newMergeCase(t *testing.T) mergeCase {
	p := loyalty.DefaultProgram()
	p.Enabled, p.ExpiryDays = true, 365
	st, svc, clk := setup(t, p)
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	enrol := func(profile crm.Profile) string {
		c, err := crm.New("M1", crm.Enrolment{Profile: profile}, clk.t)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	mc := mergeCase{st: st, svc: svc, loc: loc,
		survivor: enrol(crm.Profile{GivenName: "Ana", Email: "ana@example.com", Tags: []string{"vip"}}),
		dup:      enrol(crm.Profile{GivenName: "Ana", FamilyName: "Ruiz", Email: "ana.ruiz@example.com", Phone: "+34600000001", CardNumber: "CARD0001", Tags: []string{"desayunos"}})}
	buy := func(cid, order string, at time.Time, amount int64) {
		ev := purchase.Event{EventID: order + "-paid", OrderID: order, Status: purchase.Paid, OccurredAt: at,
			Location: purchase.Location{ID: "centro", Name: "Centro"}, Customer: purchase.CustomerRef{CustomerID: cid}, Currency: "EUR",
			Lines: []purchase.Line{{SKU: "MENU", Name: "Menú", Quantity: 1, UnitPrice: amount}}}
		if _, err := svc.ApplyPurchase(t.Context(), st, "M1", cid, ev, loc); err != nil {
			t.Fatal(err)
		}
	}
	day := clk.t.Add(-24 * time.Hour)
	buy(mc.survivor, "S-1", day, 1000)
	buy(mc.dup, "D-1", day.Add(time.Hour), 2000) // the same day as S-1: one ticket
	for i := 1; i < dupOrders; i++ {
		buy(mc.dup, fmt.Sprintf("D-%d", i+1), day.AddDate(0, 0, -i), 500)
	}
	for cid, pts := range map[string]int64{mc.survivor: 100, mc.dup: 250} {
		if _, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: pts, Actor: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	if mc.outstanding, _, err = st.Outstanding(t.Context(), "M1"); err != nil {
		t.Fatal(err)
	}
	return mc
}

// check asserts what holds after every step of a merge: each customer's
// balance is the sum of their entries (balance does), and the points of the
// two add up to the merchant's outstanding points, which never change.
func (mc mergeCase) check(t *testing.T) {
	t.Helper()
	sum := balance(t, mc.st, mc.survivor) + balance(t, mc.st, mc.dup)
	out, _, err := mc.st.Outstanding(t.Context(), "M1")
	if err != nil {
		t.Fatal(err)
	}
	if sum != mc.outstanding || out != mc.outstanding {
		t.Fatalf("points: customers hold %d, counters %d, want %d before and after", sum, out, mc.outstanding)
	}
}

// checkMerged asserts the final state of the merge.
func (mc mergeCase) checkMerged(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	mc.check(t)
	if b := balance(t, mc.st, mc.dup); b != 0 {
		t.Fatalf("the duplicate keeps %d points", b)
	}
	s, err := mc.st.Customer(ctx, "M1", mc.survivor)
	if err != nil {
		t.Fatal(err)
	}
	// Revenue and tickets as the purchase history says: 1000 + 2000 + 41 × 500,
	// and 42 days (S-1 and D-1 share one).
	if m := s.Metrics; m.Revenue != 23500 || m.Tickets != dupOrders || m.Units != dupOrders+1 || m.PointsBalance != mc.outstanding {
		t.Fatalf("survivor metrics %+v", m)
	}
	days, err := mc.st.TicketDays(ctx, "M1", mc.survivor)
	if err != nil || len(days) != dupOrders {
		t.Fatalf("survivor ticket days %d %v", len(days), err)
	}
	orders, err := mc.st.Orders(ctx, "M1", mc.survivor)
	if err != nil || len(orders) != dupOrders+1 {
		t.Fatalf("survivor orders %d %v", len(orders), err)
	}
	if left, err := mc.st.Orders(ctx, "M1", mc.dup); err != nil || len(left) != 0 {
		t.Fatalf("duplicate orders left %d %v", len(left), err)
	}
	if owner, err := mc.st.OrderOwner(ctx, "M1", "D-7"); err != nil || owner != mc.survivor {
		t.Fatalf("order D-7 belongs to %s %v", owner, err)
	}
	if visits, err := mc.st.Visits(ctx, "M1", mc.survivor); err != nil || len(visits) != dupOrders+1 {
		t.Fatalf("survivor visits %d %v", len(visits), err)
	}
	for _, u := range []crm.Unique{{Kind: "email", Value: "ana.ruiz@example.com"}, {Kind: "phone", Value: "+34600000001"},
		{Kind: "card", Value: "CARD0001"}, {Kind: "email", Value: "ana@example.com"}} {
		if c, err := mc.st.CustomerByUnique(ctx, "M1", u); err != nil || c.ID != mc.survivor {
			t.Fatalf("%v resolves to %s %v", u, c.ID, err)
		}
	}
	if s.Email != "ana@example.com" || s.Phone != "+34600000001" || s.FamilyName != "Ruiz" || len(s.Tags) != 2 {
		t.Fatalf("survivor profile %+v", s.Profile)
	}
	d, err := mc.st.Customer(ctx, "M1", mc.dup)
	if err != nil || d.State != crm.StateMerged || d.MergedInto != mc.survivor || len(d.Uniques()) != 0 {
		t.Fatalf("duplicate %+v %v", d, err)
	}
	acc, err := mc.st.Account(ctx, "M1", mc.survivor)
	if err != nil || len(acc.Wallet.Lots) == 0 {
		t.Fatalf("survivor wallet %+v %v", acc.Wallet, err)
	}
	for _, l := range acc.Wallet.Lots {
		if l.ExpiresAt == nil {
			t.Fatalf("a lot lost its expiry: %+v", acc.Wallet.Lots)
		}
	}
}

// TestMerge: a merge in one call moves points, purchases and identifiers;
// merging again changes nothing; the tombstone refuses changes.
func TestMerge(t *testing.T) {
	t.Parallel()
	mc := newMergeCase(t)
	res, err := mc.svc.Merge(t.Context(), mc.st, "M1", mc.survivor, mc.dup, "test", mc.loc, 0)
	if err != nil || !res.Done() || res.Record.Points != 250+40+(dupOrders-1)*10 { // manual, D-1, the others
		t.Fatalf("merge: %+v %v", res.Record, err)
	}
	mc.checkMerged(t)
	before, err := mc.st.Customer(t.Context(), "M1", mc.survivor)
	if err != nil {
		t.Fatal(err)
	}
	again, err := mc.svc.Merge(t.Context(), mc.st, "M1", mc.survivor, mc.dup, "test", mc.loc, 0)
	if err != nil || !again.Done() || again.Survivor.Version != before.Version || again.Record.Version != res.Record.Version || again.Record.Moved != res.Record.Moved {
		t.Fatalf("merging again: %+v %v (version %d before)", again.Record, err, before.Version)
	}
	mc.checkMerged(t)
	// The tombstone refuses changes; a merge into it or of it elsewhere too.
	if _, err := mc.svc.Post(t.Context(), "M1", mc.dup, points.Manual{Points: 5, Actor: "test"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("posting on the tombstone: %v", err)
	}
	if _, err := mc.st.UpdateCustomer(t.Context(), "M1", mc.dup, func(c crm.Customer) (crm.Customer, error) { return c, nil }); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("patching the tombstone: %v", err)
	}
	other, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: "Otra"}}, time.Now())
	if err != nil || mc.st.CreateCustomer(t.Context(), other) != nil {
		t.Fatal(err)
	}
	if _, err := mc.svc.Merge(t.Context(), mc.st, "M1", other.ID, mc.dup, "test", mc.loc, 0); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("merging the tombstone elsewhere: %v", err)
	}
	if _, err := mc.svc.Merge(t.Context(), mc.st, "M1", mc.dup, other.ID, "test", mc.loc, 0); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("merging into the tombstone: %v", err)
	}
	// Another merchant sees none of them.
	if _, err := mc.svc.Merge(t.Context(), mc.st, "M2", mc.survivor, other.ID, "test", mc.loc, 0); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("merging another merchant's customers: %v", err)
	}
	// Deleting the survivor releases the identifiers it took over.
	if err := mc.st.DeleteCustomer(t.Context(), "M1", mc.survivor); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.st.CustomerByUnique(t.Context(), "M1", crm.Unique{Kind: "phone", Value: "+34600000001"}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("the duplicate's phone after the survivor's deletion: %v", err)
	}
}

// TestMergeResumable: a merge run one transaction at a time (as if every
// request ran out of time) keeps the points exact after every step and ends
// in the same state as a merge in one go.
func TestMergeResumable(t *testing.T) {
	t.Parallel()
	mc := newMergeCase(t)
	steps := 0
	for {
		res, err := mc.svc.Merge(t.Context(), mc.st, "M1", mc.survivor, mc.dup, "test", mc.loc, 1)
		if err != nil {
			t.Fatal(err)
		}
		steps++
		mc.check(t)
		if res.Done() {
			break
		}
		if steps > 50 {
			t.Fatalf("not done after %d steps: %+v", steps, res.Record)
		}
	}
	if steps < 5 {
		t.Fatalf("done in %d steps: the test does not interrupt the move", steps)
	}
	mc.checkMerged(t)
}

// lostReply is a DynamoDB client whose armed-th transaction is written but
// answered with an error, as when the reply is lost or the function dies
// right after the write.
type lostReply struct {
	dynamo.API
	at, n int
}

func (l *lostReply) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := l.API.TransactWriteItems(ctx, in, opts...)
	if l.n++; l.n == l.at && err == nil {
		return nil, errors.New("connection reset after the write")
	}
	return out, err
}

// TestMergeInterrupted: a merge whose step was written but not acknowledged
// (the cut-over, a move batch, the metrics step) fails, and the repeat
// carries on from the merge record without applying that step again.
func TestMergeInterrupted(t *testing.T) {
	t.Parallel()
	for _, at := range []int{1, 3, 8} {
		t.Run(fmt.Sprint("transaction ", at), func(t *testing.T) {
			mc := newMergeCase(t)
			lost := &lostReply{API: dynamodb.NewFromConfig(awsCfg), at: at}
			flaky := dynamo.New(lost, mc.st.Table())
			if _, err := mc.svc.Merge(t.Context(), flaky, "M1", mc.survivor, mc.dup, "test", mc.loc, 0); err == nil {
				t.Fatalf("the merge ran %d transactions: none was interrupted", lost.n)
			}
			mc.check(t)
			res, err := mc.svc.Merge(t.Context(), mc.st, "M1", mc.survivor, mc.dup, "test", mc.loc, 0)
			if err != nil || !res.Done() {
				t.Fatalf("continuing: %+v %v", res.Record, err)
			}
			mc.checkMerged(t)
		})
	}
}
