// Package analytics is the nightly analysis of a merchant's customers: RFM
// scores and segments, and predicted customer value with the BG/NBD model
// (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way") for
// repeat purchasing and the Gamma-Gamma model (Fader, Hardie & Lee 2005,
// "RFM and CLV") for spend per transaction. Pure Go: no SDK.
//
// The models are statistical, so they work in float64; money leaves this
// package as integer minor units.
package analytics

import (
	"cmp"
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/optimize"
)

// History is one customer's purchase history as the models see it, in
// weeks: X repeat transactions (ticket days after the first), Tx the time
// from the first to the last ticket, T from the first ticket to as-of, and
// MeanSpend the mean value of the repeat tickets (minor units).
type History struct {
	X         float64
	Tx        float64
	T         float64
	MeanSpend float64
}

// BGNBD is a fitted BG/NBD model: r, α for the purchase rate; a, b for the
// drop-out probability.
type BGNBD struct {
	R, Alpha, A, B float64
}

// logLikelihood of one customer under the BG/NBD model.
func (m BGNBD) logLikelihood(h History) float64 {
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	lg := func(v float64) float64 { l, _ := math.Lgamma(v); return l }
	a1 := lg(r+h.X) - lg(r) + r*math.Log(alpha)
	a2 := lg(a+b) + lg(b+h.X) - lg(b) - lg(a+b+h.X)
	a3 := -(r + h.X) * math.Log(alpha+h.T)
	if h.X == 0 {
		return a1 + a2 + a3
	}
	a4 := math.Log(a) - math.Log(b+h.X-1) - (r+h.X)*math.Log(alpha+h.Tx)
	hi := math.Max(a3, a4)
	return a1 + a2 + hi + math.Log(math.Exp(a3-hi)+math.Exp(a4-hi))
}

// ErrNotEnoughData says the data cannot support a fit.
var ErrNotEnoughData = errors.New("not enough purchase history to fit the model")

// MinCustomers and MinRepeaters are the least data a fit is attempted with.
const (
	MinCustomers = 50
	MinRepeaters = 20
)

// FitBGNBD finds the maximum-likelihood BG/NBD parameters for the histories.
func FitBGNBD(hs []History) (BGNBD, error) {
	repeaters := 0
	for _, h := range hs {
		if h.X > 0 {
			repeaters++
		}
	}
	if len(hs) < MinCustomers || repeaters < MinRepeaters {
		return BGNBD{}, ErrNotEnoughData
	}
	// Customers with the same (x, t_x, T) contribute the same likelihood:
	// evaluate each distinct history once, weighted by how many share it.
	groups := group(hs, func(h History) History { return History{X: h.X, Tx: h.Tx, T: h.T} })
	// Optimise over log-parameters so that every value tried is positive.
	negLL := func(x []float64) float64 {
		m := BGNBD{R: math.Exp(x[0]), Alpha: math.Exp(x[1]), A: math.Exp(x[2]), B: math.Exp(x[3])}
		var ll float64
		for _, g := range groups {
			ll += g.n * m.logLikelihood(g.h)
		}
		if math.IsNaN(ll) || math.IsInf(ll, 0) {
			return math.Inf(1)
		}
		return -ll
	}
	x, err := minimize(negLL, []float64{0, 0, 0, 0})
	if err != nil {
		return BGNBD{}, err
	}
	return BGNBD{R: math.Exp(x[0]), Alpha: math.Exp(x[1]), A: math.Exp(x[2]), B: math.Exp(x[3])}, nil
}

// weighted is a distinct history and how many customers share it.
type weighted struct {
	h History
	n float64
}

// group counts the histories that are equal under key, in a fixed order, so
// that the likelihood's sum (and so the fit) depends only on the multiset of
// histories, not on the order customers were read in.
func group(hs []History, key func(History) History) []weighted {
	counts := make(map[History]int)
	for _, h := range hs {
		counts[key(h)]++
	}
	out := make([]weighted, 0, len(counts))
	for h, n := range counts {
		out = append(out, weighted{h, float64(n)})
	}
	slices.SortFunc(out, func(a, b weighted) int {
		return cmp.Or(cmp.Compare(a.h.X, b.h.X), cmp.Compare(a.h.Tx, b.h.Tx), cmp.Compare(a.h.T, b.h.T), cmp.Compare(a.h.MeanSpend, b.h.MeanSpend))
	})
	return out
}

// minimize runs Nelder-Mead and then BFGS from its result: robust start,
// precise finish.
func minimize(f func([]float64) float64, start []float64) ([]float64, error) {
	p := optimize.Problem{Func: f}
	res, err := optimize.Minimize(p, start, &optimize.Settings{FuncEvaluations: 20000}, &optimize.NelderMead{})
	if err != nil && res == nil {
		return nil, err
	}
	grad := func(g, x []float64) { numericGradient(f, g, x) }
	p.Grad = grad
	refined, err := optimize.Minimize(p, res.X, &optimize.Settings{FuncEvaluations: 20000}, &optimize.BFGS{})
	if err == nil || (refined != nil && refined.F <= res.F) {
		return refined.X, nil
	}
	return res.X, nil
}

func numericGradient(f func([]float64) float64, g, x []float64) {
	const h = 1e-6
	xx := append([]float64(nil), x...)
	for i := range x {
		xx[i] = x[i] + h
		up := f(xx)
		xx[i] = x[i] - h
		down := f(xx)
		xx[i] = x[i]
		g[i] = (up - down) / (2 * h)
	}
}

// PAlive is the probability that the customer is still active.
func (m BGNBD) PAlive(h History) float64 {
	if h.X == 0 {
		return 1
	}
	return 1 / (1 + (m.A/(m.B+h.X-1))*math.Pow((m.Alpha+h.T)/(m.Alpha+h.Tx), m.R+h.X))
}

// ExpectedTransactions is the expected number of tickets in the next t weeks.
func (m BGNBD) ExpectedTransactions(h History, t float64) float64 {
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	if math.Abs(a-1) < 1e-9 {
		return math.NaN() // the closed form is singular at a = 1
	}
	z := t / (alpha + h.T + t)
	num := (a + b + h.X - 1) / (a - 1) * (1 - math.Pow((alpha+h.T)/(alpha+h.T+t), r+h.X)*mathext.Hypergeo(r+h.X, b+h.X, a+b+h.X-1, z))
	if h.X == 0 {
		return num
	}
	return num / (1 + (a/(b+h.X-1))*math.Pow((alpha+h.T)/(alpha+h.Tx), r+h.X))
}

// GammaGamma is a fitted Gamma-Gamma spend model.
type GammaGamma struct {
	P, Q, Gamma float64
}

func (m GammaGamma) logLikelihood(h History) float64 {
	p, q, g := m.P, m.Q, m.Gamma
	lg := func(v float64) float64 { l, _ := math.Lgamma(v); return l }
	px := p * h.X
	return lg(px+q) - lg(px) - lg(q) + q*math.Log(g) + (px-1)*math.Log(h.MeanSpend) + px*math.Log(h.X) - (px+q)*math.Log(g+h.MeanSpend*h.X)
}

// FitGammaGamma fits the spend model on the customers with repeat tickets
// and a positive mean spend.
func FitGammaGamma(hs []History) (GammaGamma, error) {
	var rep []History
	for _, h := range hs {
		if h.X > 0 && h.MeanSpend > 0 {
			rep = append(rep, h)
		}
	}
	if len(rep) < MinRepeaters {
		return GammaGamma{}, ErrNotEnoughData
	}
	groups := group(rep, func(h History) History { return History{X: h.X, MeanSpend: h.MeanSpend} })
	negLL := func(x []float64) float64 {
		m := GammaGamma{P: math.Exp(x[0]), Q: math.Exp(x[1]), Gamma: math.Exp(x[2])}
		var ll float64
		for _, g := range groups {
			ll += g.n * m.logLikelihood(g.h)
		}
		if math.IsNaN(ll) || math.IsInf(ll, 0) {
			return math.Inf(1)
		}
		return -ll
	}
	x, err := minimize(negLL, []float64{0, 0, 0})
	if err != nil {
		return GammaGamma{}, err
	}
	return GammaGamma{P: math.Exp(x[0]), Q: math.Exp(x[1]), Gamma: math.Exp(x[2])}, nil
}

// ExpectedSpend is the expected value of the customer's future tickets.
func (m GammaGamma) ExpectedSpend(h History) float64 {
	if h.X == 0 {
		return m.P * m.Gamma / (m.Q - 1) // the population mean
	}
	return m.P * (m.Gamma + h.X*h.MeanSpend) / (m.P*h.X + m.Q - 1)
}
