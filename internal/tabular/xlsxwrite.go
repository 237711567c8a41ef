package tabular

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
)

// Excel's sheet limits.
const (
	xlsxMaxRows = 1 << 20
	xlsxMaxCols = 1 << 14
)

// The fixed parts of the workbook WriteXLSX writes.
const (
	xmlHeader    = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain       = `http://schemas.openxmlformats.org/spreadsheetml/2006/main`
	contentTypes = xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>` +
		`</Types>`
	rootRels = xmlHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
		`</Relationships>`
	workbookXML = xmlHeader + `<workbook xmlns="` + nsMain + `" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	workbookRels = xmlHeader + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
		`</Relationships>`
)

// WriteXLSX writes rows as a minimal XLSX workbook with one sheet: every
// non-empty cell is a text cell in the shared-string table, passed through
// [Neutralise] like the CSV [Writer] does (so [NewXLSXReader] reads the rows
// back as written, apart from trimmed white space); empty cells and rows are
// left out, as Excel does. No styles, no types: it is the writer used by tests
// and the load tool to produce merchant-like uploads, not an export format.
// It holds the distinct strings in memory.
func WriteXLSX(w io.Writer, rows [][]string) error {
	if len(rows) > xlsxMaxRows {
		return fmt.Errorf("tabular: %d rows, an XLSX sheet holds at most %d", len(rows), xlsxMaxRows)
	}
	zw := zip.NewWriter(w)
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", contentTypes},
		{"_rels/.rels", rootRels},
		{"xl/workbook.xml", workbookXML},
		{"xl/_rels/workbook.xml.rels", workbookRels},
	} {
		f, err := zw.Create(part.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, part.body); err != nil {
			return err
		}
	}

	f, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	sheet := bufio.NewWriter(f)
	index := map[string]int{}
	var strs []string
	count := 0
	sheet.WriteString(xmlHeader + `<worksheet xmlns="` + nsMain + `"><sheetData>`)
	for i, row := range rows {
		if len(row) > xlsxMaxCols {
			return fmt.Errorf("tabular: row %d has %d cells, an XLSX sheet holds at most %d", i+1, len(row), xlsxMaxCols)
		}
		if allEmpty(row) {
			continue
		}
		num := strconv.Itoa(i + 1)
		sheet.WriteString(`<row r="` + num + `">`)
		for j, cell := range row {
			if cell == "" {
				continue
			}
			cell = Neutralise(cell)
			k, ok := index[cell]
			if !ok {
				k = len(strs)
				index[cell] = k
				strs = append(strs, cell)
			}
			count++
			sheet.WriteString(`<c r="` + columnName(j+1) + num + `" t="s"><v>` + strconv.Itoa(k) + `</v></c>`)
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	if err := sheet.Flush(); err != nil {
		return err
	}

	f, err = zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	sst := bufio.NewWriter(f)
	fmt.Fprintf(sst, xmlHeader+`<sst xmlns="%s" count="%d" uniqueCount="%d">`, nsMain, count, len(strs))
	for _, s := range strs {
		sst.WriteString(`<si><t xml:space="preserve">`)
		// EscapeText also replaces invalid UTF-8 and characters XML cannot
		// hold with U+FFFD. Its error is the writer's, which Flush reports.
		_ = xml.EscapeText(sst, []byte(s))
		sst.WriteString(`</t></si>`)
	}
	sst.WriteString(`</sst>`)
	if err := sst.Flush(); err != nil {
		return err
	}
	return zw.Close()
}
