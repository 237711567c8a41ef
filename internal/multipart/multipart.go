// Package multipart is the SDK-free bookkeeping of a multipart upload that
// several invocations write in turn: its parts, the CSV rows of the next part,
// and the interface that uploads a part (objects.Bucket implements it).
package multipart

import (
	"bytes"
	"context"
	"io"

	"github.com/regulars/regulars/internal/tabular"
)

// MinPartSize is S3's smallest part but the last.
const MinPartSize = 5 << 20

// Part is one uploaded part of a multipart upload.
type Part struct {
	Number int32  `json:"n"`
	ETag   string `json:"etag"`
}

// Upload is a multipart upload that several invocations write in turn: a
// job keeps it in its cursor between them.
type Upload struct {
	Key   string `json:"key"`
	ID    string `json:"id"`
	Parts []Part `json:"parts"`
	Bytes int64  `json:"bytes"`
}

// PartUploader uploads parts.
type PartUploader interface {
	UploadPart(ctx context.Context, key, uploadID string, n int32, body []byte) (Part, error)
}

// Add uploads body as the upload's next part.
func (u *Upload) Add(ctx context.Context, b PartUploader, body []byte) error {
	p, err := b.UploadPart(ctx, u.Key, u.ID, int32(len(u.Parts)+1), body)
	if err != nil {
		return err
	}
	u.Parts = append(u.Parts, p)
	u.Bytes += int64(len(body))
	return nil
}

// CSVPart is the next part of an Upload, written as CSV rows: a job writes
// rows until the part is Full, then Sends it, and its checkpoint records the
// upload's parts.
type CSVPart struct {
	buf  bytes.Buffer
	csv  *tabular.Writer
	size int
}

// NewCSVPart returns an empty part that is full at size bytes (S3 needs
// MinPartSize for every part but the last).
func NewCSVPart(size int, opts tabular.WriterOptions) *CSVPart {
	p := &CSVPart{size: size}
	p.csv = tabular.NewWriter(&p.buf, opts)
	return p
}

// Write adds a row. It cannot fail before Flush: the rows go to memory.
func (p *CSVPart) Write(rec []string) error { return p.csv.Write(rec) }

// Full reports whether the rows written hold a part's size.
func (p *CSVPart) Full() bool {
	p.csv.Flush()
	return p.buf.Len() >= p.size
}

// Send uploads the rows written as u's next part and empties the part. An
// empty part is sent only as the first: an upload needs at least one part,
// and S3 refuses an empty part that is not the last.
func (p *CSVPart) Send(ctx context.Context, u *Upload, b PartUploader) error {
	if err := p.csv.Flush(); err != nil {
		return err
	}
	if p.buf.Len() == 0 && len(u.Parts) > 0 {
		return nil
	}
	if err := u.Add(ctx, b, p.buf.Bytes()); err != nil {
		return err
	}
	p.buf.Reset()
	return nil
}

// Unsent returns the rows written since the last Send, for a paused job to
// keep elsewhere until it resumes.
func (p *CSVPart) Unsent() ([]byte, error) {
	if err := p.csv.Flush(); err != nil {
		return nil, err
	}
	return p.buf.Bytes(), nil
}

// Restore puts back rows that Unsent returned.
func (p *CSVPart) Restore(r io.Reader) error {
	_, err := p.buf.ReadFrom(r)
	return err
}
