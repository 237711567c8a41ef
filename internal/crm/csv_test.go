package crm

import (
	"slices"
	"testing"
	"time"
)

// TestCSVRecordHasLTV: a full export has the API's ltv beside revenue, and
// an import of it skips both.
func TestCSVRecordHasLTV(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	header := CSVHeader(ColumnsFull)
	i := slices.Index(header, "ltv")
	if i < 0 {
		t.Fatalf("no ltv column in %v", header)
	}
	c := Customer{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Metrics: Metrics{Revenue: 12345}}
	rec := CSVRecord(ColumnsFull, c, "EUR", now)
	if len(rec) != len(header) || rec[i] != "12345" || rec[slices.Index(header, "revenue")] != "12345" {
		t.Fatalf("record %v for header %v", rec, header)
	}
	l, err := NewCSVLayout(header, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.index["ltv"]; ok {
		t.Fatal("an import reads the ltv column")
	}
}
