package analytics

import (
	"sort"
	"time"
)

// Ticket is one ticket day of a customer (all purchases of one local
// calendar day) with its net revenue in minor units.
type Ticket struct {
	Date    time.Time // midnight of the local day
	Revenue int64
}

// HistoryOf turns a customer's tickets into the models' history as of a
// date, in weeks: tickets after asOf are ignored; X counts the tickets after
// the first, Tx and T run from the first ticket to the last and to asOf, and
// MeanSpend averages the repeat tickets (the first is excluded, as in the
// Gamma-Gamma model). ok is false when there is no ticket by asOf.
func HistoryOf(tickets []Ticket, asOf time.Time) (History, bool) {
	var in []Ticket
	for _, t := range tickets {
		if !t.Date.After(asOf) {
			in = append(in, t)
		}
	}
	if len(in) == 0 {
		return History{}, false
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Date.Before(in[j].Date) })
	weeks := func(from, to time.Time) float64 { return float64(days(from, to)) / 7 }
	h := History{X: float64(len(in) - 1), Tx: weeks(in[0].Date, in[len(in)-1].Date), T: weeks(in[0].Date, asOf)}
	if len(in) > 1 {
		var sum int64
		for _, t := range in[1:] {
			sum += t.Revenue
		}
		h.MeanSpend = float64(sum) / float64(len(in)-1)
	}
	return h, true
}

// days counts calendar days between two dates, immune to DST shifts.
func days(from, to time.Time) int {
	f := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	t := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	return int(t.Sub(f).Hours() / 24)
}
