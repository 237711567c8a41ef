package tabular

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// csvBufSize is the read buffer of a CSV reader; delimiter detection looks
// at most this far into the file.
const csvBufSize = 64 << 10

// NewCSVReader returns a Reader of the CSV file whose bytes from at.Offset
// on are r: to resume, open the file from at.Offset (e.g. an S3 GetObject
// with Range "bytes=<Offset>-") and pass the saved Position. Row numbers go
// on from at.Row.
//
// At offset 0 a UTF-8 BOM is skipped and, if at.Comma is 0, the delimiter is
// detected from the header line: ';' if it has more semicolons than commas
// outside quotes (European Excel exports), else ','. The delimiter is carried
// in every Row.Next.
//
// Parsing is encoding/csv's, strict about quotes (LazyQuotes off), with rows
// of any length (FieldsPerRecord -1). Cells that are not valid UTF-8 are
// decoded as Windows-1252, the encoding of Excel's plain "CSV" export in
// Western Europe.
//
// Rows are split before they are parsed, so that a row can be capped at
// Limits.MaxRowBytes and a bad row skipped: a row ends at the first LF that
// is not inside a quoted cell (a quote opens a quoted cell only at the start
// of a cell, as for encoding/csv). A row with a stray quote therefore costs
// one *RowError and the reader goes on with the next line. The one case it
// cannot recover from is a quote that opens a cell and is never closed: as in
// any RFC 4180 reader, the rest of the file is then inside that cell, and the
// reader reports one *RowError (ErrRowTooLong or csv.ErrQuote) and io.EOF.
// Files with CR-only line endings (old Mac Excel) are not supported: the
// whole file is one over-long row.
func NewCSVReader(r io.Reader, at Position, limits Limits) *Reader {
	return &Reader{src: &csvSource{
		in:     bufio.NewReaderSize(r, csvBufSize),
		limits: limits.withDefaults(),
		pos:    at,
	}}
}

type csvSource struct {
	in     *bufio.Reader
	limits Limits
	pos    Position // where the next row starts
	comma  byte
	ready  bool

	rec    []byte      // the current row's raw bytes
	feed   feeder      // hands rec to parser
	parser *csv.Reader // parses one row at a time from feed
	fed    int64       // bytes given to parser since it was created
}

// feeder is an io.Reader over the row being parsed.
type feeder struct{ b []byte }

func (f *feeder) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

func (s *csvSource) close() error { return nil }

func (s *csvSource) start() error {
	if s.pos.Offset < 0 || s.pos.Row < 0 {
		return fmt.Errorf("%w: %+v", ErrInvalidPosition, s.pos)
	}
	if s.pos.Offset == 0 {
		b, err := s.in.Peek(len(bom))
		if err != nil && err != io.EOF {
			return err
		}
		if string(b) == bom {
			_, _ = s.in.Discard(len(bom))
			s.pos.Offset = int64(len(bom))
		}
		if s.pos.Comma == 0 {
			head, err := s.in.Peek(s.in.Size())
			if err != nil && err != io.EOF {
				return err
			}
			s.pos.Comma = detectComma(head)
		}
	}
	switch s.pos.Comma {
	case ',', ';':
	case 0:
		return fmt.Errorf("%w: resuming at offset %d needs the delimiter (Position.Comma)", ErrInvalidPosition, s.pos.Offset)
	default:
		return fmt.Errorf("%w: delimiter %q is not ',' or ';'", ErrInvalidPosition, s.pos.Comma)
	}
	s.comma = byte(s.pos.Comma)
	s.newParser()
	s.ready = true
	return nil
}

// detectComma picks ';' or ',' from the first non-blank line of head: the
// one that occurs more often outside quotes, ',' on a tie.
func detectComma(head []byte) rune {
	var commas, semis int
	inQuotes, seen := false, false
scan:
	for _, c := range head {
		if c == '"' {
			inQuotes, seen = !inQuotes, true
			continue
		}
		if inQuotes {
			continue
		}
		switch c {
		case '\n':
			if seen {
				break scan
			}
		case '\r':
		case ',':
			commas, seen = commas+1, true
		case ';':
			semis, seen = semis+1, true
		default:
			seen = true
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

func (s *csvSource) newParser() {
	s.feed.b = nil
	s.fed = 0
	s.parser = csv.NewReader(&s.feed)
	s.parser.Comma = rune(s.comma)
	s.parser.FieldsPerRecord = -1
	s.parser.ReuseRecord = true
}

func (s *csvSource) next() (Row, error) {
	if !s.ready {
		if err := s.start(); err != nil {
			return Row{}, err
		}
	}
	for {
		rec, n, tooLong, err := s.scan()
		if err != nil {
			return Row{}, err
		}
		s.pos.Offset += n
		s.pos.Row++
		row := Row{Number: s.pos.Row, Next: s.pos}
		if tooLong {
			return row, &RowError{Number: row.Number, Err: ErrRowTooLong}
		}
		if isBlankLine(rec) {
			continue
		}
		cells, err := s.parse(rec)
		if err != nil {
			return row, &RowError{Number: row.Number, Err: err}
		}
		if len(cells) > s.limits.MaxCells {
			return row, &RowError{Number: row.Number, Err: fmt.Errorf("%w: %d, at most %d", ErrTooManyCells, len(cells), s.limits.MaxCells)}
		}
		if allEmpty(cells) {
			continue
		}
		row.Cells = cells
		return row, nil
	}
}

// isBlankLine reports whether rec is an empty line, which encoding/csv skips.
func isBlankLine(rec []byte) bool {
	switch string(rec) {
	case "", "\n", "\r\n", "\r":
		return true
	}
	return false
}

// parse parses one row's bytes into cleaned cells.
func (s *csvSource) parse(rec []byte) ([]string, error) {
	s.feed.b = rec
	s.fed += int64(len(rec))
	fields, err := s.parser.Read()
	if err == nil && s.parser.InputOffset() == s.fed {
		cells := make([]string, len(fields))
		for i, f := range fields {
			if !utf8.ValidString(f) {
				f = decodeWindows1252(f)
			}
			cells[i] = cleanCell(f)
		}
		return cells, nil
	}
	// The parser stopped somewhere inside the row: start afresh on the next.
	s.newParser()
	switch pe, ok := errors.AsType[*csv.ParseError](err); {
	case ok:
		return nil, pe.Err
	case err == io.EOF: // only line endings: a blank row
		return nil, nil
	case err == nil:
		return nil, errors.New("malformed row")
	default:
		return nil, err
	}
}

// States of the row splitter, which follows encoding/csv's grammar just far
// enough to find where a row ends.
type scanState uint8

const (
	stCellStart scanState = iota // at the start of a cell
	stUnquoted                   // in a cell that does not start with a quote
	stQuoted                     // inside a quoted cell
	stQuote                      // just after a quote inside a quoted cell
	stQuoteCR                    // just after a quote and a CR
	stBad                        // after a stray quote: the row ends at the next LF
)

// scan reads the next row's raw bytes: rec holds them (unless tooLong: the
// row was longer than the limit, and has been consumed but not kept) and n
// is the number of bytes consumed. It returns io.EOF when nothing is left.
func (s *csvSource) scan() (rec []byte, n int64, tooLong bool, err error) {
	s.rec = s.rec[:0]
	st := stCellStart
	for {
		chunk, err := s.in.ReadSlice('\n')
		n += int64(len(chunk))
		var ended bool
		st, ended = s.step(st, chunk)
		if !tooLong {
			if len(s.rec)+len(chunk) > s.limits.MaxRowBytes {
				tooLong = true
				s.rec = s.rec[:0]
			} else {
				s.rec = append(s.rec, chunk...)
			}
		}
		switch {
		case ended:
			return s.rec, n, tooLong, nil
		case err == nil, err == bufio.ErrBufferFull:
			// An LF inside a quoted cell, or a chunk of a long line.
		case err == io.EOF:
			if n == 0 {
				return nil, 0, false, io.EOF
			}
			return s.rec, n, tooLong, nil
		default:
			return nil, 0, false, err
		}
	}
}

// step runs the splitter over b, which holds no LF except maybe at its end,
// and reports whether that LF ends the row.
func (s *csvSource) step(st scanState, b []byte) (scanState, bool) {
	comma := s.comma
	for _, c := range b {
		switch st {
		case stCellStart, stUnquoted:
			switch {
			case c == '\n':
				return st, true
			case c == comma:
				st = stCellStart
			case c == '"' && st == stCellStart:
				st = stQuoted
			default:
				st = stUnquoted
			}
		case stQuoted:
			if c == '"' {
				st = stQuote
			}
		case stQuote:
			switch c {
			case '"':
				st = stQuoted
			case comma:
				st = stCellStart
			case '\n':
				return st, true
			case '\r':
				st = stQuoteCR
			default:
				st = stBad
			}
		case stQuoteCR:
			if c == '\n' {
				return st, true
			}
			st = stBad
		case stBad:
			if c == '\n' {
				return st, true
			}
		}
	}
	return st, false
}

// decodeWindows1252 decodes s as Windows-1252; the five bytes it leaves
// unassigned become U+FFFD.
func decodeWindows1252(s string) string {
	d, _ := charmap.Windows1252.NewDecoder().String(s) // never fails: every byte decodes
	return d
}
