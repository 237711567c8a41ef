package loyalty

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/apperr"
)

func TestDefaultProgramIsValid(t *testing.T) {
	p := DefaultProgram()
	got, err := p.Validate()
	if err != nil {
		t.Fatalf("DefaultProgram().Validate() = %v, want nil", err)
	}
	if got.Enabled {
		t.Errorf("default program is enabled, want disabled until the merchant switches it on")
	}
	// 10 points per 5.00 spent; 100 points = 1.00 off.
	if got.Earning.PointsPerStep != 10 || got.Earning.StepAmount != 500 {
		t.Errorf("earning = %d per %d, want 10 per 500", got.Earning.PointsPerStep, got.Earning.StepAmount)
	}
	if got.Redemption.Points != 100 || got.Redemption.Amount != 100 {
		t.Errorf("redemption rate = %d:%d, want 100:100", got.Redemption.Points, got.Redemption.Amount)
	}
}

func TestValidateErrorPaths(t *testing.T) {
	manySKUs := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("SKU-%04d", i)
		}
		return out
	}
	manyOverrides := func(n int) []ProductOverride {
		out := make([]ProductOverride, n)
		for i := range out {
			out[i] = ProductOverride{SKU: fmt.Sprintf("SKU-%04d", i), PointsPerUnit: pointsOf(1)}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		edit  func(p *Program)
		paths string // "" means valid
	}{
		// The base program (the default, enabled) is valid.
		{name: "seed program", edit: func(p *Program) {}},

		// Earning.
		{name: "points_per_step negative", edit: func(p *Program) { p.Earning.PointsPerStep = -1 }, paths: "/earning/points_per_step"},
		{name: "points_per_step above the limit", edit: func(p *Program) { p.Earning.PointsPerStep = maxPoints + 1 }, paths: "/earning/points_per_step"},
		{name: "points_per_step zero is allowed", edit: func(p *Program) { p.Earning.PointsPerStep = 0 }},
		{name: "points_per_step at the limit", edit: func(p *Program) { p.Earning.PointsPerStep = maxPoints }},
		{name: "step_amount zero", edit: func(p *Program) { p.Earning.StepAmount = 0 }, paths: "/earning/step_amount"},
		{name: "step_amount negative", edit: func(p *Program) { p.Earning.StepAmount = -500 }, paths: "/earning/step_amount"},
		{name: "step_amount one minor unit", edit: func(p *Program) { p.Earning.StepAmount = 1 }},
		{name: "step_amount at the maximum", edit: func(p *Program) { p.Earning.StepAmount = MaxAmount }},
		{name: "step_amount above the maximum", edit: func(p *Program) { p.Earning.StepAmount = MaxAmount + 1 }, paths: "/earning/step_amount"},
		{name: "trigger empty", edit: func(p *Program) { p.Earning.Trigger = "" }, paths: "/earning/trigger"},
		{name: "trigger unknown", edit: func(p *Program) { p.Earning.Trigger = "shipped" }, paths: "/earning/trigger"},
		{name: "trigger created", edit: func(p *Program) { p.Earning.Trigger = TriggerCreated }},
		{name: "trigger completed", edit: func(p *Program) { p.Earning.Trigger = TriggerCompleted }},

		// Overrides.
		{name: "override with neither points nor percent", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG"}}
		}, paths: "/earning/overrides/0"},
		{name: "override with both points and percent", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", PointsPerUnit: pointsOf(5), Percent: pointsOf(500)}}
		}, paths: "/earning/overrides/0"},
		{name: "second override without a rule", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", PointsPerUnit: pointsOf(5)}, {SKU: "TEA"}}
		}, paths: "/earning/overrides/1"},
		{name: "override sku empty", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "", PointsPerUnit: pointsOf(5)}}
		}, paths: "/earning/overrides/0/sku"},
		{name: "override sku only spaces", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "   ", PointsPerUnit: pointsOf(5)}}
		}, paths: "/earning/overrides/0/sku"},
		{name: "override sku 65 characters", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: strings.Repeat("x", 65), PointsPerUnit: pointsOf(5)}}
		}, paths: "/earning/overrides/0/sku"},
		{name: "override sku 64 characters", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: strings.Repeat("x", 64), PointsPerUnit: pointsOf(5)}}
		}},
		{name: "override sku with a control character", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MU\x01G", PointsPerUnit: pointsOf(5)}}
		}, paths: "/earning/overrides/0/sku"},
		{name: "override sku twice", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", PointsPerUnit: pointsOf(5)}, {SKU: "MUG", Percent: pointsOf(100)}}
		}, paths: "/earning/overrides/1/sku"},
		{name: "override sku twice after trimming", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", PointsPerUnit: pointsOf(5)}, {SKU: " MUG ", PointsPerUnit: pointsOf(6)}}
		}, paths: "/earning/overrides/1/sku"},
		{name: "override sku invalid and no rule: both reported", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: ""}}
		}, paths: "/earning/overrides/0/sku,/earning/overrides/0"},
		{name: "override points_per_unit negative", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", PointsPerUnit: pointsOf(-1)}}
		}, paths: "/earning/overrides/0/points_per_unit"},
		{name: "override points_per_unit above the limit", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", PointsPerUnit: pointsOf(maxPoints + 1)}}
		}, paths: "/earning/overrides/0/points_per_unit"},
		{name: "override points_per_unit zero", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", PointsPerUnit: pointsOf(0)}}
		}},
		{name: "override percent negative", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", Percent: pointsOf(-1)}}
		}, paths: "/earning/overrides/0/percent"},
		{name: "override percent above 100000 basis points", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", Percent: pointsOf(100_001)}}
		}, paths: "/earning/overrides/0/percent"},
		{name: "override percent at 100000 basis points", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", Percent: pointsOf(100_000)}}
		}},
		{name: "override percent zero", edit: func(p *Program) {
			p.Earning.Overrides = []ProductOverride{{SKU: "MUG", Percent: pointsOf(0)}}
		}},
		{name: "500 overrides", edit: func(p *Program) { p.Earning.Overrides = manyOverrides(500) }},
		{name: "501 overrides", edit: func(p *Program) { p.Earning.Overrides = manyOverrides(501) }, paths: "/earning/overrides"},

		// Earning exclusions.
		{name: "earning excluded sku empty at index 1", edit: func(p *Program) {
			p.Earning.ExcludedProducts = []string{"MUG", " ", "TEA"}
		}, paths: "/earning/excluded_products/1"},
		{name: "earning excluded 500 products", edit: func(p *Program) { p.Earning.ExcludedProducts = manySKUs(500) }},
		{name: "earning excluded 501 products", edit: func(p *Program) {
			p.Earning.ExcludedProducts = manySKUs(501)
		}, paths: "/earning/excluded_products"},

		// Actions.
		{name: "signup negative", edit: func(p *Program) { p.Actions.Signup = -1 }, paths: "/actions/signup"},
		{name: "newsletter negative", edit: func(p *Program) { p.Actions.Newsletter = -1 }, paths: "/actions/newsletter"},
		{name: "review above the limit", edit: func(p *Program) { p.Actions.Review = maxPoints + 1 }, paths: "/actions/review"},
		{name: "actions set", edit: func(p *Program) {
			p.Actions = Actions{Signup: 50, Newsletter: 20, Review: 10, ReviewOncePerCustomer: true}
		}},

		// Redemption rate and thresholds.
		{name: "redemption points zero", edit: func(p *Program) { p.Redemption.Points = 0 }, paths: "/redemption/points"},
		{name: "redemption points above the limit", edit: func(p *Program) { p.Redemption.Points = maxPoints + 1 }, paths: "/redemption/points"},
		{name: "redemption amount zero", edit: func(p *Program) { p.Redemption.Amount = 0 }, paths: "/redemption/amount"},
		{name: "redemption amount negative", edit: func(p *Program) { p.Redemption.Amount = -100 }, paths: "/redemption/amount"},
		{name: "redemption amount above the limit", edit: func(p *Program) { p.Redemption.Amount = maxPoints + 1 }, paths: "/redemption/amount"},
		{name: "redemption 3 points per minor unit", edit: func(p *Program) { p.Redemption.Points, p.Redemption.Amount = 3, 1 }},
		{name: "min_balance negative", edit: func(p *Program) { p.Redemption.MinBalance = -1 }, paths: "/redemption/min_balance"},
		{name: "min_cart negative", edit: func(p *Program) { p.Redemption.MinCart = -1 }, paths: "/redemption/min_cart"},
		{name: "min_cart above the maximum", edit: func(p *Program) { p.Redemption.MinCart = MaxAmount + 1 }, paths: "/redemption/min_cart"},
		{name: "max_discount fixed above the maximum", edit: func(p *Program) {
			p.Redemption.MaxDiscount = &Cap{Kind: CapFixed, Value: MaxAmount + 1}
		}, paths: "/redemption/max_discount/value"},
		{name: "min_balance and min_cart set", edit: func(p *Program) { p.Redemption.MinBalance, p.Redemption.MinCart = 500, 2000 }},

		// Maximum discount.
		{name: "max_discount fixed negative", edit: func(p *Program) {
			p.Redemption.MaxDiscount = &Cap{Kind: CapFixed, Value: -1}
		}, paths: "/redemption/max_discount/value"},
		{name: "max_discount fixed 5.00", edit: func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapFixed, Value: 500} }},
		{name: "max_discount percent negative", edit: func(p *Program) {
			p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: -1}
		}, paths: "/redemption/max_discount/value"},
		{name: "max_discount percent above 100 %", edit: func(p *Program) {
			p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 10001}
		}, paths: "/redemption/max_discount/value"},
		{name: "max_discount percent 100 %", edit: func(p *Program) { p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 10000} }},
		{name: "max_discount kind empty", edit: func(p *Program) {
			p.Redemption.MaxDiscount = &Cap{Value: 500}
		}, paths: "/redemption/max_discount/kind"},
		{name: "max_discount kind unknown with a negative value: only the kind", edit: func(p *Program) {
			p.Redemption.MaxDiscount = &Cap{Kind: "amount", Value: -5}
		}, paths: "/redemption/max_discount/kind"},

		// Redemption product lists.
		{name: "redemption excluded sku invalid", edit: func(p *Program) {
			p.Redemption.ExcludedProducts = []string{""}
		}, paths: "/redemption/excluded_products/0"},
		{name: "redemption excluded 501 products", edit: func(p *Program) {
			p.Redemption.ExcludedProducts = manySKUs(501)
		}, paths: "/redemption/excluded_products"},
		{name: "redemption allowed sku invalid at index 2", edit: func(p *Program) {
			p.Redemption.AllowedProducts = []string{"A", "B", strings.Repeat("y", 65)}
		}, paths: "/redemption/allowed_products/2"},
		{name: "redemption allowed 501 products", edit: func(p *Program) {
			p.Redemption.AllowedProducts = manySKUs(501)
		}, paths: "/redemption/allowed_products"},
		{name: "allowed combined with excluded", edit: func(p *Program) {
			p.Redemption.ExcludedProducts = []string{"GIFT-CARD"}
			p.Redemption.AllowedProducts = []string{"MUG"}
		}, paths: "/redemption/allowed_products"},
		{name: "allowed with an excluded list of only invalid skus: the invalid entry, no conflict", edit: func(p *Program) {
			p.Redemption.ExcludedProducts = []string{" "}
			p.Redemption.AllowedProducts = []string{"MUG"}
		}, paths: "/redemption/excluded_products/0"},
		{name: "allowed alone", edit: func(p *Program) { p.Redemption.AllowedProducts = []string{"MUG"} }},
		{name: "excluded alone with on-sale exclusion", edit: func(p *Program) {
			p.Redemption.ExcludedProducts = []string{"GIFT-CARD"}
			p.Redemption.ExcludeOnSale = true
		}},

		// Refund policy and expiry.
		{name: "refund policy empty", edit: func(p *Program) { p.RefundPolicy = "" }, paths: "/refund_policy"},
		{name: "refund policy unknown", edit: func(p *Program) { p.RefundPolicy = "never" }, paths: "/refund_policy"},
		{name: "refund policy allow_negative", edit: func(p *Program) { p.RefundPolicy = RefundAllowNegative }},
		{name: "expiry negative", edit: func(p *Program) { p.ExpiryDays = -1 }, paths: "/expiry_days"},
		{name: "expiry above ten years", edit: func(p *Program) { p.ExpiryDays = 3651 }, paths: "/expiry_days"},
		{name: "expiry ten years", edit: func(p *Program) { p.ExpiryDays = 3650 }},
		{name: "expiry one year", edit: func(p *Program) { p.ExpiryDays = 365 }},

		// Several errors are all reported, in the order of the representation.
		{name: "every section wrong at once", edit: func(p *Program) {
			p.Earning.StepAmount = 0
			p.Earning.Trigger = "x"
			p.Actions.Signup = -1
			p.Redemption.Points = 0
			p.Redemption.MaxDiscount = &Cap{Kind: CapPercent, Value: 20000}
			p.RefundPolicy = "x"
			p.ExpiryDays = -5
		}, paths: "/earning/step_amount,/earning/trigger,/actions/signup,/redemption/points,/redemption/max_discount/value,/refund_policy,/expiry_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := seedProgram()
			tc.edit(&p)
			got, err := p.Validate()
			if paths := validationPaths(err); paths != tc.paths {
				t.Fatalf("Validate() error paths = %q, want %q (err: %v)", paths, tc.paths, err)
			}
			if tc.paths == "" {
				return
			}
			if code := apperr.CodeOf(err); code != apperr.Invalid {
				t.Errorf("error code = %q, want %q", code, apperr.Invalid)
			}
			if got.Enabled || got.Earning.StepAmount != 0 || got.Redemption.Points != 0 {
				t.Errorf("Validate() returned %+v with an error, want the zero Program", got)
			}
		})
	}
}

func TestValidateNormalises(t *testing.T) {
	p := seedProgram()
	p.Earning.Overrides = []ProductOverride{
		{SKU: "  TEA ", Percent: pointsOf(500)},
		{SKU: "MUG", PointsPerUnit: pointsOf(25)},
	}
	p.Earning.ExcludedProducts = []string{" GIFT-CARD", "BAG", "GIFT-CARD ", "BAG", "APRON"}
	p.Redemption.ExcludedProducts = []string{"Z", "A", "A", " M "}
	got, err := p.Validate()
	if err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	// Override SKUs are trimmed; overrides keep their order (they are not a set).
	if g := []string{got.Earning.Overrides[0].SKU, got.Earning.Overrides[1].SKU}; !slices.Equal(g, []string{"TEA", "MUG"}) {
		t.Errorf("override SKUs = %q, want [TEA MUG]", g)
	}
	// SKU lists are trimmed, sorted and de-duplicated.
	if want := []string{"APRON", "BAG", "GIFT-CARD"}; !slices.Equal(got.Earning.ExcludedProducts, want) {
		t.Errorf("earning excluded = %q, want %q", got.Earning.ExcludedProducts, want)
	}
	if want := []string{"A", "M", "Z"}; !slices.Equal(got.Redemption.ExcludedProducts, want) {
		t.Errorf("redemption excluded = %q, want %q", got.Redemption.ExcludedProducts, want)
	}
	if len(got.Redemption.AllowedProducts) != 0 {
		t.Errorf("redemption allowed = %q, want empty", got.Redemption.AllowedProducts)
	}

	// Allowed list normalised too (alone, since it cannot be combined with excluded).
	p = seedProgram()
	p.Redemption.AllowedProducts = []string{"b", "a", "b ", "c"}
	got, err = p.Validate()
	if err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(got.Redemption.AllowedProducts, want) {
		t.Errorf("redemption allowed = %q, want %q", got.Redemption.AllowedProducts, want)
	}

	// Normalised is idempotent: validating the result again changes nothing.
	again, err := got.Validate()
	if err != nil {
		t.Fatalf("second Validate() = %v", err)
	}
	if !slices.Equal(again.Redemption.AllowedProducts, got.Redemption.AllowedProducts) {
		t.Errorf("second Validate() allowed = %q, want %q", again.Redemption.AllowedProducts, got.Redemption.AllowedProducts)
	}
}

// Validate has a value receiver and returns the normalised copy: the caller's
// program, including the slices it shares, must be left as it was, even when
// validation fails.
func TestValidateDoesNotModifyItsInput(t *testing.T) {
	for _, valid := range []bool{true, false} {
		p := seedProgram()
		p.Earning.Overrides = []ProductOverride{{SKU: " MUG ", PointsPerUnit: pointsOf(25)}}
		p.Earning.ExcludedProducts = []string{"B", "A"}
		p.Redemption.ExcludedProducts = []string{" Z", "Y"}
		if !valid {
			p.ExpiryDays = -1
		}
		_, err := p.Validate()
		if (err == nil) != valid {
			t.Fatalf("valid=%v: Validate() = %v", valid, err)
		}
		if p.Earning.Overrides[0].SKU != " MUG " {
			t.Errorf("valid=%v: caller's override SKU became %q, want %q untouched", valid, p.Earning.Overrides[0].SKU, " MUG ")
		}
		if !slices.Equal(p.Earning.ExcludedProducts, []string{"B", "A"}) || !slices.Equal(p.Redemption.ExcludedProducts, []string{" Z", "Y"}) {
			t.Errorf("valid=%v: caller's SKU lists changed: %q %q", valid, p.Earning.ExcludedProducts, p.Redemption.ExcludedProducts)
		}
	}
}

func TestSignupFor(t *testing.T) {
	for _, tc := range []struct {
		on   SignupOn
		path EnrolmentPath
		want bool
	}{
		{"", EnrolAPI, true}, {SignupAny, EnrolAPI, true}, {SignupAny, EnrolImport, true}, {SignupAny, EnrolPurchase, true}, {SignupAny, EnrolCard, true},
		{SignupCard, EnrolCard, true}, {SignupCard, EnrolAPI, false}, {SignupCard, EnrolImport, false}, {SignupCard, EnrolPurchase, false},
	} {
		if got := (Actions{SignupOn: tc.on}).SignupFor(tc.path); got != tc.want {
			t.Errorf("signup_on %q, path %s: %v, want %v", tc.on, tc.path, got, tc.want)
		}
	}
	p := DefaultProgram()
	p.Actions.SignupOn = ""
	if v, err := p.Validate(); err != nil || v.Actions.SignupOn != SignupAny {
		t.Fatalf("empty signup_on: %v, %v; want any", v.Actions.SignupOn, err)
	}
	p.Actions.SignupOn = "never"
	if _, err := p.Validate(); err == nil {
		t.Fatal("signup_on never accepted")
	}
}
