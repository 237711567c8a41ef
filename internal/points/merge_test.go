package points_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
	for _, at := range []int{1, 5, 10} { // 2 and 3 write the events the cut-over recorded

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

// partitionSKs lists the sort keys of a customer's items starting with one
// of prefixes, read from the table itself.
func partitionSKs(t *testing.T, st *dynamo.Store, cid string, prefixes ...string) []string {
	t.Helper()
	out, err := dynamodb.NewFromConfig(awsCfg).Query(t.Context(), &dynamodb.QueryInput{TableName: aws.String(st.Table()),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "M#M1#C#" + cid}},
		ConsistentRead:            aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var sks []string
	for _, it := range out.Items {
		sk := it["SK"].(*types.AttributeValueMemberS).Value
		for _, p := range prefixes {
			if strings.HasPrefix(sk, p) {
				sks = append(sks, sk)
			}
		}
	}
	return sks
}

// TestMergeChain: B←C is interrupted after its cut-over (or before its
// metrics step), A←B runs to the end, and B←C resumed converges on A: every
// order, visit and ticket day of C ends on A, nothing stays on B or C, A's
// metrics are its orders' and the ledgers stay exact; both records are done.
func TestMergeChain(t *testing.T) {
	const cOrders = 60
	for _, until := range []crm.MergeStep{crm.MergeMove, crm.MergeMetrics} {
		t.Run(string(until), func(t *testing.T) {
			p := loyalty.DefaultProgram()
			p.Enabled = true
			st, svc, clk := setup(t, p)
			loc := time.UTC
			ctx := t.Context()
			a, b, c := customer(t, st), customer(t, st), customer(t, st)
			buy := func(cid, order string, at time.Time) {
				ev := purchase.Event{EventID: order + "-paid", OrderID: order, Status: purchase.Paid, OccurredAt: at,
					Location: purchase.Location{ID: "centro"}, Customer: purchase.CustomerRef{CustomerID: cid}, Currency: "EUR",
					Lines: []purchase.Line{{SKU: "MENU", Quantity: 1, UnitPrice: 1000}}}
				if _, err := svc.ApplyPurchase(ctx, st, "M1", cid, ev, loc); err != nil {
					t.Fatal(err)
				}
			}
			day := clk.t.Add(-time.Hour)
			buy(a, "A-1", day)
			buy(b, "B-1", day.AddDate(0, 0, -1))
			for i := range cOrders {
				buy(c, fmt.Sprintf("C-%d", i), day.AddDate(0, 0, -i))
			}
			outstanding, _, err := st.Outstanding(ctx, "M1")
			if err != nil {
				t.Fatal(err)
			}

			var rec crm.MergeRecord
			// Stop B←C after its cut-over and one move batch, or before its
			// metrics step.
			for n := 0; rec.Step != until || until == crm.MergeMove && rec.Moved == 0; n++ {
				res, err := svc.Merge(ctx, st, "M1", b, c, "test", loc, 1)
				if err != nil || n > 20 {
					t.Fatalf("B←C step %d: %+v %v", n, res.Record, err)
				}
				rec = res.Record
			}
			if res, err := svc.Merge(ctx, st, "M1", a, b, "test", loc, 0); err != nil || !res.Done() {
				t.Fatalf("A←B: %+v %v", res.Record, err)
			}
			res, err := svc.Merge(ctx, st, "M1", b, c, "test", loc, 0)
			if err != nil || !res.Done() || res.Record.SurvivorID != a || res.Survivor.ID != a {
				t.Fatalf("B←C resumed: %+v survivor %s, %v", res.Record, res.Survivor.ID, err)
			}

			for _, cid := range []string{b, c} {
				if left := partitionSKs(t, st, cid, "ORDER#", "VISIT#", "DAY#", "SEG#", "ANALYTICS"); len(left) != 0 {
					t.Fatalf("left on %s: %v", cid, left)
				}
				if b := balance(t, st, cid); b != 0 {
					t.Fatalf("%s keeps %d points", cid, b)
				}
				if rec, err := st.MergeRecord(ctx, "M1", cid); err != nil || rec.Step != crm.MergeDone || rec.SurvivorID != a {
					t.Fatalf("merge record of %s: %+v %v", cid, rec, err)
				}
			}
			orders, err := st.Orders(ctx, "M1", a)
			if err != nil || len(orders) != cOrders+2 {
				t.Fatalf("A's orders: %d %v", len(orders), err)
			}
			if owner, err := st.OrderOwner(ctx, "M1", "C-59"); err != nil || owner != a {
				t.Fatalf("C-59 belongs to %s %v", owner, err)
			}
			if visits, err := st.Visits(ctx, "M1", a); err != nil || len(visits) != cOrders+2 {
				t.Fatalf("A's visits: %d %v", len(visits), err)
			}
			want, wantDays, err := purchase.Fold(orders, loc, clk.t)
			if err != nil {
				t.Fatal(err)
			}
			got, err := st.Customer(ctx, "M1", a)
			if err != nil {
				t.Fatal(err)
			}
			if g := got.Metrics; g.Revenue != want.Revenue || g.Tickets != want.Tickets || g.Units != want.Units ||
				g.Revenue12M != want.Revenue12M || g.Tickets12M != want.Tickets12M || !g.LastVisitAt.Equal(*want.LastVisitAt) ||
				g.Revenue != (cOrders+2)*1000 || g.Tickets != cOrders {
				t.Fatalf("A's metrics %+v, its orders say %+v", g, want)
			}
			days, err := st.TicketDays(ctx, "M1", a)
			if err != nil || len(days) != len(wantDays) {
				t.Fatalf("A's ticket days: %d, want %d %v", len(days), len(wantDays), err)
			}
			if sum := balance(t, st, a); sum != outstanding || got.Metrics.PointsBalance != outstanding {
				t.Fatalf("A holds %d points (profile %d), outstanding %d", sum, got.Metrics.PointsBalance, outstanding)
			}
			if out, _, err := st.Outstanding(ctx, "M1"); err != nil || out != outstanding {
				t.Fatalf("outstanding %d, want %d %v", out, outstanding, err)
			}
		})
	}
}

// TestMergeKeepsLatestVisit: a cancelled order keeps its customer's last
// visit and first purchase; merging that customer into another who bought
// in between keeps the latest visit and the first purchase of both, though
// the folded orders no longer count the cancelled ones.
func TestMergeKeepsLatestVisit(t *testing.T) {
	p := loyalty.DefaultProgram()
	p.Enabled = true
	st, svc, clk := setup(t, p)
	ctx := t.Context()
	s, d := customer(t, st), customer(t, st)
	apply := func(cid, order string, status purchase.Status, at time.Time) {
		ev := purchase.Event{EventID: order + "-" + string(status), OrderID: order, Status: status, OccurredAt: at,
			Location: purchase.Location{ID: "centro"}, Customer: purchase.CustomerRef{CustomerID: cid}, Currency: "EUR",
			Lines: []purchase.Line{{SKU: "MENU", Quantity: 1, UnitPrice: 1000}}}
		if _, err := svc.ApplyPurchase(ctx, st, "M1", cid, ev, time.UTC); err != nil {
			t.Fatal(err)
		}
	}
	first, middle, last := clk.t.AddDate(0, 0, -5), clk.t.AddDate(0, 0, -3), clk.t.AddDate(0, 0, -1)
	apply(s, "S-1", purchase.Paid, middle)
	for order, at := range map[string]time.Time{"D-1": first, "D-2": last} {
		apply(d, order, purchase.Paid, at)
		apply(d, order, purchase.Cancelled, at.Add(time.Hour))
	}
	res, err := svc.Merge(ctx, st, "M1", s, d, "test", time.UTC, 0)
	if err != nil || !res.Done() {
		t.Fatalf("merge: %+v %v", res.Record, err)
	}
	m := res.Survivor.Metrics
	if m.LastVisitAt == nil || !m.LastVisitAt.Equal(last) || m.FirstPurchaseAt == nil || !m.FirstPurchaseAt.Equal(first) || m.Tickets != 1 {
		t.Fatalf("survivor's last visit %v (want %v), first purchase %v (want %v), tickets %d", m.LastVisitAt, last, m.FirstPurchaseAt, first, m.Tickets)
	}
}

// TestMergeIntoDeletedSurvivor: B←C is interrupted after its cut-over and a
// batch; then B (or A, after A←B, the end of B's chain) is deleted and
// erased. B←C resumed erases what C still had for the survivor (orders with
// their claims, visits, days) instead of stranding it on the tombstone, ends
// done, and answers 404 for the survivor; nothing is written under the
// deleted customer.
func TestMergeIntoDeletedSurvivor(t *testing.T) {
	for _, chained := range []bool{false, true} {
		t.Run(fmt.Sprint("chained ", chained), func(t *testing.T) {
			p := loyalty.DefaultProgram()
			p.Enabled = true
			st, svc, clk := setup(t, p)
			ctx := t.Context()
			a, b, c := customer(t, st), customer(t, st), customer(t, st)
			for i := range 40 {
				ev := purchase.Event{EventID: fmt.Sprintf("C-%d-paid", i), OrderID: fmt.Sprintf("C-%d", i), Status: purchase.Paid,
					OccurredAt: clk.t.AddDate(0, 0, -i-1), Location: purchase.Location{ID: "centro"}, Customer: purchase.CustomerRef{CustomerID: c},
					Currency: "EUR", Lines: []purchase.Line{{SKU: "MENU", Quantity: 1, UnitPrice: 1000}}}
				if _, err := svc.ApplyPurchase(ctx, st, "M1", c, ev, time.UTC); err != nil {
					t.Fatal(err)
				}
			}
			res, err := svc.Merge(ctx, st, "M1", b, c, "test", time.UTC, 2) // the cut-over and one batch
			if err != nil || res.Record.Step != crm.MergeMove || res.Record.Moved == 0 {
				t.Fatalf("B←C: %+v %v", res.Record, err)
			}
			gone := b
			if chained {
				if res, err := svc.Merge(ctx, st, "M1", a, b, "test", time.UTC, 0); err != nil || !res.Done() {
					t.Fatalf("A←B: %+v %v", res.Record, err)
				}
				gone = a
			}
			if err := st.DeleteCustomer(ctx, "M1", gone); err != nil {
				t.Fatal(err)
			}
			if _, done, err := st.EraseCustomerData(ctx, "M1", gone, 10_000); err != nil || !done {
				t.Fatalf("erasing %s: %v %v", gone, done, err)
			}
			if _, err := svc.Merge(ctx, st, "M1", b, c, "test", time.UTC, 0); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("B←C resumed: %v", err)
			}
			if rec, err := st.MergeRecord(ctx, "M1", c); err != nil || rec.Step != crm.MergeDone || rec.SurvivorID != gone {
				t.Fatalf("merge record of C: %+v %v", rec, err)
			}
			if left := partitionSKs(t, st, c, "ORDER#", "VISIT#", "DAY#", "SEG#", "ANALYTICS"); len(left) != 0 {
				t.Fatalf("left on C: %v", left)
			}
			if left := partitionSKs(t, st, gone, ""); len(left) != 0 {
				t.Fatalf("written under the deleted survivor: %v", left)
			}
			if owner, err := st.OrderOwner(ctx, "M1", "C-39"); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("C-39 still belongs to %s %v", owner, err)
			}
		})
	}
}
