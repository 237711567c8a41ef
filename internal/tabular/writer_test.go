package tabular

import (
	"bytes"
	"errors"
	"testing"
)

func TestWriter(t *testing.T) {
	tests := []struct {
		name    string
		opts    WriterOptions
		records [][]string
		want    string
	}{
		{"empty", WriterOptions{}, nil, ""},
		{"bom only", WriterOptions{BOM: true}, nil, "\xEF\xBB\xBF"},
		{"bom and crlf", WriterOptions{BOM: true}, [][]string{{"id", "name"}, {"1", "Ana"}},
			"\xEF\xBB\xBFid,name\r\n1,Ana\r\n"},
		{"quoting", WriterOptions{}, [][]string{{`say "hi"`, "a,b", "x\ny", "x\r\ny", "x\ry", " lead", "plain"}},
			"\"say \"\"hi\"\"\",\"a,b\",\"x\r\ny\",\"x\r\ny\",\"x\r\ny\",\" lead\",plain\r\n"},
		{"semicolon is not special", WriterOptions{}, [][]string{{"a;b"}}, "a;b\r\n"},
		{"neutralisation", WriterOptions{}, [][]string{{"=1+2", "@x", "-5", "+34600111222", "+x", "\tx", "'=x"}},
			"'=1+2,'@x,-5,+34600111222,'+x,'\tx,''=x\r\n"},
		{"formula needing quotes", WriterOptions{}, [][]string{{`=HYPERLINK("http://evil","x")`}},
			"\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"\r\n"},
		{"leading CR becomes a line break", WriterOptions{}, [][]string{{"\r=x"}}, "\"\r\n=x\"\r\n"},
		{"invalid utf-8", WriterOptions{}, [][]string{{"a\xff\xfeb", "ñ"}}, "a\uFFFDb,ñ\r\n"},
		{"ragged and empty", WriterOptions{}, [][]string{{"a", "", "c"}, {""}, {"d"}}, "a,,c\r\n\r\nd\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, tt.opts)
			for _, r := range tt.records {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestWriterDoesNotModifyRecord(t *testing.T) {
	rec := []string{"=x", "a\xff"}
	w := NewWriter(&bytes.Buffer{}, WriterOptions{})
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if rec[0] != "=x" || rec[1] != "a\xff" {
		t.Errorf("record modified: %q", rec)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errBoom }

var errBoom = errors.New("boom")

func TestWriterError(t *testing.T) {
	w := NewWriter(failingWriter{}, WriterOptions{BOM: true})
	_ = w.Write([]string{"a"})
	if err := w.Flush(); !errors.Is(err, errBoom) {
		t.Fatalf("Flush() = %v, want %v", err, errBoom)
	}
	if err := w.Write([]string{"b"}); !errors.Is(err, errBoom) {
		t.Errorf("Write after failure = %v, want %v", err, errBoom)
	}
	if err := w.Err(); !errors.Is(err, errBoom) {
		t.Errorf("Err() = %v, want %v", err, errBoom)
	}
}
