package tabular

import (
	"strings"
	"testing"
	"time"
)

func TestDateSystemDate(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		system DateSystem
		serial string
		want   time.Time // zero: not a date
	}{
		{Date1900, "45292", day(2024, 1, 1)},
		{Date1900, "45292.75", day(2024, 1, 1).Add(18 * time.Hour)},
		{Date1900, "45292.00001157407", day(2024, 1, 1).Add(time.Second)}, // rounded to the second
		{Date1900, "1", day(1900, 1, 1)},
		{Date1900, "59", day(1900, 2, 28)},
		{Date1900, "60", time.Time{}}, // 1900-02-29, which never was
		{Date1900, "61", day(1900, 3, 1)},
		{Date1900, "32874", day(1990, 1, 1)},
		{Date1900, "2958465", day(9999, 12, 31)},
		{Date1900, "2958466", time.Time{}},
		{Date1900, "0", time.Time{}},
		{Date1904, "0", day(1904, 1, 1)},
		{Date1904, "43830", day(2024, 1, 1)},
		{Date1904, "45292", day(2028, 1, 2)},
		{Date1904, "31412", day(1990, 1, 1)},
		{Date1904, "2957003", day(9999, 12, 31)},
		{Date1904, "2957004", time.Time{}},
		{Date1900, "-1", time.Time{}},
		{Date1900, "1E3", time.Time{}},
		{Date1900, "2024-01-01", time.Time{}},
		{Date1904, "", time.Time{}},
		{Date1904, "99999999999999999999", time.Time{}},
	} {
		got, ok := tc.system.Date(tc.serial)
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("%v.Date(%q) = %v, %v; want %v", tc.system, tc.serial, got, ok, tc.want)
		}
	}
}

// The workbook's <workbookPr date1904> sets the reader's date system, in
// any of the spellings of an xsd:boolean.
func TestXLSXReaderDateSystem(t *testing.T) {
	for pr, want := range map[string]DateSystem{
		``:                               Date1900,
		`<workbookPr/>`:                  Date1900,
		`<workbookPr date1904="0"/>`:     Date1900,
		`<workbookPr date1904="false"/>`: Date1900,
		`<workbookPr date1904="1"/>`:     Date1904,
		`<workbookPr date1904="true"/>`:  Date1904,
		`<x:workbookPr date1904="1"/>`:   Date1904, // a prefixed (strict) namespace
		`<fileVersion date1904="1"/>`:    Date1900, // not the workbook's properties
	} {
		wb := strings.Replace(testWorkbook, `<sheets>`, pr+`<sheets>`, 1)
		file := zipParts(t, map[string]string{
			"xl/workbook.xml":            wb,
			"xl/_rels/workbook.xml.rels": testWorkbookRels,
			"xl/worksheets/sheet1.xml":   testSecondSheet,
		})
		if got := openXLSX(t, file, Position{}, Limits{}).Dates(); got != want {
			t.Errorf("%s: Dates() = %v, want %v", pr, got, want)
		}
	}
	if got := NewCSVReader(strings.NewReader("a\n"), Position{}, Limits{}).Dates(); got != Date1900 {
		t.Errorf("CSV: Dates() = %v, want Date1900", got)
	}
}
