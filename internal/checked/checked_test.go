package checked

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

// fits returns x as an int64 if it lies in range.
func fits(x *big.Int) (int64, bool) {
	if !x.IsInt64() {
		return 0, false
	}
	return x.Int64(), true
}

func check(t *testing.T, name string, got int64, err error, want *big.Int) {
	t.Helper()
	w, ok := fits(want)
	switch {
	case !ok && !errors.Is(err, ErrOverflow):
		t.Fatalf("%s = %d, %v; want overflow (exact %s)", name, got, err, want)
	case ok && (err != nil || got != w):
		t.Fatalf("%s = %d, %v; want %d", name, got, err, w)
	}
}

func bigQuo(a, b, c int64, up bool) *big.Int {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	q, m := new(big.Int).QuoRem(p, big.NewInt(c), new(big.Int)) // truncated toward zero
	if up && m.Sign() != 0 && (p.Sign() < 0) == (c < 0) {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func TestTable(t *testing.T) {
	const mx, mn = math.MaxInt64, math.MinInt64
	for _, c := range []struct{ a, b, c int64 }{
		{0, 0, 1}, {1, 1, 1}, {mx, 1, 1}, {mx, 2, 1}, {mn, 1, 1}, {mn, -1, 1}, {mn, 1, -1}, {-1, mn, 1},
		{mx, mx, mx}, {mn, mn, mn}, {mx, 10_000, 10_000}, {1e15, 1e9, 1}, {1e15, 1e9, 1e9}, {7, 3, 2}, {-7, 3, 2},
		{7, -3, 2}, {-7, -3, -2}, {1e17, 500, 1}, {mx, mx, 1}, {4611686018427387904, 2, 1}, {-4611686018427387904, 2, 1},
	} {
		got, err := MulDiv(c.a, c.b, c.c)
		check(t, "MulDiv", got, err, bigQuo(c.a, c.b, c.c, false))
		got, err = MulDivUp(c.a, c.b, c.c)
		check(t, "MulDivUp", got, err, bigQuo(c.a, c.b, c.c, true))
		got, err = Mul(c.a, c.b)
		check(t, "Mul", got, err, new(big.Int).Mul(big.NewInt(c.a), big.NewInt(c.b)))
		got, err = Add(c.a, c.b)
		check(t, "Add", got, err, new(big.Int).Add(big.NewInt(c.a), big.NewInt(c.b)))
	}
	if s, err := Sum(mx, 1, -2); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Sum overflowing midway = %d, %v", s, err)
	}
}

// Every result equals big.Int arithmetic, or is ErrOverflow exactly when
// the exact result does not fit.
func FuzzArithmetic(f *testing.F) {
	f.Add(int64(math.MaxInt64), int64(2), int64(3))
	f.Add(int64(math.MinInt64), int64(-1), int64(1))
	f.Add(int64(-7), int64(3), int64(-2))
	f.Fuzz(func(t *testing.T, a, b, c int64) {
		got, err := Add(a, b)
		check(t, "Add", got, err, new(big.Int).Add(big.NewInt(a), big.NewInt(b)))
		got, err = Mul(a, b)
		check(t, "Mul", got, err, new(big.Int).Mul(big.NewInt(a), big.NewInt(b)))
		if c == 0 {
			return
		}
		got, err = MulDiv(a, b, c)
		check(t, "MulDiv", got, err, bigQuo(a, b, c, false))
		got, err = MulDivUp(a, b, c)
		check(t, "MulDivUp", got, err, bigQuo(a, b, c, true))
		if c > 0 {
			part := min(max(b, 0), c)
			check(t, "Share", Share(a, b, c), nil, bigQuo(a, part, c, false))
			check(t, "ShareUp", ShareUp(a, b, c), nil, bigQuo(a, part, c, true))
		}
	})
}
