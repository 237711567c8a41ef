// Package tabular reads and writes the spreadsheet files merchants exchange
// with Regulars: CSV exports (streamed to any io.Writer, e.g. an S3 upload)
// and customer imports from CSV or XLSX uploads.
//
// It is pure Go (the standard library and golang.org/x/text) and knows
// nothing about AWS.
//
// # Formula neutralisation
//
// Writers ([Writer], [WriteXLSX]) pass every cell through [Neutralise] so a
// spreadsheet never evaluates a customer-supplied value as a formula (OWASP
// "CSV injection"); readers pass every cell through [Restore], which undoes
// it exactly, so an export re-imported gives back the original values.
//
// # Imports
//
// A [Reader] yields one [Row] at a time with bounded memory, whatever the
// size of the file. Every row carries the [Position] just after it: an import
// that runs out of time saves that position and, in the next invocation,
// opens a new reader at it ([NewCSVReader] from a byte offset, [NewXLSXReader]
// by skipping rows) and carries on with exactly the remaining rows. A row that
// is malformed comes back as a [*RowError] and the reader moves on to the
// next one; any other error is fatal and returned again by every later Read.
package tabular

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Position is where a reader stands in a file: the state an import saves to
// resume in a later invocation. The zero Position is the start of the file.
// It is plain data and JSON-friendly.
type Position struct {
	// Offset is, for CSV, the byte offset in the file at which the following
	// row starts (a UTF-8 BOM counts). Unused (0) for XLSX.
	Offset int64 `json:"offset"`
	// Row is the number of rows consumed so far, blank ones included: the
	// Number of the last row read.
	Row int `json:"row"`
	// Comma is the CSV delimiter, ',' or ';'. At Offset 0 it may be 0, and the
	// reader detects it from the header line; resuming at any other offset
	// requires it, so always save the Position of a row, which carries it.
	// Unused (0) for XLSX.
	Comma rune `json:"comma,omitempty"`
}

// Row is one non-blank row of a file.
type Row struct {
	// Number is the 1-based row number as a spreadsheet shows it: the header
	// is 1, blank lines count, and a CSV record with line breaks inside a
	// quoted cell is a single row. Use it in messages to the merchant.
	Number int
	// Cells are the row's values, restored (see [Restore]) and with
	// surrounding white space trimmed. Rows may be ragged: Cells has as many
	// entries as the file gives for this row (for XLSX, up to the last
	// non-empty cell). Nil when Read returns a *RowError.
	Cells []string
	// Next is the position just after this row: save it to resume.
	Next Position
}

// Limits bounds the memory a Reader uses. Zero fields take the defaults.
type Limits struct {
	// MaxRowBytes caps one row: for CSV its raw bytes including the line
	// ending, for XLSX the total length of its cell values. Default 64 KiB.
	MaxRowBytes int
	// MaxCells caps the number of cells in a row (for XLSX, the column of
	// the last non-empty cell). Default 200.
	MaxCells int
	// MaxSharedStringBytes caps the XLSX shared-string table, which must be
	// held in memory: the total length of its strings plus 4 bytes per
	// string. Default 128 MiB. Beyond it NewXLSXReader fails with
	// ErrSharedStringsTooLarge.
	MaxSharedStringBytes int64
}

// The default Limits.
const (
	DefaultMaxRowBytes          = 64 << 10
	DefaultMaxCells             = 200
	DefaultMaxSharedStringBytes = 128 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxRowBytes <= 0 {
		l.MaxRowBytes = DefaultMaxRowBytes
	}
	if l.MaxCells <= 0 {
		l.MaxCells = DefaultMaxCells
	}
	if l.MaxSharedStringBytes <= 0 {
		l.MaxSharedStringBytes = DefaultMaxSharedStringBytes
	}
	return l
}

// Errors a *RowError may wrap (besides csv.ErrQuote and csv.ErrBareQuote for
// a CSV row that does not parse).
var (
	ErrRowTooLong   = errors.New("row exceeds the size limit")
	ErrTooManyCells = errors.New("row has too many cells")
	ErrInvalidCell  = errors.New("invalid cell")
)

// Fatal errors: the import cannot go on with this file.
var (
	// ErrInvalidPosition: the Position given to a constructor cannot be
	// resumed from (negative, or a CSV offset without a delimiter).
	ErrInvalidPosition = errors.New("tabular: invalid resume position")
	// ErrInvalidXLSX: the file is not a readable XLSX workbook.
	ErrInvalidXLSX = errors.New("tabular: invalid XLSX file")
	// ErrSharedStringsTooLarge: the workbook's shared strings exceed
	// Limits.MaxSharedStringBytes.
	ErrSharedStringsTooLarge = errors.New("tabular: XLSX shared strings exceed the size limit")
)

// RowError reports a row that cannot be read. The reader has skipped it and
// can go on: report it to the merchant and call Read again.
type RowError struct {
	Number int // the row's Number
	Err    error
}

func (e *RowError) Error() string { return fmt.Sprintf("tabular: row %d: %v", e.Number, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// source is one file format behind a Reader.
type source interface {
	next() (Row, error)
	close() error
}

// Reader yields the rows of a CSV or XLSX file. It is not safe for
// concurrent use.
type Reader struct {
	src   source
	dates DateSystem
	err   error // sticky fatal error or io.EOF
}

// Dates is the date system of the file, in which [DateSystem.Date] reads
// the serial numbers its date cells hold: the workbook's for XLSX, Date1900
// for CSV (whose dates are text, unless a spreadsheet saved them as numbers).
func (r *Reader) Dates() DateSystem { return r.dates }

// Read returns the next non-blank row (rows whose cells are all empty are
// skipped, though they count in Row.Number), or io.EOF after the last row.
//
// On a *RowError the returned Row has Number and Next set but no Cells:
// record the error, save Next if you checkpoint, and call Read again. Any
// other error is fatal and is returned by every later call.
func (r *Reader) Read() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	row, err := r.src.next()
	if err != nil {
		if _, ok := errors.AsType[*RowError](err); ok {
			return row, err
		}
		r.err = err
		return Row{}, err
	}
	return row, nil
}

// Close releases the resources of the reader (for XLSX, the open worksheet
// stream). It does not close the io.Reader or io.ReaderAt it was given.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = errors.New("tabular: read from closed Reader")
	}
	return r.src.close()
}

// cleanCell is what a reader does to every cell: trim white space, Restore,
// and trim what Restore uncovered ("'\t=x").
func cleanCell(s string) string {
	return strings.TrimSpace(Restore(strings.TrimSpace(s)))
}

func allEmpty(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

// eofIsUnexpected turns io.EOF into io.ErrUnexpectedEOF, for streams that
// end in the middle of something.
func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
