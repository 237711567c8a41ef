package tabular

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// producedXLSX has excelize, an independent producer, write the given rows
// to the first sheet of a workbook in the date system: with the File API
// (strings go to the shared-string table) or, stream, with its StreamWriter
// (inline strings). A nil value leaves its cell empty.
func producedXLSX(t *testing.T, dates DateSystem, stream bool, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	date1904 := dates == Date1904
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}); err != nil {
		t.Fatal(err)
	}
	const sheet = "Sheet1"
	if stream {
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := sw.SetRow(cell, row); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
	} else {
		for i, row := range rows {
			for j, v := range row {
				if v == nil {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if err := f.SetCellValue(sheet, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// A second sheet, which the reader must not read.
	if _, err := f.NewSheet("Otra"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Otra", "A1", "wrong sheet"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// part returns a part of a zip file, "" if absent.
func part(t *testing.T, file []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Workbooks written by excelize, in both date systems and with shared or
// inline strings, read as the values written: text, numbers and booleans as
// stored, empty cells and rows skipped, and date cells, read in the
// workbook's date system, as the dates written (a 1904 workbook read as
// 1900 would put every date four years and a day early).
func TestXLSXReaderExcelizeWorkbooks(t *testing.T) {
	birthday := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	enrolled := time.Date(2024, 1, 1, 13, 30, 0, 0, time.UTC)
	rows := [][]any{
		{"email", "given_name", "birthday", "enrolled_at", "points", "vip", "ratio", "note"},
		{"ana@example.com", "Ana María", birthday, enrolled, 250, true, 3.5, "=1+2"},
		nil, // an empty row
		{"bea@example.com", nil, nil, time.Date(1904, 1, 2, 6, 0, 0, 0, time.UTC), -7, false, 0.001, "  con espacios  "},
		{nil, nil, nil, nil, nil, nil, nil, "últímo"},
	}
	type want struct {
		number int
		cells  []string
		dates  map[int]time.Time // column index → the date its serial reads as
	}
	wants := []want{
		{1, []string{"email", "given_name", "birthday", "enrolled_at", "points", "vip", "ratio", "note"}, nil},
		{2, []string{"ana@example.com", "Ana María", "", "", "250", "TRUE", "3.5", "=1+2"}, map[int]time.Time{2: birthday, 3: enrolled}},
		{4, []string{"bea@example.com", "", "", "", "-7", "FALSE", "0.001", "con espacios"}, map[int]time.Time{3: time.Date(1904, 1, 2, 6, 0, 0, 0, time.UTC)}},
		{5, []string{"", "", "", "", "", "", "", "últímo"}, nil},
	}
	for _, system := range []DateSystem{Date1900, Date1904} {
		for _, stream := range []bool{false, true} {
			name := map[DateSystem]string{Date1900: "1900", Date1904: "1904"}[system] + map[bool]string{false: " shared strings", true: " inline strings"}[stream]
			t.Run(name, func(t *testing.T) {
				file := producedXLSX(t, system, stream, rows)
				sheet, sst := part(t, file, "xl/worksheets/sheet1.xml"), part(t, file, "xl/sharedStrings.xml")
				if stream != strings.Contains(sheet, `t="inlineStr"`) || stream == strings.Contains(sst, "Ana María") {
					t.Fatalf("excelize did not write the strings as intended (stream %v):\n%s\n%s", stream, sheet, sst)
				}
				if wb := part(t, file, "xl/workbook.xml"); (system == Date1904) != strings.Contains(wb, `date1904="true"`) {
					t.Fatalf("workbook.xml: %s", wb)
				}
				r := openXLSX(t, file, Position{}, Limits{})
				if r.Dates() != system {
					t.Fatalf("Dates() = %v, want %v", r.Dates(), system)
				}
				res, read := readAll(t, r)
				if len(res) != len(wants) {
					t.Fatalf("read %+v", res)
				}
				for i, w := range wants {
					got := read[i]
					if got.Number != w.number || len(got.Cells) != len(w.cells) {
						t.Fatalf("row %d: %+v, want number %d and %d cells", i, got, w.number, len(w.cells))
					}
					for col, cell := range got.Cells {
						if d, ok := w.dates[col]; ok {
							if at, ok := r.Dates().Date(cell); !ok || !at.Equal(d) {
								t.Errorf("row %d col %d: %q reads as %v, %v; want %v", w.number, col, cell, at, ok, d)
							}
							if other, _ := (1 - system).Date(cell); other.Equal(d) {
								t.Errorf("row %d col %d: %q reads as %v in the other system too", w.number, col, cell, other)
							}
						} else if cell != w.cells[col] {
							t.Errorf("row %d col %d: %q, want %q", w.number, col, cell, w.cells[col])
						}
					}
				}
			})
		}
	}
}
