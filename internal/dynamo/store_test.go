package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/regulars/regulars/infra/localstack"
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/dynamo"
	"github.com/regulars/regulars/internal/idempotency"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

var awsCfg aws.Config

func TestMain(m *testing.M) { localstack.Main(m, &awsCfg) }

func newStore(t *testing.T) *dynamo.Store {
	res := localstack.ProvisionTest(t, awsCfg)
	return dynamo.New(dynamodb.NewFromConfig(awsCfg), res.Ref("Table"))
}

// Concurrent read-modify-writes of one customer all land: the version
// condition makes losers re-read and retry instead of overwriting.
func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	now := time.Now()
	c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: "Ana"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.UpdateCustomer(t.Context(), "M1", c.ID, func(c crm.Customer) (crm.Customer, error) {
				c.Tags = append(c.Tags, fmt.Sprintf("t%d", i))
				return c, nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	conflicts := 0
	for err := range errs {
		switch {
		case err == nil:
		case apperr.CodeOf(err) == apperr.Conflict:
			conflicts++ // retries exhausted: reported, never silently lost
		default:
			t.Fatal(err)
		}
	}
	got, err := st.Customer(t.Context(), "M1", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != writers-conflicts || got.Version != int64(1+writers-conflicts) {
		t.Fatalf("tags %v, version %d after %d writers (%d reported conflicts)", got.Tags, got.Version, writers, conflicts)
	}
}

// Of many concurrent enrolments with one email, exactly one wins; the others
// are told who holds it.
func TestConcurrentDuplicateEnrolment(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	const n = 8
	var wg sync.WaitGroup
	type result struct {
		id  string
		err error
	}
	results := make(chan result, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{Email: "same@example.com", GivenName: "Dup"}}, time.Now())
			if err != nil {
				results <- result{err: err}
				return
			}
			results <- result{id: c.ID, err: st.CreateCustomer(t.Context(), c)}
		}()
	}
	wg.Wait()
	close(results)
	var winner string
	var losers []*apperr.Error
	for r := range results {
		if r.err == nil {
			if winner != "" {
				t.Fatalf("two customers created with one email: %s and %s", winner, r.id)
			}
			winner = r.id
			continue
		}
		e := apperr.As(r.err)
		if e == nil || e.Code != apperr.Conflict {
			t.Fatalf("unexpected error %v", r.err)
		}
		losers = append(losers, e)
	}
	if winner == "" {
		t.Fatal("no enrolment succeeded")
	}
	for _, e := range losers {
		if e.Extra["existing_id"] != winner {
			t.Fatalf("conflict names %v, winner is %s", e.Extra["existing_id"], winner)
		}
	}
	page, err := st.ListCustomers(t.Context(), "M1", crm.Query{Limit: 50, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Customers) != 1 {
		t.Fatalf("%d customers listed", len(page.Customers))
	}
}

// Deleting a customer frees its identifiers and leaves nothing in its partition.
func TestDeleteReleasesIdentifiers(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	now := time.Now()
	c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{Email: "x@example.com", Phone: "+34600000009", CardNumber: "RG0001", ExternalID: "e-1", GivenName: "Borrar Me"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCustomer(t.Context(), "M1", c.ID); err != nil {
		t.Fatal(err)
	}
	for _, u := range c.Uniques() {
		if _, err := st.CustomerByUnique(t.Context(), "M1", u); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("%s still resolves: %v", u.Kind, err)
		}
	}
	page, err := st.ListCustomers(t.Context(), "M1", crm.Query{Limit: 10, Now: now, SearchKind: crm.SearchName, Search: "borrar"})
	if err != nil || len(page.Customers) != 0 {
		t.Fatalf("search still finds the deleted customer: %v %v", page.Customers, err)
	}
	again, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{Email: "x@example.com"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomer(t.Context(), again); err != nil {
		t.Fatalf("re-enrolment: %v", err)
	}
}

// A claim left unfinished by a request that died is taken over by a retry of
// the same request once it is abandoned; a different request is still refused.
func TestAbandonedIdempotencyClaim(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	now := time.Now()
	if _, claimed, err := st.ClaimIdempotencyKey(t.Context(), "M1", "k", "fp", now.Add(-3*time.Minute), 24*time.Hour); err != nil || !claimed {
		t.Fatalf("first claim: %v %v", claimed, err)
	}
	if rec, claimed, err := st.ClaimIdempotencyKey(t.Context(), "M1", "k", "other", now, 24*time.Hour); err != nil || claimed || rec.Fingerprint != "fp" {
		t.Fatalf("a different request took an abandoned claim: %v %+v %v", claimed, rec, err)
	}
	if _, claimed, err := st.ClaimIdempotencyKey(t.Context(), "M1", "k", "fp", now, 24*time.Hour); err != nil || !claimed {
		t.Fatalf("the retry did not take over the abandoned claim: %v %v", claimed, err)
	}
	if rec, claimed, err := st.ClaimIdempotencyKey(t.Context(), "M1", "k", "fp", now, 24*time.Hour); err != nil || claimed || rec.Done {
		t.Fatalf("a fresh claim was taken over: %v %+v %v", claimed, rec, err)
	}
}

// A deletion that stopped after removing the profile is finished by the erasure.
func TestDeleteRetryFinishesCleanUp(t *testing.T) {
	t.Parallel()
	db := dynamodb.NewFromConfig(awsCfg)
	table := localstack.ProvisionTest(t, awsCfg).Ref("Table")
	st := dynamo.New(db, table)
	c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: "Medio Borrado"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	pk := &types.AttributeValueMemberS{Value: "M#M1#C#" + c.ID}
	if _, err := db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: &table,
		Key: map[string]types.AttributeValue{"PK": pk, "SK": &types.AttributeValueMemberS{Value: "PROFILE"}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCustomer(t.Context(), "M1", c.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("retry: %v", err)
	}
	if _, done, err := st.EraseCustomerData(t.Context(), "M1", c.ID, 1000); err != nil || !done {
		t.Fatalf("erase: done %v, %v", done, err)
	}
	out, err := db.Query(t.Context(), &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": pk}})
	if err != nil || len(out.Items) != 0 {
		t.Fatalf("%d items left in the partition (%v)", len(out.Items), err)
	}
}

func TestUnnamedCustomersSortLastByName(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	now := time.Now()
	for _, n := range []string{"", "Zoe", "aaron"} {
		c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: n}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	page, err := st.ListCustomers(t.Context(), "M1", crm.Query{Order: crm.OrderName, Limit: 10, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range page.Customers {
		got = append(got, c.GivenName)
	}
	if strings.Join(got, ",") != "aaron,Zoe," {
		t.Fatalf("order by name: %q", got)
	}
}

// conflictingDB fails the first n transactions the way DynamoDB does when
// another transaction holds an item (DynamoDB Local never does).
type conflictingDB struct {
	dynamo.API
	mu sync.Mutex
	n  int
}

func (c *conflictingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	fail := c.n > 0
	if fail {
		c.n--
	}
	c.mu.Unlock()
	if fail {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i] = types.CancellationReason{Code: aws.String("None")}
		}
		reasons[len(reasons)-1] = types.CancellationReason{Code: aws.String("TransactionConflict")}
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	return c.API.TransactWriteItems(ctx, in, opts...)
}

// A posting hit by TransactionConflict is retried and lands exactly once.
func TestPostingRetriesTransactionConflicts(t *testing.T) {
	t.Parallel()
	table := localstack.ProvisionTest(t, awsCfg).Ref("Table")
	real := dynamodb.NewFromConfig(awsCfg)
	st := dynamo.New(real, table)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: "Conflicto"}}, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	db := &conflictingDB{API: real, n: 3}
	flaky := dynamo.New(db, table)
	calls := 0
	_, p, err := flaky.Post(t.Context(), "M1", c.ID, func(acc loyalty.Account) (loyalty.Posting, error) {
		calls++
		w, err := acc.Wallet.Credit(10, at, nil, true)
		if err != nil {
			return loyalty.Posting{}, err
		}
		return loyalty.Posting{Wallet: w, Entries: []loyalty.Entry{{ID: ids.New(at), CustomerID: c.ID, Kind: loyalty.KindEarn,
			Points: 10, BalanceAfter: w.Balance, Reason: "test", Actor: "test", CreatedAt: at}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 4 || db.n != 0 {
		t.Fatalf("%d attempts, %d conflicts left", calls, db.n)
	}
	acc, err := st.Account(t.Context(), "M1", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Entries(t.Context(), "M1", c.ID, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if acc.Wallet.Balance != 10 || len(page.Entries) != 1 || page.Entries[0].ID != p.Entries[0].ID {
		t.Fatalf("balance %d with %d entries", acc.Wallet.Balance, len(page.Entries))
	}
}

// An Idempotency-Key is remembered for its TTL; after it, the key is free
// even before DynamoDB's TTL sweep deletes the record.
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	now := time.Now()
	if _, claimed, err := st.ClaimIdempotencyKey(t.Context(), "M1", "k", "fp", now.Add(-25*time.Hour), 24*time.Hour); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := st.CompleteIdempotencyKey(t.Context(), "M1", "k", "", idempotency.Record{Fingerprint: "fp", Done: true, Status: 201, Body: []byte("{}")}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := st.ClaimIdempotencyKey(t.Context(), "M1", "k", "other", now, 24*time.Hour); err != nil || !claimed {
		t.Fatalf("an expired key was not freed: %v %v", claimed, err)
	}
	rec, claimed, err := st.ClaimIdempotencyKey(t.Context(), "M1", "k", "third", now, 24*time.Hour)
	if err != nil || claimed || rec.Fingerprint != "other" {
		t.Fatalf("a live key was taken: %v %+v %v", claimed, rec, err)
	}
}

// outageAfterCommitDB fails every transaction that writes a posting's
// recorded events (the ones after the posting's own), as an outage would.
type outageAfterCommitDB struct{ dynamo.API }

func (o outageAfterCommitDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if it.ConditionCheck != nil || it.Update != nil && strings.Contains(aws.ToString(it.Update.UpdateExpression), "REMOVE pending_events") {
			return nil, fmt.Errorf("service unavailable")
		}
	}
	return o.API.TransactWriteItems(ctx, in, opts...)
}

// A posting's badge changes are recorded with it; when writing their events
// and memberships fails after the posting committed, the posting stands,
// the account says events are pending, and the next posting writes them.
func TestPendingBadgeEventsAreWrittenByTheNextPosting(t *testing.T) {
	table := localstack.ProvisionTest(t, awsCfg).Ref("Table")
	real := dynamodb.NewFromConfig(awsCfg)
	st := dynamo.New(real, table)
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{GivenName: "Pendiente"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCustomer(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	badges := []string{ids.New(now), ids.New(now)}
	var events []crm.Event
	for _, b := range badges {
		events = append(events, crm.Event{ID: ids.New(now), Type: "badge_gained", At: now, Data: map[string]string{"badge_id": b}})
	}
	_, _, err = dynamo.New(outageAfterCommitDB{real}, table).Post(t.Context(), "M1", c.ID, func(acc loyalty.Account) (loyalty.Posting, error) {
		w := acc.Wallet
		w.Balance, w.EarnedTotal = 10, 10
		w.Lots = []loyalty.Lot{{EarnedAt: now, Remaining: 10}}
		return loyalty.Posting{Wallet: w, Badges: badges, Events: events, Entries: []loyalty.Entry{{ID: ids.New(now), CustomerID: c.ID,
			Kind: loyalty.KindEarn, Points: 10, BalanceAfter: 10, Reason: "test", Actor: "test", CreatedAt: now}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	state := func() (loyalty.Account, int, int) {
		acc, err := st.Account(t.Context(), "M1", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		holders := 0
		for _, b := range badges {
			page, err := st.BadgeHolders(t.Context(), "M1", b, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			holders += len(page.Customers)
		}
		items, _, err := st.Timeline(t.Context(), "M1", c.ID, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		evs := 0
		for _, it := range items {
			if it.Event != nil && it.Event.Type == "badge_gained" {
				evs++
			}
		}
		return acc, holders, evs
	}
	if acc, holders, evs := state(); acc.Wallet.Balance != 10 || len(acc.Badges) != 2 || !acc.EventsPending || holders != 0 || evs != 0 {
		t.Fatalf("after the outage: balance %d, badges %v, pending %v, %d holders, %d events", acc.Wallet.Balance, acc.Badges, acc.EventsPending, holders, evs)
	}
	if _, _, err := st.Post(t.Context(), "M1", c.ID, func(acc loyalty.Account) (loyalty.Posting, error) {
		return loyalty.Posting{Wallet: acc.Wallet, Badges: acc.Badges}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if acc, holders, evs := state(); acc.EventsPending || holders != 2 || evs != 2 {
		t.Fatalf("after the next posting: pending %v, %d holders, %d events", acc.EventsPending, holders, evs)
	}
}

// The phone migration rewrites numbers stored before phones were parsed
// per country in their canonical form, with their claims; reports the
// invalid ones and the collisions (two customers, one number) without
// changing them; and changes nothing when run again.
func TestMigratePhones(t *testing.T) {
	st := newStore(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stored := map[string]string{ // as the E.164 pattern of old let them in
		"londres":  "+4402079460000", // → +442079460000
		"trunk":    "+4407911123456", // → +447911123456, held by "canonico"
		"canonico": "+447911123456",
		"corto":    "+3412345", // not a valid number
		"madrid":   "+34600123456",
	}
	ids := map[string]string{}
	for name, phone := range stored {
		c, err := crm.New("M1", crm.Enrolment{Profile: crm.Profile{ExternalID: name}}, at)
		if err != nil {
			t.Fatal(err)
		}
		c.Phone = phone
		if err := st.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	got, err := st.MigratePhones(t.Context(), "M1", "ES", at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Checked != 5 ||
		!slices.Equal(got.Changed, []crm.PhoneChange{{CustomerID: ids["londres"], From: "+4402079460000", To: "+442079460000"}}) ||
		!slices.Equal(got.Invalid, []crm.PhoneChange{{CustomerID: ids["corto"], From: "+3412345"}}) ||
		!slices.Equal(got.Collisions, []crm.PhoneChange{{CustomerID: ids["trunk"], From: "+4407911123456", To: "+447911123456", HeldBy: ids["canonico"]}}) {
		t.Fatalf("migration %+v", got)
	}
	if c, err := st.CustomerByUnique(t.Context(), "M1", crm.Unique{Kind: "phone", Value: "+442079460000"}); err != nil || c.ID != ids["londres"] {
		t.Fatalf("the canonical claim: %v %v", c.ID, err)
	}
	if _, err := st.CustomerByUnique(t.Context(), "M1", crm.Unique{Kind: "phone", Value: "+4402079460000"}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("the old claim still resolves: %v", err)
	}
	again, err := st.MigratePhones(t.Context(), "M1", "ES", at.Add(2*time.Hour))
	if err != nil || len(again.Changed) != 0 || len(again.Collisions) != 1 || len(again.Invalid) != 1 {
		t.Fatalf("second run %+v, %v", again, err)
	}
	if c, err := st.Customer(t.Context(), "M1", ids["londres"]); err != nil || c.Version != 2 {
		t.Fatalf("londres v%d, %v; want v2 (one write)", c.Version, err)
	}
}
