package tabular

import (
	"strings"
	"testing"
)

func TestNeutraliseRestore(t *testing.T) {
	tests := []struct {
		cell, neutral string
	}{
		{"", ""},
		{"alice@example.com", "alice@example.com"},
		{"=1+2", "'=1+2"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "+1"},                     // plain number
		{"+34600111222", "+34600111222"}, // E.164 phone
		{"-5", "-5"},
		{"-5.25", "-5.25"},
		{"3.50", "3.50"},
		{"-5.", "'-5."},
		{"-.5", "'-.5"},
		{"+34 600 111 222", "'+34 600 111 222"},
		{"-", "'-"},
		{"+", "'+"},
		{"--5", "'--5"},
		{"-1+2", "'-1+2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"\t5", "'\t5"},
		{"a=b", "a=b"},
		{" =1", " =1"}, // only the first character counts
		{"'", "'"},
		{"'x", "'x"},
		{"'-5", "'-5"},    // the apostrophe precedes a plain number: nothing to undo
		{"'=x", "''=x"},   // already looks neutralised: prefixed so Restore gives it back
		{"''=x", "'''=x"}, // and so on
		{"'+34600", "'+34600"},
	}
	for _, tt := range tests {
		if got := Neutralise(tt.cell); got != tt.neutral {
			t.Errorf("Neutralise(%q) = %q, want %q", tt.cell, got, tt.neutral)
		}
		if got := Restore(tt.neutral); got != tt.cell {
			t.Errorf("Restore(%q) = %q, want %q", tt.neutral, got, tt.cell)
		}
	}
}

func TestRestoreLeavesOthersAlone(t *testing.T) {
	for _, cell := range []string{"", "'", "'x", "'-5", "'+34600111222", "x'=y", "=x"} {
		if got := Restore(cell); got != cell {
			t.Errorf("Restore(%q) = %q, want it unchanged", cell, got)
		}
	}
}

func FuzzNeutraliseRestore(f *testing.F) {
	for _, s := range []string{"", "=1", "-5", "'=x", "''-x", "+34600111222", "\t", "'", "@", "-1.", "1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Neutralise(s)
		if got := Restore(n); got != s {
			t.Fatalf("Restore(Neutralise(%q)) = %q", s, got)
		}
		if n != "" && isFormulaStart(n[0]) && !isPlainNumber(n) {
			t.Fatalf("Neutralise(%q) = %q still starts with a formula character", s, n)
		}
		if n != s && n != "'"+s {
			t.Fatalf("Neutralise(%q) = %q: more than a prefix", s, n)
		}
		if strings.HasPrefix(s, "'") && Restore(s) == s && Neutralise(s) != s {
			t.Fatalf("Neutralise(%q) = %q, though Restore leaves it as is", s, n)
		}
	})
}
