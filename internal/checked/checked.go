// Package checked is integer arithmetic on int64 that reports overflow
// instead of wrapping: money (minor units) and points are int64, and a sum or
// product beyond its range is an error the API answers with 422, never a
// wrapped figure. Products divided by a third figure use an exact 128-bit
// intermediate (math/bits), so a result that fits is computed exactly even
// when the product does not.
package checked

import (
	"math"
	"math/bits"

	"github.com/regulars/regulars/internal/apperr"
)

// ErrOverflow is the error of a result int64 cannot hold.
var ErrOverflow = &apperr.Error{Code: apperr.Unprocessable,
	Message: "A figure of this operation exceeds the largest supported value."}

// Add returns a + b.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Sum returns the sum of xs.
func Sum(xs ...int64) (int64, error) {
	var s int64
	for _, x := range xs {
		var err error
		if s, err = Add(s, x); err != nil {
			return 0, err
		}
	}
	return s, nil
}

// Mul returns a × b.
func Mul(a, b int64) (int64, error) {
	return MulDiv(a, b, 1)
}

// MulDiv returns a × b / c, truncated toward zero as Go's / does, from the
// exact product. c must not be 0.
func MulDiv(a, b, c int64) (int64, error) {
	q, _, err := mulDiv(a, b, c)
	return q, err
}

// MulDivUp returns a × b / c rounded up (toward +∞). c must not be 0.
func MulDivUp(a, b, c int64) (int64, error) {
	q, exact, err := mulDiv(a, b, c)
	if negative := (a < 0) != (b < 0) != (c < 0); err != nil || exact || negative {
		return q, err // truncating a negative quotient rounded it up already
	}
	return Add(q, 1)
}

func mulDiv(a, b, c int64) (q int64, exact bool, err error) {
	neg := (a < 0) != (b < 0) != (c < 0)
	hi, lo := bits.Mul64(abs(a), abs(b))
	d := abs(c)
	if hi >= d {
		return 0, false, ErrOverflow
	}
	uq, rem := bits.Div64(hi, lo, d)
	switch {
	case neg && uq <= 1<<63:
		return int64(-uq), rem == 0, nil // -(1<<63) wraps to itself: MinInt64
	case !neg && uq <= math.MaxInt64:
		return int64(uq), rem == 0, nil
	}
	return 0, false, ErrOverflow
}

func abs(x int64) uint64 {
	if x < 0 {
		return uint64(-x) // MinInt64 wraps to itself, which is 1<<63 as uint64
	}
	return uint64(x)
}

// Share returns x × part / whole, truncated toward zero, with part clamped
// to [0, whole] (whole > 0): a share of x, which lies between 0 and x and so
// cannot overflow.
func Share(x, part, whole int64) int64 {
	q, _ := MulDiv(x, min(max(part, 0), whole), whole) // |q| ≤ |x|: never ErrOverflow
	return q
}

// ShareUp is Share rounded up: ShareUp(x, whole, whole) = x.
func ShareUp(x, part, whole int64) int64 {
	q, _ := MulDivUp(x, min(max(part, 0), whole), whole) // |q| ≤ |x|: never ErrOverflow
	return q
}
