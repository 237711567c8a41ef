package crm

import (
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	past := now.Add(-48 * time.Hour)
	future := now.Add(time.Hour)
	for _, tc := range []struct {
		name  string
		e     Enrolment
		paths string
		state State
	}{
		{name: "defaults to active", e: Enrolment{}, state: StateActive},
		{name: "pending", e: Enrolment{State: StatePending}, state: StatePending},
		{name: "cannot start suspended", e: Enrolment{State: StateSuspended}, paths: "/state"},
		{name: "unknown state", e: Enrolment{State: "gone"}, paths: "/state"},
		{name: "enrolled in the past", e: Enrolment{EnrolledAt: &past}, state: StateActive},
		{name: "enrolled in the future", e: Enrolment{EnrolledAt: &future}, paths: "/enrolled_at"},
		{name: "profile and state errors together", e: Enrolment{Profile: Profile{Email: "x"}, State: "gone"}, paths: "/email,/state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New("M1", tc.e, now)
			if tc.paths != "" {
				if got := strings.Join(paths(err), ","); got != tc.paths {
					t.Fatalf("paths = %q, want %q (%v)", got, tc.paths, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.State != tc.state || c.MerchantID != "M1" || len(c.ID) != 26 {
				t.Fatalf("customer = %+v", c)
			}
			if tc.e.EnrolledAt != nil && !c.EnrolledAt.Equal(*tc.e.EnrolledAt) {
				t.Fatalf("enrolled at %v", c.EnrolledAt)
			}
		})
	}
}

func TestPatchApply(t *testing.T) {
	base, err := New("M1", Enrolment{Profile: Profile{GivenName: "Ana", Email: "ana@x.es", Tags: []string{"vip"}, Favorite: true}}, now)
	if err != nil {
		t.Fatal(err)
	}
	empty, email, typ := "", "NEW@X.ES", Type("prospect")
	noTags := []string{}
	c, err := Patch{GivenName: &empty, Email: &email, Tags: &noTags, Type: &typ}.Apply(base, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if c.GivenName != "" || c.Email != "new@x.es" || len(c.Tags) != 0 || c.Type != TypeProspect || !c.Favorite {
		t.Fatalf("patched = %+v", c.Profile)
	}
	if !c.UpdatedAt.After(base.UpdatedAt) {
		t.Fatal("updated_at did not move")
	}
	bad := "nope"
	if _, err := (Patch{Phone: &bad}).Apply(base, now); strings.Join(paths(err), ",") != "/phone" {
		t.Fatalf("bad phone: %v", err)
	}
	if _, err := (Patch{Type: new(Type)}).Apply(base, now); strings.Join(paths(err), ",") != "/type" {
		t.Fatalf("cleared type: %v", err)
	}
}

func TestStateTransitions(t *testing.T) {
	c, _ := New("M1", Enrolment{State: StatePending}, now)
	c, _ = c.Reactivate(now)
	if c.State != StateActive {
		t.Fatalf("pending → reactivate = %s", c.State)
	}
	c, _ = c.Suspend(now)
	again, _ := c.Suspend(now.Add(time.Hour))
	if c.State != StateSuspended || !again.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatal("suspend is not idempotent")
	}
}

func TestActiveAndAOV(t *testing.T) {
	recent := now.Add(-29 * 24 * time.Hour)
	old := now.Add(-31 * 24 * time.Hour)
	for _, tc := range []struct {
		last *time.Time
		want bool
	}{{nil, false}, {&recent, true}, {&old, false}} {
		c := Customer{Metrics: Metrics{LastVisitAt: tc.last}}
		if c.Active(now) != tc.want {
			t.Errorf("Active with last visit %v = %v", tc.last, !tc.want)
		}
	}
	if (Metrics{}).AOV() != 0 || (Metrics{Revenue: 1001, Tickets: 2}).AOV() != 500 {
		t.Error("AOV is revenue / tickets rounded down, 0 without tickets")
	}
}

// TestChangesNeverGoBack: a change dated at or before the customer's last
// change (a clock behind another writer's) is dated just after it, so
// updated_at never goes backwards, through every change of the profile.
func TestChangesNeverGoBack(t *testing.T) {
	base, err := New("M1", Enrolment{Profile: Profile{GivenName: "Ana"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	name := "Lucía"
	survivor, _ := New("M1", Enrolment{Profile: Profile{GivenName: "Eva"}}, now)
	for _, tc := range []struct {
		at   time.Time
		want time.Time
	}{
		{now.Add(time.Second), now.Add(time.Second)},
		{now, now.Add(time.Microsecond)},
		{now.Add(-time.Hour), now.Add(time.Microsecond)},
	} {
		suspended, _ := base.Suspend(now.Add(-2 * time.Hour))
		suspended.UpdatedAt = now
		for what, change := range map[string]func() (Customer, error){
			"patch":      func() (Customer, error) { return Patch{GivenName: &name}.Apply(base, tc.at) },
			"suspend":    func() (Customer, error) { return base.Suspend(tc.at) },
			"reactivate": func() (Customer, error) { return suspended.Reactivate(tc.at) },
			"merge":      func() (Customer, error) { return Merge(base, survivor, tc.at), nil },
			"tombstone":  func() (Customer, error) { return base.Tombstone(survivor.ID, tc.at), nil },
		} {
			c, err := change()
			if err != nil || !c.UpdatedAt.Equal(tc.want) {
				t.Errorf("%s at %v of a customer changed at %v: updated_at %v, want %v (%v)", what, tc.at, now, c.UpdatedAt, tc.want, err)
			}
		}
	}
}

// A phone stored before numbers were checked per country stands until it is
// changed: patching another field does not fail on it; a new phone is
// checked and read in the patch's region.
func TestPatchKeepsAStoredPhone(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := Customer{ID: "c1", Profile: Profile{Phone: "+3412345", Type: TypeDirect, CardTemplate: DefaultCardTemplate}, State: StateActive}
	name := "Ana"
	got, err := Patch{GivenName: &name, Region: "ES"}.Apply(c, now)
	if err != nil || got.Phone != "+3412345" || got.GivenName != "Ana" {
		t.Fatalf("patch of the name: %+v, %v", got.Profile, err)
	}
	for phone, want := range map[string]string{"600 123 456": "+34600123456", "+34 12345": ""} {
		got, err := Patch{Phone: &phone, Region: "ES"}.Apply(c, now)
		if want == "" && err == nil || want != "" && (err != nil || got.Phone != want) {
			t.Errorf("patch of the phone %q: %q, %v; want %q", phone, got.Phone, err, want)
		}
	}
}
