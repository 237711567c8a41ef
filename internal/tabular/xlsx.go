package tabular

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
)

// Bounds on XLSX parts that are not rows.
const (
	maxPartBytes = 8 << 20  // workbook.xml, its relationships
	maxXMLToken  = 16 << 20 // bytes between two '<' in any part
)

// NewXLSXReader returns a Reader of the first worksheet (in the workbook's
// tab order) of the XLSX file r of the given size. It streams the worksheet
// XML, so memory is bounded by the Limits whatever the number of rows; the
// shared-string table is loaded first and must fit Limits.MaxSharedStringBytes.
//
// To resume, pass the saved Position: rows up to at.Row are skipped (the
// worksheet is a compressed stream, so they are decompressed and scanned
// again, but not decoded). at.Offset and at.Comma are ignored.
//
// Cells are cleaned like CSV cells ([Restore], then surrounding white space
// trimmed) and read as the text Excel stores, never reformatted: shared and
// inline strings as written; numbers as the literal stored text ("42",
// "3.5", "34600111222", "1E-3"), so integers stay integers; booleans as
// "TRUE" or "FALSE"; formulas as their cached result; errors as "#N/A" etc.
// Dates are stored as serial numbers ("45292" is 2024-01-01) and are returned
// as that text: the caller, which knows the column, converts them with the
// workbook's date system, [Reader.Dates] (Date1904 when the workbook says
// <workbookPr date1904="1"/>). Cells are placed by their reference
// (r="C7"), gaps filled with "", and rows keep their sheet numbers even when
// empty rows are absent from the file.
//
// zip needs random access: in a Lambda, download the upload to /tmp and pass
// the *os.File, rather than serving many small ranged reads from S3.
func NewXLSXReader(r io.ReaderAt, size int64, at Position, limits Limits) (*Reader, error) {
	if at.Row < 0 {
		return nil, fmt.Errorf("%w: %+v", ErrInvalidPosition, at)
	}
	limits = limits.withDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidXLSX, err)
	}
	pkg := newZipIndex(zr)
	sheetPath, sstPath, dates, err := pkg.firstSheet()
	if err != nil {
		return nil, err
	}
	var sst sharedStrings
	if f := pkg.lookup(sstPath); f != nil {
		if sst, err = loadSharedStrings(f, limits.MaxSharedStringBytes); err != nil {
			return nil, err
		}
	}
	f := pkg.lookup(sheetPath)
	if f == nil {
		return nil, fmt.Errorf("%w: no worksheet %s", ErrInvalidXLSX, sheetPath)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidXLSX, err)
	}
	return &Reader{dates: dates, src: &xlsxSource{
		rc:     rc,
		dec:    xml.NewDecoder(&tokenGuard{r: rc}),
		sst:    sst,
		limits: limits,
		skipTo: at.Row,
	}}, nil
}

// zipIndex finds the parts of a package by name.
type zipIndex struct {
	files map[string]*zip.File
	lower map[string]*zip.File
}

func newZipIndex(zr *zip.Reader) zipIndex {
	ix := zipIndex{files: map[string]*zip.File{}, lower: map[string]*zip.File{}}
	for _, f := range zr.File {
		name := strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/")
		ix.files[name] = f
		ix.lower[strings.ToLower(name)] = f
	}
	return ix
}

func (ix zipIndex) lookup(name string) *zip.File {
	if f, ok := ix.files[name]; ok {
		return f
	}
	return ix.lower[strings.ToLower(name)]
}

// readPart returns a small part whole, or nil if it does not exist.
func (ix zipIndex) readPart(name string) ([]byte, error) {
	f := ix.lookup(name)
	if f == nil {
		return nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidXLSX, name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxPartBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidXLSX, name, err)
	}
	if len(b) > maxPartBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidXLSX, name, maxPartBytes)
	}
	return b, nil
}

type relationship struct{ typ, target string }

// relationships reads the relationships of part (from dir/_rels/base.rels),
// targets resolved to package paths.
func (ix zipIndex) relationships(part string) (map[string]relationship, error) {
	dir, base := path.Split(part)
	relsName := dir + "_rels/" + base + ".rels"
	b, err := ix.readPart(relsName)
	if err != nil || b == nil {
		return nil, err
	}
	rels := map[string]relationship{}
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return rels, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidXLSX, relsName, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" || attr(se, "TargetMode") == "External" {
			continue
		}
		target := attr(se, "Target")
		if strings.HasPrefix(target, "/") {
			target = path.Clean(target[1:])
		} else {
			target = path.Join(dir, target)
		}
		rels[attr(se, "Id")] = relationship{typ: attr(se, "Type"), target: target}
	}
}

// firstSheet finds the first worksheet, the shared strings and the date
// system of the workbook, following the package relationships, with the
// conventional names as a fallback.
func (ix zipIndex) firstSheet() (sheet, sst string, dates DateSystem, err error) {
	workbook := "xl/workbook.xml"
	rootRels, err := ix.relationships("")
	if err != nil {
		return "", "", 0, err
	}
	for _, rel := range rootRels {
		if strings.HasSuffix(rel.typ, "/officeDocument") {
			workbook = rel.target
		}
	}
	wb, err := ix.readPart(workbook)
	if err != nil {
		return "", "", 0, err
	}
	if wb == nil {
		return "", "", 0, fmt.Errorf("%w: no workbook", ErrInvalidXLSX)
	}
	rels, err := ix.relationships(workbook)
	if err != nil {
		return "", "", 0, err
	}
	dir := path.Dir(workbook)
	sst = path.Join(dir, "sharedStrings.xml")
	for _, rel := range rels {
		if strings.HasSuffix(rel.typ, "/sharedStrings") {
			sst = rel.target
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(wb))
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", 0, fmt.Errorf("%w: %s: %w", ErrInvalidXLSX, workbook, err)
		}
		se, ok := tok.(xml.StartElement)
		if ok && se.Name.Local == "workbookPr" {
			if on, _ := strconv.ParseBool(attr(se, "date1904")); on { // xsd:boolean: 1 or true
				dates = Date1904
			}
		}
		if !ok || se.Name.Local != "sheet" {
			continue
		}
		for _, a := range se.Attr {
			if a.Name.Local != "id" || a.Name.Space == "" { // r:id
				continue
			}
			if rel, ok := rels[a.Value]; ok && strings.HasSuffix(rel.typ, "/worksheet") {
				return rel.target, sst, dates, nil
			}
		}
	}
	if rels == nil {
		// No relationships to follow: take the conventional first sheet.
		return path.Join(dir, "worksheets/sheet1.xml"), sst, dates, nil
	}
	return "", "", 0, fmt.Errorf("%w: no worksheet in the workbook", ErrInvalidXLSX)
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// sharedStrings is the shared-string table: all strings in one, and where
// each ends.
type sharedStrings struct {
	data string
	ends []uint32
}

func (s sharedStrings) at(i int) (string, bool) {
	if i < 0 || i >= len(s.ends) {
		return "", false
	}
	var start uint32
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.data[start:s.ends[i]], true
}

func loadSharedStrings(f *zip.File, max int64) (sharedStrings, error) {
	max = min(max, math.MaxUint32)
	rc, err := f.Open()
	if err != nil {
		return sharedStrings{}, fmt.Errorf("%w: %s: %w", ErrInvalidXLSX, f.Name, err)
	}
	defer rc.Close()
	var (
		data      strings.Builder
		ends      []uint32
		total     int64
		inSI, inT bool
		phonetic  int // depth of <rPh>, whose text is a reading aid, not content
	)
	dec := xml.NewDecoder(&tokenGuard{r: rc})
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return sharedStrings{data: data.String(), ends: ends}, nil
		}
		if err != nil {
			return sharedStrings{}, fmt.Errorf("%w: %s: %w", ErrInvalidXLSX, f.Name, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
			case "rPh":
				phonetic++
			case "t":
				inT = inSI && phonetic == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				inSI = false
				ends = append(ends, uint32(data.Len()))
				total += 4
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				data.Write(t)
				total += int64(len(t))
			}
		}
		if total > max {
			return sharedStrings{}, fmt.Errorf("%w (%d bytes)", ErrSharedStringsTooLarge, max)
		}
	}
}

// tokenGuard fails a stream with more than maxXMLToken bytes between two
// '<', which bounds the size of any token encoding/xml holds in memory.
type tokenGuard struct {
	r   io.Reader
	run int
}

func (g *tokenGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if i := bytes.LastIndexByte(p[:n], '<'); i >= 0 {
		g.run = n - i - 1
	} else {
		g.run += n
	}
	if g.run > maxXMLToken {
		return n, fmt.Errorf("an XML token is larger than %d bytes", maxXMLToken)
	}
	return n, err
}

type xlsxSource struct {
	rc     io.ReadCloser
	dec    *xml.Decoder
	sst    sharedStrings
	limits Limits
	skipTo int  // rows numbered up to this are skipped
	last   int  // number of the last row met
	inData bool // inside <sheetData>
	done   bool
	v, is  []byte // text of the current cell's <v> and <is>
}

func (x *xlsxSource) close() error { return x.rc.Close() }

func (x *xlsxSource) fail(err error) error {
	return fmt.Errorf("%w: worksheet: %w", ErrInvalidXLSX, err)
}

func (x *xlsxSource) next() (Row, error) {
	for {
		start, err := x.nextRow()
		if err != nil {
			return Row{}, err
		}
		num := x.last + 1
		if n, err := strconv.Atoi(attr(start, "r")); err == nil && n > 0 {
			num = n
		}
		x.last = num
		if num <= x.skipTo {
			if err := x.skip(); err != nil {
				return Row{}, x.fail(err)
			}
			continue
		}
		cells, rowErr, err := x.readRow()
		if err != nil {
			return Row{}, x.fail(err)
		}
		row := Row{Number: num, Next: Position{Row: num}}
		if rowErr != nil {
			return row, &RowError{Number: num, Err: rowErr}
		}
		if allEmpty(cells) {
			continue
		}
		row.Cells = cells
		return row, nil
	}
}

// nextRow advances to the next <row> of <sheetData>, or returns io.EOF.
func (x *xlsxSource) nextRow() (xml.StartElement, error) {
	if x.done {
		return xml.StartElement{}, io.EOF
	}
	for {
		tok, err := x.dec.RawToken()
		if err == io.EOF {
			x.done = true
			return xml.StartElement{}, io.EOF
		}
		if err != nil {
			return xml.StartElement{}, x.fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "sheetData":
				x.inData = true
			case "row":
				if x.inData {
					return t, nil
				}
			}
		case xml.EndElement:
			if t.Name.Local == "sheetData" {
				x.done = true
				return xml.StartElement{}, io.EOF
			}
		}
	}
}

// skip consumes the rest of the element just started.
func (x *xlsxSource) skip() error {
	for depth := 1; depth > 0; {
		tok, err := x.dec.RawToken()
		if err != nil {
			return eofIsUnexpected(err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// readRow reads the cells of the row just started, through </row>. rowErr
// reports a row that is readable but unacceptable; err a broken file.
func (x *xlsxSource) readRow() (cells []string, rowErr, err error) {
	col, size := 0, 0
	for {
		tok, err := x.dec.RawToken()
		if err != nil {
			return nil, nil, eofIsUnexpected(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name.Local == "row" {
				return cells, rowErr, nil
			}
		case xml.StartElement:
			if t.Name.Local != "c" {
				if err := x.skip(); err != nil {
					return nil, nil, err
				}
				continue
			}
			col++
			if ref := attr(t, "r"); ref != "" {
				c, ok := columnOf(ref)
				if !ok {
					rowErr = cmp(rowErr, fmt.Errorf("%w: reference %q", ErrInvalidCell, ref))
				}
				col = c
			}
			v, cellErr, err := x.readCell(attr(t, "t"))
			if err != nil {
				return nil, nil, err
			}
			rowErr = cmp(rowErr, cellErr)
			v = cleanCell(v)
			if v == "" || rowErr != nil {
				continue
			}
			if col > x.limits.MaxCells {
				rowErr = fmt.Errorf("%w: column %d, at most %d", ErrTooManyCells, col, x.limits.MaxCells)
				continue
			}
			if size += len(v); size > x.limits.MaxRowBytes {
				rowErr = ErrRowTooLong
				continue
			}
			for len(cells) < col {
				cells = append(cells, "")
			}
			cells[col-1] = v
		}
	}
}

// cmp returns the first non-nil error.
func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// readCell reads the value of the cell just started, of type typ, through
// </c>.
func (x *xlsxSource) readCell(typ string) (v string, cellErr, err error) {
	x.v, x.is = x.v[:0], x.is[:0]
	inV, inIS, inT, phonetic := false, false, false, 0
	for {
		tok, err := x.dec.RawToken()
		if err != nil {
			return "", nil, eofIsUnexpected(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				inV = true
			case "is":
				inIS = true
			case "rPh":
				phonetic++
			case "t":
				inT = inIS && phonetic == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "is":
				inIS = false
			case "rPh":
				phonetic--
			case "t":
				inT = false
			case "c":
				v, cellErr := x.cellValue(typ)
				return v, cellErr, nil
			}
		case xml.CharData:
			switch {
			case inV:
				x.v = append(x.v, t...)
			case inT:
				x.is = append(x.is, t...)
			}
			if len(x.v)+len(x.is) > x.limits.MaxRowBytes {
				// Stop keeping the text; the row will be too long anyway.
				x.v, x.is = x.v[:0], x.is[:0]
				cellErr = ErrRowTooLong
			}
		}
		if cellErr != nil {
			if err := x.skipThrough("c"); err != nil {
				return "", nil, err
			}
			return "", cellErr, nil
		}
	}
}

// skipThrough consumes tokens through the end element named local.
func (x *xlsxSource) skipThrough(local string) error {
	for {
		tok, err := x.dec.RawToken()
		if err != nil {
			return eofIsUnexpected(err)
		}
		if e, ok := tok.(xml.EndElement); ok && e.Name.Local == local {
			return nil
		}
	}
}

func (x *xlsxSource) cellValue(typ string) (v string, cellErr error) {
	if len(x.v) == 0 && len(x.is) == 0 {
		return "", nil // an empty (perhaps only styled) cell, whatever its type
	}
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(string(x.v)))
		if err != nil {
			return "", fmt.Errorf("%w: shared string index %q", ErrInvalidCell, x.v)
		}
		s, ok := x.sst.at(i)
		if !ok {
			return "", fmt.Errorf("%w: no shared string %d", ErrInvalidCell, i)
		}
		return s, nil
	case "inlineStr":
		if len(x.is) == 0 {
			return string(x.v), nil
		}
		return string(x.is), nil
	case "b":
		switch strings.TrimSpace(string(x.v)) {
		case "1":
			return "TRUE", nil
		case "0":
			return "FALSE", nil
		}
	}
	return string(x.v), nil
}

// columnOf returns the 1-based column of a cell reference such as "C7".
func columnOf(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > 1<<20 {
			return 0, false
		}
	}
	return col, i > 0
}

// columnName returns the letters of a 1-based column: 1 → "A", 27 → "AA".
func columnName(col int) string {
	var b [8]byte
	i := len(b)
	for col > 0 {
		col--
		i--
		b[i] = byte('A' + col%26)
		col /= 26
	}
	return string(b[i:])
}
