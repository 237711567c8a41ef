package localstack

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// The S3 front is a reverse proxy in this process, between the SDK (or a
// browser, or curl) and fauxqs's S3. fauxqs 1.9.2 checks no signature at all:
// a presigned URL would never expire and a tampered one would still work. The
// front checks SigV4 query authentication (presigned URLs) the way S3 does and
// forwards the rest unchanged:
//
//   - query-authenticated requests (X-Amz-Algorithm, X-Amz-Credential, ...) are
//     verified (parameters, expiry, access key, signature) before forwarding;
//   - requests signed in the Authorization header (every ordinary SDK call:
//     PutObject, GetObject, multipart uploads, ...) pass through unchecked, as
//     fauxqs does not check their signatures either: the front adds nothing
//     there that the SDK's own signing tests do not already cover;
//   - anonymous requests are refused (403 AccessDenied), as S3 does for the
//     template's private buckets (PublicAccessBlockConfiguration), except CORS
//     preflights (OPTIONS), which S3 answers without authentication.
//
// Bodies are streamed both ways: nothing is buffered, whatever the size of an
// upload or a download.

const (
	presignAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFormat    = "20060102T150405Z"
	// maxPresignExpires is S3's limit on X-Amz-Expires: seven days.
	maxPresignExpires = 7 * 24 * 60 * 60
	s3FrontStopGrace  = 5 * time.Second
)

// presignAuthParams are the query parameters of SigV4 query authentication
// that the signature does not cover (X-Amz-Signature) or that the signer adds
// itself (the others). X-Amz-Expires is covered and kept: the signer expects
// it in the request's query. X-Amz-Security-Token, when present, is kept too.
var presignAuthParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"}

// presignRequiredParams are the parameters S3 requires of query authentication.
var presignRequiredParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Expires"}

// s3Front is a running S3 front.
type s3Front struct {
	endpoint string // http://127.0.0.1:port
	creds    aws.Credentials
	log      *slog.Logger
	now      func() time.Time
	signer   *v4.Signer
	proxy    *httputil.ReverseProxy
	upstream *http.Transport // to fauxqs
	srv      *http.Server
	served   chan error // receives Serve's error once it returns
}

// startS3Front listens on 127.0.0.1:port (0: a free port) and forwards to
// upstream (fauxqs), verifying presigned requests against creds and the
// clock now (time.Now but in tests).
func startS3Front(upstream string, port int, creds aws.Credentials, now func() time.Time, log *slog.Logger) (*s3Front, error) {
	target, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("start S3 front: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("start S3 front: %w", err)
	}
	f := &s3Front{
		endpoint: "http://" + ln.Addr().String(),
		creds:    creds,
		log:      log,
		now:      now,
		// S3 signs the path as sent, without escaping it again.
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
		served: make(chan error, 1),
		upstream: &http.Transport{
			Proxy:               nil,  // never an HTTP(S)_PROXY: fauxqs is on loopback
			DisableCompression:  true, // forward the bytes of objects as they are
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// Keep the front's host: fauxqs builds any URL it returns from it,
			// and an IP address host keeps it on path-style addressing.
			pr.Out.Host = pr.In.Host
		},
		Transport:    f.upstream,
		ErrorHandler: f.proxyError,
	}
	f.srv = &http.Server{
		Handler:           f,
		ReadHeaderTimeout: 30 * time.Second,
		// No read or write timeout: an export or an import may take minutes.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { f.served <- f.srv.Serve(ln) }()
	return f, nil
}

// stop closes the listener, lets requests in flight finish for a few seconds,
// then closes their connections.
func (f *s3Front) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), s3FrontStopGrace)
	defer cancel()
	err := f.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = f.srv.Close()
	}
	if serveErr := <-f.served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	f.upstream.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("stop S3 front: %w", err)
	}
	return nil
}

func (f *s3Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	var refusal *s3Error
	switch {
	case hasQueryAuth(query):
		if r.Header.Get("Authorization") != "" {
			refusal = &s3Error{status: http.StatusBadRequest, code: "InvalidArgument",
				message: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}
			break
		}
		refusal = f.verifyPresigned(r, query)
	case r.Header.Get("Authorization") == "" && r.Method != http.MethodOptions:
		refusal = &s3Error{status: http.StatusForbidden, code: "AccessDenied", message: "Access Denied"}
	}
	if refusal != nil {
		f.refuse(w, r, refusal)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

// hasQueryAuth reports whether the query carries any SigV4 query
// authentication parameter. Any one of them is enough to verify the request,
// so that dropping X-Amz-Algorithm does not turn a tampered URL into an
// unchecked one.
func hasQueryAuth(query url.Values) bool {
	for _, p := range presignRequiredParams {
		if query.Has(p) {
			return true
		}
	}
	return false
}

// s3Error is an S3 error response.
type s3Error struct {
	status        int
	code, message string
	extra         [][2]string // further elements of <Error>, in order
}

func badQueryAuth(message string) *s3Error {
	return &s3Error{status: http.StatusBadRequest, code: "AuthorizationQueryParametersError", message: message}
}

// verifyPresigned checks SigV4 query authentication as S3 does: parameters,
// credential scope, access key, validity window, then the signature, which it
// recomputes with the SDK's signer over the request stripped of the
// authentication parameters. It returns nil when the request may go through.
func (f *s3Front) verifyPresigned(r *http.Request, query url.Values) *s3Error {
	for _, p := range presignRequiredParams {
		if query.Get(p) == "" {
			return badQueryAuth("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	if alg := query.Get("X-Amz-Algorithm"); alg != presignAlgorithm {
		return badQueryAuth(`X-Amz-Algorithm only supports "` + presignAlgorithm + `"`)
	}
	signingTime, err := time.Parse(amzDateFormat, query.Get("X-Amz-Date"))
	if err != nil {
		return badQueryAuth(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
	}
	expires, err := strconv.ParseInt(query.Get("X-Amz-Expires"), 10, 64)
	switch {
	case err != nil:
		return badQueryAuth("X-Amz-Expires should be a number")
	case expires < 0:
		return badQueryAuth("X-Amz-Expires must be non-negative")
	case expires > maxPresignExpires:
		return badQueryAuth("X-Amz-Expires must be less than a week (in seconds) that is; 604800")
	}

	credential := query.Get("X-Amz-Credential")
	scope := strings.Split(credential, "/") // access key, date, region, service, aws4_request
	if len(scope) != 5 || slices.Contains(scope, "") {
		return badQueryAuth(`Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
	}
	accessKey, date, region, service, terminal := scope[0], scope[1], scope[2], scope[3], scope[4]
	switch {
	case date != signingTime.Format("20060102"):
		return badQueryAuth(fmt.Sprintf(`Error parsing the X-Amz-Credential parameter; the date %q does not match the date of X-Amz-Date %q.`, date, query.Get("X-Amz-Date")))
	case service != "s3":
		return badQueryAuth(fmt.Sprintf(`Error parsing the X-Amz-Credential parameter; incorrect service %q. This endpoint belongs to "s3".`, service))
	case terminal != "aws4_request":
		return badQueryAuth(fmt.Sprintf(`Error parsing the X-Amz-Credential parameter; incorrect terminal %q. This endpoint uses "aws4_request".`, terminal))
	}
	if subtle.ConstantTimeCompare([]byte(accessKey), []byte(f.creds.AccessKeyID)) != 1 {
		return &s3Error{status: http.StatusForbidden, code: "InvalidAccessKeyId",
			message: "The AWS Access Key Id you provided does not exist in our records.",
			extra:   [][2]string{{"AWSAccessKeyId", accessKey}}}
	}

	now := f.now().UTC()
	if now.Before(signingTime) {
		return &s3Error{status: http.StatusForbidden, code: "AccessDenied", message: "Request is not valid yet",
			extra: [][2]string{{"X-Amz-Date", query.Get("X-Amz-Date")}, {"ServerTime", now.Format(time.RFC3339)}}}
	}
	if expiry := signingTime.Add(time.Duration(expires) * time.Second); now.After(expiry) {
		return &s3Error{status: http.StatusForbidden, code: "AccessDenied", message: "Request has expired",
			extra: [][2]string{{"X-Amz-Expires", query.Get("X-Amz-Expires")}, {"Expires", expiry.Format(time.RFC3339)}, {"ServerTime", now.Format(time.RFC3339)}}}
	}

	signedHeaders := strings.Split(strings.ToLower(query.Get("X-Amz-SignedHeaders")), ";")
	var unsigned []string
	for name := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") && !slices.Contains(signedHeaders, lower) {
			unsigned = append(unsigned, lower)
		}
	}
	if len(unsigned) > 0 {
		slices.Sort(unsigned)
		return &s3Error{status: http.StatusForbidden, code: "AccessDenied", message: "There were headers present in the request which were not signed",
			extra: [][2]string{{"HeadersNotSigned", strings.Join(unsigned, ", ")}}}
	}

	want, canonicalRequest, stringToSign, err := f.presignedSignature(r, query, signedHeaders, region, signingTime)
	if err != nil {
		return &s3Error{status: http.StatusInternalServerError, code: "InternalError", message: "S3 front: recompute the signature: " + err.Error()}
	}
	got := query.Get("X-Amz-Signature")
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &s3Error{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
			message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			extra: [][2]string{{"AWSAccessKeyId", accessKey}, {"StringToSign", stringToSign},
				{"SignatureProvided", got}, {"CanonicalRequest", canonicalRequest}}}
	}
	return nil
}

// presignedSignature presigns, with the front's credentials, a copy of r
// holding only what the client's signature covers: the method, the front's
// host, the path as sent (path-style: /bucket/key), the query without the
// authentication parameters (X-Amz-Expires stays), and the signed headers with
// their values in r. The signing time and region are the client's. It returns
// the signature and, for the error body, the canonical request and the
// string to sign.
func (f *s3Front) presignedSignature(r *http.Request, query url.Values, signedHeaders []string, region string, signingTime time.Time) (signature, canonicalRequest, stringToSign string, err error) {
	q := make(url.Values, len(query))
	for k, v := range query {
		if !slices.Contains(presignAuthParams, k) {
			q[k] = v
		}
	}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
	c := (&http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}).WithContext(r.Context())
	for _, name := range signedHeaders {
		switch name {
		case "host": // signed from c.Host
		case "content-length": // signed from c.ContentLength
			c.ContentLength = r.ContentLength
		default:
			if values := r.Header.Values(name); len(values) > 0 {
				c.Header[http.CanonicalHeaderKey(name)] = values
			}
		}
	}

	signedURI, _, err := f.signer.PresignHTTP(r.Context(), f.creds, c, "UNSIGNED-PAYLOAD", "s3", region, signingTime,
		func(o *v4.SignerOptions) {
			// The copy holds only signed headers, and hoisted ones are already
			// in the query: sign the headers where they are.
			o.DisableHeaderHoisting = true
			// The signer logs its canonical request and string to sign: keep
			// them for the SignatureDoesNotMatch body, as S3 returns them.
			o.LogSigning = true
			o.Logger = logging.LoggerFunc(func(_ logging.Classification, _ string, v ...any) {
				if len(v) >= 2 {
					canonicalRequest, _ = v[0].(string)
					stringToSign, _ = v[1].(string)
				}
			})
		})
	if err != nil {
		return "", "", "", err
	}
	signed, err := url.Parse(signedURI)
	if err != nil {
		return "", "", "", err
	}
	return signed.Query().Get("X-Amz-Signature"), canonicalRequest, stringToSign, nil
}

// refuse writes e as S3 would and logs one line.
func (f *s3Front) refuse(w http.ResponseWriter, r *http.Request, e *s3Error) {
	requestID := newRequestID()
	f.log.Warn("S3 front refused a request", "method", r.Method, "path", r.URL.Path,
		"status", e.status, "code", e.code, "message", e.message, "request_id", requestID)
	writeS3Error(w, e, requestID)
}

func (f *s3Front) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		f.log.Debug("S3 front: client went away", "method", r.Method, "path", r.URL.Path, "err", err)
		return // nobody to answer
	}
	requestID := newRequestID()
	f.log.Error("S3 front: forward to fauxqs", "method", r.Method, "path", r.URL.Path, "err", err, "request_id", requestID)
	writeS3Error(w, &s3Error{status: http.StatusBadGateway, code: "InternalError", message: "S3 front: fauxqs did not answer: " + err.Error()}, requestID)
}

func writeS3Error(w http.ResponseWriter, e *s3Error, requestID string) {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Error>")
	elem := func(name, value string) {
		b.WriteString("<" + name + ">")
		xml.EscapeText(&b, []byte(value))
		b.WriteString("</" + name + ">")
	}
	elem("Code", e.code)
	elem("Message", e.message)
	for _, kv := range e.extra {
		elem(kv[0], kv[1])
	}
	elem("RequestId", requestID)
	elem("HostId", "regulars-local-s3-front")
	b.WriteString("</Error>")

	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("X-Amz-Request-Id", requestID)
	w.WriteHeader(e.status)
	// Nothing of the request body is read: the server drains or closes it.
	w.Write([]byte(b.String()))
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
