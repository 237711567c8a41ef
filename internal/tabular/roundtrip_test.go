package tabular

import (
	"bytes"
	"strings"
	"testing"
)

func TestCSVRoundTrip(t *testing.T) {
	records := [][]string{
		{"email", "name", "phone", "notes", "points"},
		{"ana@x.es", "Ana María", "+34600111222", "=HYPERLINK(\"http://evil\")", "-5"},
		{"bea@x.es", "O'Brien", "", "line 1\nline 2\r\nline 3", "1.5"},
		{"carla@x.es", "\"Quoted\", Carla", "", "'=already quoted", "+"},
		{"dani@x.es", "@dani", "", "a;b;c", "-"},
		{"eva@x.es", "\tTabbed", "", "bad \xff byte", "0"},
		{"", "", "", "", ""},
		{"fede@x.es"},
	}
	want := []got{
		{1, records[0], nil},
		{2, records[1], nil},
		{3, cells("bea@x.es", "O'Brien", "", "line 1\nline 2\nline 3", "1.5"), nil},
		{4, records[3], nil},
		{5, records[4], nil},
		{6, cells("eva@x.es", "Tabbed", "", "bad \uFFFD byte", "0"), nil},
		{8, records[7], nil},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{BOM: true})
	for _, r := range records {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	res, rows := readAll(t, NewCSVReader(bytes.NewReader(buf.Bytes()), Position{}, Limits{}))
	if !sameResults(res, want) {
		t.Fatalf("got  %+v\nwant %+v", res, want)
	}
	if end := rows[len(rows)-1].Next.Offset; end != int64(buf.Len()) {
		t.Errorf("last offset %d, file is %d bytes", end, buf.Len())
	}
}

func FuzzCSVRoundTrip(f *testing.F) {
	f.Add("=1+2", "a,b", "x\ny")
	f.Add("'-x", "\"", "\r")
	f.Add("-5", " ", "\xff")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		records := [][]string{{a, b, c}, {c, a}, {b}}
		var buf bytes.Buffer
		w := NewWriter(&buf, WriterOptions{BOM: true})
		for _, r := range records {
			_ = w.Write(r)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r := NewCSVReader(bytes.NewReader(buf.Bytes()), Position{Comma: ','}, Limits{MaxRowBytes: 1 << 20, MaxCells: 10})
		res, _ := readAll(t, r)
		var want []got
		for i, rec := range records {
			var g got
			g.Number = i + 1
			for _, cell := range rec {
				// What the reader is documented to give back for a cell the
				// writer wrote.
				v := strings.ReplaceAll(exportCell(cell), "\r\n", "\n")
				g.Cells = append(g.Cells, cleanCell(v))
				if x := strings.ToValidUTF8(cell, "\uFFFD"); !strings.ContainsRune(x, '\r') && x == strings.TrimSpace(x) && cleanCell(v) != x {
					t.Fatalf("cell %q read back as %q", cell, cleanCell(v))
				}
			}
			if !allEmpty(g.Cells) {
				want = append(want, g)
			}
		}
		if !sameResults(res, want) {
			t.Fatalf("got  %+v\nwant %+v", res, want)
		}
	})
}

// benchRows are customer-like rows for the benchmarks.
func benchRows(n int) [][]string {
	rows := [][]string{{"email", "first_name", "last_name", "phone", "points", "notes"}}
	for i := range n {
		rows = append(rows, []string{
			"customer" + strings.Repeat("x", i%7) + "@example.com", "Ana", "García López", "+34600111222",
			"1250", "likes \"window\" seats, table 4",
		})
	}
	return rows
}

func BenchmarkCSVReader(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{BOM: true})
	for _, r := range benchRows(100_000) {
		_ = w.Write(r)
	}
	_ = w.Flush()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		r := NewCSVReader(bytes.NewReader(buf.Bytes()), Position{}, Limits{})
		for {
			if _, err := r.Read(); err != nil {
				break
			}
		}
	}
}

func BenchmarkXLSXReader(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, benchRows(100_000)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		r, err := NewXLSXReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), Position{}, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(); err != nil {
				break
			}
		}
		r.Close()
	}
}
