package localstack

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// plainHTTP is what a browser or curl would be: no SDK, no signing.
var plainHTTP = &http.Client{Transport: &http.Transport{Proxy: nil}}

// s3Fixture is a provisioned exports bucket and the clients of these tests.
type s3Fixture struct {
	bucket    string
	client    *s3.Client
	presigner *s3.PresignClient
}

func newS3Fixture(t *testing.T) s3Fixture {
	t.Helper()
	res := ProvisionTest(t, testCfg)
	client := s3.NewFromConfig(testCfg, S3PathStyle)
	return s3Fixture{bucket: res.Ref("ExportsBucket"), client: client, presigner: s3.NewPresignClient(client)}
}

func (f s3Fixture) put(t *testing.T, key, body string) {
	t.Helper()
	if _, err := f.client.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), Body: strings.NewReader(body), ContentType: aws.String("text/csv"),
	}); err != nil {
		t.Fatal(err)
	}
}

func (f s3Fixture) get(t *testing.T, key string) string {
	t.Helper()
	out, err := f.client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func (f s3Fixture) presignGet(t *testing.T, key string, optFns ...func(*s3.PresignOptions)) string {
	t.Helper()
	req, err := f.presigner.PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return req.URL
}

// signedAt presigns as if the clock read now+shift: a URL signed an hour ago
// has expired, without the test sleeping until it does.
func signedAt(shift time.Duration) func(*s3.PresignOptions) {
	return func(o *s3.PresignOptions) { o.Presigner = shiftedPresigner{shift} }
}

type shiftedPresigner struct{ shift time.Duration }

func (p shiftedPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }) // as the S3 client's own
	return signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, signingTime.Add(p.shift), optFns...)
}

// s3ErrorBody is the XML error body of S3.
type s3ErrorBody struct {
	Code, Message, StringToSign, CanonicalRequest, HeadersNotSigned string
	Expires                                                         string
}

// do sends a plain HTTP request and returns the status and the body, decoded
// as an S3 error when it is one.
func do(t *testing.T, method, rawURL string, header http.Header, body io.Reader) (int, []byte, s3ErrorBody) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := plainHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e s3ErrorBody
	if resp.StatusCode >= 300 {
		if err := xml.Unmarshal(data, &e); err != nil {
			t.Fatalf("%s %s: %s with a body that is not an S3 error: %v\n%s", method, rawURL, resp.Status, err, data)
		}
	}
	return resp.StatusCode, data, e
}

func wantRefusal(t *testing.T, what string, status int, e s3ErrorBody, wantStatus int, wantCode, wantMessage string) {
	t.Helper()
	if status != wantStatus || e.Code != wantCode || (wantMessage != "" && e.Message != wantMessage) {
		t.Errorf("%s: %d %s %q, want %d %s %q", what, status, e.Code, e.Message, wantStatus, wantCode, wantMessage)
	}
}

// TestPresignedGetDownloadsAndExpires: the presigned URL downloads the export
// with plain HTTP, and the same URL signed an hour ago (2 s validity) has
// expired.
func TestPresignedGetDownloadsAndExpires(t *testing.T) {
	f := newS3Fixture(t)
	key := "exports/merchant 1/café+points.csv" // the path must be signed as sent
	body := "customer_id,points\nc1,42\n"
	f.put(t, key, body)

	status, got, _ := do(t, http.MethodGet, f.presignGet(t, key, s3.WithPresignExpires(2*time.Second)), nil, nil)
	if status != http.StatusOK || string(got) != body {
		t.Fatalf("GET presigned URL: %d %q, want 200 %q", status, got, body)
	}

	expired := f.presignGet(t, key, s3.WithPresignExpires(2*time.Second), signedAt(-time.Hour))
	status, _, e := do(t, http.MethodGet, expired, nil, nil)
	wantRefusal(t, "expired URL", status, e, http.StatusForbidden, "AccessDenied", "Request has expired")
	if e.Expires == "" {
		t.Errorf("expired URL: the error lacks <Expires>")
	}

	future := f.presignGet(t, key, signedAt(time.Hour))
	status, _, e = do(t, http.MethodGet, future, nil, nil)
	wantRefusal(t, "URL signed in the future", status, e, http.StatusForbidden, "AccessDenied", "Request is not valid yet")
}

// TestPresignedPutUploads: an import uploaded with plain HTTP PUT to a
// presigned URL is what the SDK then reads; the signed Content-Type is
// enforced.
func TestPresignedPutUploads(t *testing.T) {
	f := newS3Fixture(t)
	const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	key := "imports/m1/customers.xlsx"
	put, err := f.presigner.PresignPutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(f.bucket), Key: aws.String(key), ContentType: aws.String(xlsx),
	}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// 6 MiB and a bit: more than a buffer or two, streamed both ways.
	body := bytes.Repeat([]byte("PK\x03\x04 not really a workbook\n"), 6<<20/29+1)

	status, _, e := do(t, http.MethodPut, put.URL, http.Header{"Content-Type": {"text/csv"}}, bytes.NewReader(body))
	wantRefusal(t, "PUT with another Content-Type than signed", status, e, http.StatusForbidden, "SignatureDoesNotMatch", "")

	status, respBody, _ := do(t, http.MethodPut, put.URL, http.Header{"Content-Type": {xlsx}}, bytes.NewReader(body))
	if status != http.StatusOK {
		t.Fatalf("PUT presigned URL: %d %s", status, respBody)
	}
	if got := f.get(t, key); got != string(body) {
		t.Fatalf("SDK reads %d bytes back, want the %d uploaded", len(got), len(body))
	}
	status, got, _ := do(t, http.MethodGet, f.presignGet(t, key), nil, nil)
	if status != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET presigned URL of the upload: %d, %d bytes, want 200 and %d bytes", status, len(got), len(body))
	}
}

// TestTamperedPresignedURLIsRefused: whatever is changed in a valid presigned
// URL, S3's answer comes back and fauxqs never serves the object.
func TestTamperedPresignedURLIsRefused(t *testing.T) {
	f := newS3Fixture(t)
	f.put(t, "exports/m1.csv", "mine\n")
	f.put(t, "exports/m2.csv", "someone else's\n")
	valid := f.presignGet(t, "exports/m1.csv", s3.WithPresignExpires(time.Minute))
	if status, got, _ := do(t, http.MethodGet, valid, nil, nil); status != http.StatusOK || string(got) != "mine\n" {
		t.Fatalf("valid URL: %d %q", status, got)
	}

	edit := func(change func(u *url.URL, q url.Values)) string {
		u, err := url.Parse(valid)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		change(u, q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	tests := []struct {
		name        string
		method      string
		url         string
		header      http.Header
		status      int
		code, msg   string
		wantDetails bool // StringToSign and CanonicalRequest in the body
	}{
		{name: "one byte of the signature", url: edit(func(_ *url.URL, q url.Values) {
			sig := []byte(q.Get("X-Amz-Signature"))
			if sig[10] == '0' {
				sig[10] = '1'
			} else {
				sig[10] = '0'
			}
			q.Set("X-Amz-Signature", string(sig))
		}), status: http.StatusForbidden, code: "SignatureDoesNotMatch", wantDetails: true},
		{name: "another key", url: edit(func(u *url.URL, _ url.Values) {
			u.Path = strings.Replace(u.Path, "m1.csv", "m2.csv", 1)
			u.RawPath = ""
		}), status: http.StatusForbidden, code: "SignatureDoesNotMatch", wantDetails: true},
		{name: "longer validity", url: edit(func(_ *url.URL, q url.Values) { q.Set("X-Amz-Expires", "3600") }),
			status: http.StatusForbidden, code: "SignatureDoesNotMatch"},
		{name: "another host", url: strings.Replace(valid, "127.0.0.1", "localhost", 1),
			status: http.StatusForbidden, code: "SignatureDoesNotMatch"},
		{name: "another method", method: http.MethodDelete, url: valid,
			status: http.StatusForbidden, code: "SignatureDoesNotMatch"},
		{name: "extra query parameter", url: edit(func(_ *url.URL, q url.Values) { q.Set("response-content-type", "text/html") }),
			status: http.StatusForbidden, code: "SignatureDoesNotMatch"},
		{name: "unsigned x-amz header", url: valid, header: http.Header{"X-Amz-Request-Payer": {"requester"}},
			status: http.StatusForbidden, code: "AccessDenied", msg: "There were headers present in the request which were not signed"},
		{name: "another access key", url: edit(func(_ *url.URL, q url.Values) {
			q.Set("X-Amz-Credential", "AKIDOTHER"+q.Get("X-Amz-Credential")[strings.Index(q.Get("X-Amz-Credential"), "/"):])
		}), status: http.StatusForbidden, code: "InvalidAccessKeyId"},
		{name: "no X-Amz-Algorithm", url: edit(func(_ *url.URL, q url.Values) { q.Del("X-Amz-Algorithm") }),
			status: http.StatusBadRequest, code: "AuthorizationQueryParametersError"},
		{name: "X-Amz-Expires over a week", url: f.presignGet(t, "exports/m1.csv", s3.WithPresignExpires(7*24*time.Hour+time.Second)),
			status: http.StatusBadRequest, code: "AuthorizationQueryParametersError", msg: "X-Amz-Expires must be less than a week (in seconds) that is; 604800"},
		{name: "X-Amz-Date malformed", url: edit(func(_ *url.URL, q url.Values) { q.Set("X-Amz-Date", "yesterday") }),
			status: http.StatusBadRequest, code: "AuthorizationQueryParametersError"},
		{name: "no authentication at all", url: edit(func(_ *url.URL, q url.Values) {
			for k := range q {
				if strings.HasPrefix(k, "X-Amz-") {
					q.Del(k)
				}
			}
		}), status: http.StatusForbidden, code: "AccessDenied", msg: "Access Denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			status, _, e := do(t, method, tc.url, tc.header, nil)
			wantRefusal(t, tc.url, status, e, tc.status, tc.code, tc.msg)
			if tc.wantDetails && (e.StringToSign == "" || !strings.HasPrefix(e.CanonicalRequest, "GET\n")) {
				t.Errorf("SignatureDoesNotMatch without the string to sign and the canonical request: %+v", e)
			}
		})
	}
	if got := f.get(t, "exports/m1.csv"); got != "mine\n" {
		t.Errorf("after the refused DELETE the object reads %q", got)
	}
}

// TestSDKCallsGoThroughS3Front: the SDK's ordinary calls (signed in the
// Authorization header) pass through the front, including a multipart upload.
func TestSDKCallsGoThroughS3Front(t *testing.T) {
	f := newS3Fixture(t)
	ctx := t.Context()
	bucket, key := aws.String(f.bucket), aws.String("exports/big.csv")

	up, err := f.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key, ContentType: aws.String("text/csv")})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{bytes.Repeat([]byte("a,1\n"), 5<<20/4), []byte("z,26\n")} // every part but the last ≥ 5 MiB
	var completed []s3types.CompletedPart
	for i, p := range parts {
		n := int32(i + 1)
		out, err := f.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: &n, Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		// Unquoted: the SDK escapes the quotes of an ETag as &#34; in XML, and
		// fauxqs 1.9.2 compares the text raw (InvalidPart, with or without the
		// front); S3 takes either.
		etag := strings.Trim(aws.ToString(out.ETag), `"`)
		completed = append(completed, s3types.CompletedPart{ETag: &etag, PartNumber: &n})
	}
	if _, err := f.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: completed},
	}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, *key); got != string(parts[0])+string(parts[1]) {
		t.Fatalf("multipart object: %d bytes, want %d", len(got), len(parts[0])+len(parts[1]))
	}
	list, err := f.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != *key {
		t.Fatalf("ListObjectsV2: %+v, %v", list, err)
	}

	// The SDK's endpoint is the front: fauxqs itself would serve this.
	endpoint := s3EndpointFromEnv(t)
	status, _, e := do(t, http.MethodGet, endpoint+"/"+f.bucket+"/"+*key, nil, nil)
	wantRefusal(t, "anonymous GET", status, e, http.StatusForbidden, "AccessDenied", "Access Denied")
}

func s3EndpointFromEnv(t *testing.T) string {
	t.Helper()
	e := strings.TrimRight(os.Getenv("AWS_ENDPOINT_URL_S3"), "/")
	if e == "" {
		t.Fatal("AWS_ENDPOINT_URL_S3 is not set")
	}
	return e
}

// TestS3FrontUnit runs the front against a stand-in for fauxqs: refusals are
// logged one line each and never forwarded; Authorization-signed requests
// are forwarded as they are, body included.
func TestS3FrontUnit(t *testing.T) {
	var mu sync.Mutex
	var forwarded []*http.Request
	var forwardedBody []byte
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		forwarded, forwardedBody = append(forwarded, r), body
		mu.Unlock()
		io.WriteString(w, "from upstream")
	}))
	defer upstream.Close()

	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	creds := aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"}
	now := time.Date(2025, 6, 10, 10, 0, 0, 0, time.UTC) // the front's clock
	front, err := startS3Front(upstream.URL, 0, creds, func() time.Time { return now }, log)
	if err != nil {
		t.Fatal(err)
	}
	defer front.stop()
	if !strings.HasPrefix(front.endpoint, "http://127.0.0.1:") {
		t.Fatalf("front endpoint %s, want loopback", front.endpoint)
	}

	// A presigned GET made with the SDK's signer and the front's credentials.
	presign := func(creds aws.Credentials, signingTime time.Time, expires string) string {
		req, _ := http.NewRequest(http.MethodGet, front.endpoint+"/b/k.csv?X-Amz-Expires="+expires, nil)
		u, _, err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
			PresignHTTP(t.Context(), creds, req, "UNSIGNED-PAYLOAD", "s3", "eu-west-1", signingTime)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if status, body, _ := do(t, http.MethodGet, presign(creds, now.Add(-59*time.Second), "60"), nil, nil); status != http.StatusOK || string(body) != "from upstream" {
		t.Fatalf("valid presigned GET: %d %q", status, body)
	}

	refused := []string{
		presign(creds, now.Add(-61*time.Second), "60"),                                     // expired a second ago
		presign(aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "x"}, now, "60"), // another secret
		presign(creds, now, "-1"),                                                          // negative expiry
		front.endpoint + "/b/k.csv",                                                        // anonymous
	}
	for _, u := range refused {
		if status, _, _ := do(t, http.MethodGet, u, nil, nil); status < 400 {
			t.Errorf("GET %s: %d, want a refusal", u, status)
		}
	}
	logMu.Lock()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	logMu.Unlock()
	if len(lines) != len(refused) {
		t.Errorf("%d log lines for %d refusals:\n%s", len(lines), len(refused), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"Request has expired", "SignatureDoesNotMatch", "X-Amz-Expires must be non-negative", "Access Denied"} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("no log line mentions %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}

	// Header-signed requests pass unchanged, even with a bogus signature.
	const auth = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20000101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
	status, _, _ := do(t, http.MethodPut, front.endpoint+"/b/up.csv?x-id=PutObject", http.Header{"Authorization": {auth}}, strings.NewReader("a,b\n"))
	mu.Lock()
	defer mu.Unlock()
	if status != http.StatusOK || len(forwarded) != 2 {
		t.Fatalf("PUT with Authorization: %d, %d requests forwarded, want 200 and 2", status, len(forwarded))
	}
	last := forwarded[1]
	if last.Header.Get("Authorization") != auth || last.URL.RequestURI() != "/b/up.csv?x-id=PutObject" ||
		last.Host != strings.TrimPrefix(front.endpoint, "http://") || string(forwardedBody) != "a,b\n" {
		t.Errorf("forwarded %s %s (Host %s, Authorization %q, body %q)", last.Method, last.URL, last.Host, last.Header.Get("Authorization"), forwardedBody)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
