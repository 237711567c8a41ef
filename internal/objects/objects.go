// Package objects is the S3 adapter: the calls of multipart uploads (the
// bookkeeping a job carries across invocations is package multipart),
// ranged reads, and presigned URLs for the merchant's downloads and uploads.
package objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/multipart"
)

// API is the part of the S3 client used here.
type API interface {
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// Presigner signs URLs.
type Presigner interface {
	PresignGetObject(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignPutObject(context.Context, *s3.PutObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Bucket is one bucket.
type Bucket struct {
	api     API
	presign Presigner
	name    string
	now     func() time.Time
}

// New returns the bucket name through client.
func New(client *s3.Client, name string) *Bucket {
	return &Bucket{api: client, presign: s3.NewPresignClient(client), name: name, now: time.Now}
}

// SetClock makes the bucket sign URLs at the times now gives instead of the
// system clock's, and count their validity from them: a test checks that a
// URL expires without waiting for it to.
func (b *Bucket) SetClock(now func() time.Time) { b.now = now }

// signedAt has a URL signed at t, the time its expiry counts from.
func (b *Bucket) signedAt(t time.Time) func(*s3.PresignOptions) {
	return func(o *s3.PresignOptions) { o.Presigner = presignerAt{o.Presigner, t} }
}

// presignerAt signs at a given time.
type presignerAt struct {
	s3.HTTPPresignerV4
	at time.Time
}

func (p presignerAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.HTTPPresignerV4.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// StartUpload begins a multipart upload of key and returns its upload ID.
// filename, when set, is what a browser saves a download as.
func (b *Bucket) StartUpload(ctx context.Context, key, contentType, filename string) (string, error) {
	in := &s3.CreateMultipartUploadInput{Bucket: &b.name, Key: &key, ContentType: &contentType}
	if filename != "" {
		in.ContentDisposition = aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	}
	out, err := b.api.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", fmt.Errorf("start the upload of %s: %w", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart uploads part n (1-based). Uploading the same part again
// replaces it, so a slice that died after an upload may redo it.
func (b *Bucket) UploadPart(ctx context.Context, key, uploadID string, n int32, body []byte) (multipart.Part, error) {
	out, err := b.api.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b.name, Key: &key, UploadId: &uploadID, PartNumber: &n,
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
	if err != nil {
		return multipart.Part{}, fmt.Errorf("upload part %d of %s: %w", n, key, err)
	}
	return multipart.Part{Number: n, ETag: aws.ToString(out.ETag)}, nil
}

// CompleteUpload assembles the parts into the object. The ETags go without
// their quotes: S3 accepts both, and the local emulator (fauxqs) compares
// the XML text undecoded, where the SDK escapes quotes as &#34;.
func (b *Bucket) CompleteUpload(ctx context.Context, key, uploadID string, parts []multipart.Part) error {
	cp := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		cp[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(strings.Trim(p.ETag, `"`))}
	}
	_, err := b.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b.name, Key: &key, UploadId: &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cp}})
	if err != nil {
		return fmt.Errorf("complete the upload of %s: %w", key, err)
	}
	return nil
}

// AbortUpload discards an upload's parts.
func (b *Bucket) AbortUpload(ctx context.Context, key, uploadID string) error {
	if _, err := b.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b.name, Key: &key, UploadId: &uploadID}); err != nil {
		return fmt.Errorf("abort the upload of %s: %w", key, err)
	}
	return nil
}

// Size returns an object's size, or NotFound.
func (b *Bucket) Size(ctx context.Context, key string) (int64, error) {
	out, err := b.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		if notFound(err) {
			return 0, apperr.New(apperr.NotFound, "no file was uploaded")
		}
		return 0, fmt.Errorf("head %s: %w", key, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Open reads an object from offset to its end.
func (b *Bucket) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &b.name, Key: &key}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := b.api.GetObject(ctx, in)
	if err != nil {
		if notFound(err) {
			return nil, apperr.New(apperr.NotFound, "no file was uploaded")
		}
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return out.Body, nil
}

// PresignGet returns a URL that downloads key until it expires.
func (b *Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, time.Time, error) {
	at := b.now()
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.name, Key: &key}, s3.WithPresignExpires(ttl), b.signedAt(at))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("presign the download of %s: %w", key, err)
	}
	return req.URL, at.Add(ttl).UTC(), nil
}

// PresignPut returns a URL that uploads key (with that content type) until
// it expires.
func (b *Bucket) PresignPut(ctx context.Context, key, contentType string, ttl time.Duration) (string, time.Time, error) {
	at := b.now()
	req, err := b.presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b.name, Key: &key, ContentType: &contentType}, s3.WithPresignExpires(ttl), b.signedAt(at))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("presign the upload of %s: %w", key, err)
	}
	return req.URL, at.Add(ttl).UTC(), nil
}

func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf)
}
