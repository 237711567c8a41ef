package tabular

import (
	"bufio"
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark, which tells Excel a CSV file is UTF-8.
const bom = "\uFEFF"

// WriterOptions configures a Writer.
type WriterOptions struct {
	// BOM writes a UTF-8 byte order mark at the very start, so that Excel
	// opens the file as UTF-8 rather than in the system code page.
	BOM bool
}

// Writer writes an RFC 4180 CSV file: comma-separated, CRLF line endings,
// fields quoted (by encoding/csv) when they contain ", a comma, CR or LF or
// start with a space, UTF-8. Every cell is made safe before it is written:
//   - invalid UTF-8 is replaced by U+FFFD (one per run of bad bytes);
//   - line breaks inside a cell (CRLF, CR or LF) are written as CRLF, so
//     they read back as LF (encoding/csv would otherwise drop a lone CR);
//   - the cell is passed through [Neutralise].
//
// Writes are buffered: call Flush at the end and check its error.
type Writer struct {
	bw    *bufio.Writer
	cw    *csv.Writer
	cells []string
	err   error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw) // reuses bw as its buffer
	cw.UseCRLF = true
	wr := &Writer{bw: bw, cw: cw}
	if opts.BOM {
		_, wr.err = bw.WriteString(bom)
	}
	return wr
}

// Write writes one record. It does not modify record. After an error, every
// later Write and Flush returns that error.
func (w *Writer) Write(record []string) error {
	if w.err != nil {
		return w.err
	}
	w.cells = w.cells[:0]
	for _, c := range record {
		w.cells = append(w.cells, exportCell(c))
	}
	if err := w.cw.Write(w.cells); err != nil {
		w.err = err
	}
	return w.err
}

// Flush writes any buffered data to the underlying io.Writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		w.err = err
	}
	return w.err
}

// Err returns the first error met by Write or Flush, if any.
func (w *Writer) Err() error { return w.err }

// exportCell prepares a cell for a CSV file; see Writer.
func exportCell(c string) string {
	if !utf8.ValidString(c) {
		c = strings.ToValidUTF8(c, "\uFFFD")
	}
	if strings.IndexByte(c, '\r') >= 0 {
		c = strings.ReplaceAll(c, "\r\n", "\n")
		c = strings.ReplaceAll(c, "\r", "\n")
	}
	return Neutralise(c)
}
