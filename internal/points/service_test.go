package points_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T, p loyalty.Program) (*dynamo.Store, *points.Service, *clock) {
	st := dynamo.New(dynamodb.NewFromConfig(awsCfg), localstack.ProvisionTest(t, awsCfg).Ref("Table"))
	p, err := p.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveProgram(t.Context(), "M1", p, 0, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)}
	return st, points.New(st, clk.now), clk
}

func customer(t *testing.T, st *dynamo.Store, tags ...string) string {
	c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: "Cliente", Tags: tags}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func balance(t *testing.T, st *dynamo.Store, cid string) int64 {
	acc, err := st.Account(t.Context(), "M1", cid)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	page, err := st.Entries(t.Context(), "M1", cid, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		sum += e.Points
	}
	if sum != acc.Wallet.Balance {
		t.Fatalf("balance %d != sum of entries %d", acc.Wallet.Balance, sum)
	}
	return acc.Wallet.Balance
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	p := loyalty.DefaultProgram()
	p.Enabled, p.ExpiryDays = true, 30
	st, svc, clk := setup(t, p)
	cid := customer(t, st)
	if _, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: 100, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.AddDate(0, 0, 10)
	if _, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: 50, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	// Spend 30: taken from the oldest lot (100 → 70 left in it).
	if _, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: -30, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 2, 9, 13, 0, 0, 0, time.UTC) // first lot (Jan 10 + 30 days) has expired
	due, err := st.CustomersWithExpiry(t.Context(), "M1", asOf)
	if err != nil || len(due) != 1 || due[0] != cid {
		t.Fatalf("due for expiry: %v %v", due, err)
	}
	res, err := svc.Expire(t.Context(), "M1", cid, asOf)
	if err != nil || len(res.Entries) != 1 || res.Entries[0].Points != -70 || res.Entries[0].Kind != loyalty.KindExpire {
		t.Fatalf("expire: %+v %v", res, err)
	}
	again, err := svc.Expire(t.Context(), "M1", cid, asOf)
	if err != nil || !again.Replay {
		t.Fatalf("second expiry of the day: %+v %v", again, err)
	}
	if b := balance(t, st, cid); b != 50 {
		t.Fatalf("balance after expiry %d, want the 50 of the second lot", b)
	}
	if due, _ := st.CustomersWithExpiry(t.Context(), "M1", asOf); len(due) != 0 {
		t.Fatalf("still due: %v", due)
	}
}

func TestRunGiftsOncePerPeriod(t *testing.T) {
	t.Parallel()
	p := loyalty.DefaultProgram()
	p.Enabled = true
	st, svc, _ := setup(t, p)
	vip := customer(t, st, "VIP")
	other := customer(t, st)
	suspended := customer(t, st, "vip")
	if _, err := st.UpdateCustomer(t.Context(), "M1", suspended, func(c crm.Customer) (crm.Customer, error) { return c.Suspend(time.Now()) }); err != nil {
		t.Fatal(err)
	}
	for _, g := range []loyalty.GiftSchedule{
		{ID: "01KAAAAAAAAAAAAAAAAAAAAAAA", Points: 10, Description: "mensual", Cadence: loyalty.Monthly, Active: true},
		{ID: "01KBBBBBBBBBBBBBBBBBBBBBBB", Points: 5, Description: "vip semanal", Cadence: loyalty.Weekly, Tag: "vip", Active: true},
		{ID: "01KCCCCCCCCCCCCCCCCCCCCCCC", Points: 99, Description: "pausado", Cadence: loyalty.Daily, Active: false},
	} {
		if err := st.PutGiftSchedule(t.Context(), "M1", g); err != nil {
			t.Fatal(err)
		}
	}
	madrid, _ := time.LoadLocation("Europe/Madrid")
	day := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	run, err := points.RunGifts(t.Context(), svc, st, "M1", madrid, day)
	if err != nil || run.Schedules != 2 || run.Given != 3 || run.Already != 0 {
		t.Fatalf("first run: %+v %v", run, err)
	}
	run, err = points.RunGifts(t.Context(), svc, st, "M1", madrid, day.Add(2*time.Hour))
	if err != nil || run.Given != 0 || run.Already != 3 {
		t.Fatalf("same period again: %+v %v", run, err)
	}
	run, err = points.RunGifts(t.Context(), svc, st, "M1", madrid, day.AddDate(0, 0, 7)) // next week, same month
	if err != nil || run.Given != 1 || run.Already != 2 {
		t.Fatalf("next week: %+v %v", run, err)
	}
	if b := balance(t, st, vip); b != 20 {
		t.Fatalf("vip balance %d, want 10 + 5 + 5", b)
	}
	if b := balance(t, st, other); b != 10 {
		t.Fatalf("other balance %d", b)
	}
	if b := balance(t, st, suspended); b != 0 {
		t.Fatalf("a suspended customer got gifts: %d", b)
	}
}

func TestRefundPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy loyalty.RefundPolicy
		want   int64
	}{{loyalty.RefundWithinBalance, 0}, {loyalty.RefundAllowNegative, -60}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			p := loyalty.DefaultProgram()
			p.Enabled, p.RefundPolicy = true, tc.policy
			st, svc, _ := setup(t, p)
			cid := customer(t, st)
			earn, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: 100, Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: -60, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			// Voiding the earn after 60 were spent: the policy decides.
			if _, err := svc.Void(t.Context(), "M1", cid, earn.Entries[0].ID, "", "test"); err != nil {
				t.Fatal(err)
			}
			if b := balance(t, st, cid); b != tc.want {
				t.Fatalf("balance %d, want %d", b, tc.want)
			}
			// A negative balance is repaid by the next credit before it forms a lot.
			if _, err := svc.Post(t.Context(), "M1", cid, points.Manual{Points: 100, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			acc, _ := st.Account(t.Context(), "M1", cid)
			var lots int64
			for _, l := range acc.Wallet.Lots {
				lots += l.Remaining
			}
			if b := balance(t, st, cid); b != tc.want+100 || lots != b {
				t.Fatalf("after repaying: balance %d, lots %d", b, lots)
			}
		})
	}
}

// failedSync fails the transactions that write a posting's recorded events
// after it committed, as an outage would.
type failedSync struct{ dynamo.API }

func (f failedSync) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if it.ConditionCheck != nil || it.Update != nil && strings.Contains(aws.ToString(it.Update.UpdateExpression), "REMOVE pending_events") {
			return nil, errors.New("service unavailable")
		}
	}
	return f.API.TransactWriteItems(ctx, in, opts...)
}

// Badge events a posting left pending (its writes after the commit failed)
// are written by the nightly recompute, even when the badges held did not
// change since.
func TestRecomputeBadgesWritesPendingEvents(t *testing.T) {
	st, svc, clk := setup(t, loyalty.Program{Enabled: true, Earning: loyalty.Earning{PointsPerStep: 1, StepAmount: 100, Trigger: loyalty.TriggerPaid},
		Redemption: loyalty.Redemption{Points: 1, Amount: 1}, RefundPolicy: loyalty.RefundWithinBalance})
	bronze := loyalty.Badge{ID: "01JWQWRBR0MFJFGKZQ749KZ0N4", Title: "Bronce", From: 10, Basis: loyalty.BasisBalance}
	if err := st.PutBadge(t.Context(), "M1", bronze, false); err != nil {
		t.Fatal(err)
	}
	cid := customer(t, st)
	flaky := points.New(dynamo.New(failedSync{dynamodb.NewFromConfig(awsCfg)}, st.Table()), clk.now)
	if _, err := flaky.Post(t.Context(), "M1", cid, points.Manual{Points: 20, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	acc, err := st.Account(t.Context(), "M1", cid)
	if err != nil {
		t.Fatal(err)
	}
	holders := func() int {
		page, err := st.BadgeHolders(t.Context(), "M1", bronze.ID, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Customers)
	}
	if !acc.EventsPending || len(acc.Badges) != 1 || holders() != 0 {
		t.Fatalf("after the failed writes: pending %v, badges %v, %d holders", acc.EventsPending, acc.Badges, holders())
	}
	if err := svc.RecomputeBadges(t.Context(), "M1", acc); err != nil {
		t.Fatal(err)
	}
	if acc, err = st.Account(t.Context(), "M1", cid); err != nil || acc.EventsPending || holders() != 1 || balance(t, st, cid) != 20 {
		t.Fatalf("after the recompute: pending %v, %d holders, %v", acc.EventsPending, holders(), err)
	}
}
