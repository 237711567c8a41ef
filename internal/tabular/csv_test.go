package tabular

import (
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// got is one result of Reader.Read, in a comparable form.
type got struct {
	Number int
	Cells  []string
	Err    error // the *RowError's Err
}

// readAll reads r to the end, failing the test on a fatal error.
func readAll(t *testing.T, r *Reader) ([]got, []Row) {
	t.Helper()
	var res []got
	var rows []Row
	for {
		row, err := r.Read()
		if err == io.EOF {
			return res, rows
		}
		re, ok := errors.AsType[*RowError](err)
		if err != nil && !ok {
			t.Fatalf("Read: %v", err)
		}
		g := got{Number: row.Number, Cells: row.Cells}
		if ok {
			if re.Number != row.Number {
				t.Fatalf("RowError.Number %d, Row.Number %d", re.Number, row.Number)
			}
			g.Err = re.Err
		}
		res = append(res, g)
		rows = append(rows, row)
	}
}

func sameResults(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Number != b[i].Number || !reflect.DeepEqual(a[i].Cells, b[i].Cells) || !sameError(a[i].Err, b[i].Err) {
			return false
		}
	}
	return true
}

// sameError reports whether got is want, or reads the same.
func sameError(got, want error) bool {
	if got == nil || want == nil {
		return got == want
	}
	return errors.Is(got, want) || got.Error() == want.Error()
}

func cells(c ...string) []string { return c }

func TestCSVReader(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		limits Limits
		want   []got
	}{
		{"empty", "", Limits{}, nil},
		{"simple crlf", "email,name\r\na@x.es,Ana\r\n", Limits{},
			[]got{{1, cells("email", "name"), nil}, {2, cells("a@x.es", "Ana"), nil}}},
		{"no final newline", "a,b\nc,d", Limits{},
			[]got{{1, cells("a", "b"), nil}, {2, cells("c", "d"), nil}}},
		{"bom stripped", "\xEF\xBB\xBFemail\r\nx\r\n", Limits{},
			[]got{{1, cells("email"), nil}, {2, cells("x"), nil}}},
		{"semicolon detected", "email;name;notes\r\na@x.es;Ana;\"1,5 kg; fine\"\r\n", Limits{},
			[]got{{1, cells("email", "name", "notes"), nil}, {2, cells("a@x.es", "Ana", "1,5 kg; fine"), nil}}},
		{"comma wins a tie", "a;b,c\n", Limits{}, []got{{1, cells("a;b", "c"), nil}}},
		{"quoted delimiters do not count", "\"a;b;c\",d\n", Limits{}, []got{{1, cells("a;b;c", "d"), nil}}},
		{"ragged rows", "a,b,c\n1\n1,2,3,4\n", Limits{},
			[]got{{1, cells("a", "b", "c"), nil}, {2, cells("1"), nil}, {3, cells("1", "2", "3", "4"), nil}}},
		{"quoted newlines are one row", "id,notes\r\n1,\"line 1\r\nline 2\"\r\n2,x\r\n", Limits{},
			[]got{{1, cells("id", "notes"), nil}, {2, cells("1", "line 1\nline 2"), nil}, {3, cells("2", "x"), nil}}},
		{"blank and empty rows are skipped but counted", "h\n\n\r\n,,\n x \n", Limits{},
			[]got{{1, cells("h"), nil}, {5, cells("x"), nil}}},
		{"trim and restore", " '=1+2 ,\t-5\t,'-5,\"  ''=x \"\n", Limits{},
			[]got{{1, cells("=1+2", "-5", "'-5", "'=x"), nil}}},
		{"escaped quotes", "\"say \"\"hi\"\"\"\n", Limits{}, []got{{1, cells(`say "hi"`), nil}}},
		{"bare quote is a row error", "h\na\"b,c\nd\n", Limits{},
			[]got{{1, cells("h"), nil}, {2, nil, csv.ErrBareQuote}, {3, cells("d"), nil}}},
		{"junk after closing quote is a row error", "h\n\"a\"b,c\nd\n", Limits{},
			[]got{{1, cells("h"), nil}, {2, nil, csv.ErrQuote}, {3, cells("d"), nil}}},
		{"error inside a multi-line row", "h\n\"a\nb\"x\nd\n", Limits{},
			[]got{{1, cells("h"), nil}, {2, nil, csv.ErrQuote}, {3, cells("d"), nil}}},
		{"unclosed quote swallows the rest", "h\n\"a,b\nc,d\n", Limits{},
			[]got{{1, cells("h"), nil}, {2, nil, csv.ErrQuote}}},
		{"oversized row then continues", "h\n" + strings.Repeat("x", 100) + "\nok\n", Limits{MaxRowBytes: 50},
			[]got{{1, cells("h"), nil}, {2, nil, ErrRowTooLong}, {3, cells("ok"), nil}}},
		{"oversized quoted row is skipped whole", "h\n\"" + strings.Repeat("x\n", 50) + "\"\nok\n", Limits{MaxRowBytes: 50},
			[]got{{1, cells("h"), nil}, {2, nil, ErrRowTooLong}, {3, cells("ok"), nil}}},
		{"too many cells", "a,b,c\na,b\n", Limits{MaxCells: 2},
			[]got{{1, nil, ErrTooManyCells}, {2, cells("a", "b"), nil}}},
		{"windows-1252", "nombre;ciudad\n\xc1lvaro;M\xe1laga \x80\n", Limits{},
			[]got{{1, cells("nombre", "ciudad"), nil}, {2, cells("Álvaro", "Málaga €"), nil}}},
		{"windows-1252 punctuation and unassigned bytes", "nota\n\x93Cr\xe8me br\xfbl\xe9e\x94 \x96 \x8cuvre\x99 \x81\x9f\xff\n", Limits{},
			[]got{{1, cells("nota"), nil}, {2, cells("“Crème brûlée” – Œuvre™ \uFFFDŸÿ"), nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := readAll(t, NewCSVReader(strings.NewReader(tt.in), Position{}, tt.limits))
			if !sameResults(res, tt.want) {
				t.Errorf("got  %+v\nwant %+v", res, tt.want)
			}
		})
	}
}

func TestCSVReaderGiantLine(t *testing.T) {
	// 10 MiB without a line break, then a good row: read with a small buffer
	// footprint, reported, and skipped.
	in := io.MultiReader(strings.NewReader("h\n"), &repeatReader{b: 'x', n: 10 << 20}, strings.NewReader("\nok\n"))
	res, _ := readAll(t, NewCSVReader(in, Position{}, Limits{}))
	want := []got{{1, cells("h"), nil}, {2, nil, ErrRowTooLong}, {3, cells("ok"), nil}}
	if !sameResults(res, want) {
		t.Errorf("got %+v, want %+v", res, want)
	}
}

type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

// resumeFile has a BOM, ';', blank lines, a multi-line row, a bad row, an
// oversized row and no final line break.
var resumeFile = "\xEF\xBB\xBFemail;name;notes\r\n" +
	"a@x.es;Ana;\"uno\r\ndos\"\r\n" +
	"\r\n" +
	"b@x.es;Bea;x\"y\r\n" +
	"c@x.es;Carla;'=1+2\r\n" +
	strings.Repeat("z", 80) + "\r\n" +
	";;\r\n" +
	"d@x.es;Dani;\"a;b\""

func TestCSVReaderResume(t *testing.T) {
	limits := Limits{MaxRowBytes: 64}
	all, rows := readAll(t, NewCSVReader(strings.NewReader(resumeFile), Position{}, limits))
	want := []got{
		{1, cells("email", "name", "notes"), nil},
		{2, cells("a@x.es", "Ana", "uno\ndos"), nil},
		{4, nil, csv.ErrBareQuote},
		{5, cells("c@x.es", "Carla", "=1+2"), nil},
		{6, nil, ErrRowTooLong},
		{8, cells("d@x.es", "Dani", "a;b"), nil},
	}
	if !sameResults(all, want) {
		t.Fatalf("full read: got %+v\nwant %+v", all, want)
	}
	if last := rows[len(rows)-1].Next; last.Offset != int64(len(resumeFile)) || last.Row != 8 || last.Comma != ';' {
		t.Errorf("last Next = %+v, want offset %d, row 8, ';'", last, len(resumeFile))
	}
	// From every position an import could have saved, a new reader on the
	// rest of the file yields exactly the remaining rows.
	for i, row := range rows {
		at := row.Next
		rest, _ := readAll(t, NewCSVReader(strings.NewReader(resumeFile[at.Offset:]), at, limits))
		if !sameResults(rest, all[i+1:]) {
			t.Errorf("resume at %+v: got %+v\nwant %+v", at, rest, all[i+1:])
		}
	}
}

func TestCSVReaderPosition(t *testing.T) {
	tests := []struct {
		name string
		in   string
		at   Position
		want []got
		err  error
	}{
		{"explicit delimiter at start", "a;b,c\n", Position{Comma: ';'}, []got{{1, cells("a", "b,c"), nil}}, nil},
		{"numbering goes on from Row", "x,y\n", Position{Offset: 40, Row: 9, Comma: ','}, []got{{10, cells("x", "y"), nil}}, nil},
		{"no BOM stripping mid-file", "\xEF\xBB\xBFx\n", Position{Offset: 10, Row: 1, Comma: ','}, []got{{2, cells("\uFEFFx"), nil}}, nil},
		{"mid-file needs the delimiter", "x\n", Position{Offset: 10, Row: 1}, nil, ErrInvalidPosition},
		{"unsupported delimiter", "x\n", Position{Comma: '|'}, nil, ErrInvalidPosition},
		{"negative", "x\n", Position{Offset: -1, Comma: ','}, nil, ErrInvalidPosition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewCSVReader(strings.NewReader(tt.in), tt.at, Limits{})
			if tt.err != nil {
				_, err := r.Read()
				if !errors.Is(err, tt.err) {
					t.Fatalf("Read() = %v, want %v", err, tt.err)
				}
				if _, again := r.Read(); again != err {
					t.Errorf("second Read() = %v, want the same fatal error", again)
				}
				return
			}
			res, _ := readAll(t, r)
			if !sameResults(res, tt.want) {
				t.Errorf("got %+v, want %+v", res, tt.want)
			}
		})
	}
}

type errAfter struct {
	r   io.Reader
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func TestCSVReaderIOErrorIsFatal(t *testing.T) {
	const n = 40000 // more than the read buffer
	in := &errAfter{r: strings.NewReader("h\n" + strings.Repeat("r\n", n)), err: errBoom}
	r := NewCSVReader(in, Position{}, Limits{})
	for i := range n + 1 {
		if row, err := r.Read(); err != nil || row.Number != i+1 {
			t.Fatalf("Read() = %+v, %v", row, err)
		}
	}
	for range 2 {
		if _, err := r.Read(); !errors.Is(err, errBoom) {
			t.Fatalf("Read() = %v, want %v", err, errBoom)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte(resumeFile), 64, 5)
	f.Add([]byte("a,b\n\"c\nd\",e\r\n\"x\"y\n"), 0, 0)
	f.Add([]byte("\"\r\"\r\n;\"\n"), 8, 1)
	f.Fuzz(func(t *testing.T, in []byte, maxRow, maxCells int) {
		limits := Limits{MaxRowBytes: maxRow % 256, MaxCells: maxCells % 16}
		all, rows := readAll(t, NewCSVReader(strings.NewReader(string(in)), Position{}, limits))
		prev := Position{}
		for i, row := range rows {
			if row.Number != row.Next.Row || row.Number <= prev.Row || row.Next.Offset <= prev.Offset || row.Next.Offset > int64(len(in)) {
				t.Fatalf("row %d: Number %d, Next %+v after %+v", i, row.Number, row.Next, prev)
			}
			prev = row.Next
		}
		if len(rows) > 0 {
			at := rows[0].Next
			rest, _ := readAll(t, NewCSVReader(strings.NewReader(string(in[at.Offset:])), at, limits))
			if !sameResults(rest, all[1:]) {
				t.Fatalf("resume at %+v: got %+v, want %+v", at, rest, all[1:])
			}
		}
	})
}
