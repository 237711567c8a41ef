package analytics

import (
	"math"
	"sort"
)

// AnnualDiscountRate discounts predicted value: 10 % a year, applied monthly
// as (1.10)^(1/12) − 1 ≈ 0.797 % a month.
const AnnualDiscountRate = 0.10

// weeksPerMonth is 52/12: the model's time unit is the week.
const weeksPerMonth = 52.0 / 12

// Prediction is one customer's predicted future.
type Prediction struct {
	PAlive         float64 // probability the customer is still active
	Expected90Days float64 // expected tickets in the next 90 days
	Value12Months  int64   // predicted net revenue of the next 12 months, discounted monthly, minor units
	Reason         string  // why there is no prediction, when there is none
}

// Predict combines the fitted models for one customer: the expected tickets
// of each of the next 12 months times the expected spend per ticket,
// discounted monthly at AnnualDiscountRate.
func Predict(m BGNBD, g GammaGamma, h History) Prediction {
	p := Prediction{PAlive: m.PAlive(h), Expected90Days: m.ExpectedTransactions(h, 90.0/7)}
	spend := g.ExpectedSpend(h)
	d := math.Pow(1+AnnualDiscountRate, 1.0/12) - 1
	var value, prev float64
	for month := 1; month <= 12; month++ {
		cum := m.ExpectedTransactions(h, float64(month)*weeksPerMonth)
		value += (cum - prev) * spend / math.Pow(1+d, float64(month))
		prev = cum
	}
	if math.IsNaN(value) || math.IsInf(value, 0) || value < 0 {
		return Prediction{Reason: "the fitted model gives no finite prediction for this history"}
	}
	p.Value12Months = int64(math.Round(value))
	return p
}

// NotEnoughHistory is the affinity of a customer with fewer than two tickets.
const NotEnoughHistory = "not_enough_history"

// Affinity is a customer's primary and secondary category.
type Affinity struct {
	Primary, Secondary string
	PrimaryShareBP     int64 // share of net spend, basis points
	SecondaryShareBP   int64
	Reason             string // NotEnoughHistory when there is none
}

// AffinityOf ranks categories by their share of the customer's net spend in
// the window (ties: alphabetical). It needs at least two tickets in the
// window: one purchase says little about a taste. Lines without a category
// count toward the total but are never an affinity.
func AffinityOf(spendByCategory map[string]int64, tickets int64) Affinity {
	if tickets < 2 {
		return Affinity{Reason: NotEnoughHistory}
	}
	var total int64
	type cat struct {
		name  string
		spend int64
	}
	var cats []cat
	for name, s := range spendByCategory {
		if s <= 0 {
			continue
		}
		total += s
		if name != "" {
			cats = append(cats, cat{name, s})
		}
	}
	if len(cats) == 0 || total == 0 {
		return Affinity{Reason: NotEnoughHistory}
	}
	sort.Slice(cats, func(i, j int) bool {
		return cats[i].spend > cats[j].spend || cats[i].spend == cats[j].spend && cats[i].name < cats[j].name
	})
	a := Affinity{Primary: cats[0].name, PrimaryShareBP: cats[0].spend * 10000 / total}
	if len(cats) > 1 {
		a.Secondary, a.SecondaryShareBP = cats[1].name, cats[1].spend*10000/total
	}
	return a
}
