package dynamo

import (
	"math"
	"slices"
	"testing"
)

// TestSortIntOrdersNumerically: the value sort keys (GSI5SK, GSI6SK) order as
// their integers do, negative balances included.
func TestSortIntOrdersNumerically(t *testing.T) {
	values := []int64{math.MinInt64, -1_000_000, -500, -1, 0, 1, 9, 10, 500, 1_000_000_000, math.MaxInt64}
	for i := 1; i < len(values); i++ {
		a, b := sortInt(values[i-1]), sortInt(values[i])
		if len(a) != 20 || len(b) != 20 || a >= b {
			t.Errorf("sortInt(%d) = %s, sortInt(%d) = %s: not in order", values[i-1], a, values[i], b)
		}
	}
	keys := []string{sortKeyWithID(sortInt(-1), "01B"), sortKeyWithID(sortInt(0), "01A")}
	if !slices.IsSorted(keys) {
		t.Errorf("keys %v", keys)
	}
}
