package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Parts of a minimal workbook, for tests that write their own sheet XML.
const (
	testWorkbook = `<?xml version="1.0" encoding="UTF-8"?>` +
		`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<sheets><sheet name="Customers" sheetId="1" r:id="rId1"/><sheet name="Other" sheetId="2" r:id="rId3"/></sheets></workbook>`
	testWorkbookRels = `<?xml version="1.0" encoding="UTF-8"?>` +
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
		`</Relationships>`
	testSecondSheet = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1"><c r="A1" t="inlineStr"><is><t>wrong sheet</t></is></c></row></sheetData></worksheet>`
)

// buildXLSX returns an XLSX file made of the given worksheet rows (the
// content of <sheetData>) and shared strings (the <si> elements; no
// sharedStrings.xml part if sst is "-"), with a second sheet that must not
// be read.
func buildXLSX(t testing.TB, sheetData, sst string) []byte {
	t.Helper()
	parts := map[string]string{
		"[Content_Types].xml":        contentTypes,
		"xl/workbook.xml":            testWorkbook,
		"xl/_rels/workbook.xml.rels": testWorkbookRels,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8"?>` +
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
			`<dimension ref="A1:C9"/><sheetData>` + sheetData + `</sheetData></worksheet>`,
		"xl/worksheets/sheet2.xml": testSecondSheet,
	}
	if sst != "-" {
		parts["xl/sharedStrings.xml"] = `<?xml version="1.0" encoding="UTF-8"?>` +
			`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + sst + `</sst>`
	}
	return zipParts(t, parts)
}

func zipParts(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func openXLSX(t testing.TB, file []byte, at Position, limits Limits) *Reader {
	t.Helper()
	r, err := NewXLSXReader(bytes.NewReader(file), int64(len(file)), at, limits)
	if err != nil {
		t.Fatalf("NewXLSXReader: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

const testSST = `<si><t>email</t></si>` +
	`<si><t xml:space="preserve"> ana@x.es </t></si>` +
	`<si><r><rPr><b/></rPr><t>Rich </t></r><r><t>text</t></r></si>` +
	`<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>` +
	`<si><t>'=1+2</t></si>` +
	`<si><t>a &amp; b</t></si>`

func TestXLSXReader(t *testing.T) {
	tests := []struct {
		name      string
		sheetData string
		sst       string
		limits    Limits
		want      []got
	}{
		{"empty sheet", ``, "-", Limits{}, nil},
		{"shared strings", `<row r="1"><c r="A1" t="s"><v>0</v></c></row>` +
			`<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>2</v></c><c r="C2" t="s"><v>3</v></c><c r="D2" t="s"><v>5</v></c></row>`,
			testSST, Limits{},
			[]got{{1, cells("email"), nil}, {2, cells("ana@x.es", "Rich text", "東京", "a & b"), nil}}},
		{"inline strings", `<row r="1"><c r="A1" t="inlineStr"><is><t>plain</t></is></c>` +
			`<c r="B1" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>` +
			`<c r="C1" t="inlineStr"><is><t>x&lt;y</t></is></c></row>`,
			"-", Limits{}, []got{{1, cells("plain", "rich", "x<y"), nil}}},
		{"numbers booleans formulas errors dates", `<row r="1">` +
			`<c r="A1"><v>42</v></c>` +
			`<c r="B1" t="n"><v>3.5</v></c>` +
			`<c r="C1"><v>34600111222</v></c>` +
			`<c r="D1"><v>1.0000000000000001E-3</v></c>` +
			`<c r="E1" t="b"><v>1</v></c>` +
			`<c r="F1" t="b"><v>0</v></c>` +
			`<c r="G1"><f>SUM(A1:B1)</f><v>45.5</v></c>` +
			`<c r="H1" t="str"><f>A1&amp;"x"</f><v>42x</v></c>` +
			`<c r="I1" t="e"><v>#N/A</v></c>` +
			`<c r="J1" s="3"><v>45292</v></c>` +
			`<c r="K1" t="d"><v>2024-01-01T00:00:00</v></c>` +
			`<c r="L1"><v>-5</v></c>` +
			`<c r="M1" t="s"/><c r="N1" t="b"></c><c r="O1" t="s"><v>1</v></c>` +
			`</row>`,
			testSST, Limits{}, []got{{1, cells("42", "3.5", "34600111222", "1.0000000000000001E-3", "TRUE", "FALSE", "45.5", "42x", "#N/A", "45292", "2024-01-01T00:00:00", "-5", "", "", "ana@x.es"), nil}}},
		{"gaps and missing rows", `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="C1"><v>3</v></c></row>` +
			`<row r="4"><c r="B4"><v>2</v></c><c r="E4" s="1"/></row>` +
			`<row r="5" spans="1:3"><c r="A5" s="2"/><c r="B5" s="2"/></row>` + // styled but empty: skipped
			`<row r="7"><c r="AA7"><v>27</v></c></row>`,
			"-", Limits{},
			[]got{{1, cells("a", "", "3"), nil}, {4, cells("", "2"), nil},
				{7, append(make([]string, 26), "27"), nil}}},
		{"no references", `<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row><row><c><v>2</v></c></row>`,
			"-", Limits{}, []got{{1, cells("a", "1"), nil}, {2, cells("2"), nil}}},
		{"restore and trim", `<row r="1"><c r="A1" t="s"><v>4</v></c><c r="B1" t="inlineStr"><is><t> '-x </t></is></c><c r="C1" t="inlineStr"><is><t>'-5</t></is></c></row>`,
			testSST, Limits{}, []got{{1, cells("=1+2", "-x", "'-5"), nil}}},
		{"bad shared string index", `<row r="1"><c r="A1" t="s"><v>99</v></c></row><row r="2"><c r="A2"><v>1</v></c></row>`,
			testSST, Limits{}, []got{{1, nil, ErrInvalidCell}, {2, cells("1"), nil}}},
		{"too many cells", `<row r="1"><c r="D1"><v>1</v></c></row><row r="2"><c r="C2"><v>1</v></c></row>`,
			"-", Limits{MaxCells: 3}, []got{{1, nil, ErrTooManyCells}, {2, cells("", "", "1"), nil}}},
		{"row too long", `<row r="1"><c r="A1" t="inlineStr"><is><t>` + strings.Repeat("x", 30) + `</t></is></c>` +
			`<c r="B1" t="inlineStr"><is><t>` + strings.Repeat("y", 30) + `</t></is></c></row>` +
			`<row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat("z", 100) + `</t></is></c></row>` +
			`<row r="3"><c r="A3"><v>1</v></c></row>`,
			"-", Limits{MaxRowBytes: 50}, []got{{1, nil, ErrRowTooLong}, {2, nil, ErrRowTooLong}, {3, cells("1"), nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := readAll(t, openXLSX(t, buildXLSX(t, tt.sheetData, tt.sst), Position{}, tt.limits))
			if !sameResults(res, tt.want) {
				t.Errorf("got  %+v\nwant %+v", res, tt.want)
			}
		})
	}
}

func TestXLSXReaderResume(t *testing.T) {
	var sheet strings.Builder
	for i := 1; i <= 30; i++ {
		if i%4 == 0 {
			continue // absent row
		}
		fmt.Fprintf(&sheet, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="C%d"><v>%d</v></c></row>`, i, i, i%7, i, i) // index 6 does not exist
	}
	file := buildXLSX(t, sheet.String(), testSST)
	all, rows := readAll(t, openXLSX(t, file, Position{}, Limits{}))
	if len(all) != 23 || all[3].Number != 5 || !errors.Is(all[4].Err, ErrInvalidCell) {
		t.Fatalf("full read: %+v", all)
	}
	for i, row := range rows {
		rest, _ := readAll(t, openXLSX(t, file, row.Next, Limits{}))
		if !sameResults(rest, all[i+1:]) {
			t.Errorf("resume at %+v: got %+v\nwant %+v", row.Next, rest, all[i+1:])
		}
	}
}

func TestXLSXSharedStringsLimit(t *testing.T) {
	file := buildXLSX(t, `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`, strings.Repeat(`<si><t>0123456789</t></si>`, 100))
	if _, err := NewXLSXReader(bytes.NewReader(file), int64(len(file)), Position{}, Limits{MaxSharedStringBytes: 1000}); !errors.Is(err, ErrSharedStringsTooLarge) {
		t.Errorf("err = %v, want %v", err, ErrSharedStringsTooLarge)
	}
	openXLSX(t, file, Position{}, Limits{MaxSharedStringBytes: 1400})
}

func TestXLSXReaderInvalid(t *testing.T) {
	noWorkbook := zipParts(t, map[string]string{"xl/worksheets/sheet1.xml": testSecondSheet})
	noRels := zipParts(t, map[string]string{"xl/workbook.xml": testWorkbook, "xl/worksheets/sheet1.xml": testSecondSheet})
	truncatedSheet := zipParts(t, map[string]string{"xl/workbook.xml": testWorkbook, "xl/worksheets/sheet1.xml": `<worksheet><sheetData><row r="1"><c r="A1"><v>1`})
	for name, file := range map[string][]byte{
		"not a zip":       []byte("email,name\n"),
		"no workbook":     noWorkbook,
		"truncated sheet": truncatedSheet,
	} {
		t.Run(name, func(t *testing.T) {
			r, err := NewXLSXReader(bytes.NewReader(file), int64(len(file)), Position{}, Limits{})
			if err == nil {
				_, err = r.Read()
			}
			if !errors.Is(err, ErrInvalidXLSX) {
				t.Errorf("err = %v, want %v", err, ErrInvalidXLSX)
			}
		})
	}
	t.Run("no relationships: conventional sheet1", func(t *testing.T) {
		res, _ := readAll(t, openXLSX(t, noRels, Position{}, Limits{}))
		if want := []got{{1, cells("wrong sheet"), nil}}; !sameResults(res, want) {
			t.Errorf("got %+v, want %+v", res, want)
		}
	})
}

func TestWriteXLSXRoundTrip(t *testing.T) {
	rows := [][]string{
		{"email", "name", "phone", "notes"},
		{"ana@x.es", "Ana", "+34600111222", "=1+2"},
		{},
		{"", "", ""},
		{"bea@x.es", "", "-5", "línea 1\nlínea 2 & <más>"},
		{"'=x", "@y", "007"},
	}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, rows); err != nil {
		t.Fatal(err)
	}
	res, _ := readAll(t, openXLSX(t, buf.Bytes(), Position{}, Limits{}))
	want := []got{
		{1, rows[0], nil},
		{2, rows[1], nil},
		{5, rows[4], nil},
		{6, rows[5], nil},
	}
	if !sameResults(res, want) {
		t.Errorf("got  %+v\nwant %+v", res, want)
	}
}

func TestColumnOf(t *testing.T) {
	for ref, want := range map[string]int{"A1": 1, "Z9": 26, "AA7": 27, "az1": 52, "XFD1048576": 16384} {
		if got, ok := columnOf(ref); !ok || got != want {
			t.Errorf("columnOf(%q) = %d, %v, want %d", ref, got, ok, want)
		}
		if got := columnName(want); got != strings.ToUpper(strings.TrimRight(ref, "0123456789")) {
			t.Errorf("columnName(%d) = %q", want, got)
		}
	}
	if _, ok := columnOf("7"); ok {
		t.Error(`columnOf("7") is ok`)
	}
}

func FuzzXLSXSheet(f *testing.F) {
	f.Add(`<row r="1"><c r="A1" t="s"><v>1</v></c><c r="C1"><v>2</v></c></row>`)
	f.Add(`<row><c t="inlineStr"><is><r><t>a</t></r><rPh><t>b</t></rPh></is></c></row><row r="9"/>`)
	f.Fuzz(func(t *testing.T, sheetData string) {
		file := buildXLSX(t, sheetData, testSST)
		r, err := NewXLSXReader(bytes.NewReader(file), int64(len(file)), Position{}, Limits{MaxCells: 50, MaxRowBytes: 100})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for range 1000 {
			row, err := r.Read()
			if err != nil {
				if _, ok := errors.AsType[*RowError](err); !ok {
					return
				}
				continue
			}
			if len(row.Cells) > 50 || row.Number != row.Next.Row {
				t.Fatalf("row %+v", row)
			}
		}
	})
}
